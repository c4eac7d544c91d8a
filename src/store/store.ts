/**
 * The per-node entry store: append-only segment files on disk, an in-memory columnar index,
 * FIFO retention by size (and optionally age), streaming queries with cursors.
 *
 * ## Design, and the measurements that chose it
 *
 * Measured on this project's VM (2 vCPU Xeon, Node 20.20, shared with other jobs: load average
 * 4–8, so wall times were up to 3× CPU times; both are printed by scripts/bench/query.ts). The
 * benchmark's entries are enriched (pods, labels) and average 1.8 KB of JSON, 2.1 KB for HTTP.
 *
 * - **Own segment files, not SQLite/DuckDB.** better-sqlite3 is not installed (its current
 *   version needs Node 22), and an SQL engine would not remove the costs that matter, which are
 *   in JS: `JSON.stringify` of one entry takes 11–17 µs here and `JSON.parse` 10–15 µs. One JSON
 *   document per entry therefore caps ingest near 60–80 k/s, and "decode every entry, then run
 *   the filter" makes a full count over 1 M entries take 12+ s. The design avoids both.
 *
 * - **Summary row + heavy JSON per entry** (schema.ts, codec.ts). An entry is split into a compact
 *   binary summary row (every field but headers, cookies, query maps and body text: varints,
 *   per-segment dictionary ids, inline URLs, an endpoint's identity interned as one id; 80 bytes
 *   on average) and its heavy values as one JSON array. Stringifying only the heavy part costs
 *   ~4 µs instead of 13, and a frame on disk (609 B) is a third of the entry's JSON. Reading back
 *   rebuilds the exact entry: same keys, same order, same JSON text (tested on every capture in
 *   the repository). Entries the schema does not describe are stored whole ("opaque").
 *
 * - **The rows stay in memory**, next to fixed columns (id, timestamp, frame offset, row offset,
 *   protocol code, status = HTTP status / DNS RCODE, flags: typed arrays, no object per entry) and
 *   a min/max timestamp per 256 rows: 117 B per entry, 111 MiB for 1 M entries; a fresh process
 *   holding them (tsx loader included) has an RSS of ~200 MiB, ≤ 245 MiB while querying. A filter
 *   gets a summary entry built from the row: read-only Proxies whose sub-objects are decoded on
 *   first access (a status filter never builds endpoints) and whose heavy fields load the full
 *   entry synchronously. ~0.6–1 µs per row with a compiled KFL filter, so a full count over 1 M
 *   rows takes ~1 s and touches no disk. Alternatives measured: getter-based lazy objects 5 µs
 *   each (V8 builds them in dictionary mode), decoding whole rows 2 µs, class-field initialisers
 *   on the Proxy handlers 2.5× slower than constructor assignments.
 *
 * - **Cheap index checks before the filter**: time window (per-block min/max skips whole blocks),
 *   protocol list, status range and error flag are checked on the columns, and the predicate runs
 *   only on rows that pass. A column scan over 1 M rows takes 30–80 ms, so per-protocol id lists
 *   or status bitmaps would not pay for their memory; the status column pays because reading a
 *   row's status through the summary costs ~50× more (count of 5xx among 1 M: 96 ms with the
 *   status hint, 1.07 s through the filter alone).
 *
 * - **Framing**: every record has a length and a CRC-32; a torn tail is cut on open and counted;
 *   a corrupt frame followed by a valid one is skipped. Dictionary strings are frames too (with
 *   their id, so a lost one is a hole that fails its users rather than shifting every id), which
 *   makes each segment self-contained: eviction frees its strings with it.
 *
 * - **Writes** are batched in 1 MiB chunks written with one writev per batch (one write per chunk
 *   fell behind: completions are only seen between the producer's bursts), chunk buffers and
 *   column arrays are reused (allocating and freeing them fragmented the C heap: +50 MiB RSS).
 *
 * - **Retention** evicts whole oldest segments (unlink; nothing else is rewritten, so what remains
 *   is untouched). Size counts every segment file; age is wall-clock time since a segment's last
 *   append (a replayed capture's old timestamps are not mistaken for old data).
 *
 * Benchmark (scripts/bench/query.ts, 1 M entries, quiet 2-core machine): ingest 7.5–8 µs/entry
 * in append, 121 k/s wall with the writer; first 100 matches 0.5–20 ms for every query; full
 * counts 9–100 ms with index hints or a time window (exact hints skip the filter: bare `http`
 * 40 ms), 0.4–0.8 s for KFL filters over all rows, 4.5 s for a filter that reads headers of
 * 550 k HTTP entries (the documented slow path: it loads full entries); statistics of 550 k calls
 * 1.6 s (`scan` + summary entries); reopen 0.9 s.
 *
 * ## Concurrency (one thread; async interleavings)
 *
 * - Appends are synchronous: the entry is encoded into the open write chunk and indexed at once,
 *   so it is queryable immediately; chunks are written in order by one async writer. Reads of
 *   bytes not yet on disk are served from the chunk.
 * - A query snapshots the newest id when it starts and never returns later entries, so it ends
 *   under continuous writes, and cursor paging sees every entry that existed exactly once.
 * - A scan pins the segment it is in: if retention evicts that segment meanwhile, the file is
 *   unlinked at once but stays open (and its unwritten chunks in memory), and the scan finishes
 *   the segment consistently; segments evicted before the scan reaches them are skipped. The file
 *   descriptor is closed when the last reader leaves. Summary entries yielded in `lazy` mode must
 *   be used before the iteration moves on (or copied with `get`): afterwards their heavy fields
 *   may no longer be loadable (reading one then throws KS_ERR_FILE_READ).
 * - Long scans yield to the event loop every ~10 ms. Full entries are read with synchronous
 *   preads (page cache: microseconds each) between those yields.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Entry } from '../entry/model.ts';
import { KsError } from '../util/errors.ts';
import { ByteReader, ByteWriter, putUv } from './bytes.ts';
import { encodeRow, MISFIT, NO_STATUS, statusOf } from './codec.ts';
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
  BLOCK_SHIFT,
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
/** A scan yields to the event loop after this long. */
const SLICE_MS = 10;

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
}

export type Order = 'newest' | 'oldest';

/** What to select. All given conditions must hold (they are ANDed). */
export interface StoreQuery {
  /**
   * The predicate (a compiled KFL filter). Called only for entries that pass the index checks
   * below, with a summary entry: complete, read-only, loading heavy fields (headers, cookies,
   * query, body text) on first access. It should not keep the entry. A KFL compiler should also
   * pass the index fields its expression implies (`http && status_code >= 500` → protocols
   * ['http'], status min 500): the filter then runs on a fraction of the rows.
   */
  filter?: (e: Entry) => boolean;
  /** Index: `e.protocol` is one of these. */
  protocols?: readonly string[];
  /** Index: status (HTTP status code, DNS RCODE) in [min, max]; entries without one never match. */
  status?: { min?: number; max?: number };
  /** Index: only entries with (true) / without (false) an `error`. */
  errors?: boolean;
  /** µs since the epoch, on `e.timestamp`: start ≤ timestamp < end. */
  start?: number;
  end?: number;
  /** Stop after this many entries. */
  limit?: number;
  /** Resume after the last entry of a previous page (same order). */
  cursor?: string;
  /** By id (append order); default newest first. */
  order?: Order;
  /** Yield summary entries (as the filter sees them) instead of reading full entries. */
  lazy?: boolean;
}

export interface StorePage {
  entries: Entry[];
  /** Present when more entries may follow: pass it back as `cursor`. */
  cursor?: string;
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

interface Plan {
  order: Order;
  start: number;
  end: number;
  protocols: ReadonlySet<string> | undefined;
  statusMin: number;
  statusMax: number;
  errors: boolean | undefined;
  filter: ((e: Entry) => boolean) | undefined;
  /** Only ids strictly after (oldest) / before (newest) this. */
  after: number | undefined;
  /** Snapshot: ids above are ignored. */
  maxId: number;
  limit: number;
  lazy: boolean;
}

/** Directories open in this process (the LOCK file guards other processes). */
const openDirs = new Set<string>();

/** The cursor that resumes after entry `id` in `order` (base64url `n:<id>` / `o:<id>`). */
export function encodeCursor(order: Order, id: number): string {
  return Buffer.from(`${order === 'newest' ? 'n' : 'o'}:${id}`).toString('base64url');
}

function decodeCursor(cursor: string, order: Order): number {
  const m = /^([no]):(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)$/.exec(
    Buffer.from(cursor, 'base64url').toString('latin1'),
  );
  if (m === null) throw new KsError('KS_ERR_USAGE', 'invalid store cursor');
  if ((m[1] === 'n') !== (order === 'newest')) {
    throw new KsError('KS_ERR_USAGE', 'store cursor was made for the other order');
  }
  return Number(m[2]);
}

const nextTick = (): Promise<void> => new Promise((r) => setImmediate(r));

export class EntryStore {
  private readonly segments: Segment[] = [];
  private active: Segment | undefined;
  private nextSeq = 1;
  private lastId = 0;
  private bytes = 0;
  private closed = false;

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
  private readonly recovery: RecoveryCounters = {
    tornRecords: 0,
    corruptRecords: 0,
    truncatedBytes: 0,
  };

  private constructor(
    readonly dir: string,
    private readonly maxBytes: number,
    private readonly segmentBytes: number,
    private readonly maxAgeSec: number | undefined,
    private readonly maxPendingBytes: number,
    private readonly now: () => number,
  ) {
    if (maxAgeSec !== undefined && maxAgeSec > 0) {
      const every = Math.max(50, Math.min(1000, (maxAgeSec * 1000) / 4));
      this.timer = setInterval(() => this.enforceRetention(), every);
      this.timer.unref();
    }
  }

  /** Opens (creating if needed) the store in `dir`, recovering what is there. */
  static async open(dir: string, opts: StoreOptions = {}): Promise<EntryStore> {
    const abs = resolve(dir);
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
    mkdirSync(abs, { recursive: true });
    await lockDir(abs);
    const store = new EntryStore(
      abs,
      maxBytes,
      segmentBytes,
      opts.maxAgeSec,
      opts.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES,
      opts.now ?? Date.now,
    );
    try {
      store.recover();
    } catch (err) {
      store.stopTimer();
      openDirs.delete(abs);
      await unlink(join(abs, 'LOCK')).catch(() => undefined);
      throw err;
    }
    store.enforceRetention();
    return store;
  }

  private recover(): void {
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
        if (seg.n > 0) this.recovery.corruptRecords += seg.n;
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
    if (this.closed) throw new KsError('KS_ERR_USAGE', 'store is closed');
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
    if (this.closed) return;
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

  // ---------------------------------------------------------------- reading

  private plan(q: StoreQuery): Plan {
    if (this.closed) throw new KsError('KS_ERR_USAGE', 'store is closed');
    const order = q.order ?? 'newest';
    if (order !== 'newest' && order !== 'oldest') {
      throw new KsError('KS_ERR_USAGE', `store order must be newest or oldest, not ${order}`);
    }
    return {
      order,
      start: q.start ?? -Infinity,
      end: q.end ?? Infinity,
      protocols: q.protocols ? new Set(q.protocols) : undefined,
      statusMin: q.status?.min ?? 0,
      statusMax: Math.min(q.status?.max ?? NO_STATUS - 1, NO_STATUS - 1),
      errors: q.errors,
      filter: q.filter,
      after: q.cursor !== undefined ? decodeCursor(q.cursor, order) : undefined,
      maxId: this.lastId,
      limit: q.limit ?? Infinity,
      lazy: q.lazy === true,
    };
  }

  /** Whether any index check besides the time window is set. */
  private static indexed(p: Plan): boolean {
    return (
      p.protocols !== undefined ||
      p.statusMin > 0 ||
      p.statusMax < NO_STATUS - 1 ||
      p.errors !== undefined
    );
  }

  /**
   * Matching rows in query order, in batches of at most `max()` rows of one segment. A partial
   * batch is also yielded when a time slice runs out, so the first results come early; long
   * scans then yield to the event loop. The segment is pinned while its rows are scanned and
   * while a batch of it is out with the consumer.
   */
  private async *matches(
    p: Plan,
    max: () => number,
    collect = true,
  ): AsyncGenerator<Batch, void, undefined> {
    const newest = p.order === 'newest';
    const list = this.segments.slice();
    if (newest) list.reverse();
    const indexed = EntryStore.indexed(p);
    const statusRange = p.statusMin > 0 || p.statusMax < NO_STATUS - 1;
    const windowed = p.start > -Infinity || p.end < Infinity;
    let sliceStart = performance.now();
    for (const seg of list) {
      if (seg.evicted || seg.n === 0) continue;
      if (seg.firstId > p.maxId) {
        if (newest) continue;
        break;
      }
      if (p.after !== undefined && (newest ? seg.firstId >= p.after : seg.lastId <= p.after)) {
        continue;
      }
      if (seg.maxTs < p.start || seg.minTs >= p.end) continue;
      seg.pins++;
      try {
        // Rows [lo, hi) of this segment: up to the snapshot id, after the cursor.
        let lo = 0;
        let hi = seg.lowerBound(p.maxId);
        if (hi < seg.n && seg.ids[hi] === p.maxId) hi++;
        if (p.after !== undefined) {
          if (newest) hi = Math.min(hi, seg.lowerBound(p.after));
          else {
            lo = seg.lowerBound(p.after);
            if (lo < seg.n && seg.ids[lo] === p.after) lo++;
          }
        }
        let mask: Uint8Array | undefined;
        let i = newest ? hi - 1 : lo;
        const step = newest ? -1 : 1;
        let batch: Batch = { seg, rows: [], lazy: [], count: 0 };
        const reader = new ByteReader(Buffer.alloc(0), 0);
        while (newest ? i >= lo : i < hi) {
          // One slice. Columns are re-read after every suspension (the active segment's arrays
          // grow, and sealing trims them).
          const ts = seg.ts;
          const proto = seg.proto;
          const status = seg.status;
          const flags = seg.flags;
          const bmin = seg.blockMin;
          const bmax = seg.blockMax;
          if (
            p.protocols !== undefined &&
            (mask === undefined || mask.length !== seg.protoNames.length)
          ) {
            const m = new Uint8Array(seg.protoNames.length);
            seg.protoNames.forEach((name, c) => (m[c] = p.protocols!.has(name) ? 1 : 0));
            mask = m;
          }
          const limit = max();
          let budget = 4096;
          while ((newest ? i >= lo : i < hi) && budget-- > 0) {
            const k = i;
            if (
              windowed &&
              (newest ? (k & 255) === 255 || k === hi - 1 : (k & 255) === 0 || k === lo)
            ) {
              // First row visited in a block: skip the block when its time range is outside.
              const b = k >> BLOCK_SHIFT;
              if (bmax[b]! < p.start || bmin[b]! >= p.end) {
                i = newest ? (b << BLOCK_SHIFT) - 1 : (b + 1) << BLOCK_SHIFT;
                continue;
              }
            }
            i += step;
            const t = ts[k]!;
            if (t < p.start || t >= p.end) continue;
            if (indexed) {
              if (mask !== undefined && mask[proto[k]!] !== 1) continue;
              if (statusRange) {
                const s = status[k]!;
                if (s < p.statusMin || s > p.statusMax) continue;
              }
              if (p.errors !== undefined && ((flags[k]! & FLAG_ERROR) !== 0) !== p.errors) continue;
            }
            let e: Entry | undefined;
            if (p.filter !== undefined) {
              e = seg.lazy(k, reader);
              if (e === undefined) {
                this.recovery.corruptRecords++;
                continue;
              }
              let ok: boolean;
              try {
                ok = p.filter(e) === true;
              } catch (err) {
                // A heavy field that can no longer be read is a no-match; a bug is not hidden.
                if (err instanceof KsError) ok = false;
                else throw err;
              }
              if (!ok) continue;
            }
            batch.count++;
            if (!collect) continue;
            batch.rows.push(k);
            batch.lazy.push(e);
            if (batch.count >= limit) break;
          }
          const full = batch.count >= limit;
          const late = performance.now() - sliceStart > SLICE_MS;
          if (full || (late && batch.count > 0 && collect)) {
            yield batch;
            batch = { seg, rows: [], lazy: [], count: 0 };
          }
          if (late) {
            await nextTick();
            sliceStart = performance.now();
          }
        }
        if (batch.count > 0) yield batch;
      } finally {
        seg.pins--;
        seg.release();
      }
    }
  }

  /**
   * Matching entries, streamed in `order` (newest first by default). Full entries are read in
   * batches; with `lazy: true` the summary entries are yielded instead (no disk reads).
   */
  async *query(q: StoreQuery = {}): AsyncGenerator<Entry, void, undefined> {
    const p = this.plan(q);
    let yielded = 0;
    if (p.limit <= 0) return;
    const newest = p.order === 'newest';
    for await (const b of this.matches(p, () => Math.min(64, p.limit - yielded))) {
      let got: (Entry | undefined)[];
      if (p.lazy) {
        got = b.rows.map((r, k) => b.lazy[k] ?? b.seg.lazy(r));
      } else {
        const asc = newest ? b.rows.slice().reverse() : b.rows;
        got = b.seg.fullBatch(asc);
        if (newest) got.reverse();
      }
      for (const e of got) {
        if (e === undefined) {
          this.recovery.corruptRecords++;
          continue;
        }
        yield e;
        if (++yielded >= p.limit) return;
      }
    }
  }

  /** One page of at most `limit` (default 100) entries and the cursor of the next. */
  async page(q: StoreQuery = {}): Promise<StorePage> {
    const limit = q.limit ?? 100;
    const entries: Entry[] = [];
    for await (const e of this.query({ ...q, limit: limit + 1 })) entries.push(e);
    if (entries.length <= limit) return { entries };
    entries.length = limit;
    return { entries, cursor: encodeCursor(q.order ?? 'newest', entries[limit - 1]!.id) };
  }

  /**
   * Calls `visit` with every matching summary entry, in `order`, synchronously per batch (no
   * per-entry promise: aggregates over millions of rows). The entry is only valid during the call.
   * Returns how many were visited; `limit` is honoured.
   */
  async scan(q: StoreQuery, visit: (e: Entry) => void): Promise<number> {
    const p = this.plan(q);
    let n = 0;
    if (p.limit <= 0) return 0;
    for await (const b of this.matches(p, () => p.limit - n)) {
      const { rows, lazy, seg } = b;
      for (let k = 0; k < rows.length; k++) {
        const e = lazy[k] ?? seg.lazy(rows[k]!);
        if (e === undefined) {
          this.recovery.corruptRecords++;
          continue;
        }
        visit(e);
        if (++n >= p.limit) return n;
      }
    }
    return n;
  }

  /** Number of matching entries (`limit` and `order` are ignored; `cursor` is honoured). */
  async count(q: StoreQuery = {}): Promise<number> {
    const p = this.plan({ ...q, limit: undefined, order: q.order ?? 'newest' });
    let n = 0;
    for await (const b of this.matches(p, () => Infinity, false)) n += b.count;
    return n;
  }

  /** The full entry with this id, if it is still stored. */
  async get(id: number): Promise<Entry | undefined> {
    const segs = this.segments;
    let lo = 0;
    let hi = segs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (segs[mid]!.lastId < id) lo = mid + 1;
      else hi = mid;
    }
    const seg = segs[lo];
    if (seg === undefined || !(seg.firstId <= id)) return undefined;
    const i = seg.lowerBound(id);
    if (seg.ids[i] !== id) return undefined;
    seg.pins++;
    try {
      const [e] = seg.fullBatch([i]);
      if (e === undefined) this.recovery.corruptRecords++;
      return e;
    } finally {
      seg.pins--;
      seg.release();
    }
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

  private stopTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  /** Writes what is pending, syncs, and closes every file. The store cannot be used after. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    this.stopTimer();
    await this.active?.datasync().catch(() => undefined);
    for (const s of this.segments) {
      s.closing = true;
      s.release();
    }
    // The index is not needed any more (a reader still iterating keeps its segment alive).
    this.segments.length = 0;
    this.active = undefined;
    openDirs.delete(this.dir);
    await unlink(join(this.dir, 'LOCK')).catch(() => undefined);
  }
}

interface Batch {
  seg: Segment;
  /** Matches (also counted when rows are not collected). */
  count: number;
  rows: number[];
  /** The summary entry the filter saw, per row (undefined without a filter). */
  lazy: (Entry | undefined)[];
}

/**
 * One store per directory: a LOCK file holds the owner's pid. A lock left by a process that is
 * gone (a crash) is taken over.
 */
async function lockDir(dir: string): Promise<void> {
  if (openDirs.has(dir)) throw new KsError('KS_ERR_USAGE', `store ${dir} is already open`);
  const lock = join(dir, 'LOCK');
  if (existsSync(lock)) {
    const pid = Number(readFileSync(lock, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new KsError('KS_ERR_USAGE', `store ${dir} is in use by process ${pid}`);
    }
  }
  await writeFile(lock, `${process.pid}\n`);
  openDirs.add(dir);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
