/**
 * Kubernetes identity for a worker: four shared informers (pods, services, endpointslices,
 * nodes; one watch each per process, never per-pod polling) feeding one KubeIdentityTable, whose
 * history answers by capture time. The table is the Resolver the worker's enrichment uses; its
 * `status` answers `not_synced` until the first LIST of each kind. `startWorkerCluster` adds pod
 * targeting (targets.ts) on top, as the plain hooks src/worker takes.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeIdentityTable, type KubeKind, type KubeObject } from '../enrich/kube-table.ts';
import type { Resolver } from '../enrich/types.ts';
import type { WorkerCluster } from '../worker/run.ts';
import { slimIdentityObject } from './slim.ts';
import { watchResource, type InformerStats, type InformerSubscription } from './informer.ts';
import { flowFilter, historyLocator, type TargetSelection } from './targets.ts';

/** The collections watched, cluster-wide. */
export const IDENTITY_RESOURCES: readonly { kind: KubeKind; path: string }[] = [
  { kind: 'Pod', path: '/api/v1/pods' },
  { kind: 'Service', path: '/api/v1/services' },
  { kind: 'EndpointSlice', path: '/apis/discovery.k8s.io/v1/endpointslices' },
  { kind: 'Node', path: '/api/v1/nodes' },
];

export interface KubeIdentityOptions {
  /** The table to feed (default: a new one with the default limits). */
  table?: KubeIdentityTable;
  /** Informer reconnection backoff and watch timeout (tests shorten them). */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  watchTimeoutS?: number;
  log?: (line: string) => void;
}

export interface KubeIdentitySource {
  readonly table: KubeIdentityTable;
  /** What enrichment asks (the table itself). */
  readonly resolver: Resolver;
  /** Resolves once every kind has been listed. */
  readonly synced: Promise<void>;
  isSynced(): boolean;
  informers(): InformerStats[];
  stop(): Promise<void>;
}

export function startKubeIdentity(
  kc: KubeConfig,
  opts: KubeIdentityOptions = {},
): KubeIdentitySource {
  const table = opts.table ?? new KubeIdentityTable();
  const subs: InformerSubscription[] = IDENTITY_RESOURCES.map(({ kind, path }) =>
    watchResource<KubeObject>(
      kc,
      {
        path,
        // Only what the table reads: a large cluster's pods stay small in every worker.
        transform: slimIdentityObject,
        ...(opts.backoffInitialMs !== undefined && { backoffInitialMs: opts.backoffInitialMs }),
        ...(opts.backoffMaxMs !== undefined && { backoffMaxMs: opts.backoffMaxMs }),
        ...(opts.watchTimeoutS !== undefined && { watchTimeoutS: opts.watchTimeoutS }),
        ...(opts.log && { log: opts.log }),
      },
      {
        resync: (items, ts) => table.resync(kind, items, ts),
        upsert: (o, ts) => table.upsert(kind, o, ts),
        remove: (o, ts) => table.remove(kind, o, ts),
      },
    ),
  );
  const synced = Promise.all(subs.map((s) => s.synced)).then(() => undefined);
  synced.catch(() => undefined);
  return {
    table,
    resolver: table,
    synced,
    isSynced: () => table.isSynced(),
    informers: () => subs.map((s) => s.informer.stats()),
    async stop() {
      await Promise.all(subs.map((s) => s.stop()));
    },
  };
}

/** What `kubeshark worker --kube` hands the worker: the worker's own interface, not a copy. */
export type { WorkerCluster };

/** Identity + targeting for the worker on `node`. */
export function startWorkerCluster(
  kc: KubeConfig,
  o: KubeIdentityOptions & { node: string; selection: TargetSelection },
): WorkerCluster {
  const id = startKubeIdentity(kc, o);
  const locate = historyLocator((ip, ts) => id.table.podAt(ip, ts), o.selection);
  const sel = o.selection;
  // Not known to the table (once it has listed everything) and inside a node's pod range: maybe
  // a pod too new for the informers.
  const unknown = (ip: string, port: number, tr: 'tcp' | 'udp', ts: number): boolean =>
    id.table.status(ip, port, tr, ts) === 'not_found' && id.table.mayBePod(ip);
  return {
    resolver: id.resolver,
    filter: flowFilter(o.node, locate),
    unresolved: (e) =>
      unknown(e.src.ip, e.src.port, e.transport, e.timestamp) ||
      unknown(e.dst.ip, e.dst.port, e.transport, e.timestamp),
    version: () => id.table.version(),
    synced: id.synced,
    describe: () => {
      const s = id.table.stats();
      const ns = sel.namespaces.size > 0 ? [...sel.namespaces].join(',') : 'all namespaces';
      const ex = sel.excluded.size > 0 ? ` except ${[...sel.excluded].join(',')}` : '';
      return `kube node ${o.node}: pods /${sel.regex.source}/ in ${ns}${ex} (${s.pods} pods, ${s.services} services, ${s.nodes} nodes known)`;
    },
    stop: () => id.stop(),
  };
}
