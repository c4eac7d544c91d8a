/**
 * Pure formatting for the live table: column widths for a terminal width, cell texts, status
 * classes. Kept apart from the Ink components so it is tested without rendering.
 */
import type { EndpointSummary, EntrySummary } from '../api/types.ts';
import { DURATION_COMPACT, formatDuration } from '../util/format.ts';

/** Terminal widths below this use the compact layout (seconds-only time, narrower columns). */
export const NARROW_WIDTH = 80;
/** Never lay out for fewer columns than this (tiny terminals get a clipped table, not a crash). */
export const MIN_WIDTH = 40;

export interface Columns {
  time: number;
  proto: number;
  route: number;
  summary: number;
  status: number;
  latency: number;
}

/** One space between columns. */
export const GAP = 1;
const COLUMN_COUNT = 6;

/** Column widths that add up (with the gaps) to exactly `width`. */
export function columnWidths(width: number): Columns {
  const w = Math.max(MIN_WIDTH, Math.floor(width));
  const narrow = w < NARROW_WIDTH;
  const fixed = narrow
    ? { time: 8, proto: 5, status: 8, latency: 6 }
    : { time: 12, proto: 5, status: 9, latency: 7 };
  const rest =
    w - fixed.time - fixed.proto - fixed.status - fixed.latency - GAP * (COLUMN_COUNT - 1);
  const route = Math.floor(rest / 2);
  return { ...fixed, route, summary: rest - route };
}

/** Cuts `s` to at most `w` characters, marking a cut with `…`. */
export function fit(s: string, w: number): string {
  if (w <= 0) return '';
  const cps = Array.from(s);
  if (cps.length <= w) return s;
  return cps.slice(0, Math.max(0, w - 1)).join('') + '…';
}

/** `fit` then pad with spaces to exactly `w` (right-aligned when `right`). */
export function cell(s: string, w: number, right = false): string {
  const f = fit(s, w);
  const pad = ' '.repeat(Math.max(0, w - Array.from(f).length));
  return right ? pad + f : f + pad;
}

/**
 * µs since epoch → `HH:MM:SS.mmm` in UTC (entries' timestamps are UTC, and `dissect`'s table
 * prints UTC too, so the two agree); `HH:MM:SS` when `seconds`.
 */
export function formatTime(us: number, seconds = false): string {
  const d = new Date(Math.floor((Number.isFinite(us) ? us : 0) / 1000));
  if (Number.isNaN(d.getTime())) return seconds ? '--:--:--' : '--:--:--.---';
  const iso = d.toISOString(); // 2026-03-14T22:00:00.123Z
  return seconds ? iso.slice(11, 19) : iso.slice(11, 23);
}

/** µs → `850µs`, `12.3ms`, `250ms`, `1.20s` (at most 6 characters); empty when absent. */
export function formatLatency(us: number | undefined): string {
  if (us === undefined || !Number.isFinite(us) || us < 0) return '';
  return formatDuration(us, DURATION_COMPACT);
}

/** The name when known, else `ip:port` (`[v6]:port`). */
export function endpointLabel(e: EndpointSummary): string {
  if (e.name) return e.name;
  return e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`;
}

/**
 * `src → dst` in `w` characters. When it does not fit the source's port goes, then each side
 * is cut on its own so both stay recognisable (a side shorter than half keeps all of it).
 */
export function routeText(src: EndpointSummary, dst: EndpointSummary, w: number): string {
  const b = endpointLabel(dst);
  const arrow = ' → ';
  const avail = w - arrow.length;
  const lb = Array.from(b).length;
  let a = endpointLabel(src);
  if (Array.from(a).length + lb <= avail) return `${a}${arrow}${b}`;
  // A client's ephemeral port says least: it goes first.
  if (!src.name) a = src.ip;
  const la = Array.from(a).length;
  if (la + lb <= avail) return `${a}${arrow}${b}`;
  if (avail < 2) return fit(a, w);
  const half = Math.floor(avail / 2);
  const left = la <= half ? la : lb <= avail - half ? avail - lb : half;
  return fit(a, left) + arrow + fit(b, avail - left);
}

export type StatusClass = 'ok' | 'redirect' | 'client' | 'server' | 'error' | 'none';

/** How a status is coloured: as its dissector classes it (`statusClass`); without one, an error. */
export function statusClass(r: EntrySummary): StatusClass {
  if (r.status === undefined) return r.error ? 'error' : 'none';
  return r.statusClass ?? 'none';
}

/** Ink colour names per class. */
export const STATUS_COLOR: Record<StatusClass, string | undefined> = {
  ok: 'green',
  redirect: 'cyan',
  client: 'yellow',
  server: 'red',
  error: 'red',
  none: undefined,
};

/** Status cell text: the shown status, else the error code without `KS_`. */
export function statusText(r: EntrySummary): string {
  if (r.statusText) return r.statusText;
  if (r.error) return r.error.code.replace(/^KS_(ERR_)?/, '');
  return r.status !== undefined ? String(r.status) : '';
}

/** `1234.5` → `1.2k`; entries/s and counts in the status line. */
export function compactNumber(n: number): string {
  if (!Number.isFinite(n)) return '0';
  const a = Math.abs(n);
  if (a >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${Math.round(n / 1e3)}k`;
  if (a >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  if (a >= 10 || Number.isInteger(n)) return String(Math.round(n));
  return n.toFixed(1);
}
