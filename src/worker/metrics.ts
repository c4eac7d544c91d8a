/**
 * The worker's Prometheus metrics (`tap.metrics.port`): capture and processing counters read
 * from the worker at scrape time (collect callbacks, no timers), in a registry of their own so
 * that two workers in one process (tests, `tap --local`) never share series.
 */
import { createHttpServer, listen } from '../api/server.ts';
import { Counter, Gauge, Registry } from 'prom-client';
import type { CaptureCounters } from '../api/types.ts';

export const METRICS_PATH = '/metrics';

/** The metric names, as Kubeshark's worker exports them. */
export const METRIC_NAMES = {
  receivedPackets: 'kubeshark_received_packets_total',
  droppedPackets: 'kubeshark_dropped_packets_total',
  ifDroppedPackets: 'kubeshark_if_dropped_packets_total',
  processedBytes: 'kubeshark_processed_bytes_total',
  liveTcpStreams: 'kubeshark_live_tcp_streams',
  matchedPairs: 'kubeshark_matched_pairs_total',
  entries: 'kubeshark_entries_total',
  limitsHit: 'kubeshark_limits_hit_total',
  storeDropped: 'kubeshark_store_dropped_entries_total',
  streamDropped: 'kubeshark_stream_dropped_messages_total',
  targetDropped: 'kubeshark_target_dropped_entries_total',
  targetHeld: 'kubeshark_target_held_entries',
  targetHeldKept: 'kubeshark_target_held_kept_entries_total',
  targetHeldExpired: 'kubeshark_target_held_expired_entries_total',
  sources: 'kubeshark_capture_source_info',
  ingestStageEntries: 'kubeshark_ingest_stage_entries_total',
  ingestStageHeld: 'kubeshark_ingest_stage_held_entries',
  ingestStageSeconds: 'kubeshark_ingest_stage_seconds_total',
} as const;

type CounterField =
  | 'receivedPackets'
  | 'droppedPackets'
  | 'ifDroppedPackets'
  | 'processedBytes'
  | 'matchedPairs'
  | 'entries'
  | 'storeDropped'
  | 'streamDropped'
  | 'targetDropped'
  | 'targetHeldKept'
  | 'targetHeldExpired';

const COUNTER_HELP: Record<CounterField, string> = {
  receivedPackets: 'Packets received by the capture (accepted by the capture filter).',
  droppedPackets: 'Packets dropped by the kernel, as reported by the capture process.',
  ifDroppedPackets: 'Packets dropped by the network interface or driver (when reported).',
  processedBytes: 'Bytes of the packets processed by the pipeline (original lengths).',
  matchedPairs: 'Requests paired with their response.',
  entries: 'Entries produced (L7 calls and L4 connection/flow records).',
  storeDropped: 'Entries refused by the store (write backlog).',
  streamDropped: 'Live-stream messages dropped for slow consumers.',
  targetDropped: 'Entries dropped by pod targeting (no targeted pod, or kept by another node).',
  targetHeldKept:
    'Entries that waited for an endpoint identity (a pod not yet known) and were then kept.',
  targetHeldExpired:
    'Entries dropped after waiting for an endpoint identity that did not come in time (or no room).',
};

export interface MetricsOptions {
  /** Labels on every series (e.g. `{ node: 'worker-1' }`). */
  labels?: Record<string, string>;
}

/** A non-negative finite number (a counter may not go below zero). */
function count(v: number): number {
  return Number.isFinite(v) && v > 0 ? v : 0;
}

/**
 * A registry whose metrics read `getter()` when scraped. One scrape reads the getter once: the
 * snapshot is reused by every metric collected in the same turn of the event loop.
 */
export function createMetricsRegistry(
  getter: () => CaptureCounters,
  o: MetricsOptions = {},
): Registry {
  const registry = new Registry();
  if (o.labels) registry.setDefaultLabels(o.labels);
  let snap: CaptureCounters | undefined;
  const current = (): CaptureCounters => {
    if (!snap) {
      snap = getter();
      setImmediate(() => {
        snap = undefined;
      });
    }
    return snap;
  };
  for (const field of Object.keys(COUNTER_HELP) as CounterField[]) {
    new Counter({
      name: METRIC_NAMES[field],
      help: COUNTER_HELP[field],
      registers: [registry],
      collect() {
        this.reset();
        this.inc(count(current()[field] ?? 0));
      },
    });
  }
  new Counter({
    name: METRIC_NAMES.limitsHit,
    help: 'Named limits hit (tap.limits.<limit>): data beyond them was counted, not kept.',
    labelNames: ['limit'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [limit, n] of Object.entries(current().limitsHit)) this.inc({ limit }, count(n));
    },
  });
  new Gauge({
    name: METRIC_NAMES.liveTcpStreams,
    help: 'TCP connections being reassembled now.',
    registers: [registry],
    collect() {
      this.set(count(current().liveTcpStreams));
    },
  });
  new Gauge({
    name: METRIC_NAMES.targetHeld,
    help: 'Entries waiting now for an endpoint identity (a pod the informer has not heard of yet).',
    registers: [registry],
    collect() {
      this.set(count(current().targetHeld ?? 0));
    },
  });
  // The ingest stages (CaptureCounters.ingest): per stage, what became of the entries that came in.
  new Counter({
    name: METRIC_NAMES.ingestStageEntries,
    help: 'Entries through each ingest stage, by outcome: passed on, dropped, or the stage failed (error; the entry then went on or not as the stage says).',
    labelNames: ['stage', 'outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of current().ingest ?? []) {
        this.inc({ stage: s.name, outcome: 'passed' }, count(s.passed));
        this.inc({ stage: s.name, outcome: 'dropped' }, count(s.dropped));
        this.inc({ stage: s.name, outcome: 'error' }, count(s.errors));
      }
    },
  });
  new Gauge({
    name: METRIC_NAMES.ingestStageHeld,
    help: 'Entries an ingest stage holds now, to decide later (pod targeting waiting for an identity).',
    labelNames: ['stage'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of current().ingest ?? []) {
        if (s.held !== undefined) this.set({ stage: s.name }, count(s.held));
      }
    },
  });
  new Counter({
    name: METRIC_NAMES.ingestStageSeconds,
    help: 'Time spent in each ingest stage (estimated from a random sample of the entries).',
    labelNames: ['stage'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of current().ingest ?? []) this.inc({ stage: s.name }, count(s.timeUs) / 1e6);
    },
  });
  new Gauge({
    name: METRIC_NAMES.sources,
    help: 'Capture sources (interfaces or files) being read; always 1.',
    labelNames: ['source'],
    registers: [registry],
    collect() {
      this.reset();
      for (const source of current().sources) this.set({ source }, 1);
    },
  });
  return registry;
}

export interface MetricsServer {
  port: number;
  registry: Registry;
  close(): Promise<void>;
}

/** Serves `GET /metrics` (Prometheus text format) on `host:port` (port 0: any free port). */
export async function serveMetrics(
  port: number,
  host: string,
  getter: () => CaptureCounters,
  o: MetricsOptions = {},
): Promise<MetricsServer> {
  const registry = createMetricsRegistry(getter, o);
  // The same server (and gate) as every role's API: one place for access checks.
  const app = createHttpServer('metrics');
  app.get(METRICS_PATH, async (_req, reply) => {
    try {
      const text = await registry.metrics();
      return reply.code(200).type(registry.contentType).send(text);
    } catch (e) {
      return reply
        .code(500)
        .type('text/plain; charset=utf-8')
        .send(`metrics failed: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?', 1)[0]!;
    if (path === METRICS_PATH) {
      return reply
        .code(405)
        .header('allow', 'GET, HEAD')
        .type('text/plain; charset=utf-8')
        .send('method not allowed\n');
    }
    return reply
      .code(404)
      .type('text/plain; charset=utf-8')
      .send(`not found: ${path} (metrics are at ${METRICS_PATH})\n`);
  });
  await app.ready();
  const bound = await listen(app.server, port, host);
  return { port: bound, registry, close: () => app.close() };
}
