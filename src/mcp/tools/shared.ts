/**
 * Shared by the tool groups: page sizes, the parameters several tools take (same name, same
 * description everywhere) and the helpers that build KFL filters and bounded answers.
 */
import { z } from 'zod';
import { ENTRIES_MAX_LIMIT } from '../../api/types.ts';
import { KsError } from '../../util/errors.ts';
import { boundedJoin, table, usOfParam } from '../format.ts';
import type { ToolOutput } from './tool.ts';

/** `list_api_calls` page size when `limit` is not given. */
export const MCP_DEFAULT_LIMIT = 100;
/** Groups shown by `get_api_stats` / L4 tools in text (structured content has the same). */
export const MCP_MAX_GROUPS = 50;

// ---------------------------------------------------------------- shared parameters

export const time = (what: string) =>
  z
    .union([z.number(), z.string()])
    .optional()
    .describe(`${what}: Unix milliseconds or ISO-8601 UTC (2026-03-14T22:00:00Z)`);
/** A page size: 1 to ENTRIES_MAX_LIMIT (the API's own cap), optional. */
export const limitParam = (what: string) =>
  z.number().int().min(1).max(ENTRIES_MAX_LIMIT).optional().describe(what);
export const kfl = z
  .string()
  .optional()
  .describe(
    'KFL2 filter, e.g. `http && status_code >= 500`, `dns && "NXDOMAIN" in dns_answers`, `dst.namespace == "shop"`; empty: everything',
  );
export const format = z
  .enum(['compact', 'full', 'raw'])
  .optional()
  .describe('compact (default): a table of key columns; full: every field; raw: the API answer');
export const snapshotId = z
  .string()
  .optional()
  .describe('query a snapshot instead of live data (not available in this build)');

export function noSnapshots(args: { snapshot_id?: string; db?: string }): void {
  if (args.snapshot_id || args.db) {
    throw new KsError(
      'KS_ERR_USAGE',
      'snapshots are not available in this build: omit `snapshot_id`/`db` to query live data',
    );
  }
}

/** KFL string literal. */
export const lit = (s: string): string => JSON.stringify(s);
export const and = (...parts: (string | undefined)[]): string =>
  parts
    .filter((p): p is string => !!p && p.trim() !== '')
    .map((p) => `(${p})`)
    .join(' && ');

export function window(args: { start?: number | string; end?: number | string }): {
  start?: number;
  end?: number;
} {
  const start = usOfParam('start', args.start);
  const end = usOfParam('end', args.end);
  if (start !== undefined && end !== undefined && end <= start) {
    throw new KsError('KS_ERR_USAGE', '`end` must be after `start`');
  }
  return { start, end };
}

export function endpoint(e: {
  ip: string;
  port: number;
  name?: string;
  namespace?: string;
}): string {
  const who = e.name ? (e.namespace ? `${e.namespace}/${e.name}` : e.name) : e.ip;
  return `${who}:${e.port}`;
}

export function unavailableNote(u: string[] | undefined): string {
  return u && u.length > 0 ? `\nPartial answer: workers not answering: ${u.join(', ')}.` : '';
}

/**
 * An answer gathered from the workers, some of which may not have answered (`unavailable`):
 * the text gets the partial-answer note, the data `unavailable` last (only when there are such).
 */
export function partialAnswer(
  text: string,
  data: Record<string, unknown>,
  unavailable: string[] | undefined,
): ToolOutput {
  return {
    text: text + unavailableNote(unavailable),
    data: { ...data, ...(unavailable ? { unavailable } : {}) },
  };
}

/** A page of `key`: the query, how many match, the list returned and how many more there are. */
export function pageData(
  kfl: unknown,
  total: number,
  key: string,
  list: readonly unknown[],
): Record<string, unknown> {
  return { kfl, total, returned: list.length, more: Math.max(0, total - list.length), [key]: list };
}

/**
 * A table whose rows are cut where they pass `maxBytes` (default the text cap): its header and
 * the rows kept as one text ('' when none is kept), and how many rows were kept.
 */
export function boundedTable(
  head: readonly string[],
  rows: readonly (readonly unknown[])[],
  maxBytes?: number,
): { text: string; kept: number } {
  const lines = table(head, rows).split('\n');
  const body = boundedJoin(lines.slice(1), '\n', maxBytes);
  return { text: body.kept > 0 ? `${lines[0]!}\n${body.text}` : '', kept: body.kept };
}

/** A KFL view's `timestamp` (ISO with µs) → µs. */
export function viewTs(e: Record<string, unknown>): number {
  return usOfParam('timestamp', String(e.timestamp)) ?? 0;
}

/** The entries of `page` that fit the text cap (raw answers stay bounded too). */
function fitPage<T>(page: { entries: T[] }): { entries: T[]; cut: number } {
  const kept = boundedJoin(
    page.entries.map((e) => JSON.stringify(e)),
    ',',
  ).kept;
  return { entries: page.entries.slice(0, kept), cut: page.entries.length - kept };
}

/** `format: raw`: the API's answer as is, its entries cut to the cap (and marked). */
export function rawAnswer<T>(page: { entries: T[] }): ToolOutput {
  const fit = fitPage(page);
  const data = { ...page, entries: fit.entries, ...(fit.cut > 0 ? { truncated: fit.cut } : {}) };
  return {
    text:
      JSON.stringify(data) +
      (fit.cut > 0 ? `\n… ${fit.cut} entries cut at the size cap — narrow the query.` : ''),
    data,
  };
}
