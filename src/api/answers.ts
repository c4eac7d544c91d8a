/**
 * Answers computed the same way by a worker (over its store) and by the hub (over the merged
 * worker answers), so the two can never disagree on shape.
 */
import type { ResultOptions } from '../store/stats/accumulator.ts';
import type { L4Aggregation } from '../store/stats/l4.ts';
import type { ParsedStatsQuery } from './params.ts';
import type { KflInfo, L4Response } from './types.ts';

/** The L4 answer: every group (raw, mergeable), or the top `limit` by bytes and their view. */
export function l4Answer(
  agg: L4Aggregation,
  kfl: KflInfo,
  raw: boolean,
  limit: number,
): L4Response {
  const l4 = agg.toJSON();
  const res: L4Response = { kfl, l4 };
  if (raw) return res;
  const top = agg.topTalkers(limit);
  const keep = new Set(top.map((g) => g.key));
  l4.groups = l4.groups.filter((g) => keep.has(g.key));
  res.top = top;
  return res;
}

/** How computed statistics are asked for: series, fill, and the window when both ends are given. */
export function statsResultOptions(p: ParsedStatsQuery): ResultOptions {
  const o: ResultOptions = { series: p.series, fill: p.fill };
  if (p.start !== undefined && p.end !== undefined) o.window = { start: p.start, end: p.end };
  return o;
}
