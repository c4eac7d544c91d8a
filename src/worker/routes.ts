/**
 * The worker's implementation of the route table (src/api/routes.ts), over its own store: paged
 * entry queries (store cursor, KFL with index hints), one entry, statistics (raw = mergeable
 * sketches), L4 aggregation, boundaries. Summary views are made from the store's summary rows (no
 * disk reads); full views read the entries. Parameters arrive validated by the table's schemas.
 */
import { l4Answer, statsResultOptions } from '../api/answers.ts';
import { afterEntry } from '../api/cursor.ts';
import { KsError } from '../util/errors.ts';
import { kflInfo, selectionOf, type KflCompiler } from '../api/kfl.ts';
import type {
  ParsedEntriesQuery,
  ParsedEntryQuery,
  ParsedL4Query,
  ParsedStatsQuery,
} from '../api/params.ts';
import { API_ROUTES, type ApiHandlers } from '../api/routes.ts';
import { summarize } from '../api/summary.ts';
import { viewOf } from '../tap/records.ts';
import type {
  Boundaries,
  EntriesResponse,
  EntryResponse,
  Health,
  L4Response,
  RawStatsResponse,
  StatsResponse,
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

/** The worker's handlers of the route table, over `ctx`'s store. */
export function workerHandlers(ctx: RouteContext): ApiHandlers {
  return {
    health: () => ctx.health(),
    workers: () => {
      throw new KsError(
        'KS_ERR_NOT_FOUND',
        `${API_ROUTES.workers.path} is served by the hub, not by a worker`,
      );
    },
    fields: () => ctx.compiler.fields(),
    kfl: (q) => ctx.compiler.check(q.q),
    entries: (q) => entries(ctx, q),
    entry: (q) => entry(ctx, q.id, q),
    stats: (q) => stats(ctx, q),
    l4: (q) => l4(ctx, q),
    boundaries: () => boundaries(ctx),
  };
}

async function entries(
  ctx: RouteContext,
  p: ParsedEntriesQuery,
): Promise<EntriesResponse<unknown>> {
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
  const v = viewOf(e);
  if (!v.cutBodies) return { entry: e, truncated };
  const record = v.cutBodies(e.record, (b: Body) => cut(b)!);
  return { entry: { ...e, record }, truncated };
}

async function stats(
  ctx: RouteContext,
  p: ParsedStatsQuery,
): Promise<StatsResponse | RawStatsResponse> {
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

async function l4(ctx: RouteContext, p: ParsedL4Query): Promise<L4Response> {
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
