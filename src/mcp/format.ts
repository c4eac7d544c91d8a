/**
 * Text for agents: UTC times (ISO-8601 `Z` plus Unix ms, as MCP.md requires), fixed-width tables
 * of the key columns, byte-bounded text. The API speaks µs since the epoch; agents get ms back
 * (what the tools accept) and an ISO string they can read.
 */
import { KsError } from '../util/errors.ts';
import { BYTES_UP_TO_GIB, DURATION_TEXT, formatBytes, formatDuration } from '../util/format.ts';

/** Most text one tool answer carries; past it rows are left out and a marker says how many. */
export const MCP_MAX_TEXT_BYTES = 128 * 1024;
/** Longest cell in a compact table (longer values are cut with `…`). */
export const MCP_MAX_CELL_CHARS = 80;

/** A time both ways: what an agent reads and what it passes back. */
export interface TimeValue {
  iso: string;
  ms: number;
}

/** µs since the epoch → `{ iso: '2026-…Z', ms }` (null stays null). */
export function timeOfUs(us: number | null | undefined): TimeValue | null {
  if (us === null || us === undefined || !Number.isFinite(us)) return null;
  const ms = Math.floor(us / 1000);
  const frac = String(Math.floor(us) % 1_000_000).padStart(6, '0');
  // Microsecond precision in the ISO form: entries are ordered at that resolution.
  const iso = new Date(ms).toISOString().replace(/\.\d{3}Z$/, `.${frac}Z`);
  return { iso, ms };
}

/** ISO text of a µs time, `-` when unknown. */
export function isoOfUs(us: number | null | undefined): string {
  return timeOfUs(us)?.iso ?? '-';
}

/**
 * A tool's time parameter (Unix ms, or an ISO-8601 string) → µs for the API. Numbers below 1e11
 * are taken as seconds (an agent's common slip), above 1e14 as µs already; anything else is an
 * error naming the parameter.
 */
export function usOfParam(name: string, v: number | string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (typeof v === 'number' || /^\d+(\.\d+)?$/.test(v)) {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw usage(name, v);
    if (n < 1e11) return Math.round(n * 1_000_000);
    if (n > 1e14) return Math.round(n);
    return Math.round(n * 1000);
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw usage(name, v);
  // Keep µs digits when given (Date.parse keeps ms only).
  const m = /\.(\d{4,6})\d*(Z|[+-]\d\d:?\d\d)$/i.exec(v);
  const extra = m ? Number(m[1]!.padEnd(6, '0').slice(3, 6)) : 0;
  return t * 1000 + extra;
}

function usage(name: string, v: unknown): KsError {
  return new KsError(
    'KS_ERR_USAGE',
    `\`${name}\`: not a time: ${JSON.stringify(v)} (give Unix milliseconds or ISO-8601 like 2026-03-14T22:00:00Z)`,
  );
}

/** µs duration → `1.23 ms`, `850 µs`, `2.50 s`; `-` when unknown. */
export function duration(us: number | null | undefined): string {
  if (us === null || us === undefined) return '-';
  return formatDuration(us, DURATION_TEXT);
}

/** Bytes → `512 B`, `1.5 KiB`, `3.2 MiB`. */
export function bytes(n: number): string {
  return formatBytes(n, BYTES_UP_TO_GIB);
}

export function percent(r: number): string {
  return `${(r * 100).toFixed(r > 0 && r < 0.001 ? 3 : 1)}%`;
}

function cell(v: unknown): string {
  const s = v === undefined || v === null || v === '' ? '-' : String(v).replace(/\s+/g, ' ');
  return s.length > MCP_MAX_CELL_CHARS ? s.slice(0, MCP_MAX_CELL_CHARS - 1) + '…' : s;
}

/** A left-aligned table with a header row; columns as wide as their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = [header.map(cell), ...rows.map((r) => header.map((_, i) => cell(r[i])))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * Joins `parts` (each a block of text) while the whole stays under `maxBytes`; returns the text
 * and how many parts were left out (the caller says so, with how to narrow).
 */
export function boundedJoin(
  parts: readonly string[],
  sep: string,
  maxBytes = MCP_MAX_TEXT_BYTES,
): { text: string; kept: number } {
  let used = 0;
  let kept = 0;
  for (const p of parts) {
    const n = Buffer.byteLength(p) + (kept > 0 ? sep.length : 0);
    if (used + n > maxBytes && kept > 0) break;
    used += n;
    kept++;
  }
  return { text: parts.slice(0, kept).join(sep), kept };
}

/** JSON for an agent, cut (and marked) past `maxBytes`. */
export function boundedJson(value: unknown, maxBytes = MCP_MAX_TEXT_BYTES): string {
  const text = JSON.stringify(value, null, 1);
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const cut = Buffer.from(text).subarray(0, maxBytes).toString('utf8');
  return `${cut}\n… [truncated: answer over ${bytes(maxBytes)}; narrow the query]`;
}
