/** Display formats shared by every view (pure, so the Node tests can pin them). */
import { BYTES, DURATION_3_DIGITS, formatBytes, formatDuration } from '../../../util/format.ts';
import type { EntrySummary } from '../../../api/types.ts';

/** `15:52:00.113472` (UTC) from µs since the epoch; the list shows UTC like the API. */
export function fmtClock(us: number): string {
  const ms = Math.floor(us / 1000);
  const d = new Date(ms);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const frac = Math.floor(us - Math.floor(us / 1e6) * 1e6);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(frac, 6)}`;
}

/** `2026-11-21T15:52:00.113472Z`. */
export function fmtIso(us: number): string {
  const s = new Date(Math.floor(us / 1000)).toISOString();
  const frac = String(Math.floor(us - Math.floor(us / 1e6) * 1e6)).padStart(6, '0');
  return `${s.slice(0, 19)}.${frac}Z`;
}

/** µs since the epoch from an RFC 3339 timestamp with up to nanoseconds; NaN when invalid. */
export function parseIsoUs(iso: string): number {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(iso);
  if (m === null) return NaN;
  const base = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(base)) return NaN;
  const frac = (m[2] ?? '').padEnd(6, '0').slice(0, 6);
  return base * 1000 + Number(frac);
}

/** `681 µs`, `2.88 ms`, `1.23 s`; empty when absent. */
export function fmtDuration(us: number | undefined | null): string {
  if (us === undefined || us === null || !Number.isFinite(us)) return '';
  return formatDuration(us, DURATION_3_DIGITS);
}

/** `141 B`, `1.2 KiB`, `3.4 MiB`; empty when absent. */
export function fmtBytes(n: number | undefined | null): string {
  if (n === undefined || n === null || !Number.isFinite(n)) return '';
  return formatBytes(n, BYTES);
}

/** `12.3/s`, `0.05/s`. */
export function fmtRate(perSec: number): string {
  if (!Number.isFinite(perSec)) return '';
  if (perSec >= 100) return `${Math.round(perSec)}/s`;
  if (perSec >= 1) return `${perSec.toFixed(1)}/s`;
  return `${perSec.toPrecision(2)}/s`;
}

/** `0%`, `12.5%`, `0.01%`. */
export function fmtPercent(ratio: number): string {
  if (!Number.isFinite(ratio)) return '';
  const p = ratio * 100;
  if (p === 0) return '0%';
  if (p >= 10) return `${p.toFixed(1)}%`;
  return `${p.toPrecision(2)}%`;
}

/** 1234567 → `1,234,567` (locale-independent). */
export function fmtCount(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export type StatusClass = 'ok' | 'redirect' | 'client' | 'server' | 'error' | 'none';

/** The colour class of a row: any entry error first, else as its dissector classes the status. */
export function statusClass(s: {
  status?: number;
  statusClass?: EntrySummary['statusClass'];
  error?: { code: string };
}): StatusClass {
  if (s.error !== undefined) return 'error';
  if (s.status === undefined) return 'none';
  return s.statusClass ?? 'none';
}

/** Stats bucket widths offered (seconds). */
export const BUCKETS: readonly number[] = [1, 5, 10, 30, 60, 300, 900, 3600];
/** Points an automatic bucket width aims at. */
export const AUTO_POINTS = 60;

/** The smallest offered width giving at most AUTO_POINTS buckets over `spanSec`. */
export function autoBucket(spanSec: number): number {
  for (const b of BUCKETS) if (spanSec / b <= AUTO_POINTS) return b;
  return BUCKETS[BUCKETS.length - 1]!;
}
