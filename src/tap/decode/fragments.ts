import type { Limits, LimitCounters } from '../../util/limits.ts';
import type { DecodeStats } from './types.ts';

/** Incomplete datagrams are dropped this long after their first fragment (capture time, µs). */
export const FRAGMENT_TIMEOUT_US = 30_000_000;

/** No IPv4 or (non-jumbo) IPv6 datagram carries more than this many fragmentable bytes. */
const MAX_DATAGRAM = 65535;

/** A byte range of a datagram, `[off, off + data.length)`. */
interface Piece {
  off: number;
  data: Buffer;
}

interface Pending {
  firstTs: number;
  /** Sorted, non-overlapping ranges received so far (copies). */
  pieces: Piece[];
  covered: number;
  /** Length of the fragmentable part, known once the last fragment (no "more" flag) arrived. */
  total: number;
  /** Fragments accepted into this datagram. */
  fragments: number;
  /** From the fragment at offset 0 (-1 until it arrived). */
  proto: number;
  headerLen: number;
}

export interface Reassembled {
  /** The fragmentable part of the datagram (transport header and payload). */
  data: Buffer;
  /** IPv4 protocol / IPv6 next header of the fragmentable part (from the first fragment). */
  proto: number;
  /** Bytes of the IP header(s) before the fragmentable part, from the first fragment. */
  headerLen: number;
}

/**
 * IP fragment reassembly (IPv4 and IPv6 alike), keyed by the caller. Overlaps: the bytes that
 * arrived first win. Memory is bounded by limits.maxFragmentBytes and maxFragmentDatagrams:
 * when full, the oldest incomplete datagram is dropped (and the hit counted).
 */
export class FragmentReassembler {
  private readonly pending = new Map<string, Pending>();
  private heldBytes = 0;

  constructor(
    private readonly limits: Readonly<Limits>,
    private readonly counters: LimitCounters,
    private readonly stats: DecodeStats,
  ) {}

  /** Incomplete datagrams held. */
  get size(): number {
    return this.pending.size;
  }

  /**
   * Adds one fragment: `data` covers `[offset, offset + data.length)` of the datagram, `more` is
   * the more-fragments flag. Returns the datagram when this fragment completed it.
   */
  add(
    key: string,
    ts: number,
    offset: number,
    more: boolean,
    data: Buffer,
    proto: number,
    headerLen: number,
  ): Reassembled | undefined {
    const end = offset + data.length;
    if (end > MAX_DATAGRAM) {
      this.stats.fragmentsDropped++;
      return undefined;
    }
    if (data.length > this.limits.maxFragmentBytes) {
      this.counters.hit('maxFragmentBytes');
      this.stats.fragmentsDropped++;
      return undefined;
    }
    if (this.heldBytes + data.length > this.limits.maxFragmentBytes) {
      this.counters.hit('maxFragmentBytes');
      while (this.heldBytes + data.length > this.limits.maxFragmentBytes && this.pending.size > 0) {
        this.dropOldest();
      }
    }
    let d = this.pending.get(key);
    if (d === undefined) {
      if (this.pending.size >= this.limits.maxFragmentDatagrams) {
        this.counters.hit('maxFragmentDatagrams');
        while (this.pending.size >= this.limits.maxFragmentDatagrams) this.dropOldest();
      }
      d = { firstTs: ts, pieces: [], covered: 0, total: -1, fragments: 0, proto: -1, headerLen: 0 };
      this.pending.set(key, d);
    }
    d.fragments++;
    if (offset === 0 && d.proto < 0) {
      d.proto = proto;
      d.headerLen = headerLen;
    }
    if (!more && d.total < 0) this.setTotal(d, end);
    this.insert(d, offset, d.total >= 0 ? data.subarray(0, Math.max(0, d.total - offset)) : data);
    // Complete once [0, total) is covered; byte 0 can only come from the offset-0 fragment.
    if (d.total < 0 || d.covered < d.total) return undefined;

    this.pending.delete(key);
    this.heldBytes -= d.covered;
    this.stats.fragmentsReassembled += d.fragments;
    this.stats.datagramsReassembled++;
    const out = Buffer.allocUnsafe(d.total);
    for (const p of d.pieces) p.data.copy(out, p.off);
    return { data: out, proto: d.proto, headerLen: d.headerLen };
  }

  /** Drops incomplete datagrams whose first fragment is older than FRAGMENT_TIMEOUT_US. */
  expire(now: number): void {
    for (const [key, d] of this.pending) {
      if (now - d.firstTs <= FRAGMENT_TIMEOUT_US) return;
      this.drop(key, d);
    }
  }

  private dropOldest(): void {
    const first = this.pending.entries().next();
    if (first.done === true) return;
    this.drop(first.value[0], first.value[1]);
  }

  private drop(key: string, d: Pending): void {
    this.pending.delete(key);
    this.heldBytes -= d.covered;
    this.stats.fragmentsDropped += d.fragments;
  }

  /** The datagram's length is now known: discard anything received beyond it. */
  private setTotal(d: Pending, total: number): void {
    d.total = total;
    const kept: Piece[] = [];
    for (const p of d.pieces) {
      if (p.off >= total) continue;
      kept.push(
        p.off + p.data.length > total ? { off: p.off, data: p.data.subarray(0, total - p.off) } : p,
      );
    }
    const covered = kept.reduce((n, p) => n + p.data.length, 0);
    this.heldBytes -= d.covered - covered;
    d.covered = covered;
    d.pieces = kept;
  }

  /** Adds the parts of `[off, off + data.length)` not yet covered (first arrival wins). */
  private insert(d: Pending, off: number, data: Buffer): void {
    const pieces = d.pieces;
    const end = off + data.length;
    // First piece that ends after `off`.
    let lo = 0;
    let hi = pieces.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const p = pieces[mid] as Piece;
      if (p.off + p.data.length <= off) lo = mid + 1;
      else hi = mid;
    }
    let cursor = off;
    let i = lo;
    while (cursor < end) {
      const next = pieces[i];
      const gapEnd = next === undefined ? end : Math.min(end, next.off);
      if (gapEnd > cursor) {
        const copy = Buffer.from(data.subarray(cursor - off, gapEnd - off));
        pieces.splice(i, 0, { off: cursor, data: copy });
        d.covered += copy.length;
        this.heldBytes += copy.length;
        i++;
      }
      if (next === undefined) break;
      cursor = Math.max(cursor, next.off + next.data.length);
      i++;
    }
  }
}
