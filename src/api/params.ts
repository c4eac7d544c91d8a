/**
 * Query parameters: typed queries → URL parameters (the client), and the zod schemas of every
 * route's parameters (src/api/routes.ts), which turn URL parameters into validated typed queries
 * on the worker and the hub alike — so both sides read the same names the same way. Unknown
 * parameters are ignored; an empty value is the default. A bad value is a KS_ERR_USAGE error
 * naming the parameter (HTTP 400): `parameter \`limit\`: expected an integer, got "x"`.
 */
import { z } from 'zod';
import { STATS_GROUP_BY } from '../store/stats/groups.ts';
import { L4_GROUP_BY } from '../store/stats/l4.ts';
import { KsError } from '../util/errors.ts';
import {
  DEFAULT_MAX_PAYLOAD,
  ENTRIES_DEFAULT_LIMIT,
  ENTRIES_MAX_LIMIT,
  L4_DEFAULT_LIMIT,
  type EntryOrder,
  type EntryView,
  type L4GroupBy,
  type Params,
  type StatsGroupBy,
} from './types.ts';

/** Largest `bucketSec` accepted (one day). */
export const MAX_BUCKET_SEC = 86_400;
/** Largest `maxPayload` accepted (the store keeps at most `tap.limits.maxBodyBytes` anyway). */
export const MAX_PAYLOAD_LIMIT = 64 * 1024 * 1024;

/** Parameters of a URL's query string (the first value of each name). */
export function paramsOf(search: URLSearchParams): Params {
  const out: Params = {};
  for (const [k, v] of search) if (!(k in out)) out[k] = v;
  return out;
}

/** A typed query → URL parameters (undefined and false-y optional flags left out). */
export function toSearch(q: object): URLSearchParams {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null) continue;
    if (typeof v === 'boolean') s.set(k, v ? '1' : '0');
    else s.set(k, String(v));
  }
  return s;
}

// ---------------------------------------------------------------- parameter types

/** Why a raw value is refused (the message after `parameter \`name\`: `). */
class Refused {
  constructor(readonly why: string) {}
}

/**
 * One URL parameter: absent or empty → `def`; otherwise `read(raw)`, which returns the value or a
 * `Refused` (a zod issue at this parameter's path).
 */
function param<T>(def: T, read: (raw: string) => T | Refused) {
  return z
    .string()
    .optional()
    .transform((raw, ctx): T => {
      if (raw === undefined || raw === '') return def;
      const v = read(raw);
      if (!(v instanceof Refused)) return v;
      ctx.addIssue({ code: 'custom', message: v.why, input: raw });
      return z.NEVER;
    });
}

/** An integer in [min, max] (`clamp`: out-of-range values are clamped instead of refused). */
function int(def: number, min: number, max: number, clamp = false) {
  return param(def, (raw) => {
    const n = Number(raw);
    if (!Number.isInteger(n)) return new Refused(`expected an integer, got ${JSON.stringify(raw)}`);
    if (n >= min && n <= max) return n;
    if (clamp) return Math.min(max, Math.max(min, n));
    return new Refused(`must be between ${min} and ${max}, got ${n}`);
  });
}

/** `1`/`true` or `0`/`false`. */
function bool(def: boolean) {
  return param(def, (raw) => {
    if (raw === '1' || raw === 'true') return true;
    if (raw === '0' || raw === 'false') return false;
    return new Refused(`expected 1/0 or true/false, got ${JSON.stringify(raw)}`);
  });
}

/** One of `values`. */
function oneOf<T extends string>(values: readonly T[], def: T) {
  return param<T>(def, (raw) =>
    (values as readonly string[]).includes(raw)
      ? (raw as T)
      : new Refused(`expected one of ${values.join(', ')}, got ${JSON.stringify(raw)}`),
  );
}

/** Any text (absent: ''). */
const text = z
  .string()
  .optional()
  .transform((raw) => raw ?? '');

/** Any text, absent when empty. */
const optionalText = z
  .string()
  .optional()
  .transform((raw) => (raw ? raw : undefined));

/** µs since the epoch, or an ISO-8601 date-time (converted); absent when not given. */
const time = param<number | undefined>(undefined, (raw) => {
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) {
    return new Refused(
      `expected µs since the epoch or an ISO-8601 time, got ${JSON.stringify(raw)}`,
    );
  }
  // Keep sub-millisecond digits of an ISO fraction (`…:00.123456Z`).
  const frac = /\.(\d{4,9})/.exec(raw)?.[1];
  const extraUs = frac ? Number(frac.slice(3, 6).padEnd(3, '0')) : 0;
  return ms * 1000 + extraUs;
});

/** A time window: `start` ≤ timestamp < `end`. */
const window = { start: time, end: time };

// ---------------------------------------------------------------- the routes' schemas

/** Routes without parameters. */
export const noQuery = z.object({});

/** `GET /api/kfl` */
export const kflQuery = z.object({ q: text });

/** `GET /api/entries` */
export const entriesQuery = z.object({
  q: text,
  limit: int(ENTRIES_DEFAULT_LIMIT, 1, ENTRIES_MAX_LIMIT, true),
  order: oneOf<EntryOrder>(['newest', 'oldest'], 'newest'),
  view: oneOf<EntryView>(['summary', 'full'], 'summary'),
  count: bool(false),
  cursor: optionalText,
  ...window,
});

/** `GET /api/entries/:id` (path) */
export const entryPath = z.object({
  id: z.string().transform((raw, ctx) => {
    const id = Number(raw);
    if (Number.isSafeInteger(id) && id >= 1) return id;
    ctx.addIssue({ code: 'custom', message: `not an entry id: ${JSON.stringify(raw)}` });
    return z.NEVER;
  }),
});

/** `GET /api/entries/:id` (query) */
export const entryQuery = z.object({
  node: optionalText,
  payload: bool(true),
  maxPayload: int(DEFAULT_MAX_PAYLOAD, 0, MAX_PAYLOAD_LIMIT),
});

/** `GET /api/stats` */
export const statsQuery = z.object({
  q: text,
  groupBy: oneOf<StatsGroupBy>(STATS_GROUP_BY, 'endpoint'),
  bucketSec: param(60, (raw) => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0 || n > MAX_BUCKET_SEC)
      return new Refused(`expected seconds between 0 and ${MAX_BUCKET_SEC}, got ${raw}`);
    if (n > 0 && n < 1e-3) return new Refused('must be 0 or at least 0.001');
    return n;
  }),
  series: oneOf(['all', 'total', 'none'] as const, 'all'),
  fill: bool(false),
  raw: bool(false),
  ...window,
});

/** `GET /api/l4` */
export const l4Query = z.object({
  q: text,
  by: oneOf<L4GroupBy>(L4_GROUP_BY, 'pod'),
  pairs: bool(false),
  raw: bool(false),
  limit: int(L4_DEFAULT_LIMIT, 1, 100_000, true),
  ...window,
});

/** `WS /api/stream` */
export const streamQuery = z.object({
  q: text,
  view: oneOf<EntryView>(['summary', 'full'], 'summary'),
});

export type ParsedEntriesQuery = z.output<typeof entriesQuery>;
export type ParsedEntryQuery = z.output<typeof entryQuery>;
export type ParsedStatsQuery = z.output<typeof statsQuery>;
export type ParsedL4Query = z.output<typeof l4Query>;
export type ParsedStreamQuery = z.output<typeof streamQuery>;

/** The KS_ERR_USAGE error of a refused parameter (the first problem, named). */
export function usageError(err: z.ZodError): KsError {
  const issue = err.issues[0];
  const name = issue?.path[0];
  const why = issue?.message ?? 'invalid';
  return new KsError(
    'KS_ERR_USAGE',
    name === undefined ? `parameters: ${why}` : `parameter \`${String(name)}\`: ${why}`,
  );
}

/** Validates `raw` against `schema`: the typed value, or throws KS_ERR_USAGE. */
export function parseParams<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const r = schema.safeParse(raw ?? {});
  if (!r.success) throw usageError(r.error);
  return r.data;
}
