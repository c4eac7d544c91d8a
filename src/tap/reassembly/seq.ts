/**
 * 32-bit TCP sequence-number arithmetic (RFC 793 / RFC 1982 serial numbers).
 *
 * Sequence numbers are uint32 values that wrap at 2^32. Two numbers are compared by their signed
 * 32-bit distance, so `a` is "after" `b` when `a - b` (mod 2^32) lies in (0, 2^31). Numbers exactly
 * 2^31 apart have no defined order; `seqDiff` returns -2^31 for them, so they compare as "before".
 */

/** Signed distance `a - b` in [-2^31, 2^31), correct across the wrap. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** `seq + n` wrapped to uint32 (n may be negative or exceed 2^32). */
export function seqAdd(seq: number, n: number): number {
  return (seq + n) >>> 0;
}

export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

export function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

export function seqGe(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}
