/**
 * The hub finds its workers (`kubeshark hub --discover`): one watch on the release's worker pods
 * (the DaemonSet's own selector, `componentSelector(<tap.release.name>, 'worker')`, in
 * tap.release.namespace). Every Ready pod with an IP is a worker named after its node, reached at
 * `http://<podIP>:<tap.proxy.worker.srvPort>`. The consumer gets the whole set on every change.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { componentSelector } from './apply.ts';
import { watchResource, type InformerStats, type InformerSubscription } from './informer.ts';
import { isPodReady } from './ready.ts';

export interface DiscoveredWorker {
  /** The node the worker serves (`spec.nodeName`; the pod name while unscheduled). */
  name: string;
  url: string;
}

export interface WorkerDiscoveryOptions {
  /** tap.release.namespace */
  namespace: string;
  /** tap.release.name */
  release: string;
  /** tap.proxy.worker.srvPort */
  port: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  log?: (line: string) => void;
}

export interface WorkerDiscovery {
  /** Resolves after the first LIST (the first `onChange` has been called). */
  readonly synced: Promise<void>;
  workers(): DiscoveredWorker[];
  stats(): InformerStats;
  stop(): Promise<void>;
}

interface PodFields {
  metadata?: { name?: string; creationTimestamp?: string | Date; deletionTimestamp?: unknown };
  spec?: { nodeName?: string };
  status?: { podIP?: string; conditions?: { type?: string; status?: string }[] };
}

/**
 * The workers among `pods` (pure): Ready (the condition, not the phase), with an IP, not being
 * deleted; one per node (during a rollout the newer pod wins), sorted by name.
 */
export function workersFromPods(pods: readonly PodFields[], port: number): DiscoveredWorker[] {
  const best = new Map<string, { w: DiscoveredWorker; created: number }>();
  for (const p of pods) {
    const ip = p.status?.podIP;
    if (!isPodReady(p) || !ip) continue;
    const name = p.spec?.nodeName || p.metadata?.name;
    if (!name) continue;
    const c = p.metadata?.creationTimestamp;
    const created = c === undefined ? 0 : new Date(c).getTime() || 0;
    const host = ip.includes(':') ? `[${ip}]` : ip;
    const prev = best.get(name);
    if (!prev || created >= prev.created)
      best.set(name, { w: { name, url: `http://${host}:${port}` }, created });
  }
  return [...best.values()].map((x) => x.w).sort((a, b) => a.name.localeCompare(b.name));
}

const sameSet = (a: readonly DiscoveredWorker[], b: readonly DiscoveredWorker[]): boolean =>
  a.length === b.length && a.every((w, i) => w.name === b[i]!.name && w.url === b[i]!.url);

/** Watches the worker pods; `onChange` gets the full set whenever it changes. */
export function startWorkerDiscovery(
  kc: KubeConfig,
  o: WorkerDiscoveryOptions,
  onChange: (workers: DiscoveredWorker[]) => void,
): WorkerDiscovery {
  const pods = new Map<string, PodFields>();
  let current: DiscoveredWorker[] = [];
  let first = true;
  const key = (p: PodFields): string => p.metadata?.name ?? '';
  const update = (): void => {
    const next = workersFromPods([...pods.values()], o.port);
    if (!first && sameSet(next, current)) return;
    first = false;
    current = next;
    onChange(next);
  };
  const sub: InformerSubscription = watchResource<PodFields>(
    kc,
    {
      path: `/api/v1/namespaces/${encodeURIComponent(o.namespace)}/pods`,
      labelSelector: componentSelector(o.release, 'worker'),
      ...(o.backoffInitialMs !== undefined && { backoffInitialMs: o.backoffInitialMs }),
      ...(o.backoffMaxMs !== undefined && { backoffMaxMs: o.backoffMaxMs }),
      ...(o.log && { log: o.log }),
    },
    {
      resync(items) {
        pods.clear();
        for (const p of items) pods.set(key(p), p);
        update();
      },
      upsert(p) {
        pods.set(key(p), p);
        update();
      },
      remove(p) {
        pods.delete(key(p));
        update();
      },
    },
  );
  return {
    synced: sub.synced,
    workers: () => [...current],
    stats: () => sub.informer.stats(),
    stop: () => sub.stop(),
  };
}

/**
 * Discovery as the hub's worker-set source (src/hub/run.ts WorkerSetSource): the watch starts
 * when the hub is listening and stops with it.
 */
export function workerDiscoverySource(
  kc: KubeConfig,
  o: WorkerDiscoveryOptions,
): { start(update: (workers: DiscoveredWorker[]) => void): void; stop(): Promise<void> } {
  let d: WorkerDiscovery | undefined;
  return {
    start(update) {
      d ??= startWorkerDiscovery(kc, o, update);
    },
    stop: async () => d?.stop(),
  };
}
