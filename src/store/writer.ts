/**
 * Writing the store: appends encoded into the open segment's write chunk and indexed at once, one
 * async writer that writes closed chunks in order, segments rolled over at `segmentBytes`,
 * backpressure (`waitForRoom`, drops over `maxPendingBytes`), recovery of the segments found on
 * open, and FIFO retention by size and age. It owns the segments; scans (scan.ts) read them.
 * Design and measurements: store.ts.
 */
import { readdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Entry } from '../entry/model.ts';
import { KsError } from '../util/errors.ts';
import { ByteWriter, putUv } from './bytes.ts';
import { encodeRow, MISFIT, statusOf } from './codec.ts';
import {
  ENTRY_FIXED_BYTES,
  FILE_HEADER_BYTES,
  FLAG_ERROR,
  FLAG_OPAQUE,
  FRAME_DICT,
  FRAME_ENTRY,
  FRAME_HEADER_BYTES,
  MAX_FRAME_BYTES,
  sealFrame,
} from './frame.ts';
import {
  Segment,
  segmentName,
  type Chunk,
  type Columns,
  type RecoveryCounters,
} from './segment.ts';

const MiB = 1024 * 1024;

/** `tap.capture.dbMaxSize` default. */
export const DEFAULT_MAX_BYTES = 500 * MiB;
/** Appends buffered but not yet written, beyond which appends are dropped (and counted). */
export const DEFAULT_MAX_PENDING_BYTES = 32 * MiB;
const MIN_SEGMENT_BYTES = 4 * 1024;
const MAX_SEGMENT_BYTES = 256 * MiB;
/** Default segment size: maxBytes / 16 within [1 MiB, 32 MiB] (eviction granularity ≤ 6%). */
const DEFAULT_SEGMENT_BYTES = (maxBytes: number): number =>
  Math.min(32 * MiB, Math.max(MiB, maxBytes / 16));
/** Average frame size used to size a new segment's columns. */
const ROW_SIZE_GUESS = 500;

export interface StoreOptions {
  /** Total bytes of segment files kept (FIFO eviction of whole segments). */
  maxBytes?: number;
  /** Evict segments whose last append is older than this (wall clock). */
  maxAgeSec?: number;
  /** Size at which the segment being written is closed and a new one started. */
  segmentBytes?: number;
  /** Bytes appended but not yet written beyond which appends are dropped and counted. */
  maxPendingBytes?: number;
  /** Wall clock in ms (age retention); tests inject their own. */
  now?: () => number;
  /** Where a line about damage found on open goes (entries lost, records cut); default none. */
  log?: (line: string) => void;
}

export interface StoreStats {
  entries: number;
  /** Bytes of segment files (including bytes not yet written). */
  bytes: number;
  segments: number;
  oldestTs?: number;
  newestTs?: number;
  oldestId?: number;
  newestId?: number;
  evictedEntries: number;
  evictedSegments: number;
  /** Records cut from a segment's end on open (torn writes), and bytes cut. */
  tornRecords: number;
  truncatedBytes: number;
  /** Records skipped as corrupt (on open or on read). */
  corruptRecords: number;
  /**
   * Entries lost when the store was opened: with a damaged tail cut off, in corrupt records
   * skipped, in segments dropped (at least that many; logged by `EntryStore.open`).
   */
  lostEntries: number;
  /** Appends refused: write backlog over `maxPendingBytes`, too large, or not serialisable. */
  droppedEntries: number;
  /** Appends whose id was not above the newest id (stored with the next id instead). */
  reassignedIds: number;
  /** Entries the schema does not describe (stored whole as JSON; slower to filter). */
  opaqueEntries: number;
  writeErrors: number;
  pendingBytes: number;
  /** Memory held by the in-memory index (columns, rows, dictionaries). */
  indexBytes: number;
}

/** The writer's limits, resolved from `StoreOptions`. */
export interface WriterLimits {
  maxBytes: number;
  segmentBytes: number;
  maxAgeSec: number | undefined;
  maxPendingBytes: number;
  now: () => number;
}

/** Defaults applied and sizes clamped; throws KS_ERR_USAGE when `maxBytes` is not positive. */
export function resolveLimits(opts: StoreOptions): WriterLimits {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!(maxBytes > 0)) throw new KsError('KS_ERR_USAGE', `store maxBytes must be > 0`);
  const segmentBytes = Math.floor(
    Math.min(
      MAX_SEGMENT_BYTES,
      Math.max(
        MIN_SEGMENT_BYTES,
        Math.min(opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES(maxBytes), maxBytes / 4),
      ),
    ),
  );
  return {
    maxBytes,
    segmentBytes,
    maxAgeSec: opts.maxAgeSec,
    maxPendingBytes: opts.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES,
    now: opts.now ?? Date.now,
  };
}

/** The write side of one store: its segments, appends, the writer, retention and counters. */
export class StoreWriter {
  /** Oldest first; read by scans (scan.ts), changed only here. */
  readonly segments: Segment[] = [];
  private active: Segment | undefined;
  private nextSeq = 1;
  private lastId = 0;
  private bytes = 0;
  private isClosed = false;

  /** Column arrays of the last sealed segment, for the next one (no allocation churn). */
  private spare: Columns | undefined;
  private readonly row = new ByteWriter(4096);
  private readonly heavy: unknown[] = [];

  // writer state
  private pendingBytes = 0;
  private appendedBytes = 0;
  private writtenBytes = 0;
  private pumping = false;
  private kickScheduled = false;
  private readonly flushWaiters: { target: number; resolve: () => void }[] = [];
  private roomWaiters: (() => void)[] = [];
  private readonly timer: NodeJS.Timeout | undefined;

  private readonly counters = {
    evictedEntries: 0,
    evictedSegments: 0,
    droppedEntries: 0,
    reassignedIds: 0,
    opaqueEntries: 0,
    writeErrors: 0,
  };
  /** Also counts the corrupt records scans meet. */
  readonly recovery: RecoveryCounters = {
    tornRecords: 0,
    corruptRecords: 0,
    truncatedBytes: 0,
    lostEntries: 0,
  };

  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly maxAgeSec: number | undefined;
  private readonly maxPendingBytes: number;
  private readonly now: () => number;

  constructor(
    readonly dir: string,
    limits: WriterLimits,
  ) {
    this.maxBytes = limits.maxBytes;
    this.segmentBytes = limits.segmentBytes;
    this.maxAgeSec = limits.maxAgeSec;
    this.maxPendingBytes = limits.maxPendingBytes;
    this.now = limits.now;
    const { maxAgeSec } = limits;
    if (maxAgeSec !== undefined && maxAgeSec > 0) {
      const every = Math.max(50, Math.min(1000, (maxAgeSec * 1000) / 4));
      this.timer = setInterval(() => this.enforceRetention(), every);
      this.timer.unref();
    }
  }

  /** Loads the segments found in `dir` (cutting torn tails), before any append. */
  recover(): void {
    const files = readdirSync(this.dir)
      .filter((f) => /^\d{8,}\.seg$/.test(f))
      .map((f) => ({ f, seq: Number(f.slice(0, -4)) }))
      .sort((a, b) => a.seq - b.seq);
    const scratch = { buf: Buffer.alloc(0) };
    for (const { f, seq } of files) {
      const path = join(this.dir, f);
      this.nextSeq = Math.max(this.nextSeq, seq + 1);
      const size = statSync(path).size;
      if (size < FILE_HEADER_BYTES) {
        // Created, then a crash before its header was written: nothing in it.
        unlinkSync(path);
        continue;
      }
      const seg = Segment.load(seq, path, this.recovery, Math.ceil(size / ROW_SIZE_GUESS), scratch);
      if (seg === undefined) {
        // Not a segment of this format: keep it aside rather than delete data we do not know.
        renameSync(path, `${path}.bad`);
        continue;
      }
      if (seg.n === 0 || (this.segments.length > 0 && seg.firstId <= this.lastId)) {
        if (seg.n > 0) {
          this.recovery.corruptRecords += seg.n;
          this.recovery.lostEntries += seg.n;
        }
        seg.closing = true;
        seg.release();
        unlinkSync(path);
        continue;
      }
      this.segments.push(seg);
      this.bytes += seg.size;
      this.lastId = seg.lastId;
    }
    const last = this.segments[this.segments.length - 1];
    for (const s of this.segments) if (s !== last) s.seal();
    if (last !== undefined && last.size < this.segmentBytes) this.active = last;
    else if (last !== undefined) last.seal();
  }

  // ---------------------------------------------------------------- writing

  get closed(): boolean {
    return this.isClosed;
  }

  /** The id the next entry gets if its own is not above the newest (Pipeline `idBase`). */
  get newestId(): number {
    return this.lastId;
  }

  /**
   * Stores `e` (encoded now: later changes to the object are not seen). Returns the id it is
   * stored under (its own when above the newest id, else the next one), or 0 when it was dropped
   * (write backlog over the limit, too large, or not JSON-serialisable; counted).
   */
  append(e: Entry): number {
    if (this.isClosed) throw new KsError('KS_ERR_USAGE', 'store is closed');
    if (this.pendingBytes > this.maxPendingBytes) {
      this.counters.droppedEntries++;
      return 0;
    }
    let id = e.id;
    if (typeof id !== 'number' || !(id > this.lastId) || !Number.isFinite(id)) {
      id = Math.floor(this.lastId) + 1;
      this.counters.reassignedIds++;
    }
    let seg = this.active;
    if (seg === undefined) {
      try {
        seg = this.startSegment();
      } catch {
        // Cannot create a segment file (disk full, permissions): the entry is lost, counted.
        this.counters.writeErrors++;
        this.counters.droppedEntries++;
        return 0;
      }
    }
    if (!this.write(seg, e, id)) {
      this.counters.droppedEntries++;
      return 0;
    }
    this.lastId = id;
    seg.lastWriteMs = this.now();
    if (seg.size >= this.segmentBytes) this.rollover();
    if (this.bytes > this.maxBytes) this.evictBySize();
    this.scheduleWrite();
    return id;
  }

  private startSegment(): Segment {
    const seq = this.nextSeq++;
    const seg = Segment.create(
      seq,
      join(this.dir, segmentName(seq)),
      Math.ceil(this.segmentBytes / ROW_SIZE_GUESS),
      this.now(),
      this.spare,
    );
    this.spare = undefined;
    this.segments.push(seg);
    this.bytes += seg.size;
    this.appendedBytes += seg.size;
    this.pendingBytes += seg.size;
    this.active = seg;
    return seg;
  }

  /** Encodes `e` into `seg`'s open chunk and indexes it. False: not storable. */
  private write(seg: Segment, e: Entry, id: number): boolean {
    const w = this.row;
    const heavy = this.heavy;
    w.reset();
    heavy.length = 0;
    const d = seg.dict;
    const ts = typeof e.timestamp === 'number' ? e.timestamp : 0;
    let flags = e.error !== undefined ? FLAG_ERROR : 0;
    let text: string;
    let protoRef: number;
    try {
      protoRef = d.ref(typeof e.protocol === 'string' ? e.protocol : '');
      try {
        encodeRow(e, w, d, heavy);
        text = heavy.length > 0 ? JSON.stringify(heavy) : '';
      } catch (err) {
        if (err !== MISFIT) throw err;
        w.reset();
        flags |= FLAG_OPAQUE;
        text = JSON.stringify(e) as string | undefined as string;
        if (typeof text !== 'string') return false;
        this.counters.opaqueEntries++;
      }
    } catch {
      // Not serialisable (BigInt, cycles…): strings it added to the dictionary are still written.
      text = '';
      flags = -1;
      protoRef = 0;
    }
    const strings = d.strings;
    let need = 0;
    for (let k = d.written; k < strings.length; k++) {
      need += FRAME_HEADER_BYTES + 8 + strings[k]!.length * 3;
    }
    const fixed = FRAME_HEADER_BYTES + ENTRY_FIXED_BYTES + 16 + w.pos;
    let entryBytes = fixed + text.length * 3;
    if (entryBytes > MAX_FRAME_BYTES) entryBytes = fixed + Buffer.byteLength(text);
    const storable = flags >= 0 && entryBytes <= MAX_FRAME_BYTES;
    if (storable) need += entryBytes;
    if (need === 0) return false;
    const { buf, at, pos } = seg.reserve(need);
    let p = at;
    for (let k = d.written; k < strings.length; k++) {
      const h = p;
      p = putUv(buf, p + FRAME_HEADER_BYTES, k);
      p += buf.write(strings[k]!, p);
      sealFrame(buf, h, FRAME_DICT, p - h - FRAME_HEADER_BYTES);
    }
    d.written = strings.length;
    if (!storable) {
      this.commit(seg, p - at);
      return false;
    }
    const h = p;
    p += FRAME_HEADER_BYTES;
    buf.writeDoubleLE(id, p);
    buf.writeDoubleLE(ts, p + 8);
    const status = statusOf(e);
    buf.writeUInt16LE(status, p + 16);
    buf[p + 18] = flags;
    p = putUv(buf, p + ENTRY_FIXED_BYTES, protoRef);
    p = putUv(buf, p, w.pos);
    const rowStart = p;
    w.buf.copy(buf, p, 0, w.pos);
    p += w.pos;
    if (text.length > 0) p += buf.write(text, p);
    sealFrame(buf, h, FRAME_ENTRY, p - h - FRAME_HEADER_BYTES);
    this.commit(seg, p - at);
    seg.addRow(
      id,
      ts,
      status,
      flags,
      seg.protoCode(protoRef),
      buf,
      rowStart,
      rowStart + w.pos,
      pos + (h - at),
    );
    return true;
  }

  private commit(seg: Segment, n: number): void {
    seg.commit(n);
    this.bytes += n;
    this.appendedBytes += n;
    this.pendingBytes += n;
  }

  /** Closes the segment being written; the next append starts a new one. */
  private rollover(): void {
    const seg = this.active;
    if (seg === undefined) return;
    seg.closeOpenChunk();
    this.spare = seg.seal();
    this.active = undefined;
    this.scheduleWrite();
  }

  private scheduleWrite(): void {
    if (this.kickScheduled) return;
    this.kickScheduled = true;
    setImmediate(() => {
      this.kickScheduled = false;
      this.active?.closeOpenChunk();
      void this.pump();
    });
  }

  /** Writes closed chunks, oldest segment first, one at a time. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        const seg = this.segments.find((s) => s.chunks[0]?.closed === true);
        if (seg === undefined) break;
        const cs: Chunk[] = [];
        for (const c of seg.chunks) {
          if (!c.closed) break;
          cs.push(c);
        }
        let ok = true;
        try {
          await seg.writeChunks(cs);
        } catch {
          ok = false;
          if (!cs[0]!.dropped) this.counters.writeErrors++;
        }
        for (const c of cs) {
          if (c.dropped) continue;
          seg.chunkDone(c, ok);
          this.pendingBytes -= c.len;
          this.writtenBytes += c.len;
        }
        if (ok && seg.sealed && seg.chunks.length === 0 && !seg.evicted) {
          await seg.datasync().catch(() => undefined);
        }
        this.wake();
      }
    } finally {
      this.pumping = false;
      this.wake();
    }
  }

  private wake(): void {
    for (let i = this.flushWaiters.length - 1; i >= 0; i--) {
      const w = this.flushWaiters[i]!;
      if (this.writtenBytes >= w.target) {
        this.flushWaiters.splice(i, 1);
        w.resolve();
      }
    }
    if (this.roomWaiters.length > 0 && this.pendingBytes <= this.maxPendingBytes / 4) {
      const ws = this.roomWaiters;
      this.roomWaiters = [];
      for (const w of ws) w();
    }
  }

  /** Resolves when everything appended so far is written to the files. */
  flush(): Promise<void> {
    const target = this.appendedBytes;
    if (this.writtenBytes >= target) return Promise.resolve();
    this.active?.closeOpenChunk();
    const p = new Promise<void>((resolve) => this.flushWaiters.push({ target, resolve }));
    void this.pump();
    return p;
  }

  /**
   * Backpressure for producers (e.g. `pump`'s afterBatch): a promise while the write backlog is
   * over a quarter of `maxPendingBytes`, else undefined.
   */
  waitForRoom(): Promise<void> | undefined {
    if (this.pendingBytes <= this.maxPendingBytes / 4) return undefined;
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  // ---------------------------------------------------------------- retention

  /** Applies size and age retention now (also runs on appends and on a timer). */
  enforceRetention(): void {
    if (this.isClosed) return;
    this.evictBySize();
    if (this.maxAgeSec === undefined || this.maxAgeSec <= 0) return;
    const limit = this.now() - this.maxAgeSec * 1000;
    for (;;) {
      const seg = this.segments[0];
      if (seg === undefined || seg.lastWriteMs >= limit) break;
      if (seg === this.active) this.rollover();
      this.evict(seg);
    }
  }

  private evictBySize(): void {
    while (this.bytes > this.maxBytes && this.segments.length > 1) {
      this.evict(this.segments[0]!);
    }
  }

  private evict(seg: Segment): void {
    const i = this.segments.indexOf(seg);
    if (i < 0) return;
    this.segments.splice(i, 1);
    seg.evicted = true;
    this.bytes -= seg.size;
    this.counters.evictedEntries += seg.n;
    this.counters.evictedSegments++;
    // Chunks not yet written are not written now, but stay readable from memory for a reader
    // that pinned the segment.
    for (const c of seg.chunks) {
      c.dropped = true;
      this.pendingBytes -= c.len;
      this.writtenBytes += c.len;
    }
    // Unlinked now; readers that pinned it keep reading through the open descriptor.
    unlink(seg.path).catch(() => undefined);
    seg.release();
    this.wake();
  }

  // ---------------------------------------------------------------- status and close

  stats(): StoreStats {
    let entries = 0;
    let indexBytes = 0;
    let oldestTs = Infinity;
    let newestTs = -Infinity;
    for (const s of this.segments) {
      entries += s.n;
      indexBytes += s.indexBytes;
      if (s.n > 0) {
        oldestTs = Math.min(oldestTs, s.minTs);
        newestTs = Math.max(newestTs, s.maxTs);
      }
    }
    const first = this.segments.find((s) => s.n > 0);
    return {
      entries,
      bytes: this.bytes,
      segments: this.segments.length,
      oldestTs: entries > 0 ? oldestTs : undefined,
      newestTs: entries > 0 ? newestTs : undefined,
      oldestId: first?.firstId,
      newestId: entries > 0 ? this.lastId : undefined,
      ...this.counters,
      ...this.recovery,
      pendingBytes: this.pendingBytes,
      indexBytes,
    };
  }

  stopTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  /**
   * Writes what is pending, syncs, and closes every file. Called once (the caller checks
   * `closed`); the store's lock is the caller's.
   */
  async close(): Promise<void> {
    await this.flush();
    this.isClosed = true;
    this.stopTimer();
    await this.active?.datasync().catch(() => undefined);
    for (const s of this.segments) {
      s.closing = true;
      s.release();
    }
    // The index is not needed any more (a reader still iterating keeps its segment alive).
    this.segments.length = 0;
    this.active = undefined;
  }
}
