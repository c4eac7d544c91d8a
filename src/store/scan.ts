/**
 * Reading the store: query planning (index checks, time window, cursor, snapshot id) and the scan
 * that runs a plan over the segments (per-block time skips, column checks, then the KFL filter on
 * summary entries), with what is built on it: streamed queries, pages, `scan` for aggregates
 * (aggregate.ts), counts and lookups by id. The state it reads (segments, newest id) belongs to the
 * writer (writer.ts), which keeps changing it between the scan's slices; store.ts joins the two.
 * The concurrency rules they follow are described in store.ts.
 */
import type { Entry } from '../entry/model.ts';
import { KsError } from '../util/errors.ts';
import { ByteReader } from './bytes.ts';
import { NO_STATUS } from './codec.ts';
import { FLAG_ERROR } from './frame.ts';
import { BLOCK_SHIFT, type RecoveryCounters, type Segment } from './segment.ts';

/** A scan yields to the event loop after this long. */
const SLICE_MS = 10;

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

/** What a scan reads of the writer's state; live: appends and retention change it meanwhile. */
export interface ScanSource {
  /** Oldest first. */
  readonly segments: readonly Segment[];
  /** Newest id stored (the snapshot a plan takes). */
  readonly newestId: number;
  readonly closed: boolean;
  /** Unreadable records met while reading are counted in `corruptRecords`. */
  readonly recovery: RecoveryCounters;
}

/** Query planning and scans over the segments of one store. */
export class Scanner {
  constructor(private readonly src: ScanSource) {}

  private plan(q: StoreQuery): Plan {
    if (this.src.closed) throw new KsError('KS_ERR_USAGE', 'store is closed');
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
      maxId: this.src.newestId,
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
    const list = this.src.segments.slice();
    if (newest) list.reverse();
    const indexed = Scanner.indexed(p);
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
                this.src.recovery.corruptRecords++;
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
          this.src.recovery.corruptRecords++;
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
          this.src.recovery.corruptRecords++;
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
    const segs = this.src.segments;
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
      if (e === undefined) this.src.recovery.corruptRecords++;
      return e;
    } finally {
      seg.pins--;
      seg.release();
    }
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
