/**
 * Statistics straight from the store: the call statistics and L4 aggregation of the entries a
 * query selects (KFL filter + time window), computed over summary entries (no disk reads unless
 * the filter touches heavy fields). The worker answers `/api/stats` and `/api/l4` with these; the
 * hub merges the serialised forms of several workers.
 */
import type { EntryStore, StoreQuery } from './store.ts';
import { StatsAccumulator, type StatsOptions } from './stats/accumulator.ts';
import { L4Aggregation, type L4Options } from './stats/l4.ts';

/** The selection part of a query (paging fields make no sense for an aggregate). */
export type AggregateQuery = Omit<StoreQuery, 'limit' | 'cursor' | 'order' | 'lazy'>;

/** Call statistics of the selected entries (non-call entries are counted as `ignored`). */
export async function statsOf(
  store: EntryStore,
  q: AggregateQuery,
  opts: StatsOptions,
): Promise<StatsAccumulator> {
  const acc = new StatsAccumulator(opts);
  await store.scan({ ...q, order: 'oldest' }, (e) => acc.add(e));
  return acc;
}

/** L4 aggregation of the selected connection/flow records (only `tcp`/`udp` entries count). */
export async function l4Of(
  store: EntryStore,
  q: AggregateQuery,
  opts: L4Options,
): Promise<L4Aggregation> {
  const agg = new L4Aggregation(opts);
  const protocols = q.protocols
    ? q.protocols.filter((p) => p === 'tcp' || p === 'udp')
    : ['tcp', 'udp'];
  await store.scan({ ...q, protocols, order: 'oldest' }, (e) => agg.add(e));
  return agg;
}
