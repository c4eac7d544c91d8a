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
 * - **Framing**: every record has a length and a CRC-32; a torn tail is cut on open and counted,
 *   with the entries it held (`lostEntries`, logged); a corrupt frame followed by a valid one is
 *   skipped. Dictionary strings are frames too (with
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
 * ## Files
 *
 * This file is the store's face: `EntryStore` opens a directory (one owner per directory, by a
 * LOCK file) and joins the two halves that share its segments. writer.ts writes: appends, the
 * async chunk writer, segment rollover, backpressure, recovery on open and FIFO retention.
 * scan.ts reads: query planning, the scan over segments, queries, pages, counts, `scan` (which
 * aggregate.ts builds statistics on) and lookups by id. Scans read the writer's segments and
 * newest id but never import it; neither imports this file.
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
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Entry } from '../entry/model.ts';
import { KsError } from '../util/errors.ts';
import { Scanner, type StorePage, type StoreQuery } from './scan.ts';
import {
  resolveLimits,
  StoreWriter,
  type StoreOptions,
  type StoreStats,
  type WriterLimits,
} from './writer.ts';

export { encodeCursor } from './scan.ts';
export type { Order, StorePage, StoreQuery } from './scan.ts';
export { DEFAULT_MAX_BYTES, DEFAULT_MAX_PENDING_BYTES } from './writer.ts';
export type { StoreOptions, StoreStats } from './writer.ts';

/** Directories open in this process (the LOCK file guards other processes). */
const openDirs = new Set<string>();

export class EntryStore {
  private readonly writer: StoreWriter;
  private readonly scanner: Scanner;

  private constructor(
    readonly dir: string,
    limits: WriterLimits,
  ) {
    this.writer = new StoreWriter(dir, limits);
    this.scanner = new Scanner(this.writer);
  }

  /** Opens (creating if needed) the store in `dir`, recovering what is there. */
  static async open(dir: string, opts: StoreOptions = {}): Promise<EntryStore> {
    const abs = resolve(dir);
    const limits = resolveLimits(opts);
    mkdirSync(abs, { recursive: true });
    await lockDir(abs);
    const store = new EntryStore(abs, limits);
    try {
      store.writer.recover();
    } catch (err) {
      store.writer.stopTimer();
      await unlockDir(abs);
      throw err;
    }
    store.writer.enforceRetention();
    const r = store.writer.recovery;
    if (opts.log && (r.lostEntries > 0 || r.tornRecords > 0 || r.corruptRecords > 0)) {
      opts.log(
        `store ${abs}: reopened with damage: ${r.lostEntries} entries lost (${r.tornRecords} damaged tails cut, ${r.truncatedBytes} bytes; ${r.corruptRecords} corrupt records skipped)`,
      );
    }
    return store;
  }

  // ---------------------------------------------------------------- writing (writer.ts)

  /** The id the next entry gets if its own is not above the newest (Pipeline `idBase`). */
  get newestId(): number {
    return this.writer.newestId;
  }

  /**
   * Stores `e` (encoded now: later changes to the object are not seen). Returns the id it is
   * stored under (its own when above the newest id, else the next one), or 0 when it was dropped
   * (write backlog over the limit, too large, or not JSON-serialisable; counted).
   */
  append(e: Entry): number {
    return this.writer.append(e);
  }

  /** Resolves when everything appended so far is written to the files. */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  /**
   * Backpressure for producers (e.g. `pump`'s afterBatch): a promise while the write backlog is
   * over a quarter of `maxPendingBytes`, else undefined.
   */
  waitForRoom(): Promise<void> | undefined {
    return this.writer.waitForRoom();
  }

  /** Applies size and age retention now (also runs on appends and on a timer). */
  enforceRetention(): void {
    this.writer.enforceRetention();
  }

  // ---------------------------------------------------------------- reading (scan.ts)

  /**
   * Matching entries, streamed in `order` (newest first by default). Full entries are read in
   * batches; with `lazy: true` the summary entries are yielded instead (no disk reads).
   */
  query(q: StoreQuery = {}): AsyncGenerator<Entry, void, undefined> {
    return this.scanner.query(q);
  }

  /** One page of at most `limit` (default 100) entries and the cursor of the next. */
  page(q: StoreQuery = {}): Promise<StorePage> {
    return this.scanner.page(q);
  }

  /**
   * Calls `visit` with every matching summary entry, in `order`, synchronously per batch (no
   * per-entry promise: aggregates over millions of rows). The entry is only valid during the call.
   * Returns how many were visited; `limit` is honoured.
   */
  scan(q: StoreQuery, visit: (e: Entry) => void): Promise<number> {
    return this.scanner.scan(q, visit);
  }

  /** Number of matching entries (`limit` and `order` are ignored; `cursor` is honoured). */
  count(q: StoreQuery = {}): Promise<number> {
    return this.scanner.count(q);
  }

  /** The full entry with this id, if it is still stored. */
  get(id: number): Promise<Entry | undefined> {
    return this.scanner.get(id);
  }

  // ---------------------------------------------------------------- status and close

  stats(): StoreStats {
    return this.writer.stats();
  }

  /** Writes what is pending, syncs, and closes every file. The store cannot be used after. */
  async close(): Promise<void> {
    if (this.writer.closed) return;
    await this.writer.close();
    await unlockDir(this.dir);
  }
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

/** Gives the directory up (its LOCK file is removed). */
function unlockDir(dir: string): Promise<void> {
  openDirs.delete(dir);
  return unlink(join(dir, 'LOCK')).catch(() => undefined);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
