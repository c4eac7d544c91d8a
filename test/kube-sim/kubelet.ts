/**
 * The simulated kubelet's runtime: each container runs as a local process (its `command`, or the
 * entrypoint SimClusterOptions.images maps its image to, plus `args`), with a pod IP of its own
 * on the loopback /8, a private /etc/hosts for cluster DNS, configMap/secret/emptyDir volumes in
 * a per-pod directory, readiness probes against the pod IP, exits following restartPolicy, the
 * kubelet's Events, and output kept for the `log` subresource (current and previous instance).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KObj, Store, StoredEvent } from './store.ts';
import { findResource } from './resources.ts';
import type { PodRuntime } from './controllers.ts';
import { EventRecorder } from './events.ts';
import type { EventType } from './events.ts';
import { expandVars, imageRepository } from './expand.ts';
import {
  PodIpPool,
  POD_IP_MAX,
  type SimNetwork,
  hostsFile,
  isolationAvailable,
  readOr,
  rewriteInPlace,
  isolated,
  CLUSTER_DOMAIN,
} from './network.ts';
import type { ServiceRecord } from './network.ts';
import { PodVolumes, rewriteMountPaths } from './volumes.ts';
import type { VolumeMount, VolumeSpec } from './volumes.ts';
import { parseLabelSelector } from './selectors.ts';

/** Output kept per container instance for `kubectl logs`; older bytes are dropped. */
export const LOG_LIMIT_BYTES = 256 * 1024;
/** Period between readiness probes (the real default is 10 s; tests want it fast). */
export const PROBE_INTERVAL_MS = 100;
/** Timeout of one probe attempt. */
export const PROBE_TIMEOUT_MS = 1000;
/** First restart back-off; doubles per restart up to RESTART_BACKOFF_MAX_MS (CrashLoopBackOff). */
export const RESTART_BACKOFF_MS = 100;
export const RESTART_BACKOFF_MAX_MS = 5000;
/** Time between SIGTERM and SIGKILL when a pod goes away. */
export const KILL_GRACE_MS = 2000;
/** Longest wait for a dead container's output pipes to drain before its exit is reported. */
export const EXIT_DRAIN_MS = 200;
/** Retry period of a pod whose volumes or IP could not be set up (the real kubelet: ~2 min). */
export const SETUP_RETRY_MS = 500;

const COMPONENT = { component: 'kubelet' };

interface Probe {
  httpGet?: { path?: string; port: number | string; scheme?: string; host?: string };
  tcpSocket?: { port: number | string; host?: string };
  exec?: { command: string[] };
  initialDelaySeconds?: number;
}

interface KeyRef {
  name: string;
  key: string;
  optional?: boolean;
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    configMapKeyRef?: KeyRef;
    secretKeyRef?: KeyRef;
  };
}

interface ContainerSpec {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: {
    prefix?: string;
    configMapRef?: { name: string; optional?: boolean };
    secretRef?: { name: string; optional?: boolean };
  }[];
  workingDir?: string;
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: Probe;
  volumeMounts?: VolumeMount[];
}

interface Follower {
  onData(b: Buffer): void;
  onEnd(): void;
}

interface ContainerState {
  spec: ContainerSpec;
  proc?: ChildProcess;
  ready: boolean;
  restarts: number;
  /** A process was started at least once (pod phase Running from then on). */
  everStarted: boolean;
  state: Record<string, unknown>;
  lastState: Record<string, unknown>;
  log: Buffer[];
  logBytes: number;
  /** Output of the last terminated instance, once a newer one has started. */
  previousLog?: Buffer;
  followers: Set<Follower>;
  pullAttempts: number;
  startedAt?: string;
  probeTimer?: NodeJS.Timeout;
  restartTimer?: NodeJS.Timeout;
}

interface PodState {
  ns: string;
  name: string;
  uid: string;
  pod: KObj;
  restartPolicy: string;
  hostNetwork: boolean;
  /** Gets a kubelet-managed /etc/hosts (always, except hostNetwork without cluster DNS). */
  managedHosts: boolean;
  /** Service names in /etc/hosts (dnsPolicy ClusterFirst, or ClusterFirstWithHostNet). */
  clusterDns: boolean;
  hostname: string;
  fqdn?: string;
  containers: ContainerState[];
  stopped: boolean;
  startTime: string;
  hostIp: string;
  podIp?: string;
  dir: string;
  hostsPath: string;
  hostsText: string;
  volumes: PodVolumes;
  mounted: boolean;
  setupTimer?: NodeJS.Timeout;
}

export interface KubeletOptions {
  /** Image repository → ENTRYPOINT argv; see SimClusterOptions.images. */
  images?: Record<string, string[]>;
  /** Extra env for every container (container env wins). */
  podEnv?: Record<string, string>;
  /** The API server's port, for KUBERNETES_SERVICE_PORT. */
  apiPort: () => number;
  /** A kubeconfig path to set as KUBECONFIG in every container (SimClusterOptions.kubeconfigInPods). */
  kubeconfig?: () => string | undefined;
  events: EventRecorder;
  /** The cluster's addresses. */
  network: SimNetwork;
}

/** Result of a log request: the text (and a follow hook) or the real server's 400 message. */
export type LogResult =
  { ok: true; text: string; follow?: (f: Follower) => () => void } | { ok: false; message: string };

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

function portOf(c: ContainerSpec, port: number | string): number {
  if (typeof port === 'number') return port;
  const named = c.ports?.find((p) => p.name === port);
  return named ? named.containerPort : Number(port);
}

function isReady(pod: KObj): boolean {
  const st = (pod.status ?? {}) as { conditions?: { type: string; status: string }[] };
  return (st.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

export class ProcessKubelet implements PodRuntime {
  private readonly pods = new Map<string, PodState>();
  private readonly podRes = findResource('', 'v1', 'pods')!;
  private readonly nodeRes = findResource('', 'v1', 'nodes')!;
  private readonly svcRes = findResource('', 'v1', 'services')!;
  private readonly epRes = findResource('', 'v1', 'endpoints')!;
  private readonly cmRes = findResource('', 'v1', 'configmaps')!;
  private readonly secretRes = findResource('', 'v1', 'secrets')!;
  private readonly ipPool: PodIpPool;
  private readonly baseDir = mkdtempSync(join(tmpdir(), 'kube-sim-kubelet-'));
  private readonly isolation = isolationAvailable() !== 'none';
  private readonly unsubscribe: () => void;
  private hostsRefresh = false;
  /** Pods whose processes are still shutting down: their IP and directory are released after. */
  private readonly draining = new Set<Promise<void>>();

  /** Last-resort cleanup: pod processes run in their own process groups and would outlive us. */
  private readonly onExit = (): void => {
    for (const st of this.pods.values()) {
      for (const c of st.containers) {
        if (c.proc?.pid !== undefined && c.proc.exitCode === null) {
          try {
            process.kill(-c.proc.pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }
    }
  };

  constructor(
    private readonly store: Store,
    private readonly opts: KubeletOptions,
  ) {
    this.ipPool = new PodIpPool(opts.network.podPrefix);
    process.once('exit', this.onExit);
    this.unsubscribe = store.subscribe((ev) => this.onStoreEvent(ev));
  }

  /** Whether pods get a private /etc/hosts (cluster DNS); false when not root or no unshare. */
  get clusterDnsAvailable(): boolean {
    return this.isolation;
  }

  start(pod: KObj): void {
    const spec = pod.spec as {
      containers: ContainerSpec[];
      restartPolicy?: string;
      nodeName?: string;
      hostNetwork?: boolean;
      dnsPolicy?: string;
      hostname?: string;
      subdomain?: string;
      volumes?: VolumeSpec[];
    };
    const ns = pod.metadata.namespace ?? 'default';
    const uid = String(pod.metadata.uid);
    const hostNetwork = spec.hostNetwork === true;
    const dnsPolicy = spec.dnsPolicy ?? 'ClusterFirst';
    const clusterDns = hostNetwork
      ? dnsPolicy === 'ClusterFirstWithHostNet'
      : dnsPolicy === 'ClusterFirst' || dnsPolicy === 'ClusterFirstWithHostNet';
    const hostname = hostNetwork
      ? (spec.nodeName ?? '')
      : (spec.hostname ?? pod.metadata.name).slice(0, 63);
    const dir = join(this.baseDir, `${ns}_${pod.metadata.name}_${uid}`);
    mkdirSync(join(dir, 'home'), { recursive: true });
    const st: PodState = {
      ns,
      name: pod.metadata.name,
      uid,
      pod,
      restartPolicy: spec.restartPolicy ?? 'Always',
      hostNetwork,
      managedHosts: this.isolation && (!hostNetwork || clusterDns),
      clusterDns,
      hostname,
      ...(spec.subdomain && !hostNetwork
        ? { fqdn: `${hostname}.${spec.subdomain}.${ns}.svc.${CLUSTER_DOMAIN}` }
        : {}),
      containers: spec.containers.map((c) => ({
        spec: c,
        ready: false,
        restarts: 0,
        everStarted: false,
        state: { waiting: { reason: 'ContainerCreating' } },
        lastState: {},
        log: [],
        logBytes: 0,
        followers: new Set(),
        pullAttempts: 0,
      })),
      stopped: false,
      startTime: now(),
      hostIp: this.nodeIp(spec.nodeName ?? ''),
      dir,
      hostsPath: join(dir, 'hosts'),
      hostsText: '',
      volumes: new PodVolumes(this.store, join(dir, 'volumes'), ns, spec.volumes ?? []),
      mounted: false,
    };
    this.pods.set(uid, st);
    this.setup(st);
  }

  /** Sandbox (IP, /etc/hosts), then volumes, then containers; retried until all are in place. */
  private setup(st: PodState): void {
    clearTimeout(st.setupTimer);
    if (st.stopped) return;
    const retry = (): void => {
      st.setupTimer = setTimeout(() => this.setup(st), SETUP_RETRY_MS);
      st.setupTimer.unref();
      this.report(st);
    };
    if (st.podIp === undefined) {
      st.podIp = st.hostNetwork ? st.hostIp : this.ipPool.allocate();
      if (st.podIp === undefined) {
        this.event(
          st,
          undefined,
          'Warning',
          'FailedCreatePodSandBox',
          `Failed to create pod sandbox: failed to allocate for range 0: no IP addresses available in range set: ${this.opts.network.podPrefix}1-${this.opts.network.podPrefix}${POD_IP_MAX}`,
        );
        return retry();
      }
      if (st.managedHosts) this.writeHosts(st);
    }
    const failure = st.volumes.sync();
    if (failure !== undefined) {
      this.event(st, undefined, 'Warning', 'FailedMount', failure);
      return retry();
    }
    st.mounted = true;
    for (const c of st.containers) this.run(st, c);
    this.report(st);
  }

  stop(uid: string): void {
    const st = this.pods.get(uid);
    if (!st) return;
    st.stopped = true;
    this.pods.delete(uid);
    clearTimeout(st.setupTimer);
    const exits: Promise<void>[] = [];
    for (const c of st.containers) {
      clearInterval(c.probeTimer);
      clearTimeout(c.probeTimer);
      clearTimeout(c.restartTimer);
      for (const f of c.followers) f.onEnd();
      c.followers.clear();
      const proc = c.proc;
      if (proc && proc.exitCode === null && proc.signalCode === null) {
        this.opts.events.record(
          EventRecorder.pod(st.pod, c.spec.name),
          'Normal',
          'Killing',
          `Stopping container ${c.spec.name}`,
          { ...COMPONENT, host: (st.pod.spec as { nodeName?: string }).nodeName ?? '' },
        );
        exits.push(new Promise((resolve) => proc.once('exit', () => resolve())));
        killTree(proc);
      }
    }
    this.opts.events.forget(uid);
    // Like the CNI, release the address only once the sandbox is gone (processes exited).
    const done = Promise.all(exits).then(() => {
      if (st.podIp !== undefined && !st.hostNetwork) this.ipPool.release(st.podIp);
      rmSync(st.dir, { recursive: true, force: true });
      this.draining.delete(done);
    });
    this.draining.add(done);
    this.scheduleHostsRefresh();
  }

  /** Stops every pod's processes (cluster shutdown) and waits for them to exit. */
  async stopAll(): Promise<void> {
    this.unsubscribe();
    for (const uid of [...this.pods.keys()]) this.stop(uid);
    await Promise.all([...this.draining]);
    rmSync(this.baseDir, { recursive: true, force: true });
    process.removeListener('exit', this.onExit);
  }

  /**
   * Container output for the pods/log subresource, with the real server's errors: no container
   * name for a multi-container pod, an unknown container, no previous instance, or a container
   * still waiting to start.
   */
  logs(pod: KObj, opts: { container?: string; previous?: boolean; tailLines?: number }): LogResult {
    const name = pod.metadata.name;
    const specs = (pod.spec as { containers?: { name: string }[] }).containers ?? [];
    let cname = opts.container;
    if (cname === undefined) {
      if (specs.length !== 1) {
        return {
          ok: false,
          message: `a container name must be specified for pod ${name}, choose one of: [${specs.map((c) => c.name).join(' ')}]`,
        };
      }
      cname = specs[0]!.name;
    }
    if (!specs.some((c) => c.name === cname)) {
      return { ok: false, message: `container ${cname} is not valid for pod ${name}` };
    }
    const st = this.pods.get(String(pod.metadata.uid));
    const c = st?.containers.find((x) => x.spec.name === cname);
    if (!st || !c) {
      return {
        ok: false,
        message: `container "${cname}" in pod "${name}" is waiting to start: ContainerCreating`,
      };
    }
    const tail = (b: Buffer): string => {
      const text = b.toString('utf8');
      if (opts.tailLines === undefined) return text;
      if (opts.tailLines <= 0) return '';
      const lines = text.split(/(?<=\n)/);
      return lines.slice(-opts.tailLines).join('');
    };
    if (opts.previous) {
      if (c.previousLog === undefined) {
        return {
          ok: false,
          message: `previous terminated container "${cname}" in pod "${name}" not found`,
        };
      }
      return { ok: true, text: tail(c.previousLog) };
    }
    const waiting = c.state.waiting as { reason?: string } | undefined;
    if (!c.everStarted && waiting) {
      const why =
        waiting.reason === 'ErrImagePull' || waiting.reason === 'ImagePullBackOff'
          ? 'trying and failing to pull image'
          : (waiting.reason ?? 'ContainerCreating');
      return {
        ok: false,
        message: `container "${cname}" in pod "${name}" is waiting to start: ${why}`,
      };
    }
    const running = c.state.running !== undefined;
    return {
      ok: true,
      text: tail(Buffer.concat(c.log)),
      ...(running
        ? {
            follow: (f: Follower) => {
              c.followers.add(f);
              return () => c.followers.delete(f);
            },
          }
        : {}),
    };
  }

  /** The IP a port-forward falls back to after 127.0.0.1 (see portforward.ts). */
  podIpOf(uid: string): string | undefined {
    return this.pods.get(uid)?.podIp;
  }

  private nodeIp(nodeName: string): string {
    const node = this.store.get(this.nodeRes, undefined, nodeName);
    const addrs = ((node?.status as { addresses?: { type: string; address: string }[] } | undefined)
      ?.addresses ?? []) as { type: string; address: string }[];
    return addrs.find((a) => a.type === 'InternalIP')?.address ?? '127.0.0.1';
  }

  private event(
    st: PodState,
    container: string | undefined,
    type: EventType,
    reason: string,
    message: string,
  ): void {
    if (st.stopped) return;
    this.opts.events.record(EventRecorder.pod(st.pod, container), type, reason, message, {
      ...COMPONENT,
      host: (st.pod.spec as { nodeName?: string }).nodeName ?? '',
    });
  }

  // ---- cluster DNS (/etc/hosts) and volume updates ----

  private onStoreEvent(ev: StoredEvent): void {
    const kind = ev.res.kind;
    if (kind === 'Service' || kind === 'Pod' || kind === 'Endpoints') this.scheduleHostsRefresh();
    if (kind === 'ConfigMap' || kind === 'Secret') {
      // Listeners run inside the store write: act on the next tick.
      const name = ev.object.metadata.name;
      const ns = ev.object.metadata.namespace;
      setImmediate(() => {
        for (const st of this.pods.values()) {
          if (st.ns !== ns || !st.volumes.uses(kind, name)) continue;
          if (st.mounted) st.volumes.sync();
          else if (st.podIp !== undefined) this.setup(st);
        }
      });
    }
  }

  private scheduleHostsRefresh(): void {
    if (this.hostsRefresh || !this.isolation) return;
    this.hostsRefresh = true;
    setImmediate(() => {
      this.hostsRefresh = false;
      const services = this.serviceRecords();
      for (const st of this.pods.values()) if (st.managedHosts) this.writeHosts(st, services);
    });
  }

  /**
   * What cluster DNS would answer, with no virtual IPs: a Service with a selector resolves to its
   * ready pods' IPs (like a headless service), one without a selector to its Endpoints' addresses.
   */
  private serviceRecords(): ServiceRecord[] {
    const pods = this.store.list(this.podRes);
    const out: ServiceRecord[] = [];
    for (const svc of this.store.list(this.svcRes)) {
      const spec = (svc.spec ?? {}) as {
        selector?: Record<string, string>;
        type?: string;
        publishNotReadyAddresses?: boolean;
      };
      const ns = svc.metadata.namespace ?? 'default';
      let ips: string[] = [];
      if (spec.type === 'ExternalName') continue;
      if (spec.selector && Object.keys(spec.selector).length > 0) {
        const sel = parseLabelSelector(
          Object.entries(spec.selector)
            .map(([k, v]) => `${k}=${v}`)
            .join(','),
        );
        ips = pods
          .filter(
            (p) =>
              p.metadata.namespace === ns &&
              sel(p) &&
              (spec.publishNotReadyAddresses === true || isReady(p)),
          )
          .map((p) => (p.status as { podIP?: string } | undefined)?.podIP)
          .filter((ip): ip is string => typeof ip === 'string' && ip !== '');
      } else {
        const ep = this.store.get(this.epRes, ns, svc.metadata.name);
        const subsets = (ep?.subsets ?? []) as { addresses?: { ip: string }[] }[];
        ips = subsets.flatMap((s) => (s.addresses ?? []).map((a) => a.ip));
      }
      if (ips.length > 0)
        out.push({ name: svc.metadata.name, namespace: ns, ips: [...new Set(ips)] });
    }
    return out;
  }

  private writeHosts(st: PodState, services = this.serviceRecords()): void {
    if (st.podIp === undefined) return;
    const text = hostsFile({
      podIp: st.podIp,
      hostnames: st.hostNetwork ? [] : st.fqdn ? [st.fqdn, st.hostname] : [st.hostname],
      namespace: st.ns,
      services: st.clusterDns ? services : [],
      ...(st.hostNetwork ? { nodeHosts: readOr('/etc/hosts') } : {}),
    });
    if (text === st.hostsText) return;
    st.hostsText = text;
    rewriteInPlace(st.hostsPath, text);
  }

  // ---- containers ----

  /**
   * The container's argv (Kubernetes command/args over the image's ENTRYPOINT/CMD), or a pull
   * failure. `fromImage`: how many leading words are the image's own entrypoint, which lives in
   * the image's filesystem and is never subject to the pod's volume mounts.
   */
  private argvOf(c: ContainerSpec): { argv: string[]; fromImage: number } | 'idle' | 'pull-failed' {
    if (c.command && c.command.length > 0) {
      return { argv: [...c.command, ...(c.args ?? [])], fromImage: 0 };
    }
    if (this.opts.images === undefined) return 'idle';
    const entry = this.opts.images[imageRepository(c.image ?? '')];
    if (!entry) return 'pull-failed';
    return { argv: [...entry, ...(c.args ?? [])], fromImage: entry.length };
  }

  /** Container env as the kubelet builds it; a string is a CreateContainerConfigError. */
  private envOf(st: PodState, c: ContainerSpec): Record<string, string> | string {
    const pod = this.store.get(this.podRes, st.ns, st.name) ?? st.pod;
    const spec = pod.spec as { nodeName?: string; serviceAccountName?: string };
    const fields: Record<string, string> = {
      'metadata.name': pod.metadata.name,
      'metadata.namespace': st.ns,
      'metadata.uid': st.uid,
      'spec.nodeName': spec.nodeName ?? '',
      'spec.serviceAccountName': spec.serviceAccountName ?? 'default',
      'status.podIP': st.podIp ?? '',
      'status.podIPs': st.podIp ?? '',
      'status.hostIP': st.hostIp,
      'status.hostIPs': st.hostIp,
    };
    const labels = (pod.metadata.labels ?? {}) as Record<string, string>;
    const annotations = (pod.metadata.annotations ?? {}) as Record<string, string>;
    const field = (path: string): string => {
      const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
      if (m) return (m[1] === 'labels' ? labels : annotations)[m[2]!] ?? '';
      return fields[path] ?? '';
    };
    const port = String(this.opts.apiPort());
    const kubeconfig = this.opts.kubeconfig?.();
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOSTNAME: st.hostname,
      HOME: join(st.dir, 'home'),
      // What a real kubelet injects for the `kubernetes` service (here: the sim's plain-http port).
      KUBERNETES_SERVICE_HOST: '127.0.0.1',
      KUBERNETES_SERVICE_PORT: port,
      KUBERNETES_SERVICE_PORT_HTTPS: port,
      KUBERNETES_PORT: `tcp://127.0.0.1:${port}`,
      ...(kubeconfig !== undefined ? { KUBECONFIG: kubeconfig } : {}),
      ...(this.opts.podEnv ?? {}),
    };
    const ref = (kind: 'configmap' | 'secret', r: KeyRef): string | undefined | Error => {
      const o = this.store.get(kind === 'configmap' ? this.cmRes : this.secretRes, st.ns, r.name);
      if (!o) return r.optional ? undefined : new Error(`${kind} "${r.name}" not found`);
      const v = ((o.data ?? {}) as Record<string, string>)[r.key];
      if (v === undefined) {
        return r.optional
          ? undefined
          : new Error(`couldn't find key ${r.key} in ${kind} ${st.ns}/${r.name}`);
      }
      return kind === 'secret' ? Buffer.from(v, 'base64').toString('utf8') : v;
    };
    for (const from of c.envFrom ?? []) {
      const r = from.configMapRef ?? from.secretRef;
      if (!r) continue;
      const kind = from.configMapRef ? 'configmap' : 'secret';
      const o = this.store.get(kind === 'configmap' ? this.cmRes : this.secretRes, st.ns, r.name);
      if (!o) {
        if (r.optional) continue;
        return `${kind} "${r.name}" not found`;
      }
      for (const [k, v] of Object.entries((o.data ?? {}) as Record<string, string>)) {
        env[`${from.prefix ?? ''}${k}`] =
          kind === 'secret' ? Buffer.from(v, 'base64').toString('utf8') : v;
      }
    }
    const maps = st.volumes.mappings(c.volumeMounts ?? []);
    for (const e of c.env ?? []) {
      const vf = e.valueFrom;
      let value: string | undefined;
      if (vf?.fieldRef) value = field(vf.fieldRef.fieldPath);
      else if (vf?.configMapKeyRef || vf?.secretKeyRef) {
        const r = vf.configMapKeyRef
          ? ref('configmap', vf.configMapKeyRef)
          : ref('secret', vf.secretKeyRef!);
        if (r instanceof Error) return r.message;
        value = r;
      } else value = expandVars(e.value ?? '', (n) => env[n]);
      if (value !== undefined) env[e.name] = rewriteMountPaths(value, maps);
    }
    return env;
  }

  private run(st: PodState, c: ContainerState): void {
    if (st.stopped) return;
    const argv0 = this.argvOf(c.spec);
    const image = c.spec.image ?? '';
    if (argv0 === 'pull-failed') return this.pullFailed(st, c);
    this.event(
      st,
      c.spec.name,
      'Normal',
      'Pulled',
      `Container image "${image}" already present on machine`,
    );
    if (argv0 === 'idle') {
      // No command and no image map: the image cannot run here, so the container idles as "running".
      c.startedAt = now();
      c.everStarted = true;
      c.state = { running: { startedAt: c.startedAt } };
      this.startProbes(st, c);
      return;
    }
    const env = this.envOf(st, c.spec);
    if (typeof env === 'string') {
      c.state = { waiting: { reason: 'CreateContainerConfigError', message: env } };
      this.event(st, c.spec.name, 'Warning', 'Failed', `Error: ${env}`);
      c.restartTimer = setTimeout(() => this.run(st, c), SETUP_RETRY_MS);
      this.report(st);
      return;
    }
    const maps = st.volumes.mappings(c.spec.volumeMounts ?? []);
    const argv = argv0.argv.map((a, i) =>
      i < argv0.fromImage
        ? a
        : rewriteMountPaths(
            expandVars(a, (n) => env[n]),
            maps,
          ),
    );
    const full = st.managedHosts ? isolated(st.hostsPath, st.hostname, argv) : argv;
    let cwd = c.spec.workingDir ? rewriteMountPaths(c.spec.workingDir, maps) : undefined;
    if (cwd !== undefined && !existsSync(cwd)) cwd = st.dir;
    if (c.restarts > 0 || c.everStarted) {
      // A new instance: the last one's output becomes `logs --previous`.
      c.previousLog = Buffer.concat(c.log);
      c.log = [];
      c.logBytes = 0;
    }
    this.event(st, c.spec.name, 'Normal', 'Created', `Created container: ${c.spec.name}`);
    let proc: ChildProcess;
    try {
      proc = spawn(full[0]!, full.slice(1), {
        env,
        cwd: cwd ?? st.dir,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (e) {
      c.state = { running: { startedAt: now() } };
      this.exited(st, c, 128, `StartError: ${(e as Error).message}`);
      return;
    }
    c.proc = proc;
    c.startedAt = now();
    c.everStarted = true;
    c.state = { running: { startedAt: c.startedAt } };
    this.event(st, c.spec.name, 'Normal', 'Started', `Started container ${c.spec.name}`);
    const keep = (b: Buffer): void => {
      c.log.push(b);
      c.logBytes += b.length;
      while (c.logBytes > LOG_LIMIT_BYTES && c.log.length > 1) c.logBytes -= c.log.shift()!.length;
      for (const f of c.followers) f.onData(b);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    proc.on('error', (e) => this.exited(st, c, 128, `StartError: ${e.message}`));
    // 'close' comes after the pipes drained, so the last lines land in this instance's log; a
    // grandchild still holding the pipes must not keep the exit from being seen, hence the cap.
    let drainCap: NodeJS.Timeout | undefined;
    const ended = (code: number | null, signal: NodeJS.Signals | null): void => {
      clearTimeout(drainCap);
      this.exited(st, c, code ?? (signal ? 128 + 9 : 1), undefined);
    };
    proc.on('exit', (code, signal) => {
      drainCap = setTimeout(() => ended(code, signal), EXIT_DRAIN_MS);
    });
    proc.on('close', ended);
    this.startProbes(st, c);
  }

  /** An image the cluster does not have: ErrImagePull, then ImagePullBackOff, retried with back-off. */
  private pullFailed(st: PodState, c: ContainerState): void {
    const image = c.spec.image ?? '';
    const backoff = Math.min(RESTART_BACKOFF_MS * 2 ** c.pullAttempts, RESTART_BACKOFF_MAX_MS);
    c.pullAttempts++;
    const err = `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": image repository "${imageRepository(image)}" is not in SimClusterOptions.images`;
    this.event(st, c.spec.name, 'Normal', 'Pulling', `Pulling image "${image}"`);
    this.event(st, c.spec.name, 'Warning', 'Failed', `Failed to pull image "${image}": ${err}`);
    this.event(st, c.spec.name, 'Warning', 'Failed', 'Error: ErrImagePull');
    c.state = { waiting: { reason: 'ErrImagePull', message: err } };
    this.report(st);
    c.restartTimer = setTimeout(() => {
      if (st.stopped) return;
      c.state = {
        waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` },
      };
      this.event(st, c.spec.name, 'Normal', 'BackOff', `Back-off pulling image "${image}"`);
      this.event(st, c.spec.name, 'Warning', 'Failed', 'Error: ImagePullBackOff');
      this.report(st);
      c.restartTimer = setTimeout(() => this.run(st, c), backoff);
    }, backoff);
  }

  private startProbes(st: PodState, c: ContainerState): void {
    const probe = c.spec.readinessProbe;
    if (!probe) {
      c.ready = true;
      return;
    }
    const delay = (probe.initialDelaySeconds ?? 0) * 1000;
    const tick = (): void => {
      void this.probeOnce(st, c, probe).then((r) => {
        if (st.stopped || c.state.running === undefined) return;
        if (!r.ok) {
          this.event(
            st,
            c.spec.name,
            'Warning',
            'Unhealthy',
            `Readiness probe failed: ${r.message}`,
          );
        }
        if (c.ready === r.ok) return;
        c.ready = r.ok;
        this.report(st);
      });
    };
    const t = setTimeout(() => {
      tick();
      c.probeTimer = setInterval(tick, PROBE_INTERVAL_MS);
    }, delay);
    c.probeTimer = t;
  }

  /** One probe, aimed at the pod IP as the real kubelet does (it probes from the node). */
  private async probeOnce(
    st: PodState,
    c: ContainerState,
    p: Probe,
  ): Promise<{ ok: boolean; message: string }> {
    if (p.httpGet) {
      const port = portOf(c.spec, p.httpGet.port);
      const host = p.httpGet.host ?? st.podIp ?? '127.0.0.1';
      const url = `http://${host}:${port}${p.httpGet.path ?? '/'}`;
      try {
        const r = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
        await r.arrayBuffer();
        const ok = r.status >= 200 && r.status < 400;
        return { ok, message: ok ? '' : `HTTP probe failed with statuscode: ${r.status}` };
      } catch (e) {
        const cause = (e as { cause?: { code?: string } }).cause?.code;
        const why =
          cause === 'ECONNREFUSED'
            ? `dial tcp ${host}:${port}: connect: connection refused`
            : (e as Error).message;
        return { ok: false, message: `Get "${url}": ${why}` };
      }
    }
    if (p.tcpSocket) {
      const port = portOf(c.spec, p.tcpSocket.port);
      const host = p.tcpSocket.host ?? st.podIp ?? '127.0.0.1';
      return new Promise((resolve) => {
        const s = connect(port, host);
        const done = (ok: boolean, message = ''): void => {
          s.destroy();
          resolve({ ok, message });
        };
        s.setTimeout(PROBE_TIMEOUT_MS, () => done(false, `dial tcp ${host}:${port}: i/o timeout`));
        s.on('connect', () => done(true));
        s.on('error', (e: NodeJS.ErrnoException) =>
          done(
            false,
            e.code === 'ECONNREFUSED'
              ? `dial tcp ${host}:${port}: connect: connection refused`
              : e.message,
          ),
        );
      });
    }
    if (p.exec) {
      const argv = st.managedHosts
        ? isolated(st.hostsPath, st.hostname, p.exec.command)
        : p.exec.command;
      const [cmd, ...args] = argv;
      if (cmd === undefined || p.exec.command.length === 0)
        return { ok: false, message: 'empty command' };
      const env = this.envOf(st, c.spec);
      return new Promise((resolve) => {
        let out = '';
        const child = spawn(cmd, args, {
          stdio: ['ignore', 'pipe', 'pipe'],
          timeout: PROBE_TIMEOUT_MS,
          env: typeof env === 'string' ? undefined : env,
        });
        child.stdout.on('data', (b: Buffer) => (out += b.toString()));
        child.stderr.on('data', (b: Buffer) => (out += b.toString()));
        child.on('error', (e) => resolve({ ok: false, message: e.message }));
        child.on('exit', (code) => resolve({ ok: code === 0, message: out.trim() }));
      });
    }
    return { ok: true, message: '' };
  }

  private exited(
    st: PodState,
    c: ContainerState,
    exitCode: number,
    startError: string | undefined,
  ): void {
    if (st.stopped || c.state.terminated !== undefined || c.state.running === undefined) return;
    clearInterval(c.probeTimer);
    clearTimeout(c.probeTimer);
    c.proc = undefined;
    c.ready = false;
    for (const f of c.followers) f.onEnd();
    c.followers.clear();
    const terminated = {
      exitCode,
      reason: startError ? 'StartError' : exitCode === 0 ? 'Completed' : 'Error',
      ...(startError ? { message: startError } : {}),
      startedAt: c.startedAt ?? now(),
      finishedAt: now(),
    };
    const restart =
      st.restartPolicy === 'Always' || (st.restartPolicy === 'OnFailure' && exitCode !== 0);
    if (restart) {
      const backoff = Math.min(RESTART_BACKOFF_MS * 2 ** c.restarts, RESTART_BACKOFF_MAX_MS);
      c.lastState = { terminated };
      c.state = {
        waiting: {
          reason: 'CrashLoopBackOff',
          message: `back-off ${backoff}ms restarting failed container=${c.spec.name} pod=${st.name}_${st.ns}(${st.uid})`,
        },
      };
      this.event(
        st,
        c.spec.name,
        'Warning',
        'BackOff',
        `Back-off restarting failed container ${c.spec.name} in pod ${st.name}_${st.ns}(${st.uid})`,
      );
      c.restartTimer = setTimeout(() => {
        if (st.stopped) return;
        c.restarts++;
        this.run(st, c);
        this.report(st);
      }, backoff);
    } else c.state = { terminated };
    this.report(st);
  }

  /** Writes the pod's status as the kubelet's status manager would. */
  private report(st: PodState): void {
    if (st.stopped) return;
    const pod = this.store.get(this.podRes, st.ns, st.name);
    if (!pod || String(pod.metadata.uid) !== st.uid) return;
    const allReady = st.containers.every((c) => c.ready && c.state.running !== undefined);
    const allDone = st.containers.every((c) => c.state.terminated !== undefined);
    const allOk =
      allDone &&
      st.containers.every((c) => (c.state.terminated as { exitCode: number }).exitCode === 0);
    const phase = allDone
      ? allOk
        ? 'Succeeded'
        : 'Failed'
      : st.containers.some((c) => c.everStarted)
        ? 'Running'
        : 'Pending';
    const old = (pod.status ?? {}) as {
      conditions?: { type: string; status: string; lastTransitionTime?: string }[];
    };
    const unready = st.containers.filter((c) => !(c.ready && c.state.running !== undefined));
    const cond = (type: string, ok: boolean, why?: string): Record<string, unknown> => {
      const status = ok ? 'True' : 'False';
      const prev = old.conditions?.find((x) => x.type === type);
      return {
        type,
        status,
        lastProbeTime: null,
        lastTransitionTime: prev?.status === status ? prev.lastTransitionTime : now(),
        ...(!ok && why
          ? {
              reason: why,
              message: `containers with unready status: [${unready.map((c) => c.spec.name).join(' ')}]`,
            }
          : {}),
      };
    };
    const ips = st.podIp !== undefined ? { podIP: st.podIp, podIPs: [{ ip: st.podIp }] } : {};
    const status = {
      phase,
      conditions: [
        cond('PodReadyToStartContainers', st.podIp !== undefined),
        cond('Initialized', true),
        cond('Ready', allReady, 'ContainersNotReady'),
        cond('ContainersReady', allReady, 'ContainersNotReady'),
        cond('PodScheduled', true),
      ],
      hostIP: st.hostIp,
      hostIPs: [{ ip: st.hostIp }],
      ...ips,
      startTime: st.startTime,
      qosClass: 'BestEffort',
      containerStatuses: st.containers.map((c) => ({
        name: c.spec.name,
        image: c.spec.image ?? '',
        imageID: '',
        ...(c.everStarted ? { containerID: `sim://${st.uid}/${c.spec.name}/${c.restarts}` } : {}),
        ready: c.ready,
        started: c.state.running !== undefined,
        restartCount: c.restarts,
        state: c.state,
        lastState: c.lastState,
      })),
    };
    if (JSON.stringify(pod.status) === JSON.stringify(status)) return;
    this.store.update(this.podRes, { ...pod, status }, true);
  }
}

/** SIGTERM to the process group, SIGKILL after KILL_GRACE_MS if still alive. */
function killTree(proc: ChildProcess | undefined): void {
  if (!proc || proc.pid === undefined || proc.exitCode !== null) return;
  const pid = proc.pid;
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return;
  }
  const t = setTimeout(() => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, KILL_GRACE_MS);
  t.unref();
  proc.once('exit', () => clearTimeout(t));
}
