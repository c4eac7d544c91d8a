/**
 * Plain-text tables for `kubeshark dissect --stats`: one row per group, sorted by calls, at a
 * fixed width (the group column takes what the numeric columns leave and is shortened in the
 * middle, `http GET /api/…/reviews`). No colour, no terminal queries: the caller passes the width.
 */
import type { GroupStats, Stats, StatsResult } from './accumulator.ts';
import type { L4Aggregation, L4Group } from './l4.ts';
import {
  BYTES_3_DIGITS,
  DURATION_MS_NUMBER,
  formatBytes,
  formatDuration,
} from '../../util/format.ts';

export const DEFAULT_TABLE_WIDTH = 120;
/** The group column never gets narrower than this (the line grows instead). */
export const MIN_GROUP_WIDTH = 12;

export interface TableOptions {
  /** Line width in characters (default 120). */
  width?: number;
  /** Show at most this many groups (the rest are summed up in one line). */
  limit?: number;
  /** Add the total row (default true). */
  total?: boolean;
}

interface Column<T> {
  title: string;
  width: number;
  cell(s: T): string;
}

/** Middle-ellipsis shortening to `w` characters. */
export function shorten(s: string, w: number): string {
  const chars = [...s];
  if (chars.length <= w) return s;
  if (w <= 1) return chars.slice(0, w).join('');
  const head = Math.ceil((w - 1) / 2);
  const tail = w - 1 - head;
  return `${chars.slice(0, head).join('')}…${tail > 0 ? chars.slice(-tail).join('') : ''}`;
}

function padEnd(s: string, w: number): string {
  const n = [...s].length;
  return n >= w ? s : s + ' '.repeat(w - n);
}
function padStart(s: string, w: number): string {
  const n = [...s].length;
  return n >= w ? s : ' '.repeat(w - n) + s;
}

/** 1234 → `1234`; when wider than `w`: 12345678 → `12.3M`, 123456789 → `123M`. */
export function fmtCount(n: number, w = 8): string {
  const s = String(n);
  if (s.length <= w) return s;
  const units = [
    [1e3, 'k'],
    [1e6, 'M'],
    [1e9, 'G'],
    [1e12, 'T'],
  ] as const;
  for (const [div, u] of units) {
    const v = n / div;
    if (v >= 999.5 && u !== 'T') continue;
    return v < 99.95 ? `${v.toFixed(1)}${u}` : `${Math.round(v)}${u}`;
  }
  return s;
}

export function fmtRate(r: number): string {
  if (r === 0) return '0';
  if (r < 10) return r.toFixed(2);
  if (r < 1000) return r.toFixed(1);
  return fmtCount(Math.round(r), 7);
}

/** A fraction as a percentage with one decimal: 0.125 → `12.5`. */
export function fmtPct(f: number, calls: number): string {
  if (calls === 0) return '-';
  return (f * 100).toFixed(1);
}

/** µs → milliseconds with 3 significant-ish digits: 123 → `0.123`, 4567 → `4.57`, 1.5e6 → `1500`. */
export function fmtMs(us: number | undefined): string {
  if (us === undefined) return '-';
  if (us < 1e6) return formatDuration(us, DURATION_MS_NUMBER);
  return fmtCount(Math.round(us / 1000), 7);
}

/** Binary units: `512 B`, `1.50 KiB`, `12.3 MiB`, `123 GiB`. */
export function fmtBytes(n: number): string {
  return formatBytes(n, BYTES_3_DIGITS);
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

function fmtSeconds(s: number): string {
  return s < 10 ? s.toFixed(3) : s < 1000 ? s.toFixed(1) : String(Math.round(s));
}

/** UTC to the second: `2026-01-01T00:00:59Z`. */
function iso(us: number): string {
  return new Date(Math.floor(us / 1e6) * 1000).toISOString().replace('.000Z', 'Z');
}

function render<T>(
  rows: T[],
  first: { title: string; cell(r: T): string },
  cols: Column<T>[],
  width: number,
): string[] {
  const fixed = cols.reduce((n, c) => n + c.width + 1, 0);
  const gw = Math.max(MIN_GROUP_WIDTH, width - fixed);
  const line = (g: string, cells: string[]): string =>
    padEnd(shorten(g, gw), gw) + cells.map((c, i) => ' ' + padStart(c, cols[i]!.width)).join('');
  const out = [
    line(
      first.title,
      cols.map((c) => c.title),
    ),
  ];
  for (const r of rows)
    out.push(
      line(
        first.cell(r),
        cols.map((c) => c.cell(r)),
      ),
    );
  return out.map((l) => l.trimEnd());
}

interface Row {
  name: string;
  s: Stats;
}

const STATS_COLUMNS: Column<Stats>[] = [
  { title: 'calls', width: 7, cell: (s) => fmtCount(s.calls, 7) },
  { title: 'rate/s', width: 7, cell: (s) => fmtRate(s.ratePerSec) },
  { title: '4xx%', width: 5, cell: (s) => fmtPct(s.errorRates.http_4xx, s.calls) },
  { title: '5xx%', width: 5, cell: (s) => fmtPct(s.errorRates.http_5xx, s.calls) },
  { title: 'err%', width: 5, cell: (s) => fmtPct(s.errorRate, s.calls) },
  { title: 'p50 ms', width: 7, cell: (s) => fmtMs(s.latency?.p50) },
  { title: 'p95 ms', width: 7, cell: (s) => fmtMs(s.latency?.p95) },
  { title: 'p99 ms', width: 7, cell: (s) => fmtMs(s.latency?.p99) },
  { title: 'bytes', width: 9, cell: (s) => fmtBytes(s.bytes.total) },
];

/**
 * The statistics table. First line: what was counted and over which window; then the header and
 * one row per group (sorted by calls, then key), the remainder line when `limit` cut groups, and
 * the total. `err%` is calls with any failure class (5xx, gRPC ≠ 0, DNS RCODE ≠ 0, DB error, no
 * response); 4xx are client errors, shown on their own.
 */
export function formatStatsTable(r: StatsResult, opts: TableOptions = {}): string {
  const width = opts.width ?? DEFAULT_TABLE_WIDTH;
  const groups = [...r.groups].sort(
    (a, b) => b.calls - a.calls || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
  const limit = opts.limit ?? groups.length;
  const shown = groups.slice(0, Math.max(0, limit));
  const rest = groups.length - shown.length;
  const w = r.window;
  const head = [
    `${plural(r.total.calls, 'call')}, ${plural(groups.length, 'group')} by ${r.groupBy}`,
  ];
  if (w.start !== null && w.end !== null)
    head.push(`window ${iso(w.start)} .. ${iso(w.end)} (${fmtSeconds(w.seconds)} s)`);
  const withTotal = opts.total ?? true;
  const rows: Row[] = shown.map((g: GroupStats) => ({ name: g.key, s: g }));
  if (withTotal) rows.push({ name: 'total', s: r.total });
  const lines = render<Row>(
    rows,
    { title: r.groupBy, cell: (x) => x.name },
    STATS_COLUMNS.map((c) => ({ ...c, cell: (x) => c.cell(x.s) })),
    width,
  );
  const totalLine = withTotal ? lines.pop() : undefined;
  const out = [...head, ...lines];
  if (rest > 0) out.push(`… ${plural(rest, 'more group')}`);
  if (totalLine !== undefined)
    out.push('-'.repeat(Math.max(...lines.map((l) => l.length))), totalLine);
  return out.join('\n') + '\n';
}

const L4_COLUMNS: Column<L4Group>[] = [
  { title: 'conns', width: 7, cell: (g) => fmtCount(g.connections, 7) },
  { title: 'flows', width: 7, cell: (g) => fmtCount(g.flows, 7) },
  { title: 'pkts out', width: 9, cell: (g) => fmtCount(g.sent.packets, 9) },
  { title: 'bytes out', width: 10, cell: (g) => fmtBytes(g.sent.bytes) },
  { title: 'pkts in', width: 9, cell: (g) => fmtCount(g.received.packets, 9) },
  { title: 'bytes in', width: 10, cell: (g) => fmtBytes(g.received.bytes) },
  { title: 'retrans', width: 7, cell: (g) => fmtCount(g.retransmissions, 7) },
  { title: 'resets', width: 6, cell: (g) => fmtCount(g.resets, 6) },
];

/** Top talkers of an L4 aggregation as a table (by bytes unless `by: 'packets'`). */
export function formatL4Table(
  agg: L4Aggregation,
  opts: TableOptions & { by?: 'bytes' | 'packets' } = {},
): string {
  const all = agg.groups();
  const limit = opts.limit ?? all.length;
  const rows = agg.topTalkers(limit, opts.by ?? 'bytes');
  const t = agg.totals();
  const head =
    `${plural(t.connections, 'TCP connection')}, ${plural(t.flows, 'UDP flow')} by ${agg.by}${agg.pairs ? ' pairs' : ''}` +
    `, top talkers by ${opts.by ?? 'bytes'}`;
  const lines = render(
    rows,
    { title: agg.by, cell: (g) => g.key },
    L4_COLUMNS,
    opts.width ?? DEFAULT_TABLE_WIDTH,
  );
  const out = [head, ...lines];
  const rest = all.length - rows.length;
  if (rest > 0) out.push(`… ${plural(rest, 'more group')}`);
  return out.join('\n') + '\n';
}
