/**
 * Mergeable API statistics: per group (endpoint, service, namespace, node or protocol) the call
 * count, rate, error counts and rates per error class, latency quantiles from a DDSketch, bytes,
 * and time-series buckets for charts. Each worker accumulates its own entries; `toJSON()` is
 * portable, so the hub merges nodes with `merge()` and gets exactly what one accumulator fed
 * every entry would have (counts add, sketches add bin by bin).
 *
 * Only L7 entries are calls; L4 records (`tcp_conn`, `udp_flow`) are skipped and counted in
 * `ignored` (see l4.ts for those).
 */
import type { Entry } from '../../entry/model.ts';
import { KsError } from '../../util/errors.ts';
import type { Call, ErrorClass, ProtocolStatsSpec } from './classify.ts';
import { ERROR_CLASS_NAMES, L4_KINDS, PROTOCOL_STATS, specFor, toCall } from './classify.ts';
import type { GroupLabels, StatsGroupBy } from './groups.ts';
import { STATS_GROUP_BY, groupKey, groupLabels } from './groups.ts';
import type { SerializedSketch } from './sketch.ts';
import { DEFAULT_RELATIVE_ACCURACY, LatencySketch } from './sketch.ts';

export const DEFAULT_BUCKET_SEC = 60;
/**
 * Distinct groups kept; calls of further groups are counted in the `(other)` group, so a flood
 * of distinct paths cannot exhaust memory.
 */
export const MAX_STATS_GROUPS = 10_000;
export const OTHER_GROUP = '(other)';
/** Most buckets `result({ fill: true })` creates per series. */
export const MAX_FILLED_BUCKETS = 10_000;
/** Rates over an observed window are per second of at least this window. */
export const MIN_RATE_WINDOW_SEC = 1;

export const STATS_FORMAT = 'kubeshark-stats';
export const STATS_VERSION = 1;

export interface StatsOptions {
  groupBy: StatsGroupBy;
  /** Width of the time-series buckets in seconds (default 60); 0 disables series. */
  bucketSec?: number;
  /** DDSketch relative accuracy α (default 0.01). Accumulators merge only with the same α. */
  relativeAccuracy?: number;
  /** Distinct groups kept before calls go to `(other)` (default 10 000). */
  maxGroups?: number;
  /** Per-protocol endpoint/error/latency rows (default PROTOCOL_STATS). */
  protocols?: Readonly<Record<string, ProtocolStatsSpec>>;
}

// ---------------------------------------------------------------- serialised form

export interface SerializedCounters {
  calls: number;
  /** Calls with at least one failure class. */
  failed: number;
  /** Calls per error class (classes with 0 omitted). */
  errors: Partial<Record<ErrorClass, number>>;
  requestBytes: number;
  responseBytes: number;
  /** First / last call start (µs); 0 when no calls. */
  first: number;
  last: number;
  /** Absent when the group has no latency sample. */
  latency?: SerializedSketch;
}

export interface SerializedBucket extends SerializedCounters {
  /** Bucket start, µs since the epoch (a multiple of bucketSec, so nodes' buckets line up). */
  start: number;
}

/**
 * One group. With series (bucketSec > 0) the group's totals are the sum of its buckets (every
 * call is in exactly one), so only the buckets are stored; without series, `counters` are.
 */
export interface SerializedGroup {
  key: string;
  labels: GroupLabels;
  counters?: SerializedCounters;
  buckets: SerializedBucket[];
}

export interface SerializedStats {
  format: typeof STATS_FORMAT;
  version: typeof STATS_VERSION;
  groupBy: StatsGroupBy;
  bucketSec: number;
  relativeAccuracy: number;
  maxGroups: number;
  /** Entries seen that are not calls (L4 records). */
  ignored: number;
  /** Sorted by key. */
  groups: SerializedGroup[];
}

// ---------------------------------------------------------------- result

export interface LatencyStats {
  /** Calls with a latency sample. */
  samples: number;
  /** µs; within ±relativeAccuracy of the exact quantile. */
  p50: number;
  p95: number;
  p99: number;
  /** µs, exact. */
  min: number;
  max: number;
  mean: number;
}

export interface Stats {
  calls: number;
  /** Calls per second over the window (the bucket, for series). */
  ratePerSec: number;
  /** Calls with a failure class; `errorRate` = failed / calls. */
  failed: number;
  errorRate: number;
  /** Calls per error class, every class present. */
  errors: Record<ErrorClass, number>;
  /** errors / calls per class (`http_5xx`: status ≥ 500, `http_4xx`: 400–499). */
  errorRates: Record<ErrorClass, number>;
  latency: LatencyStats | null;
  bytes: { request: number; response: number; total: number };
  /** First / last call start, µs since the epoch; null without calls. */
  first: number | null;
  last: number | null;
}

export interface BucketStats extends Stats {
  /** µs since the epoch. */
  start: number;
}

export interface GroupStats extends Stats {
  key: string;
  labels: GroupLabels;
  /** Sorted by start; empty when series are disabled. */
  series: BucketStats[];
}

export interface StatsResult {
  groupBy: StatsGroupBy;
  bucketSec: number;
  relativeAccuracy: number;
  /** The window rates are computed over (µs); start/end null when nothing was counted. */
  window: { start: number | null; end: number | null; seconds: number };
  /** Entries seen that are not calls (L4 records). */
  ignored: number;
  /** Every call, all groups merged; its series are the overall series. */
  total: GroupStats;
  /** Sorted by calls (descending), then key. */
  groups: GroupStats[];
}

export interface ResultOptions {
  /** Window the rates are over (µs); default the observed one (first..last call, ≥ 1 s). */
  window?: { start: number; end: number };
  /** Add empty buckets so every series covers the window without holes. */
  fill?: boolean;
  /**
   * Which time series to compute: `all` (default: the total's and every group's), `total`
   * (only the total's; groups get `[]`) or `none`. A table needs none; a chart of the top
   * groups needs them all.
   */
  series?: 'all' | 'total' | 'none';
}

// ---------------------------------------------------------------- counters

function zeroErrors(): Record<ErrorClass, number> {
  const o = {} as Record<ErrorClass, number>;
  for (const c of ERROR_CLASS_NAMES) o[c] = 0;
  return o;
}

class Counters {
  calls = 0;
  failed = 0;
  readonly errors = zeroErrors();
  requestBytes = 0;
  responseBytes = 0;
  first = Infinity;
  last = -Infinity;
  latency: LatencySketch | undefined;

  constructor(private readonly alpha: number) {}

  add(c: Call): void {
    this.calls++;
    if (c.failed) this.failed++;
    for (const k of c.classes) this.errors[k]++;
    this.requestBytes += c.requestBytes;
    this.responseBytes += c.responseBytes;
    if (c.ts < this.first) this.first = c.ts;
    if (c.ts > this.last) this.last = c.ts;
    if (c.latency !== undefined) (this.latency ??= new LatencySketch(this.alpha)).add(c.latency);
  }

  merge(o: Counters): void {
    this.calls += o.calls;
    this.failed += o.failed;
    for (const k of ERROR_CLASS_NAMES) this.errors[k] += o.errors[k];
    this.requestBytes += o.requestBytes;
    this.responseBytes += o.responseBytes;
    if (o.first < this.first) this.first = o.first;
    if (o.last > this.last) this.last = o.last;
    if (o.latency !== undefined) (this.latency ??= new LatencySketch(this.alpha)).merge(o.latency);
  }

  toJSON(): SerializedCounters {
    const errors: Partial<Record<ErrorClass, number>> = {};
    for (const k of ERROR_CLASS_NAMES) if (this.errors[k] > 0) errors[k] = this.errors[k];
    const j: SerializedCounters = {
      calls: this.calls,
      failed: this.failed,
      errors,
      requestBytes: this.requestBytes,
      responseBytes: this.responseBytes,
      first: this.calls > 0 ? this.first : 0,
      last: this.calls > 0 ? this.last : 0,
    };
    if (this.latency !== undefined && this.latency.count > 0) j.latency = this.latency.toJSON();
    return j;
  }

  static fromJSON(j: SerializedCounters, alpha: number): Counters {
    const c = new Counters(alpha);
    const nums = [j.calls, j.failed, j.requestBytes, j.responseBytes, j.first, j.last];
    if (!nums.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0))
      throw new Error('malformed counters');
    c.calls = j.calls;
    c.failed = j.failed;
    if (typeof j.errors !== 'object' || j.errors === null) throw new Error('malformed errors');
    for (const [k, v] of Object.entries(j.errors)) {
      // Classes this version does not know are dropped (a newer node's), never misfiled.
      if (k in c.errors && typeof v === 'number') c.errors[k as ErrorClass] = v;
    }
    c.requestBytes = j.requestBytes;
    c.responseBytes = j.responseBytes;
    if (c.calls > 0) {
      c.first = j.first;
      c.last = j.last;
    }
    if (j.latency !== undefined) c.latency = LatencySketch.fromJSON(j.latency, alpha);
    return c;
  }

  stats(seconds: number): Stats {
    const n = this.calls;
    const errorRates = zeroErrors();
    if (n > 0) for (const k of ERROR_CLASS_NAMES) errorRates[k] = this.errors[k] / n;
    const sk = this.latency;
    return {
      calls: n,
      ratePerSec: seconds > 0 ? n / seconds : 0,
      failed: this.failed,
      errorRate: n > 0 ? this.failed / n : 0,
      errors: { ...this.errors },
      errorRates,
      latency:
        sk === undefined || sk.count === 0
          ? null
          : {
              samples: sk.count,
              p50: sk.quantile(0.5)!,
              p95: sk.quantile(0.95)!,
              p99: sk.quantile(0.99)!,
              min: sk.min!,
              max: sk.max!,
              mean: sk.mean!,
            },
      bytes: {
        request: this.requestBytes,
        response: this.responseBytes,
        total: this.requestBytes + this.responseBytes,
      },
      first: n > 0 ? this.first : null,
      last: n > 0 ? this.last : null,
    };
  }
}

interface Group {
  key: string;
  labels: GroupLabels;
  counters: Counters;
  /** By bucket index (start / bucket width: a small integer, cheap to hash). */
  buckets: Map<number, Counters>;
}

function usage(message: string): KsError {
  return new KsError('KS_ERR_USAGE', `statistics: ${message}`);
}

// ---------------------------------------------------------------- accumulator

export class StatsAccumulator {
  readonly groupBy: StatsGroupBy;
  readonly bucketSec: number;
  readonly relativeAccuracy: number;
  readonly maxGroups: number;
  private readonly protocols: Readonly<Record<string, ProtocolStatsSpec>>;
  private readonly bucketUs: number;
  private readonly groups = new Map<string, Group>();
  private ignoredCount = 0;

  constructor(opts: StatsOptions) {
    if (!STATS_GROUP_BY.includes(opts.groupBy))
      throw usage(`unknown groupBy "${String(opts.groupBy)}" (${STATS_GROUP_BY.join(', ')})`);
    const bucketSec = opts.bucketSec ?? DEFAULT_BUCKET_SEC;
    if (!(Number.isFinite(bucketSec) && (bucketSec === 0 || bucketSec >= 1e-3)))
      throw usage(`bucketSec must be 0 (no series) or ≥ 0.001, got ${bucketSec}`);
    const alpha = opts.relativeAccuracy ?? DEFAULT_RELATIVE_ACCURACY;
    if (!(alpha > 0 && alpha < 1)) throw usage(`relativeAccuracy must be in (0, 1), got ${alpha}`);
    this.groupBy = opts.groupBy;
    this.bucketSec = bucketSec;
    this.bucketUs = Math.round(bucketSec * 1e6);
    this.relativeAccuracy = alpha;
    this.maxGroups = opts.maxGroups ?? MAX_STATS_GROUPS;
    this.protocols = opts.protocols ?? PROTOCOL_STATS;
  }

  /** Calls counted so far. */
  get calls(): number {
    let n = 0;
    for (const g of this.groups.values()) n += g.counters.calls;
    return n;
  }

  /** Entries seen that are not calls. */
  get ignored(): number {
    return this.ignoredCount;
  }

  /** Counts one entry; returns false (and counts it in `ignored`) for L4 records. */
  add(e: Entry): boolean {
    if (L4_KINDS.has(e.record.kind)) {
      this.ignoredCount++;
      return false;
    }
    const spec = specFor(e, this.protocols);
    const key = groupKey(e, this.groupBy, spec);
    const g = this.groups.get(key) ?? this.group(key, groupLabels(e, this.groupBy, spec));
    const call = toCall(e, spec);
    g.counters.add(call);
    if (this.bucketUs > 0) {
      const i = Math.floor(call.ts / this.bucketUs);
      let b = g.buckets.get(i);
      if (b === undefined) g.buckets.set(i, (b = new Counters(this.relativeAccuracy)));
      b.add(call);
    }
    return true;
  }

  private group(key: string, labels: GroupLabels): Group {
    let g = this.groups.get(key);
    if (g !== undefined) return g;
    if (this.groups.size >= this.maxGroups && key !== OTHER_GROUP) {
      key = OTHER_GROUP;
      labels = {};
      g = this.groups.get(key);
      if (g !== undefined) return g;
    }
    g = { key, labels, counters: new Counters(this.relativeAccuracy), buckets: new Map() };
    this.groups.set(key, g);
    return g;
  }

  /** Adds another accumulator (or its `toJSON()`, e.g. from another node) into this one. */
  merge(other: StatsAccumulator | SerializedStats): void {
    const o =
      other === this
        ? StatsAccumulator.fromJSON(this.toJSON())
        : other instanceof StatsAccumulator
          ? other
          : StatsAccumulator.fromJSON(other);
    if (o.groupBy !== this.groupBy) throw usage(`cannot merge ${o.groupBy} into ${this.groupBy}`);
    if (o.bucketSec !== this.bucketSec)
      throw usage(`cannot merge ${o.bucketSec} s buckets into ${this.bucketSec} s buckets`);
    if (o.relativeAccuracy !== this.relativeAccuracy)
      throw usage(
        `cannot merge sketches of relative accuracy ${o.relativeAccuracy} into ${this.relativeAccuracy}`,
      );
    this.ignoredCount += o.ignoredCount;
    for (const og of o.groups.values()) {
      const g = this.group(og.key, og.labels);
      g.counters.merge(og.counters);
      for (const [i, ob] of og.buckets) {
        let b = g.buckets.get(i);
        if (b === undefined) g.buckets.set(i, (b = new Counters(this.relativeAccuracy)));
        b.merge(ob);
      }
    }
  }

  /** Portable form: plain JSON, groups sorted by key, buckets by start. */
  toJSON(): SerializedStats {
    const groups = [...this.groups.values()]
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map((g): SerializedGroup => {
        const buckets = [...g.buckets]
          .sort((a, b) => a[0] - b[0])
          .map(([i, b]) => ({ start: i * this.bucketUs, ...b.toJSON() }));
        return this.bucketUs > 0
          ? { key: g.key, labels: g.labels, buckets }
          : { key: g.key, labels: g.labels, counters: g.counters.toJSON(), buckets };
      });
    return {
      format: STATS_FORMAT,
      version: STATS_VERSION,
      groupBy: this.groupBy,
      bucketSec: this.bucketSec,
      relativeAccuracy: this.relativeAccuracy,
      maxGroups: this.maxGroups,
      ignored: this.ignoredCount,
      groups,
    };
  }

  /** Rebuilds an accumulator from `toJSON()` output; throws KS_ERR_USAGE on anything else. */
  static fromJSON(
    j: SerializedStats,
    protocols?: Readonly<Record<string, ProtocolStatsSpec>>,
  ): StatsAccumulator {
    if (typeof j !== 'object' || j === null || j.format !== STATS_FORMAT)
      throw usage('not a serialised statistics object');
    if (j.version !== STATS_VERSION)
      throw usage(`statistics format version ${String(j.version)} (this build reads 1)`);
    const acc = new StatsAccumulator({
      groupBy: j.groupBy,
      bucketSec: j.bucketSec,
      relativeAccuracy: j.relativeAccuracy,
      maxGroups: j.maxGroups,
      ...(protocols ? { protocols } : {}),
    });
    if (!Array.isArray(j.groups)) throw usage('malformed statistics: groups');
    acc.ignoredCount = typeof j.ignored === 'number' ? j.ignored : 0;
    const alpha = acc.relativeAccuracy;
    try {
      for (const sg of j.groups) {
        if (typeof sg.key !== 'string' || acc.groups.has(sg.key)) throw new Error('group key');
        const buckets = new Map<number, Counters>();
        const counters =
          sg.counters !== undefined ? Counters.fromJSON(sg.counters, alpha) : new Counters(alpha);
        if (acc.bucketUs > 0 && sg.counters !== undefined) throw new Error('counters with series');
        if (!Array.isArray(sg.buckets)) throw new Error('buckets');
        for (const sb of sg.buckets) {
          const i = sb.start / acc.bucketUs;
          if (!Number.isSafeInteger(i) || buckets.has(i)) throw new Error('bucket start');
          const bc = Counters.fromJSON(sb, alpha);
          buckets.set(i, bc);
          if (sg.counters === undefined) counters.merge(bc);
        }
        acc.groups.set(sg.key, {
          key: sg.key,
          labels: typeof sg.labels === 'object' && sg.labels !== null ? sg.labels : {},
          counters,
          buckets,
        });
      }
    } catch (err) {
      throw usage(`malformed statistics: ${(err as Error).message}`);
    }
    return acc;
  }

  result(opts: ResultOptions = {}): StatsResult {
    const alpha = this.relativeAccuracy;
    const total = new Counters(alpha);
    const totalBuckets = new Map<number, Counters>();
    for (const g of this.groups.values()) {
      total.merge(g.counters);
      if (opts.series === 'none') continue;
      for (const [i, b] of g.buckets) {
        let t = totalBuckets.get(i);
        if (t === undefined) totalBuckets.set(i, (t = new Counters(alpha)));
        t.merge(b);
      }
    }
    let start: number | null = null;
    let end: number | null = null;
    let seconds = 0;
    if (opts.window !== undefined) {
      start = opts.window.start;
      end = opts.window.end;
      seconds = Math.max(0, (end - start) / 1e6);
    } else if (total.calls > 0) {
      start = total.first;
      end = total.last;
      seconds = Math.max(MIN_RATE_WINDOW_SEC, (end - start) / 1e6);
    }
    const which = opts.series ?? 'all';
    const series = (buckets: Map<number, Counters>, group: boolean): BucketStats[] => {
      if (which === 'none' || (group && which === 'total')) return [];
      const m = new Map(buckets);
      if (opts.fill === true && this.bucketUs > 0 && start !== null && end !== null) {
        const first = Math.floor(start / this.bucketUs);
        const last = Math.floor(end / this.bucketUs);
        if (last - first < MAX_FILLED_BUCKETS)
          for (let i = first; i <= last; i++) if (!m.has(i)) m.set(i, new Counters(alpha));
      }
      return [...m]
        .sort((a, b) => a[0] - b[0])
        .map(([i, b]) => ({ start: i * this.bucketUs, ...b.stats(this.bucketSec) }));
    };
    const groups: GroupStats[] = [...this.groups.values()].map((g) => ({
      key: g.key,
      labels: g.labels,
      ...g.counters.stats(seconds),
      series: series(g.buckets, true),
    }));
    groups.sort((a, b) => b.calls - a.calls || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return {
      groupBy: this.groupBy,
      bucketSec: this.bucketSec,
      relativeAccuracy: alpha,
      window: { start, end, seconds },
      ignored: this.ignoredCount,
      total: {
        key: 'total',
        labels: {},
        ...total.stats(seconds),
        series: series(totalBuckets, false),
      },
      groups,
    };
  }
}

/** Accumulates `entries` into a new accumulator. */
export function accumulateStats(entries: Iterable<Entry>, opts: StatsOptions): StatsAccumulator {
  const acc = new StatsAccumulator(opts);
  for (const e of entries) acc.add(e);
  return acc;
}
