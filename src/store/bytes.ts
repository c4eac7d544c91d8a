/**
 * Byte-level encoding shared by the store's frames and summary rows: a growable writer and a
 * cursor reader over Buffers, with the three number forms the rows use.
 *
 * - `uv`: unsigned varint (LEB128) of a safe integer.
 * - `num`: any number. Non-negative integers below 2^52 as `uv(v * 2)` (1–8 bytes, low bit 0);
 *   everything else (negative, fractional, huge, NaN, -0) as the byte 1 followed by a float64.
 * - `tsd`: a time relative to the entry's timestamp `t`: integer deltas as zigzag `uv` (low bit
 *   0), else 1 + float64 of the absolute value. Request/response times are a few µs–s from the
 *   entry time, so they take 1–4 bytes instead of 8.
 */

const TWO52 = 2 ** 52;
const TWO50 = 2 ** 50;

export class ByteWriter {
  buf: Buffer;
  pos = 0;

  constructor(size = 4096) {
    this.buf = Buffer.allocUnsafe(size);
  }

  reset(): void {
    this.pos = 0;
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  uv(v: number): void {
    this.ensure(8);
    const b = this.buf;
    let p = this.pos;
    if (v < 0x10000000) {
      while (v >= 0x80) {
        b[p++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
    } else {
      while (v >= 0x80) {
        const low = v % 128;
        b[p++] = low | 0x80;
        v = (v - low) / 128;
      }
    }
    b[p++] = v;
    this.pos = p;
  }

  f64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  /** Throws `bad` when v is not a number (the caller's fallback signal). */
  num(v: unknown, bad: unknown): void {
    if (typeof v !== 'number') throw bad;
    if (v >= 0 && v < TWO52 && Number.isInteger(v) && !Object.is(v, -0)) this.uv(v * 2);
    else {
      this.u8(1);
      this.f64(v);
    }
  }

  tsd(v: unknown, t: number, bad: unknown): void {
    if (typeof v !== 'number') throw bad;
    const d = v - t;
    if (Number.isInteger(d) && d > -TWO50 && d < TWO50 && t + d === v && !Object.is(v, -0)) {
      this.uv(d >= 0 ? d * 4 : -d * 4 - 2);
    } else {
      this.u8(1);
      this.f64(v);
    }
  }

  /** Inline UTF-8 string: byte length as `uv`, then the bytes. */
  str(v: unknown, bad: unknown): void {
    if (typeof v !== 'string') throw bad;
    this.ensure(v.length * 3 + 5);
    // Length first: reserve the varint's bytes assuming the worst case for this string.
    const max = v.length * 3;
    const lenBytes = max < 0x80 ? 1 : max < 0x4000 ? 2 : max < 0x200000 ? 3 : 4;
    const start = this.pos + lenBytes;
    const n = this.buf.write(v, start);
    let p = this.pos;
    let len = n;
    for (let i = 1; i < lenBytes; i++) {
      this.buf[p++] = (len & 0x7f) | 0x80;
      len >>>= 7;
    }
    this.buf[p++] = len;
    this.pos = start + n;
  }

  /** Reserves a length for the bytes that follow (one byte; see `endLen`). */
  beginLen(): number {
    this.ensure(1);
    return this.pos++;
  }

  /**
   * Fills in the length reserved at `at` as a varint; lengths of 128 bytes or more (rare: an
   * object with a long URL) move the bytes after it to make room.
   */
  endLen(at: number, bad: unknown): void {
    const n = this.pos - at - 1;
    if (n < 0x80) {
      this.buf[at] = n;
      return;
    }
    if (n >= 0x200000) throw bad;
    const extra = n < 0x4000 ? 1 : 2;
    this.ensure(extra);
    this.buf.copyWithin(at + 1 + extra, at + 1, this.pos);
    this.pos += extra;
    putUv(this.buf, at, n);
  }

  /** The bytes written, as a latin1 string (a dictionary key). */
  latin1(): string {
    return this.buf.toString('latin1', 0, this.pos);
  }

  bytes(src: Uint8Array, from = 0, to = src.length): void {
    this.ensure(to - from);
    this.buf.set(src.subarray(from, to), this.pos);
    this.pos += to - from;
  }
}

/** A cursor over a Buffer (a summary row in the arena or a frame read from disk). */
export class ByteReader {
  // `declare`: assigned in the constructor, not defined as class fields (V8 runs define-semantics
  // field initialisers far slower, and readers are created per summary entry).
  declare buf: Buffer;
  declare pos: number;

  constructor(buf: Buffer, pos = 0) {
    this.buf = buf;
    this.pos = pos;
  }

  u8(): number {
    const v = this.buf[this.pos++];
    if (v === undefined) throw new RangeError('store: row ends early');
    return v;
  }

  uv(): number {
    const b = this.buf;
    let x = b[this.pos++]!;
    if (x < 0x80) return x;
    x &= 0x7f;
    let shift = 7;
    for (;;) {
      const c = b[this.pos++];
      if (c === undefined || shift > 49) throw new RangeError('store: bad varint');
      if (shift < 28) x |= (c & 0x7f) << shift;
      else x += (c & 0x7f) * 2 ** shift;
      if (c < 0x80) return x;
      shift += 7;
    }
  }

  f64(): number {
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  num(): number {
    const x = this.uv();
    if (x === 1) return this.f64();
    return x / 2;
  }

  tsd(t: number): number {
    const x = this.uv();
    if (x === 1) return this.f64();
    const z = x / 2;
    return z % 2 === 0 ? t + z / 2 : t - (z + 1) / 2;
  }

  str(): string {
    const n = this.uv();
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
}

/** Writes `v` as an unsigned varint at `buf[at]`; returns the position after it. */
export function putUv(buf: Buffer, at: number, v: number): number {
  while (v >= 0x80) {
    const low = v % 128;
    buf[at++] = low | 0x80;
    v = (v - low) / 128;
  }
  buf[at++] = v;
  return at;
}

/** Reads an unsigned varint at `buf[at]`: [value, position after it]. */
export function getUv(buf: Buffer, at: number): [number, number] {
  let x = 0;
  let mul = 1;
  for (;;) {
    const c = buf[at++];
    if (c === undefined) throw new RangeError('varint past the end');
    x += (c & 0x7f) * mul;
    if (c < 0x80) return [x, at];
    mul *= 128;
  }
}
