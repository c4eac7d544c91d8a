/** get_api_stats: throughput, error rates and latency percentiles, overall and per group. */
import { z } from 'zod';
import type { GroupStats } from '../../store/stats/accumulator.ts';
import { duration, isoOfUs, percent, table, timeOfUs } from '../format.ts';
import { MCP_MAX_GROUPS, kfl, partialAnswer, time, window } from './shared.ts';
import { tool } from './tool.ts';

const STATS_GROUPS = ['endpoint', 'service', 'namespace', 'node'] as const;

export const getApiStats = tool({
  name: 'get_api_stats',
  title: 'API statistics',
  description:
    'Throughput, error rates (http_4xx, http_5xx, dns, no_response…) and latency percentiles (p50/p95/p99) of the calls matching kfl, overall and per endpoint, service, namespace or node. Start here to find what is slow or failing.',
  inputSchema: {
    kfl,
    start: time('window start'),
    end: time('window end (exclusive)'),
    group_by: z.enum(STATS_GROUPS).optional().describe('grouping (default endpoint)'),
  },
  async run(args, ctx) {
    const api = await ctx.api();
    const groupBy = args.group_by ?? 'endpoint';
    const res = await api.stats({
      q: args.kfl ?? '',
      groupBy,
      series: 'none',
      bucketSec: 0,
      ...window(args),
    });
    const r = res.result;
    const shape = (g: GroupStats) => ({
      key: g.key,
      labels: g.labels,
      calls: g.calls,
      rate_per_sec: g.ratePerSec,
      failed: g.failed,
      error_rate: g.errorRate,
      errors: Object.fromEntries(Object.entries(g.errors).filter(([, n]) => n > 0)),
      latency_us: g.latency
        ? {
            p50: g.latency.p50,
            p95: g.latency.p95,
            p99: g.latency.p99,
            min: g.latency.min,
            max: g.latency.max,
            mean: g.latency.mean,
          }
        : null,
      bytes: g.bytes,
      first: timeOfUs(g.first),
      last: timeOfUs(g.last),
    });
    const groups = r.groups.slice(0, MCP_MAX_GROUPS);
    // Failing groups by failures, wherever they rank by calls: what a root-cause search needs.
    const failing = r.groups
      .filter((g) => g.failed > 0)
      .sort((a, b) => b.failed - a.failed || b.errorRate - a.errorRate)
      .slice(0, MCP_MAX_GROUPS);
    const errs = (g: GroupStats) =>
      Object.entries(g.errors)
        .filter(([, n]) => n > 0)
        .map(([k, n]) => `${k}:${n}`)
        .join(' ');
    const t = r.total;
    const text = [
      `${t.calls} call(s)${args.kfl ? ` matching \`${res.kfl.kfl2}\`` : ''} from ${isoOfUs(r.window.start)} to ${isoOfUs(r.window.end)} (${r.window.seconds.toFixed(1)} s): ${t.ratePerSec.toFixed(2)}/s, ${t.failed} failed (${percent(t.errorRate)})${errs(t) ? ` [${errs(t)}]` : ''}, latency p50 ${duration(t.latency?.p50)} p95 ${duration(t.latency?.p95)} p99 ${duration(t.latency?.p99)}`,
      r.ignored > 0 ? `(${r.ignored} L4 records not counted: see list_l4_flows)` : '',
      '',
      table(
        [groupBy.toUpperCase(), 'CALLS', 'RATE/S', 'FAILED', 'ERR%', 'ERRORS', 'P50', 'P95', 'P99'],
        groups.map((g) => [
          g.key,
          g.calls,
          g.ratePerSec.toFixed(2),
          g.failed,
          percent(g.errorRate),
          errs(g),
          duration(g.latency?.p50),
          duration(g.latency?.p95),
          duration(g.latency?.p99),
        ]),
      ),
      r.groups.length > groups.length
        ? `… ${r.groups.length - groups.length} more groups — narrow with kfl.`
        : '',
      failing.length > 0 ? `\nFailing ${groupBy} groups (by failures):` : '',
      failing.length > 0
        ? table(
            [groupBy.toUpperCase(), 'FAILED', 'OF CALLS', 'ERR%', 'ERRORS', 'LAST (UTC)'],
            failing.map((g) => [
              g.key,
              g.failed,
              g.calls,
              percent(g.errorRate),
              errs(g),
              isoOfUs(g.last),
            ]),
          )
        : '',
      'Next: list_api_calls with kfl for the failing or slow group (e.g. `status_code >= 500`, `elapsed_time > 500000`).',
    ]
      .filter((l, i) => l !== '' || i === 2)
      .join('\n');
    return partialAnswer(
      text,
      {
        kfl: res.kfl,
        group_by: groupBy,
        window: {
          start: timeOfUs(r.window.start),
          end: timeOfUs(r.window.end),
          seconds: r.window.seconds,
        },
        ignored_l4_records: r.ignored,
        total: shape(t),
        groups: groups.map(shape),
        failing_groups: failing.map(shape),
        more_groups: r.groups.length - groups.length,
      },
      res.unavailable,
    );
  },
});
