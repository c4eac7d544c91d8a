/**
 * The worker's answers to the API routes, over its own store: paged entry queries (store cursor,
 * KFL with index hints), one entry, statistics (raw = mergeable sketches), L4 aggregation,
 * boundaries. Summary views are made from the store's summary rows (no disk reads); full views
 * read the entries.
 */
import { l4Answer, statsResultOptions } from '../api/answers.ts';
import { afterEntry } from '../api/cursor.ts';
import { KsError } from '../util/errors.ts';
import { kflInfo, selectionOf, type KflCompiler } from '../api/kfl.ts';
import {
  parseEntriesQuery,
  parseEntryId,
  parseEntryQuery,
  parseL4Query,
  parseStatsQuery,
  type ParsedEntryQuery,
} from '../api/params.ts';
import { notFound } from '../api/server.ts';
import { summarize } from '../api/summary.ts';
import {
  ROUTES,
  type Boundaries,
  type EntriesResponse,
  type EntryResponse,
  type Health,
  type L4Response,
  type Params,
  type RawStatsResponse,
  type StatsResponse,
} from '../api/types.ts';
import type { Body, Entry } from '../entry/model.ts';
import type { ViewBuilder } from '../entry/view.ts';
import { l4Of, statsOf } from '../store/aggregate.ts';
import type { EntryStore, StoreQuery } from '../store/store.ts';

export interface RouteContext {
  node: string;
  store: EntryStore;
  compiler: KflCompiler;
  view: ViewBuilder;
  health(): Health;
}

export async function workerRoute(
  ctx: RouteContext,
  path: string,
  params: Params,
): Promise<unknown> {
  switch (path) {
    case ROUTES.health:
      return ctx.health();
    case ROUTES.fields:
      return ctx.compiler.fields();
    case ROUTES.kfl:
      return ctx.compiler.check(params.q ?? '');
    case ROUTES.entries:
      return entries(ctx, params);
    case ROUTES.stats:
      return stats(ctx, params);
    case ROUTES.l4:
      return l4(ctx, params);
    case ROUTES.boundaries:
      return boundaries(ctx);
    case ROUTES.workers:
      throw new KsError(
        'KS_ERR_NOT_FOUND',
        `${ROUTES.workers} is served by the hub, not by a worker`,
      );
    default:
      if (path.startsWith(ROUTES.entry) && path.length > ROUTES.entry.length) {
        return entry(ctx, parseEntryId(path.slice(ROUTES.entry.length)), parseEntryQuery(params));
      }
      throw notFound(path);
  }
}

async function entries(ctx: RouteContext, params: Params): Promise<EntriesResponse<unknown>> {
  const p = parseEntriesQuery(params);
  const f = ctx.compiler.compile(p.q);
  const sel = selectionOf(f);
  const window = { start: p.start, end: p.end };
  const lazy = p.view === 'summary';
  const q: StoreQuery = {
    ...sel,
    ...window,
    order: p.order,
    cursor: p.cursor,
    limit: p.limit + 1,
    lazy,
  };
  const out: unknown[] = [];
  let lastId = 0;
  let more = false;
  for await (const e of ctx.store.query(q)) {
    if (out.length === p.limit) {
      more = true;
      break;
    }
    // Lazy (summary) entries are valid only until the iteration moves on: use them now.
    out.push(lazy ? summarize(e) : ctx.view.build(e));
    lastId = e.id;
  }
  const res: EntriesResponse<unknown> = { entries: out, kfl: kflInfo(f) };
  if (more) res.cursor = afterEntry(p.order, lastId);
  if (p.count) res.total = await ctx.store.count({ ...sel, ...window });
  return res;
}

async function entry(ctx: RouteContext, id: number, p: ParsedEntryQuery): Promise<EntryResponse> {
  if (p.node !== undefined && p.node !== ctx.node) {
    throw new KsError('KS_ERR_NOT_FOUND', `this worker is node ${ctx.node}, not ${p.node}`);
  }
  const e = await ctx.store.get(id);
  if (e === undefined) throw new KsError('KS_ERR_NOT_FOUND', `no entry ${id} on node ${ctx.node}`);
  const { entry: cut, truncated } = cutPayloads(e, p.payload ? p.maxPayload : 0, !p.payload);
  const res: EntryResponse = { entry: ctx.view.build(cut), summary: summarize(e) };
  if (truncated) res.truncated = true;
  return res;
}

/** Bodies and payloads cut to `max` bytes (or left out), on a copy: the stored entry is whole. */
export function cutPayloads(
  e: Entry,
  max: number,
  omit: boolean,
): { entry: Entry; truncated: boolean } {
  let truncated = false;
  const cut = (b: Body | undefined): Body | undefined => {
    if (b === undefined) return b;
    const c: Body = { ...b };
    if (omit) {
      if (c.text !== undefined || c.base64 !== undefined) truncated = true;
      delete c.text;
      delete c.base64;
      return c;
    }
    if (c.text !== undefined && Buffer.byteLength(c.text) > max) {
      c.text = Buffer.from(c.text)
        .subarray(0, max)
        .toString('utf8')
        .replace(/\uFFFD$/, '');
      c.truncated = true;
      truncated = true;
    }
    if (c.base64 !== undefined && Math.floor((c.base64.length * 3) / 4) > max) {
      c.base64 = c.base64.slice(0, Math.floor(max / 3) * 4);
      c.truncated = true;
      truncated = true;
    }
    return c;
  };
  const r = e.record;
  switch (r.kind) {
    case 'http': {
      const rec = { ...r };
      if (rec.request) rec.request = { ...rec.request, body: cut(rec.request.body)! };
      if (rec.response) rec.response = { ...rec.response, body: cut(rec.response.body)! };
      return { entry: { ...e, record: rec }, truncated };
    }
    case 'ws':
      return { entry: { ...e, record: { ...r, payload: cut(r.payload)! } }, truncated };
    default:
      return { entry: e, truncated };
  }
}

async function stats(ctx: RouteContext, params: Params): Promise<StatsResponse | RawStatsResponse> {
  const p = parseStatsQuery(params);
  const f = ctx.compiler.compile(p.q);
  const acc = await statsOf(
    ctx.store,
    { ...selectionOf(f), start: p.start, end: p.end },
    { groupBy: p.groupBy, bucketSec: p.bucketSec },
  );
  if (p.raw) return { kfl: kflInfo(f), stats: acc.toJSON() };
  return {
    kfl: kflInfo(f),
    groupBy: p.groupBy,
    result: acc.result(statsResultOptions(p)),
  };
}

async function l4(ctx: RouteContext, params: Params): Promise<L4Response> {
  const p = parseL4Query(params);
  const f = ctx.compiler.compile(p.q);
  const agg = await l4Of(
    ctx.store,
    { ...selectionOf(f), start: p.start, end: p.end },
    { by: p.by, pairs: p.pairs },
  );
  return l4Answer(agg, kflInfo(f), p.raw, p.limit);
}

function boundaries(ctx: RouteContext): Boundaries {
  const s = ctx.store.stats();
  const oldest = s.oldestTs ?? null;
  const newest = s.newestTs ?? null;
  return {
    nodes: [{ node: ctx.node, oldest, newest, entries: s.entries, bytes: s.bytes }],
    oldest,
    newest,
    entries: s.entries,
  };
}
