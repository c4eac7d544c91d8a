/**
 * The simulated kubelet's runtime: each container's `command` + `args` runs as a local process
 * (all pods share 127.0.0.1, so podIP is 127.0.0.1), readiness probes run for real (httpGet,
 * tcpSocket, exec), exits follow restartPolicy, and output is kept for the `log` subresource.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import type { KObj, Store } from './store.ts';
import { findResource } from './resources.ts';
import type { PodRuntime } from './controllers.ts';

/** Output kept per container for `kubectl logs`; older bytes are dropped. */
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

interface Probe {
  httpGet?: { path?: string; port: number | string; scheme?: string };
  tcpSocket?: { port: number | string };
  exec?: { command: string[] };
  initialDelaySeconds?: number;
}

interface ContainerSpec {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  workingDir?: string;
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: Probe;
}

interface ContainerState {
  spec: ContainerSpec;
  proc?: ChildProcess;
  ready: boolean;
  restarts: number;
  state: Record<string, unknown>;
  lastState: Record<string, unknown>;
  log: Buffer[];
  logBytes: number;
  startedAt?: string;
  probeTimer?: NodeJS.Timeout;
  restartTimer?: NodeJS.Timeout;
}

interface PodState {
  ns: string;
  name: string;
  uid: string;
  restartPolicy: string;
  containers: ContainerState[];
  stopped: boolean;
  startTime: string;
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

function portOf(c: ContainerSpec, port: number | string): number {
  if (typeof port === 'number') return port;
  const named = c.ports?.find((p) => p.name === port);
  return named ? named.containerPort : Number(port);
}

export class ProcessKubelet implements PodRuntime {
  private readonly pods = new Map<string, PodState>();
  private readonly podRes = findResource('', 'v1', 'pods')!;

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

  constructor(private readonly store: Store) {
    process.once('exit', this.onExit);
  }

  start(pod: KObj): void {
    const spec = pod.spec as {
      containers: ContainerSpec[];
      restartPolicy?: string;
      nodeName?: string;
    };
    const st: PodState = {
      ns: pod.metadata.namespace ?? 'default',
      name: pod.metadata.name,
      uid: String(pod.metadata.uid),
      restartPolicy: spec.restartPolicy ?? 'Always',
      containers: spec.containers.map((c) => ({
        spec: c,
        ready: false,
        restarts: 0,
        state: {},
        lastState: {},
        log: [],
        logBytes: 0,
      })),
      stopped: false,
      startTime: now(),
    };
    this.pods.set(st.uid, st);
    const env = this.downwardEnv(pod);
    for (const c of st.containers) this.run(st, c, env);
    this.report(st);
  }

  stop(uid: string): void {
    const st = this.pods.get(uid);
    if (!st) return;
    st.stopped = true;
    this.pods.delete(uid);
    for (const c of st.containers) {
      clearInterval(c.probeTimer);
      clearTimeout(c.restartTimer);
      killTree(c.proc);
    }
  }

  /** Stops every pod's processes (cluster shutdown). */
  stopAll(): void {
    for (const uid of [...this.pods.keys()]) this.stop(uid);
    process.removeListener('exit', this.onExit);
  }

  /** Container output for the pods/log subresource, or undefined for an unknown pod/container. */
  logs(ns: string, name: string, container?: string): string | undefined {
    for (const st of this.pods.values()) {
      if (st.ns !== ns || st.name !== name) continue;
      const c =
        container === undefined
          ? st.containers[0]
          : st.containers.find((x) => x.spec.name === container);
      return c ? Buffer.concat(c.log).toString('utf8') : undefined;
    }
    return undefined;
  }

  private downwardEnv(pod: KObj): Record<string, string> {
    const spec = pod.spec as { nodeName?: string; serviceAccountName?: string };
    return {
      'metadata.name': pod.metadata.name,
      'metadata.namespace': pod.metadata.namespace ?? 'default',
      'metadata.uid': String(pod.metadata.uid),
      'spec.nodeName': spec.nodeName ?? '',
      'spec.serviceAccountName': spec.serviceAccountName ?? 'default',
      'status.podIP': '127.0.0.1',
      'status.hostIP': '127.0.0.1',
    };
  }

  private run(st: PodState, c: ContainerState, fields: Record<string, string>): void {
    const argv = [...(c.spec.command ?? []), ...(c.spec.args ?? [])];
    if (argv.length === 0) {
      // No command: the image's entrypoint cannot run here, so the container idles as "running".
      c.startedAt = now();
      c.state = { running: { startedAt: c.startedAt } };
      this.startProbes(st, c);
      return;
    }
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOSTNAME: st.name,
    };
    for (const e of c.spec.env ?? []) {
      const path = e.valueFrom?.fieldRef?.fieldPath;
      env[e.name] = path !== undefined ? (fields[path] ?? '') : (e.value ?? '');
    }
    let proc: ChildProcess;
    try {
      proc = spawn(argv[0]!, argv.slice(1), {
        env,
        cwd: c.spec.workingDir,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (e) {
      this.exited(st, c, 128, `StartError: ${(e as Error).message}`);
      return;
    }
    c.proc = proc;
    c.startedAt = now();
    c.state = { running: { startedAt: c.startedAt } };
    const keep = (b: Buffer): void => {
      c.log.push(b);
      c.logBytes += b.length;
      while (c.logBytes > LOG_LIMIT_BYTES && c.log.length > 1) c.logBytes -= c.log.shift()!.length;
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    proc.on('error', (e) => this.exited(st, c, 128, `StartError: ${e.message}`));
    proc.on('exit', (code, signal) =>
      this.exited(st, c, code ?? (signal ? 128 + 9 : 1), undefined),
    );
    this.startProbes(st, c);
  }

  private startProbes(st: PodState, c: ContainerState): void {
    const probe = c.spec.readinessProbe;
    if (!probe) {
      c.ready = true;
      return;
    }
    const delay = (probe.initialDelaySeconds ?? 0) * 1000;
    const tick = (): void => {
      void this.probeOnce(c, probe).then((ok) => {
        if (st.stopped || c.ready === ok || c.state.running === undefined) return;
        c.ready = ok;
        this.report(st);
      });
    };
    const t = setTimeout(() => {
      tick();
      c.probeTimer = setInterval(tick, PROBE_INTERVAL_MS);
    }, delay);
    c.probeTimer = t;
  }

  private async probeOnce(c: ContainerState, p: Probe): Promise<boolean> {
    if (p.httpGet) {
      const port = portOf(c.spec, p.httpGet.port);
      try {
        const r = await fetch(`http://127.0.0.1:${port}${p.httpGet.path ?? '/'}`, {
          signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
        });
        await r.arrayBuffer();
        return r.status >= 200 && r.status < 400;
      } catch {
        return false;
      }
    }
    if (p.tcpSocket) {
      const port = portOf(c.spec, p.tcpSocket.port);
      return new Promise((resolve) => {
        const s = connect(port, '127.0.0.1');
        const done = (ok: boolean): void => {
          s.destroy();
          resolve(ok);
        };
        s.setTimeout(PROBE_TIMEOUT_MS, () => done(false));
        s.on('connect', () => done(true));
        s.on('error', () => done(false));
      });
    }
    if (p.exec) {
      const [cmd, ...args] = p.exec.command;
      if (cmd === undefined) return false;
      return new Promise((resolve) => {
        const child = spawn(cmd, args, { stdio: 'ignore', timeout: PROBE_TIMEOUT_MS });
        child.on('error', () => resolve(false));
        child.on('exit', (code) => resolve(code === 0));
      });
    }
    return true;
  }

  private exited(
    st: PodState,
    c: ContainerState,
    exitCode: number,
    startError: string | undefined,
  ): void {
    if (st.stopped || c.state.terminated !== undefined) return;
    clearInterval(c.probeTimer);
    clearTimeout(c.probeTimer);
    c.proc = undefined;
    c.ready = false;
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
          message: `back-off ${backoff}ms restarting failed container`,
        },
      };
      c.restartTimer = setTimeout(() => {
        if (st.stopped) return;
        c.restarts++;
        c.state = {};
        const pod = this.store.get(this.podRes, st.ns, st.name);
        if (!pod) return;
        this.run(st, c, this.downwardEnv(pod));
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
      : st.containers.some(
            (c) => c.state.running !== undefined || c.restarts > 0 || c.state.waiting !== undefined,
          )
        ? 'Running'
        : 'Pending';
    const old = (pod.status ?? {}) as {
      conditions?: { type: string; status: string; lastTransitionTime?: string }[];
    };
    const cond = (type: string, ok: boolean): Record<string, unknown> => {
      const status = ok ? 'True' : 'False';
      const prev = old.conditions?.find((x) => x.type === type);
      return {
        type,
        status,
        lastProbeTime: null,
        lastTransitionTime: prev?.status === status ? prev.lastTransitionTime : now(),
      };
    };
    const status = {
      phase,
      conditions: [
        cond('PodReadyToStartContainers', true),
        cond('Initialized', true),
        cond('Ready', allReady),
        cond('ContainersReady', allReady),
        cond('PodScheduled', true),
      ],
      hostIP: '127.0.0.1',
      hostIPs: [{ ip: '127.0.0.1' }],
      podIP: '127.0.0.1',
      podIPs: [{ ip: '127.0.0.1' }],
      startTime: st.startTime,
      qosClass: 'BestEffort',
      containerStatuses: st.containers.map((c) => ({
        name: c.spec.name,
        image: c.spec.image ?? '',
        imageID: '',
        containerID: `sim://${st.uid}/${c.spec.name}`,
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
