/**
 * The simulated Kubernetes API server: its options, the seeded namespaces and nodes, the
 * controllers and kubelet it runs, and startSimCluster (a kubeconfig pointing at it). Requests
 * are answered by handler.ts; patch-request.ts, validation.ts, discovery.ts and list-watch.ts
 * hold the rest of the HTTP front.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findResource } from './resources.ts';
import { Store } from './store.ts';
import { Controllers } from './controllers.ts';
import { ProcessKubelet } from './kubelet.ts';
import { EventRecorder } from './events.ts';
import { leaseNetwork, SimNetwork } from './network.ts';
import type { DenyRule } from './authz.ts';
import { SIM_USER } from './authz.ts';
import type { SimState } from './http.ts';
import { SERVER_VERSION } from './discovery.ts';
import { SequentialClusterIps } from './validation.ts';
import { serveRequest, serveUpgrade } from './handler.ts';

export { MAX_BODY_BYTES } from './http.ts';
export { DEFAULT_WATCH_TIMEOUT_S } from './list-watch.ts';

/** Default period between BOOKMARK events on watches that ask for them. */
export const DEFAULT_BOOKMARK_INTERVAL_MS = 1000;
/** Default delay before a Terminating namespace and its contents are removed. */
export const DEFAULT_NAMESPACE_FINALIZE_MS = 200;

export interface SimClusterOptions {
  /** Names of the simulated nodes (default one node, `sim-node-1`). */
  nodes?: string[];
  /** Events kept for watch resumption (default DEFAULT_HISTORY_LIMIT). */
  historyLimit?: number;
  bookmarkIntervalMs?: number;
  /**
   * Run the scheduler, the Deployment/ReplicaSet/DaemonSet controllers and the process kubelet
   * (default true). Off, pods stay Pending unless a test writes their status.
   */
  controllers?: boolean;
  /** Delay between a namespace turning Terminating and its removal (default 200 ms). */
  namespaceFinalizeMs?: number;
  /**
   * Image repository (no tag/digest, e.g. `ghcr.io/kubeshark-ts/kubeshark`) → its ENTRYPOINT argv.
   * A container without `command` runs entrypoint + `args`; if the map is given and lacks the
   * image, the pull fails (ErrImagePull → ImagePullBackOff). Without the map such containers idle.
   */
  images?: Record<string, string[]>;
  /** Env added to every container (the container's own env wins), e.g. KUBECONFIG. */
  podEnv?: Record<string, string>;
  /**
   * Set KUBECONFIG=<sim.kubeconfigPath> in every container (before podEnv; container env wins):
   * pods have no service-account token, so in-cluster config cannot reach the API.
   */
  kubeconfigInPods?: boolean;
  /** Permissions to refuse: matching requests get 403, matching SelfSubjectAccessReviews allowed:false. */
  deny?: DenyRule[];
}

export interface SimCluster {
  url: string;
  port: number;
  kubeconfigPath: string;
  store: Store;
  /** Whether pods get cluster DNS through a private /etc/hosts (needs root and unshare). */
  clusterDns: boolean;
  /** This cluster's own addresses: node i is `network.nodeIp(i)`, pods `network.podPrefix` + n. */
  network: SimNetwork;
  close(): Promise<void>;
}

export class SimApiServer {
  readonly store: Store;
  private readonly server: Server;
  /** What request handlers read and write (handler.ts); close() ends what is open in it. */
  private readonly state: SimState;
  private readonly controllers?: Controllers;
  readonly kubelet?: ProcessKubelet;
  private readonly events: EventRecorder;
  private port = 0;
  /** The kubeconfig startSimCluster wrote (for kubeconfigInPods). */
  kubeconfigPath?: string;

  constructor(
    opts: SimClusterOptions = {},
    readonly network: SimNetwork = new SimNetwork(0),
  ) {
    this.store = new Store(opts.historyLimit);
    this.events = new EventRecorder(this.store);
    const ns = findResource('', 'v1', 'namespaces')!;
    for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      this.store.create(ns, {
        metadata: { name },
        spec: { finalizers: ['kubernetes'] },
        status: { phase: 'Active' },
      });
    }
    const node = findResource('', 'v1', 'nodes')!;
    for (const [i, name] of (opts.nodes ?? ['sim-node-1']).entries()) {
      this.store.create(node, {
        metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' } },
        spec: {},
        status: {
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'KubeletReady',
              message: 'simulated kubelet is posting ready status',
            },
          ],
          addresses: [
            { type: 'InternalIP', address: this.network.nodeIp(i) },
            { type: 'Hostname', address: name },
          ],
          nodeInfo: {
            kubeletVersion: SERVER_VERSION.gitVersion,
            operatingSystem: 'linux',
            architecture: 'amd64',
          },
        },
      });
    }
    if (opts.controllers !== false) {
      this.kubelet = new ProcessKubelet(this.store, {
        images: opts.images,
        podEnv: opts.podEnv,
        apiPort: () => this.port,
        kubeconfig: () => (opts.kubeconfigInPods ? this.kubeconfigPath : undefined),
        events: this.events,
        network: this.network,
      });
      this.controllers = new Controllers(this.store, this.kubelet, this.events);
    }
    this.state = {
      store: this.store,
      deny: opts.deny ?? [],
      kubelet: this.kubelet,
      clusterIps: new SequentialClusterIps(),
      bookmarkIntervalMs: opts.bookmarkIntervalMs ?? DEFAULT_BOOKMARK_INTERVAL_MS,
      namespaceFinalizeMs: opts.namespaceFinalizeMs ?? DEFAULT_NAMESPACE_FINALIZE_MS,
      openWatches: new Set<ServerResponse>(),
      timers: new Set<NodeJS.Timeout>(),
      upgraded: new Set<Duplex>(),
    };
    this.server = createServer((req, res) => serveRequest(this.state, req, res));
  }

  async listen(): Promise<number> {
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      serveUpgrade(this.state, req, socket, head),
    );
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  async close(): Promise<void> {
    this.controllers?.stop();
    this.events.close();
    const pods = this.kubelet?.stopAll();
    const { timers, openWatches, upgraded } = this.state;
    for (const t of timers) clearTimeout(t);
    timers.clear();
    for (const w of openWatches) w.end();
    for (const sock of upgraded) sock.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await pods;
  }
}

/** Starts a simulated cluster on 127.0.0.1:<random port> and writes a kubeconfig pointing at it. */
export async function startSimCluster(opts: SimClusterOptions = {}): Promise<SimCluster> {
  const lease = await leaseNetwork();
  const api = new SimApiServer(opts, lease.net);
  const port = await api.listen();
  const url = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'kube-sim-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  api.kubeconfigPath = kubeconfigPath;
  writeFileSync(
    kubeconfigPath,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: sim',
      '  cluster:',
      `    server: ${url}`,
      // client-node refuses plain http unless TLS verification is (vacuously) skipped.
      '    insecure-skip-tls-verify: true',
      'users:',
      `- name: ${SIM_USER}`,
      '  user:',
      '    token: sim-token',
      'contexts:',
      '- name: sim',
      '  context:',
      '    cluster: sim',
      `    user: ${SIM_USER}`,
      '    namespace: default',
      'current-context: sim',
      '',
    ].join('\n'),
  );
  return {
    url,
    port,
    kubeconfigPath,
    store: api.store,
    clusterDns: api.kubelet?.clusterDnsAvailable ?? false,
    network: lease.net,
    async close() {
      await api.close();
      await lease.release();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
