/**
 * Query parameters: typed queries → URL parameters (the client) and URL parameters → validated
 * typed queries (the worker and the hub), so both sides read the same names the same way.
 * A bad value is a KS_ERR_USAGE error naming the parameter (HTTP 400).
 */
import { STATS_GROUP_BY } from '../store/stats/groups.ts';
import { L4_GROUP_BY } from '../store/stats/l4.ts';
import { KsError } from '../util/errors.ts';
import {
  DEFAULT_MAX_PAYLOAD,
  ENTRIES_DEFAULT_LIMIT,
  ENTRIES_MAX_LIMIT,
  L4_DEFAULT_LIMIT,
  type EntriesQuery,
  type EntryOrder,
  type EntryView,
  type L4GroupBy,
  type Params,
  type StatsGroupBy,
  type StreamQuery,
  type Window,
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

function bad(name: string, why: string): KsError {
  return new KsError('KS_ERR_USAGE', `parameter \`${name}\`: ${why}`);
}

function int(
  p: Params,
  name: string,
  def: number,
  min: number,
  max: number,
  clamp = false,
): number {
  const raw = p[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw bad(name, `expected an integer, got ${JSON.stringify(raw)}`);
  if (n < min || n > max) {
    if (clamp) return Math.min(max, Math.max(min, n));
    throw bad(name, `must be between ${min} and ${max}, got ${n}`);
  }
  return n;
}

function bool(p: Params, name: string, def: boolean): boolean {
  const raw = p[name];
  if (raw === undefined || raw === '') return def;
  if (raw === '1' || raw === 'true') return true;
  if (raw === '0' || raw === 'false') return false;
  throw bad(name, `expected 1/0 or true/false, got ${JSON.stringify(raw)}`);
}

function oneOf<T extends string>(p: Params, name: string, allowed: readonly T[], def: T): T {
  const raw = p[name];
  if (raw === undefined || raw === '') return def;
  if (!(allowed as readonly string[]).includes(raw))
    throw bad(name, `expected one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
  return raw as T;
}

/** µs since the epoch, or an ISO-8601 date-time (converted). */
function time(p: Params, name: string): number | undefined {
  const raw = p[name];
  if (raw === undefined || raw === '') return undefined;
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) {
    throw bad(name, `expected µs since the epoch or an ISO-8601 time, got ${JSON.stringify(raw)}`);
  }
  // Keep sub-millisecond digits of an ISO fraction (`…:00.123456Z`).
  const frac = /\.(\d{4,9})/.exec(raw)?.[1];
  const extraUs = frac ? Number(frac.slice(3, 6).padEnd(3, '0')) : 0;
  return ms * 1000 + extraUs;
}

function window(p: Params): Window {
  const w: Window = {};
  const start = time(p, 'start');
  const end = time(p, 'end');
  if (start !== undefined) w.start = start;
  if (end !== undefined) w.end = end;
  return w;
}

export interface ParsedEntriesQuery extends Required<Pick<EntriesQuery, 'limit' | 'order'>> {
  q: string;
  cursor?: string;
  view: EntryView;
  count: boolean;
  start?: number;
  end?: number;
}

export function parseEntriesQuery(p: Params): ParsedEntriesQuery {
  return {
    q: p.q ?? '',
    limit: int(p, 'limit', ENTRIES_DEFAULT_LIMIT, 1, ENTRIES_MAX_LIMIT, true),
    order: oneOf<EntryOrder>(p, 'order', ['newest', 'oldest'], 'newest'),
    view: oneOf<EntryView>(p, 'view', ['summary', 'full'], 'summary'),
    count: bool(p, 'count', false),
    ...(p.cursor ? { cursor: p.cursor } : {}),
    ...window(p),
  };
}

export interface ParsedEntryQuery {
  node?: string;
  payload: boolean;
  maxPayload: number;
}

export function parseEntryQuery(p: Params): ParsedEntryQuery {
  return {
    ...(p.node ? { node: p.node } : {}),
    payload: bool(p, 'payload', true),
    maxPayload: int(p, 'maxPayload', DEFAULT_MAX_PAYLOAD, 0, MAX_PAYLOAD_LIMIT),
  };
}

/** The entry id of `/api/entries/:id`. */
export function parseEntryId(raw: string): number {
  const id = Number(decodeURIComponent(raw));
  if (!Number.isSafeInteger(id) || id < 1)
    throw bad('id', `not an entry id: ${JSON.stringify(raw)}`);
  return id;
}

export interface ParsedStatsQuery {
  q: string;
  groupBy: StatsGroupBy;
  bucketSec: number;
  series: 'all' | 'total' | 'none';
  fill: boolean;
  raw: boolean;
  start?: number;
  end?: number;
}

export function parseStatsQuery(p: Params): ParsedStatsQuery {
  const bucketSec = p.bucketSec === undefined || p.bucketSec === '' ? 60 : Number(p.bucketSec);
  if (!Number.isFinite(bucketSec) || bucketSec < 0 || bucketSec > MAX_BUCKET_SEC)
    throw bad('bucketSec', `expected seconds between 0 and ${MAX_BUCKET_SEC}, got ${p.bucketSec}`);
  if (bucketSec > 0 && bucketSec < 1e-3) throw bad('bucketSec', 'must be 0 or at least 0.001');
  return {
    q: p.q ?? '',
    groupBy: oneOf<StatsGroupBy>(p, 'groupBy', STATS_GROUP_BY, 'endpoint'),
    bucketSec,
    series: oneOf(p, 'series', ['all', 'total', 'none'] as const, 'all'),
    fill: bool(p, 'fill', false),
    raw: bool(p, 'raw', false),
    ...window(p),
  };
}

export interface ParsedL4Query {
  q: string;
  by: L4GroupBy;
  pairs: boolean;
  raw: boolean;
  limit: number;
  start?: number;
  end?: number;
}

export function parseL4Query(p: Params): ParsedL4Query {
  return {
    q: p.q ?? '',
    by: oneOf<L4GroupBy>(p, 'by', L4_GROUP_BY, 'pod'),
    pairs: bool(p, 'pairs', false),
    raw: bool(p, 'raw', false),
    limit: int(p, 'limit', L4_DEFAULT_LIMIT, 1, 100_000, true),
    ...window(p),
  };
}

export function parseStreamQuery(p: Params): Required<StreamQuery> {
  return { q: p.q ?? '', view: oneOf<EntryView>(p, 'view', ['summary', 'full'], 'summary') };
}
