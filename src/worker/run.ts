/**
 * `kubeshark worker` (hidden): one node's capture, store and API until SIGINT/SIGTERM. Takes
 * its dependencies (output, shutdown trigger) as parameters so tests run it in-process.
 */
import type { CaptureCounters } from '../api/types.ts';
import { getPath, parseSize, type ConfigTree } from '../config/load.ts';
import { enrichEntry } from '../enrich/enrich.ts';
import type { Resolver } from '../enrich/types.ts';
import type { Entry } from '../entry/model.ts';
import { createRedactor, redactionConfig } from '../redact/index.ts';
import { KsError } from '../util/errors.ts';
import { checkCaptureFile } from '../tap/capture/open.ts';
import { serveMetrics, type MetricsServer } from './metrics.ts';
import { createWorker, fileSource, openLiveSource, type WorkerSource } from './worker.ts';

/**
 * Cluster mode (`worker --kube`), built by the command from the Kubernetes API (src/kube): who
 * is behind each address, and which flows this node keeps (pod targeting).
 */
export interface WorkerCluster {
  resolver: Resolver;
  /** False drops the entry (no targeted pod, or another node records it). */
  filter: (e: Entry) => boolean;
  /**
   * An endpoint of the entry may be a pod the informers have not heard of yet: `filter`'s
   * verdict may change, so a dropped entry waits (bounded) and is decided again when
   * `version()` changes.
   */
  unresolved?: (e: Entry) => boolean;
  version?: () => number;
  /** Resolves once the informers have listed everything: capture starts after it. */
  synced: Promise<void>;
  /** One line for the log once synced. */
  describe(): string;
  stop(): Promise<void>;
}

export interface RunWorkerOptions {
  /** Capture files replayed (at full speed, one after another). */
  files: string[];
  /** Interfaces captured live (tcpdump), with this capture filter. */
  interfaces?: string[];
  bpf?: string;
  /** The user tcpdump switches to after opening the interfaces (`-Z`; absent: its default). */
  captureUser?: string;
  port: number;
  host?: string;
  /** Prometheus metrics port (`tap.metrics.port`; 0: any free port); absent: none. */
  metricsPort?: number;
  storeDir?: string;
  node?: string;
  l4All?: boolean;
  /** Kubernetes identity and pod targeting; sources start once it has synced. Stopped at the end. */
  cluster?: WorkerCluster;
  config: ConfigTree;
  /** The one line saying where the worker listens (stdout). */
  out: (line: string) => void;
  /** Problems (stderr). */
  log: (line: string) => void;
  /** Resolves when the worker should stop (SIGINT/SIGTERM). */
  until: Promise<unknown>;
}

export async function runWorker(o: RunWorkerOptions): Promise<void> {
  try {
    await runWorkerWith(o);
  } finally {
    await o.cluster?.stop();
  }
}

async function runWorkerWith(o: RunWorkerOptions): Promise<void> {
  for (const f of o.files) checkCaptureFile(f);
  const sources: WorkerSource[] = o.files.map(fileSource);
  const live = o.interfaces && o.interfaces.length > 0 ? o.interfaces : undefined;
  // A capture that cannot start (no tcpdump, no privilege, no such interface, bad filter) is
  // an error of this command, not a worker that runs without packets.
  const openLive = (ifaces: string[]): Promise<WorkerSource> => {
    const bufferBytes = parseSize(String(getPath(o.config, 'tap.capture.bufferSize')));
    return openLiveSource({
      interfaces: ifaces,
      ...(o.bpf !== undefined && { bpf: o.bpf }),
      ...(bufferBytes !== undefined && { bufferBytes }),
      ...(o.captureUser !== undefined && { dropUser: o.captureUser }),
    });
  };
  // In cluster mode packets wait for the informers: before them no flow could be targeted.
  if (live && !o.cluster) sources.push(await openLive(live));
  const cluster = o.cluster;
  const worker = await createWorker({
    node: o.node,
    config: o.config,
    storeDir: o.storeDir,
    sources: cluster ? [] : sources,
    l4All: o.l4All,
    ...(cluster && {
      filter: cluster.filter,
      ...(cluster.unresolved &&
        cluster.version && {
          hold: { unresolved: cluster.unresolved, version: cluster.version },
        }),
      enrich: (e: Entry) => enrichEntry(e, cluster.resolver),
    }),
    // Secrets are replaced before anything is stored (`tap.redaction.*`).
    redact: createRedactor(redactionConfig(o.config)),
    log: o.log,
  });
  let metrics: MetricsServer | undefined;
  try {
    const port = await worker.listen(o.port, o.host);
    if (o.metricsPort !== undefined) {
      const getter = (): CaptureCounters => worker.counters();
      const labels = { node: worker.node };
      metrics = await serveMetrics(o.metricsPort, o.host ?? '0.0.0.0', getter, { labels }).catch(
        (err: NodeJS.ErrnoException) => {
          const why = err.code === 'EADDRINUSE' ? 'the port is in use' : err.message;
          throw new KsError(
            'KS_ERR_LISTEN',
            `cannot serve metrics on port ${o.metricsPort}: ${why}`,
          );
        },
      );
    }
    const where = `http://${o.host && o.host !== '0.0.0.0' ? o.host : '127.0.0.1'}:${port}`;
    const what =
      (o.files.length > 0 ? `, replaying ${o.files.length} file(s)` : '') +
      (o.interfaces?.length ? `, capturing on ${o.interfaces.join(',')}` : '') +
      (metrics ? `, metrics on :${metrics.port}/metrics` : '');
    o.out(
      `kubeshark worker: node ${worker.node} listening on ${where} (store ${worker.store.dir}${what})`,
    );
    if (cluster) {
      const stop = await Promise.race([cluster.synced.then(() => false), o.until.then(() => true)]);
      if (!stop) {
        o.log(`kubeshark worker: ${cluster.describe()}`);
        for (const s of sources) void worker.addSource(s);
        if (live) void worker.addSource(await openLive(live));
      }
    }
    await o.until;
  } finally {
    await metrics?.close();
    await worker.close();
  }
}
