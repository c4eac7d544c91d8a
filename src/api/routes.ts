/**
 * The route table: every route of the API once — method, path, the zod schemas of its path and
 * query parameters, which roles serve it — and the typed handler interface a role implements
 * (`ApiHandlers`, one method per JSON route). The worker implements it over its store, the hub by
 * fan-out/merge; src/api/server.ts registers the table on Fastify for both (and for the front
 * with an in-process hub), and `callRoute` runs the same table in process (the hub calling an
 * in-process worker, MCP tools inside the hub). Adding a route: a line here, an `Answers` entry,
 * and the interface makes the worker and the hub implement it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { KsError } from '../util/errors.ts';
import {
  entriesQuery,
  entryPath,
  entryQuery,
  kflQuery,
  l4Query,
  noQuery,
  parseParams,
  statsQuery,
  streamQuery,
} from './params.ts';
import {
  ROUTES,
  type Boundaries,
  type EntriesResponse,
  type EntryResponse,
  type FieldsResponse,
  type Health,
  type KflCheck,
  type L4Response,
  type Params,
  type RawStatsResponse,
  type StatsResponse,
  type WorkersResponse,
} from './types.ts';

export type Role = 'worker' | 'hub';

/** A JSON route: GET (and HEAD), answered with a JSON body or an `ApiErrorBody`. */
export interface JsonRoute {
  kind: 'json';
  method: 'GET';
  /** Fastify syntax: `/api/entries/:id`. */
  path: string;
  /** Path parameters (`:name`), when the path has any. */
  params?: z.ZodType;
  query: z.ZodType;
  doc: string;
}

/** The live stream (WebSocket upgrade); its query is validated by the stream handshake. */
export interface StreamRoute {
  kind: 'stream';
  method: 'GET';
  path: string;
  query: z.ZodType;
  doc: string;
}

/**
 * A route that takes the whole request (any method, a body, a streamed answer): the role's
 * handler gets node's request and response. Served only by `roles`.
 */
export interface RawRoute {
  kind: 'raw';
  method: 'ALL';
  path: string;
  roles: readonly Role[];
  doc: string;
}

export type RouteDef = JsonRoute | StreamRoute | RawRoute;

export const API_ROUTES = {
  health: {
    kind: 'json',
    method: 'GET',
    path: ROUTES.health,
    query: noQuery,
    doc: 'role, version, counters; the hub adds its workers',
  },
  workers: {
    kind: 'json',
    method: 'GET',
    path: ROUTES.workers,
    query: noQuery,
    doc: 'the workers the hub knows and their state (a worker answers 404)',
  },
  fields: {
    kind: 'json',
    method: 'GET',
    path: ROUTES.fields,
    query: noQuery,
    doc: 'the KFL field catalogue and macros',
  },
  kfl: {
    kind: 'json',
    method: 'GET',
    path: ROUTES.kfl,
    query: kflQuery,
    doc: 'compile a KFL filter without running it',
  },
  entries: {
    kind: 'json',
    method: 'GET',
    path: ROUTES.entries,
    query: entriesQuery,
    doc: 'a page of entries matching a filter',
  },
  entry: {
    kind: 'json',
    method: 'GET',
    path: `${ROUTES.entry}:id`,
    params: entryPath,
    query: entryQuery,
    doc: 'one entry (full view and summary) by node and id',
  },
  stats: {
    kind: 'json',
    method: 'GET',
    path: ROUTES.stats,
    query: statsQuery,
    doc: 'call statistics (raw=1: the mergeable form)',
  },
  l4: {
    kind: 'json',
    method: 'GET',
    path: ROUTES.l4,
    query: l4Query,
    doc: 'L4 connection and flow aggregation',
  },
  boundaries: {
    kind: 'json',
    method: 'GET',
    path: ROUTES.boundaries,
    query: noQuery,
    doc: 'what each node holds (oldest, newest, entries)',
  },
  stream: {
    kind: 'stream',
    method: 'GET',
    path: ROUTES.stream,
    query: streamQuery,
    doc: 'WebSocket: live entries matching a filter',
  },
  mcp: {
    kind: 'raw',
    method: 'ALL',
    path: ROUTES.mcp,
    roles: ['hub'],
    doc: 'MCP over Streamable HTTP (stateless POST)',
  },
} as const satisfies Record<string, RouteDef>;

type Table = typeof API_ROUTES;
export type RouteName = keyof Table;
/** The JSON routes' names. */
export type JsonRouteName = {
  [N in RouteName]: Table[N] extends { kind: 'json' } ? N : never;
}[RouteName];
/** The raw routes' names. */
export type RawRouteName = {
  [N in RouteName]: Table[N] extends { kind: 'raw' } ? N : never;
}[RouteName];

/** What a JSON route's handler gets: its query parameters (and path parameters), validated. */
export type QueryOf<N extends JsonRouteName> = z.output<Table[N]['query']> &
  (Table[N] extends { params: z.ZodType } ? z.output<Table[N]['params']> : unknown);

/** What each JSON route answers (200). */
export interface Answers {
  health: Health;
  workers: WorkersResponse;
  fields: FieldsResponse;
  kfl: KflCheck;
  entries: EntriesResponse<unknown>;
  entry: EntryResponse;
  stats: StatsResponse | RawStatsResponse;
  l4: L4Response;
  boundaries: Boundaries;
}

/** One method per JSON route: what the worker implements locally and the hub by fan-out. */
export type ApiHandlers = {
  [N in JsonRouteName]: (q: QueryOf<N>) => Promise<Answers[N]> | Answers[N];
};

/** `handlers` with `check` run before each (it throws to refuse, e.g. while shutting down). */
export function guardHandlers(handlers: ApiHandlers, check: () => void): ApiHandlers {
  const out: Record<string, (q: unknown) => unknown> = {};
  for (const [name, h] of Object.entries(handlers) as [string, (q: unknown) => unknown][]) {
    out[name] = (q) => {
      check();
      return h.call(handlers, q);
    };
  }
  return out as ApiHandlers;
}

/** A raw route's handler (it answers `res` itself, streamed or not). */
export type RawHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** The JSON routes, in table order. */
export const JSON_ROUTES = (Object.keys(API_ROUTES) as RouteName[]).flatMap((name) => {
  const r: RouteDef = API_ROUTES[name];
  return r.kind === 'json' ? [{ name: name as JsonRouteName, route: r }] : [];
});

/** Every route's path pattern (`:name` segments) as a matcher. */
function matcher(path: string): (p: string) => Record<string, string> | undefined {
  const names: string[] = [];
  const re = new RegExp(
    '^' +
      path
        .split('/')
        .map((seg) => {
          if (!seg.startsWith(':')) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          names.push(seg.slice(1));
          return '([^/]+)';
        })
        .join('/') +
      '$',
  );
  return (p) => {
    const m = re.exec(p);
    if (!m) return undefined;
    const out: Record<string, string> = {};
    names.forEach((n, i) => (out[n] = m[i + 1]!));
    return out;
  };
}

const MATCHERS = (Object.keys(API_ROUTES) as RouteName[]).map((name) => ({
  name,
  route: API_ROUTES[name] as RouteDef,
  match: matcher(API_ROUTES[name].path),
}));

/** The route answering `path` (without query string) and its path parameters (decoded). */
export function matchRoute(
  path: string,
): { name: RouteName; route: RouteDef; params: Record<string, string> } | undefined {
  for (const m of MATCHERS) {
    const params = m.match(path);
    if (params === undefined) continue;
    for (const k of Object.keys(params)) {
      try {
        params[k] = decodeURIComponent(params[k]!);
      } catch {
        // Left as sent: the schema refuses it with its own message.
      }
    }
    return { name: m.name, route: m.route, params };
  }
  return undefined;
}

/** The unknown-route error. */
export function notFound(path: string): KsError {
  return new KsError('KS_ERR_NOT_FOUND', `no such route: ${path}`);
}

/** Validates a JSON route's path and query parameters (throws KS_ERR_USAGE). */
export function routeQuery<N extends JsonRouteName>(
  route: JsonRoute,
  pathParams: unknown,
  query: unknown,
): QueryOf<N> {
  const p = route.params ? (parseParams(route.params, pathParams) as object) : {};
  return { ...(parseParams(route.query, query) as object), ...p } as QueryOf<N>;
}

/**
 * Runs a JSON route in process, as over HTTP (same table, same validation, same errors): what
 * the hub uses for an in-process worker and MCP tools inside the hub use for the hub.
 */
export async function callRoute(
  handlers: ApiHandlers,
  path: string,
  params: Params,
): Promise<unknown> {
  const m = matchRoute(path);
  if (m === undefined || m.route.kind !== 'json') throw notFound(path);
  const name = m.name as JsonRouteName;
  const handler = handlers[name] as (q: unknown) => unknown;
  return handler.call(handlers, routeQuery(m.route, m.params, params));
}
