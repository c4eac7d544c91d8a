/** check_kubeshark_status: running? reachable? workers up, versions, capture counters. */
import { z } from 'zod';
import type { ApiClient } from '../../api/client.ts';
import { KsError } from '../../util/errors.ts';
import { isoOfUs, table, timeOfUs } from '../format.ts';
import { tool } from './tool.ts';

/** Errors meaning "not deployed / not reachable": the status tool's answer, not a failure. */
const NOT_RUNNING: ReadonlySet<string> = new Set([
  'KS_ERR_UNAVAILABLE',
  'KS_ERR_KUBE_NOT_READY',
  'KS_ERR_KUBE_API',
]);

export const checkStatus = tool({
  name: 'check_kubeshark_status',
  title: 'Kubeshark status',
  description:
    'Is Kubeshark running and reachable? Lists the workers (one per node) up or down with their versions and capture counters. Call this first.',
  inputSchema: {
    release_namespace: z
      .string()
      .optional()
      .describe('namespace Kubeshark is installed in (proxy mode; default tap.release.namespace)'),
  },
  async run(args, ctx) {
    let api: ApiClient;
    try {
      api = await ctx.api(args.release_namespace);
      const health = await api.health();
      const workers = health.workers ?? [];
      const up = workers.filter((w) => w.up);
      const lines = [
        `Kubeshark ${health.role} ${health.version} (API ${health.apiVersion}) at ${ctx.describe()}: ${health.ok ? 'healthy' : 'degraded'}; started ${isoOfUs(health.startedAt)}`,
        `Workers: ${up.length} up, ${workers.length - up.length} down; entries ${health.capture?.entries ?? 0}, packets ${health.capture?.receivedPackets ?? 0}, dropped ${health.capture?.droppedPackets ?? 0}`,
      ];
      if (workers.length > 0) {
        lines.push(
          '',
          table(
            [
              'WORKER',
              'NODE',
              'STATE',
              'VERSION',
              'LAST SEEN (UTC)',
              'ENTRIES',
              'PACKETS',
              'ERROR',
            ],
            workers.map((w) => [
              w.name,
              w.node,
              w.up ? 'up' : 'down',
              w.version,
              isoOfUs(w.lastSeen),
              w.capture?.entries,
              w.capture?.receivedPackets,
              w.error,
            ]),
          ),
        );
      }
      for (const p of health.problems ?? []) lines.push(`Problem: ${p}`);
      lines.push('', 'Next: get_api_stats for an overview, then list_api_calls with a KFL filter.');
      return {
        text: lines.join('\n'),
        data: {
          reachable: true,
          url: ctx.describe(),
          role: health.role,
          version: health.version,
          api_version: health.apiVersion,
          healthy: health.ok,
          started: timeOfUs(health.startedAt),
          workers_up: up.length,
          workers_down: workers.length - up.length,
          workers: workers.map((w) => ({
            name: w.name,
            node: w.node ?? null,
            up: w.up,
            version: w.version ?? null,
            last_seen: timeOfUs(w.lastSeen),
            entries: w.capture?.entries ?? null,
            received_packets: w.capture?.receivedPackets ?? null,
            dropped_packets: w.capture?.droppedPackets ?? null,
            ...(w.error ? { error: w.error } : {}),
          })),
          problems: health.problems ?? [],
        },
      };
    } catch (err) {
      if (!(err instanceof KsError) || !NOT_RUNNING.has(err.code)) throw err;
      return {
        text: `Kubeshark is not reachable (${ctx.describe()}): ${err.message} [${err.code}]\nIs it deployed and running? (\`kubeshark tap\`)`,
        data: { reachable: false, url: ctx.describe(), error: err.message },
      };
    }
  },
});
