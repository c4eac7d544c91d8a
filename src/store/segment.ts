/**
 * One segment: a file of frames (frame.ts) and its in-memory index.
 *
 * The index is columnar, one typed array per column (no object per entry): id, timestamp, frame
 * offset, row offset, protocol code, status, flags (29 bytes); the summary rows themselves are
 * copied into arena blocks of 256 KiB (≈80 bytes per entry); per block of 256 rows the min/max
 * timestamp (a zone map) lets a time-window query skip blocks.
 *
 * Writes are batched in chunks (≈1 MiB) that the store writes in order; until a chunk is on disk
 * its bytes are read from memory, so an appended entry is readable at once.
 */
import {
  closeSync,
  fdatasync,
  fstatSync,
  ftruncateSync,
  openSync,
  readSync,
  writev,
} from 'node:fs';
import { KsError } from '../util/errors.ts';
import type { Entry } from '../entry/model.ts';
import { ByteReader, getUv } from './bytes.ts';
import { decodeFull, decodeLazy, type FullSource } from './codec.ts';
import { Dict } from './dict.ts';
import {
  checkFileHeader,
  checkFrame,
  type FrameCheck,
  ENTRY_FIXED_BYTES,
  FILE_HEADER_BYTES,
  FLAG_OPAQUE,
  FRAME_DICT,
  FRAME_ENTRY,
  FRAME_HEADER_BYTES,
  fileHeader,
  MAX_FRAME_BYTES,
} from './frame.ts';

export const BLOCK_SHIFT = 8;
const BLOCK = 1 << BLOCK_SHIFT;
/** Write batch size: appends fill a chunk, the store writes whole chunks. */
export const CHUNK_BYTES = 1024 * 1024;
/** Sync reads (lazy loads) read this much ahead, so a scan that loads many entries reads once. */
const READ_AHEAD = 256 * 1024;
/** Arena block size (a power of two: row offsets are block * ARENA_BLOCK + offset). */
const ARENA_BLOCK = 256 * 1024;
/**
 * Written chunks are reused: allocating and freeing a MiB per chunk fragments the C heap, whose
 * pages RSS then keeps.
 */
const chunkPool: Buffer[] = [];
const CHUNK_POOL_MAX = 8;
/** Buffer for batched reads (decoded at once, so one serves every read). */
let readScratch = Buffer.allocUnsafeSlow(64 * 1024);
/** Batched reads merge frames separated by less than this. */
const RUN_GAP = 16 * 1024;
/** Recovery reads segment files in windows of this size. */
const LOAD_WINDOW = 8 * 1024 * 1024;

export interface Chunk {
  /** File position of buf[0]. */
  pos: number;
  buf: Buffer;
  len: number;
  /** No more appends go into it (queued for writing). */
  closed: boolean;
  /** Its segment was evicted before it was written: not written, already accounted. */
  dropped?: boolean;
}

export interface Columns {
  ids: Float64Array;
  ts: Float64Array;
  off: Uint32Array;
  rowAt: Uint32Array;
  proto: Uint16Array;
  status: Uint16Array;
  flags: Uint8Array;
  blockMin: Float64Array;
  blockMax: Float64Array;
}

/**
 * Buffers recovery reuses from one segment to the next: the read window, and columns that grow
 * to the largest segment; each segment then gets exact-size copies. (Growing each segment's own
 * columns by doubling left freed blocks that fragment the C heap: +50 MB RSS at 1 M entries.)
 */
export interface LoadScratch {
  buf: Buffer;
  cols?: Columns;
}

/** Counters recovery adds to. */
export interface RecoveryCounters {
  tornRecords: number;
  corruptRecords: number;
  truncatedBytes: number;
  /**
   * Entries lost on open: the damaged record where a segment was cut (an entry, or the strings
   * written with one), every whole entry the cut took after it, and corrupt entry records
   * skipped. At least that many: a record whose kind is unreadable is not counted.
   */
  lostEntries: number;
}

export const segmentName = (seq: number): string => `${String(seq).padStart(8, '0')}.seg`;

/** Copies `a` into a new array of `n` elements. */
function grown<T extends Float64Array | Uint32Array | Uint16Array | Uint8Array>(
  a: T,
  n: number,
): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a.subarray(0, Math.min(a.length, n)));
  return b;
}

export class Segment {
  n = 0;
  ids: Float64Array;
  ts: Float64Array;
  off: Uint32Array;
  rowAt: Uint32Array;
  proto: Uint16Array;
  status: Uint16Array;
  flags: Uint8Array;
  /** Summary rows, in blocks (growing never copies); rowAt = block * 2^18 + offset. */
  arenas: Buffer[] = [];
  /** Bytes used in the last block. */
  arenaLen = 0;
  blockMin: Float64Array;
  blockMax: Float64Array;
  minTs = Infinity;
  maxTs = -Infinity;

  readonly dict = new Dict();
  readonly protoNames: string[] = [];
  private readonly protoByRef = new Map<number, number>();

  /** File bytes including those not yet written. */
  size = 0;
  /** File bytes known to be on disk (in the OS). */
  durable = 0;
  readonly chunks: Chunk[] = [];
  /** Wall-clock ms of the last append (age retention). */
  lastWriteMs: number;

  sealed = false;
  evicted = false;
  /** Readers currently using the file; it is closed when the last one leaves after eviction. */
  pins = 0;
  /** A write failed: entries past `durable` are lost. */
  failed = false;
  private fd = -1;
  private window: { pos: number; buf: Buffer } | undefined;

  private constructor(
    readonly seq: number,
    readonly path: string,
    cap: number,
    nowMs: number,
  ) {
    this.ids = new Float64Array(cap);
    this.ts = new Float64Array(cap);
    this.off = new Uint32Array(cap);
    this.rowAt = new Uint32Array(cap);
    this.proto = new Uint16Array(cap);
    this.status = new Uint16Array(cap);
    this.flags = new Uint8Array(cap);
    const blocks = Math.ceil(cap / BLOCK);
    this.blockMin = new Float64Array(blocks);
    this.blockMax = new Float64Array(blocks);
    this.lastWriteMs = nowMs;
  }

  /**
   * A new, empty segment file (the header is its first pending bytes). `spare`: columns of a
   * sealed segment to reuse.
   */
  static create(
    seq: number,
    path: string,
    expectedRows: number,
    nowMs: number,
    spare?: Columns,
  ): Segment {
    const s = new Segment(seq, path, spare ? 0 : Math.max(256, expectedRows), nowMs);
    if (spare) s.adopt(spare);
    s.fd = openSync(path, 'wx+');
    const h = fileHeader();
    const { buf, at } = s.reserve(h.length);
    h.copy(buf, at);
    s.commit(h.length);
    return s;
  }

  get firstId(): number {
    return this.n > 0 ? this.ids[0]! : NaN;
  }

  get lastId(): number {
    return this.n > 0 ? this.ids[this.n - 1]! : NaN;
  }

  /** Bytes of memory the index of this segment holds. */
  get indexBytes(): number {
    return (
      this.ids.byteLength +
      this.ts.byteLength +
      this.off.byteLength +
      this.rowAt.byteLength +
      this.proto.byteLength +
      this.status.byteLength +
      this.flags.byteLength +
      this.arenas.reduce((a, b) => a + b.length, 0) +
      this.blockMin.byteLength * 2 +
      this.dict.chars * 2 +
      this.dict.strings.length * 16
    );
  }

  // ---------------------------------------------------------------- index

  /** The protocol code (index column) of dictionary string `ref`. */
  protoCode(ref: number): number {
    let code = this.protoByRef.get(ref);
    if (code === undefined) {
      code = this.protoNames.length;
      this.protoNames.push(this.dict.s(ref));
      this.protoByRef.set(ref, code);
    }
    return code;
  }

  private growRows(): void {
    const cap = Math.max(1024, this.ids.length * 2);
    this.ids = grown(this.ids, cap);
    this.ts = grown(this.ts, cap);
    this.off = grown(this.off, cap);
    this.rowAt = grown(this.rowAt, cap);
    this.proto = grown(this.proto, cap);
    this.status = grown(this.status, cap);
    this.flags = grown(this.flags, cap);
    const blocks = Math.ceil(cap / BLOCK);
    this.blockMin = grown(this.blockMin, blocks);
    this.blockMax = grown(this.blockMax, blocks);
  }

  addRow(
    id: number,
    ts: number,
    status: number,
    flags: number,
    protoCode: number,
    row: Buffer,
    rowFrom: number,
    rowTo: number,
    frameAt: number,
  ): void {
    const i = this.n;
    if (i === this.ids.length) this.growRows();
    const len = rowTo - rowFrom;
    let block = this.arenas[this.arenas.length - 1];
    if (block === undefined || this.arenaLen + len > block.length) {
      block = Buffer.allocUnsafeSlow(Math.max(ARENA_BLOCK, len));
      this.arenas.push(block);
      this.arenaLen = 0;
    }
    row.copy(block, this.arenaLen, rowFrom, rowTo);
    this.rowAt[i] = (this.arenas.length - 1) * ARENA_BLOCK + this.arenaLen;
    this.arenaLen += len;
    this.ids[i] = id;
    this.ts[i] = ts;
    this.off[i] = frameAt;
    this.proto[i] = protoCode;
    this.status[i] = status;
    this.flags[i] = flags;
    const b = i >> BLOCK_SHIFT;
    if ((i & (BLOCK - 1)) === 0) {
      this.blockMin[b] = ts;
      this.blockMax[b] = ts;
    } else {
      if (ts < this.blockMin[b]!) this.blockMin[b] = ts;
      if (ts > this.blockMax[b]!) this.blockMax[b] = ts;
    }
    if (ts < this.minTs) this.minTs = ts;
    if (ts > this.maxTs) this.maxTs = ts;
    this.n = i + 1;
  }

  /** Row index of the first id ≥ `id` (ids increase). */
  lowerBound(id: number): number {
    let lo = 0;
    let hi = this.n;
    const ids = this.ids;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ids[mid]! < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** No more appends: trims the columns to size and drops the dictionary's lookup map. */
  /**
   * No more appends: trims the columns to size and drops the dictionary's lookup map. Returns
   * the capacity-sized column arrays it replaced, for the next segment to reuse.
   */
  seal(): Columns | undefined {
    if (this.sealed) return undefined;
    this.sealed = true;
    this.dict.seal();
    const before = this.columns();
    this.compact();
    return this.ids === before.ids ? undefined : before;
  }

  /** Columns at exactly `n` rows and the last arena block at its used size. */
  private compact(): void {
    const n = Math.max(this.n, 1);
    if (this.ids.length !== n) {
      this.ids = this.ids.slice(0, n);
      this.ts = this.ts.slice(0, n);
      this.off = this.off.slice(0, n);
      this.rowAt = this.rowAt.slice(0, n);
      this.proto = this.proto.slice(0, n);
      this.status = this.status.slice(0, n);
      this.flags = this.flags.slice(0, n);
      const blocks = Math.ceil(n / BLOCK);
      this.blockMin = this.blockMin.slice(0, blocks);
      this.blockMax = this.blockMax.slice(0, blocks);
    }
    const last = this.arenas[this.arenas.length - 1];
    if (last !== undefined && this.arenaLen < last.length) {
      const trimmed = Buffer.allocUnsafeSlow(Math.max(this.arenaLen, 1));
      last.copy(trimmed, 0, 0, this.arenaLen);
      this.arenas[this.arenas.length - 1] = trimmed;
    }
  }

  /** The column arrays (for reuse as recovery's scratch columns). */
  private columns(): Columns {
    return {
      ids: this.ids,
      ts: this.ts,
      off: this.off,
      rowAt: this.rowAt,
      proto: this.proto,
      status: this.status,
      flags: this.flags,
      blockMin: this.blockMin,
      blockMax: this.blockMax,
    };
  }

  private adopt(c: Columns): void {
    this.ids = c.ids;
    this.ts = c.ts;
    this.off = c.off;
    this.rowAt = c.rowAt;
    this.proto = c.proto;
    this.status = c.status;
    this.flags = c.flags;
    this.blockMin = c.blockMin;
    this.blockMax = c.blockMax;
  }

  // ---------------------------------------------------------------- writing

  /**
   * Room for `n` bytes at the end of the segment, in the open chunk or a new one: the chunk's
   * buffer, the offset in it, and the file position of that offset.
   */
  reserve(n: number): { buf: Buffer; at: number; pos: number } {
    let c = this.chunks[this.chunks.length - 1];
    if (c === undefined || c.closed || c.len + n > c.buf.length) {
      if (c !== undefined && !c.closed) c.closed = true;
      c = {
        pos: this.size,
        buf:
          n <= CHUNK_BYTES
            ? (chunkPool.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES))
            : Buffer.allocUnsafeSlow(n),
        len: 0,
        closed: false,
      };
      this.chunks.push(c);
    }
    return { buf: c.buf, at: c.len, pos: c.pos + c.len };
  }

  /** Accounts `n` bytes written at the position `reserve` gave. */
  commit(n: number): void {
    const c = this.chunks[this.chunks.length - 1]!;
    c.len += n;
    this.size += n;
  }

  /** Closes the open chunk (if it holds anything) so the writer takes it. */
  closeOpenChunk(): void {
    const c = this.chunks[this.chunks.length - 1];
    if (c !== undefined && !c.closed && c.len > 0) c.closed = true;
  }

  /**
   * Writes chunks `cs` (consecutive in the file) with one writev; short writes are continued.
   * Pins the file meanwhile. One call per batch matters: completions are only seen between
   * the producer's bursts of appends, so a write per chunk would fall behind.
   */
  async writeChunks(cs: readonly Chunk[]): Promise<void> {
    this.checkOpen();
    this.pins++;
    try {
      const bufs = cs.map((c) => c.buf.subarray(0, c.len));
      let pos = cs[0]!.pos;
      while (bufs.length > 0) {
        const n = await new Promise<number>((resolve, reject) =>
          writev(this.fd, bufs, pos, (err, written) => (err ? reject(err) : resolve(written))),
        );
        if (n <= 0) throw new Error('store: write made no progress');
        pos += n;
        let left = n;
        while (bufs.length > 0 && left >= bufs[0]!.length) left -= bufs.shift()!.length;
        if (left > 0) bufs[0] = bufs[0]!.subarray(left);
      }
    } finally {
      this.pins--;
      this.release();
    }
  }

  /** Flushes the file's data to the device. */
  async datasync(): Promise<void> {
    if (this.fd < 0) return;
    this.pins++;
    try {
      await new Promise<void>((resolve, reject) =>
        fdatasync(this.fd, (err) => (err ? reject(err) : resolve())),
      );
    } finally {
      this.pins--;
      this.release();
    }
  }

  /** The first chunk is on disk (or failed): drop it from memory. */
  chunkDone(c: Chunk, ok: boolean): void {
    if (this.chunks[0] === c) this.chunks.shift();
    // Views of chunk bytes are only used synchronously (decoded at once): safe to reuse.
    if (c.buf.length === CHUNK_BYTES && chunkPool.length < CHUNK_POOL_MAX) chunkPool.push(c.buf);
    if (ok && !this.failed) this.durable = c.pos + c.len;
    else this.failed = true;
  }

  // ---------------------------------------------------------------- reading

  /** End (exclusive) of the bytes that hold row i's frame: the next row's frame or the end. */
  private frameEnd(i: number): number {
    return i + 1 < this.n ? this.off[i + 1]! : this.size;
  }

  /** Bytes [pos, end) when they are still in a pending chunk (a frame never spans chunks). */
  private fromChunks(pos: number, end: number): Buffer | undefined {
    for (const c of this.chunks) {
      if (pos >= c.pos && pos < c.pos + c.len) {
        return c.buf.subarray(pos - c.pos, Math.min(end, c.pos + c.len) - c.pos);
      }
    }
    return undefined;
  }

  private checkOpen(): void {
    if (this.fd < 0) {
      throw new KsError('KS_ERR_FILE_READ', `store segment ${this.path} is closed (evicted)`);
    }
  }

  /**
   * Row i's frame bytes (at least; a view), synchronously. Reads a window around it and keeps
   * it, ahead of the position in the direction the last reads went (scans go both ways).
   */
  private frameSync(i: number): Buffer | undefined {
    const pos = this.off[i]!;
    const end = this.frameEnd(i);
    if (pos >= this.durable) return this.fromChunks(pos, end);
    const stop = Math.min(end, this.durable);
    const w = this.window;
    if (w !== undefined && pos >= w.pos && stop <= w.pos + w.buf.length) {
      return w.buf.subarray(pos - w.pos, stop - w.pos);
    }
    this.checkOpen();
    const backward = w !== undefined && pos < w.pos;
    const start = backward ? Math.max(0, Math.min(pos, stop - READ_AHEAD)) : pos;
    const until = backward ? stop : Math.min(Math.max(stop, pos + READ_AHEAD), this.durable);
    const old = w?.buf.buffer;
    const buf =
      old !== undefined && old.byteLength >= until - start && w!.buf.byteOffset === 0
        ? Buffer.from(old, 0, until - start)
        : Buffer.allocUnsafeSlow(Math.max(until - start, READ_AHEAD));
    const got = readSync(this.fd, buf, 0, until - start, start);
    this.window = { pos: start, buf: buf.subarray(0, got) };
    if (got < stop - start) return undefined;
    return buf.subarray(pos - start, stop - start);
  }

  /** The full entry of row i, read synchronously; undefined when unreadable (corrupt, lost). */
  fullSync(i: number): Entry | undefined {
    const f = this.frameSync(i);
    return f === undefined ? undefined : this.decodeFrame(f, 0, i);
  }

  /**
   * Full entries of rows `rows` (ascending), read with one file read per run of nearby rows.
   * Unreadable rows give undefined.
   */
  fullBatch(rows: readonly number[]): (Entry | undefined)[] {
    const out: (Entry | undefined)[] = new Array<Entry | undefined>(rows.length);
    // Runs of rows to read: [first, last) indexes into rows, file range [pos, end).
    const runs: { k: number; j: number; pos: number; end: number }[] = [];
    let k = 0;
    while (k < rows.length) {
      const i = rows[k]!;
      const pos = this.off[i]!;
      if (pos >= this.durable) {
        const f = this.fromChunks(pos, this.frameEnd(i));
        out[k++] = f === undefined ? undefined : this.decodeFrame(f, 0, i);
        continue;
      }
      // A run: following rows while they are on disk, close (gaps under RUN_GAP) and the run
      // stays under 1 MiB; matches spread thinly over a segment are read one by one.
      let j = k + 1;
      let end = Math.min(this.frameEnd(i), this.durable);
      while (j < rows.length) {
        const r = rows[j]!;
        const e = this.frameEnd(r);
        if (e > this.durable || e - pos > CHUNK_BYTES || this.off[r]! - end > RUN_GAP) break;
        end = e;
        j++;
      }
      runs.push({ k, j, pos, end });
      k = j;
    }
    if (runs.length === 0) return out;
    this.checkOpen();
    // Read synchronously: the bytes were written recently and sit in the page cache, where a
    // pread takes microseconds; 64 scattered matches read through the thread pool took 30–200 ms
    // of round trips on a loaded machine. (The caller awaits between batches.)
    for (const run of runs) {
      const len = run.end - run.pos;
      if (readScratch.length < len) readScratch = Buffer.allocUnsafeSlow(Math.max(len, 64 * 1024));
      const got = readSync(this.fd, readScratch, 0, len, run.pos);
      const data = readScratch.subarray(0, got);
      for (let q = run.k; q < run.j; q++) {
        const r = rows[q]!;
        const at = this.off[r]! - run.pos;
        out[q] = at < got ? this.decodeFrame(data, at, r) : undefined;
      }
    }
    return out;
  }

  /** Decodes the ENTRY frame at buf[at] (row i); undefined when it fails its checks. */
  decodeFrame(buf: Buffer, at: number, i: number): Entry | undefined {
    const c = checkFrame(buf, at, buf.length);
    if (!c.ok || c.type !== FRAME_ENTRY) return undefined;
    const p = at + FRAME_HEADER_BYTES;
    const end = p + c.len;
    const id = this.ids[i]!;
    const ts = buf.readDoubleLE(p + 8);
    const flags = buf[p + 18]!;
    try {
      let q = getUv(buf, p + ENTRY_FIXED_BYTES)[1];
      const [rowLen, rowStart] = getUv(buf, q);
      q = rowStart + rowLen;
      const text = q < end ? buf.toString('utf8', q, end) : '';
      if (flags & FLAG_OPAQUE) {
        const e = JSON.parse(text) as Entry;
        e.id = id;
        return e;
      }
      const heavy = text ? (JSON.parse(text) as unknown[]) : [];
      return decodeFull(new ByteReader(buf, rowStart), this.dict, id, ts, heavy);
    } catch {
      return undefined;
    }
  }

  /** The summary entry of row i (for filters); opaque rows load in full. `r`: a reader to reuse. */
  lazy(i: number, r?: ByteReader): Entry | undefined {
    if (this.flags[i]! & FLAG_OPAQUE) return this.fullSync(i);
    try {
      const at = this.rowAt[i]!;
      const block = this.arenas[Math.floor(at / ARENA_BLOCK)]!;
      const pos = at % ARENA_BLOCK;
      let reader = r;
      if (reader === undefined) reader = new ByteReader(block, pos);
      else {
        reader.buf = block;
        reader.pos = pos;
      }
      return decodeLazy(reader, this.dict, this.ids[i]!, this.ts[i]!, new LazyRow(this, i));
    } catch {
      return undefined;
    }
  }

  // ---------------------------------------------------------------- lifecycle

  /** Closes the file once no reader uses it (after eviction or at close). */
  release(): void {
    if (this.pins === 0 && this.fd >= 0 && (this.evicted || this.closing)) {
      closeSync(this.fd);
      this.fd = -1;
      this.window = undefined;
    }
  }

  closing = false;

  /**
   * Reads a segment file back: validates every frame, rebuilds the index, and cuts a torn tail
   * (short or failing frame at the end) or an unrecoverable middle. A corrupt frame followed by
   * a valid one is skipped. Returns undefined for a file that is not a segment (bad header).
   */
  static load(
    seq: number,
    path: string,
    counters: RecoveryCounters,
    expectedRows: number,
    scratch: LoadScratch = { buf: Buffer.alloc(0) },
  ): Segment | undefined {
    const fd = openSync(path, 'r+');
    let ok = false;
    try {
      const st = fstatSync(fd);
      const size = st.size;
      // The file is read in windows (a frame that does not fit gets a window of its own).
      let buf: Buffer = Buffer.alloc(0);
      let base = 0;
      const have = (from: number, need: number): boolean => {
        if (from >= base && from + need <= base + buf.length) return true;
        if (from + need > size) return false;
        const len = Math.min(Math.max(need, LOAD_WINDOW), size - from);
        // One buffer serves every window of every segment (rows and strings are copied out).
        if (scratch.buf.length < len)
          scratch.buf = Buffer.allocUnsafeSlow(Math.max(len, LOAD_WINDOW));
        buf = scratch.buf.subarray(0, len);
        base = from;
        let got = 0;
        while (got < len) {
          const n = readSync(fd, buf, got, len - got, from + got);
          if (n === 0) break;
          got += n;
        }
        buf = buf.subarray(0, got);
        return got >= need;
      };
      if (!have(0, FILE_HEADER_BYTES) || !checkFileHeader(buf)) return undefined;
      const s = new Segment(seq, path, scratch.cols ? 0 : Math.max(256, expectedRows), st.mtimeMs);
      if (scratch.cols) s.adopt(scratch.cols);
      s.fd = fd;
      /** The frame at file offset p, if it is whole and valid. */
      const frame = (p: number): FrameCheck => {
        if (!have(p, FRAME_HEADER_BYTES)) return { ok: false, short: true, len: 0 };
        const len = buf.readUInt32LE(p - base);
        if (len > MAX_FRAME_BYTES) return { ok: false, short: false, len };
        if (!have(p, FRAME_HEADER_BYTES + len)) return { ok: false, short: true, len };
        return checkFrame(buf, p - base, buf.length);
      };
      /** The type byte of the frame at p (undefined past the end). */
      const typeAt = (p: number): number | undefined =>
        have(p, FRAME_HEADER_BYTES) ? buf[p - base + 8] : undefined;
      /**
       * Whole entry records in file[from, size): found by trying every offset (a valid frame has
       * its CRC: a false find is a 1 in 2^32 chance), then walking from frame to frame.
       */
      const entriesAfter = (from: number): number => {
        let n = 0;
        let q = from;
        while (q + FRAME_HEADER_BYTES <= size) {
          // Cheap checks first: a plausible length and kind before reading a CRC.
          const t = typeAt(q);
          if (
            (t !== FRAME_DICT && t !== FRAME_ENTRY) ||
            buf.readUInt32LE(q - base) > size - q - FRAME_HEADER_BYTES
          ) {
            q++;
            continue;
          }
          const f = frame(q);
          if (!f.ok) {
            q++;
            continue;
          }
          if (f.type === FRAME_ENTRY) n++;
          q += FRAME_HEADER_BYTES + f.len;
        }
        return n;
      };
      let p = FILE_HEADER_BYTES;
      let cut = -1;
      while (p < size) {
        const c = frame(p);
        if (!c.ok) {
          const next = p + FRAME_HEADER_BYTES + c.len;
          if (!c.short && next < size && frame(next).ok) {
            counters.corruptRecords++;
            if (typeAt(p) === FRAME_ENTRY) counters.lostEntries++;
            p = next;
            continue;
          }
          counters.tornRecords++;
          counters.truncatedBytes += size - p;
          // The damaged record (the entry being written, or the strings written just before it)
          // and every whole entry after it go with the cut.
          counters.lostEntries += 1 + entriesAfter(p + 1);
          cut = p;
          break;
        }
        const at = p - base + FRAME_HEADER_BYTES;
        if (c.type === FRAME_DICT) {
          const [id, q] = getUv(buf, at);
          if (!s.dict.load(id, buf.toString('utf8', q, at + c.len))) counters.corruptRecords++;
        } else if (!s.loadEntry(buf, p, at, at + c.len)) {
          counters.corruptRecords++;
          counters.lostEntries++;
        }
        p += FRAME_HEADER_BYTES + c.len;
      }
      if (cut >= 0) ftruncateSync(fd, cut);
      s.size = s.durable = cut >= 0 ? cut : size;
      scratch.cols = s.columns();
      s.compact();
      if (s.ids === scratch.cols.ids) scratch.cols = undefined; // already exact: not scratch
      ok = true;
      return s;
    } finally {
      if (!ok) closeSync(fd);
    }
  }

  private loadEntry(buf: Buffer, frameAt: number, p: number, end: number): boolean {
    const id = buf.readDoubleLE(p);
    const ts = buf.readDoubleLE(p + 8);
    const status = buf.readUInt16LE(p + 16);
    const flags = buf[p + 18]!;
    if (!Number.isFinite(id) || (this.n > 0 && id <= this.lastId)) return false;
    try {
      const [protoRef, q] = getUv(buf, p + ENTRY_FIXED_BYTES);
      const [rowLen, rowStart] = getUv(buf, q);
      if (rowStart + rowLen > end) return false;
      const code = this.protoCode(protoRef);
      this.addRow(id, ts, status, flags, code, buf, rowStart, rowStart + rowLen, frameAt);
      return true;
    } catch {
      return false;
    }
  }
}

/** A row's way back to its full entry (for lazy summary entries). */
class LazyRow implements FullSource {
  // Assigned in the constructor, not class fields (created per summary entry; see codec.ts).
  declare private e: Entry | undefined;
  declare private seg: Segment;
  declare private i: number;

  constructor(seg: Segment, i: number) {
    this.seg = seg;
    this.i = i;
    this.e = undefined;
  }

  full(): Entry {
    if (this.e === undefined) {
      const e = this.seg.fullSync(this.i);
      if (e === undefined) {
        throw new KsError(
          'KS_ERR_FILE_READ',
          `store: entry ${this.seg.ids[this.i]} could not be read back (corrupt)`,
        );
      }
      this.e = e;
    }
    return this.e;
  }
}
