/**
 * Waiting for the release: the hub and front pods are watched (one watch per component, resumed
 * by resourceVersion, re-listed on 410), their events go through a pure `ReadinessGate` that
 * calls `onReady` exactly once — the first moment both components have a pod whose `Ready`
 * condition is True — however events arrive (any order, duplicates, bursts, readiness flapping).
 * The proxy starts from that one call, so it can never start twice.
 *
 * When the pods do not become ready in time, `explainNotReady` says why per pod: container
 * waiting reasons (image pulls, crash loops with the last exit code and log lines), scheduling
 * failures, and the pod's recent Warning events.
 */
import { CoreV1Api, Watch, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { Component } from './manifests.ts';
import { componentSelector } from './apply.ts';
import { kubeError, statusOf } from './config.ts';
import { KsError } from '../util/errors.ts';

/** `tap --timeout` default: how long the hub and front get to become ready. */
export const READY_TIMEOUT_MS = 120_000;
/** Longest pause between two watch attempts after errors. */
export const WATCH_MAX_BACKOFF_MS = 5_000;
/** Log lines of a crashing container shown in the timeout explanation. */
export const EXPLAIN_LOG_LINES = 10;
/** A pod's same state is not reported again on the progress line within this time. */
export const PROGRESS_REPEAT_MS = 15_000;
/** Warning events shown per pod in the timeout explanation. */
export const EXPLAIN_MAX_EVENTS = 5;

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** The parts of a pod readiness reads (a V1Pod or a pod as v1 JSON). */
export interface ReadinessFields {
  metadata?: { deletionTimestamp?: unknown };
  status?: { conditions?: { type?: string; status?: string }[] };
}

/** Ready means the pod's Ready condition is True (and it is not being deleted). */
export function isPodReady(pod: ReadinessFields): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  return !!pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** A short state for progress lines: ready, "running, waiting for readiness", a waiting reason… */
export function podSummary(pod: V1Pod): string {
  if (pod.metadata?.deletionTimestamp) return 'terminating';
  if (isPodReady(pod)) return 'ready';
  for (const cs of pod.status?.containerStatuses ?? []) {
    const w = cs.state?.waiting?.reason;
    if (w && w !== 'ContainerCreating') return w;
  }
  const phase = pod.status?.phase ?? 'Pending';
  if (phase === 'Running') return 'running, waiting for readiness';
  const sched = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (phase === 'Pending' && sched?.status === 'False') return sched.reason ?? 'Unschedulable';
  return phase.toLowerCase();
}

/**
 * The pure readiness gate. `feed` takes watch events of any component in any order; `relist`
 * replaces a component's pods after a re-list. `onReady` runs once, synchronously inside the
 * feed/relist call that first makes every component ready at the same time.
 */
export class ReadinessGate<C extends string = Component> {
  private readonly pods = new Map<C, Map<string, V1Pod>>();
  private done = false;

  constructor(
    readonly components: readonly C[],
    private readonly onReady: () => void,
    /** Called when a pod's summary changes (progress lines). */
    private readonly onChange?: (component: C, pod: string, summary: string) => void,
  ) {
    for (const c of components) this.pods.set(c, new Map());
  }

  get fired(): boolean {
    return this.done;
  }

  feed(component: C, type: WatchEventType, pod: V1Pod): void {
    const m = this.pods.get(component);
    const name = pod.metadata?.name;
    if (!m || !name) return;
    const before = m.get(name);
    if (type === 'DELETED') {
      m.delete(name);
      if (before) this.onChange?.(component, name, 'deleted');
    } else {
      m.set(name, pod);
      const s = podSummary(pod);
      if (!before || podSummary(before) !== s) this.onChange?.(component, name, s);
    }
    this.check();
  }

  /** Replaces a component's pods (after a list: pods missing from it are gone). */
  relist(component: C, pods: readonly V1Pod[]): void {
    const m = this.pods.get(component);
    if (!m) return;
    const next = new Map(pods.map((p) => [p.metadata?.name ?? '', p] as const));
    for (const name of m.keys()) {
      if (!next.has(name)) this.feed(component, 'DELETED', m.get(name)!);
    }
    for (const p of next.values()) this.feed(component, 'ADDED', p);
  }

  isReady(component: C): boolean {
    return [...(this.pods.get(component)?.values() ?? [])].some(isPodReady);
  }

  /** The component's pods as last seen. */
  podsOf(component: C): V1Pod[] {
    return [...(this.pods.get(component)?.values() ?? [])];
  }

  private check(): void {
    if (this.done) return;
    if (!this.components.every((c) => this.isReady(c))) return;
    this.done = true;
    this.onReady();
  }
}

export interface PodWatch {
  /** Stops watching; no callback runs afterwards. */
  stop(): void;
}

export interface PodWatchCallbacks {
  onEvent(type: WatchEventType, pod: V1Pod): void;
  /** A (re)list: the complete current set. */
  onList(pods: V1Pod[]): void;
  /** A failed list/watch attempt (it is retried with back-off). */
  onError?(err: KsError): void;
  /** Ask the server to end each watch after this long (it is resumed at once); default: never. */
  timeoutSeconds?: number;
}

/**
 * List + watch of the pods matching `labelSelector` in `namespace`, kept alive: a closed watch
 * resumes from the last resourceVersion seen (events or bookmarks); a 410 Gone re-lists.
 */
export function watchPods(
  kc: KubeConfig,
  namespace: string,
  labelSelector: string,
  cb: PodWatchCallbacks,
): PodWatch {
  const core = kc.makeApiClient(CoreV1Api);
  const watch = new Watch(kc);
  let stopped = false;
  let controller: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  let rv: string | undefined;
  let backoff = 100;
  const server = kc.getCurrentCluster()?.server;

  const later = (fn: () => void, ms: number): void => {
    if (stopped) return;
    timer = setTimeout(fn, ms);
  };
  const failed = (e: unknown, what: string): void => {
    if (stopped) return;
    cb.onError?.(kubeError(e, what, server));
    backoff = Math.min(backoff * 2, WATCH_MAX_BACKOFF_MS);
  };

  const list = async (): Promise<void> => {
    if (stopped) return;
    try {
      const res = await core.listNamespacedPod({ namespace, labelSelector });
      if (stopped) return;
      rv = res.metadata?.resourceVersion;
      cb.onList(res.items);
      backoff = 100;
      void startWatch();
    } catch (e) {
      failed(e, `listing pods ${labelSelector} in ${namespace}`);
      later(() => void list(), backoff);
    }
  };

  const startWatch = async (): Promise<void> => {
    if (stopped) return;
    let gone = false;
    try {
      const c = await watch.watch(
        `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
        {
          labelSelector,
          allowWatchBookmarks: true,
          ...(rv ? { resourceVersion: rv } : {}),
          ...(cb.timeoutSeconds ? { timeoutSeconds: cb.timeoutSeconds } : {}),
        },
        (type: string, obj: unknown) => {
          if (stopped) return;
          if (type === 'ERROR') {
            // A Status in the stream: 410 Gone means our resourceVersion is too old.
            if (statusOf({ body: obj })?.code === 410) gone = true;
            return;
          }
          const pod = obj as V1Pod;
          const v = pod.metadata?.resourceVersion;
          if (v) rv = v;
          if (type === 'BOOKMARK') return;
          if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') {
            backoff = 100;
            cb.onEvent(type, pod);
          }
        },
        (err: unknown) => {
          if (stopped) return;
          const code = (err as { statusCode?: number } | null)?.statusCode;
          if (gone || code === 410) {
            rv = undefined;
            later(() => void list(), 0);
            return;
          }
          if (err) failed(err, `watching pods ${labelSelector} in ${namespace}`);
          later(() => void startWatch(), err ? backoff : 0);
        },
      );
      // stop() may have run while the request was being opened (readiness from the list fires
      // before the watch exists): it found no controller to abort, so abort here, or the open
      // watch would keep the process alive after Ctrl-C.
      if (stopped) c.abort();
      else controller = c;
    } catch (e) {
      failed(e, `watching pods ${labelSelector} in ${namespace}`);
      later(() => void startWatch(), backoff);
    }
  };

  void list();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      controller?.abort();
    },
  };
}

/** A KsError whose detail lists, per pod, why it is not ready. */
export class NotReadyError extends KsError {
  constructor(
    message: string,
    private readonly lines: string[],
  ) {
    super('KS_ERR_KUBE_NOT_READY', message);
  }
  override detail(): string | undefined {
    return this.lines.length > 0 ? this.lines.join('\n') : undefined;
  }
}

export interface WaitReadyOptions {
  kc: KubeConfig;
  namespace: string;
  release: string;
  /** Default READY_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Progress lines (`pod default/kubeshark-hub-…: ready`); absent: silent. */
  progress?: (line: string) => void;
  /** Stops waiting (Ctrl-C): rejects with a KS_ERR_KUBE_NOT_READY "interrupted". */
  signal?: AbortSignal;
}

const WAITED: readonly Component[] = ['hub', 'front'];

/**
 * Resolves with the ready hub and front pods once both are ready at the same time; on timeout
 * rejects with a NotReadyError explaining each pod that is not ready.
 */
export async function waitForRelease(o: WaitReadyOptions): Promise<Record<'hub' | 'front', V1Pod>> {
  const timeoutMs = o.timeoutMs ?? READY_TIMEOUT_MS;
  const watches: PodWatch[] = [];
  let timer: NodeJS.Timeout | undefined;
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => (resolveReady = r));
  const lastError = new Map<Component, string>();
  // A crash loop flips between two states every few seconds: each state of a pod is said once
  // per PROGRESS_REPEAT_MS.
  const said = new Map<string, number>();
  const gate = new ReadinessGate<Component>(WAITED, resolveReady, (c, pod, s) => {
    const key = `${pod}\u0000${s}`;
    const now = Date.now();
    if (now - (said.get(key) ?? -Infinity) < PROGRESS_REPEAT_MS) return;
    said.set(key, now);
    o.progress?.(`${c} pod ${o.namespace}/${pod}: ${s}`);
  });
  try {
    for (const c of WAITED) {
      watches.push(
        watchPods(o.kc, o.namespace, componentSelector(o.release, c), {
          onEvent: (type, pod) => gate.feed(c, type, pod),
          onList: (pods) => gate.relist(c, pods),
          onError: (e) => {
            if (lastError.get(c) !== e.message) o.progress?.(`${c}: ${e.message}`);
            lastError.set(c, e.message);
          },
        }),
      );
    }
    const outcome = await Promise.race([
      ready.then(() => 'ready' as const),
      new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs))),
      ...(o.signal
        ? [
            new Promise<'aborted'>((r) => {
              if (o.signal!.aborted) r('aborted');
              o.signal!.addEventListener('abort', () => r('aborted'), { once: true });
            }),
          ]
        : []),
    ]);
    if (outcome === 'aborted') {
      throw new KsError('KS_ERR_KUBE_NOT_READY', 'interrupted while waiting for the release');
    }
    if (outcome === 'timeout') {
      const lines: string[] = [];
      const core = o.kc.makeApiClient(CoreV1Api);
      for (const c of WAITED) {
        if (gate.isReady(c)) continue;
        const pods = gate.podsOf(c);
        if (pods.length === 0) {
          lines.push(
            `${c}: no pod in ${o.namespace} (is the Deployment ${o.release}-${c} there? kubectl -n ${o.namespace} describe deployment ${o.release}-${c})`,
          );
          if (lastError.has(c)) lines.push(`  ${lastError.get(c)}`);
          continue;
        }
        for (const p of pods) {
          lines.push(`${c} pod ${o.namespace}/${p.metadata?.name}: ${podSummary(p)}`);
          for (const why of await explainNotReady(core, p)) lines.push(`  ${why}`);
        }
      }
      const notReady = WAITED.filter((c) => !gate.isReady(c));
      throw new NotReadyError(
        `${notReady.join(' and ')} not ready after ${Math.round(timeoutMs / 1000)} s (--timeout)`,
        lines,
      );
    }
    const pick = (c: Component): V1Pod => gate.podsOf(c).find(isPodReady)!;
    return { hub: pick('hub'), front: pick('front') };
  } finally {
    if (timer) clearTimeout(timer);
    for (const w of watches) w.stop();
  }
}

/**
 * Why one pod is not ready, as lines: scheduling, each container's state (image pull with the
 * image, crash loop with the last exit code and log lines), then recent Warning events.
 */
export async function explainNotReady(core: CoreV1Api, pod: V1Pod): Promise<string[]> {
  const out: string[] = [];
  const ns = pod.metadata?.namespace ?? 'default';
  const name = pod.metadata?.name ?? '';
  const sched = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (sched?.status === 'False') {
    out.push(
      `not scheduled (${sched.reason ?? 'Unschedulable'}): ${sched.message ?? 'no node fits'}`,
    );
  }
  const specImage = (container: string): string | undefined =>
    pod.spec?.containers.find((c) => c.name === container)?.image;
  for (const cs of pod.status?.containerStatuses ?? []) {
    const w = cs.state?.waiting;
    const last = cs.lastState?.terminated;
    if (w?.reason === 'ImagePullBackOff' || w?.reason === 'ErrImagePull') {
      out.push(
        `container ${cs.name}: ${w.reason}: cannot pull image ${cs.image || specImage(cs.name) || '?'}${w.message ? ` (${w.message})` : ''}`,
      );
    } else if (w?.reason === 'CrashLoopBackOff' || (last && !cs.ready)) {
      const exit = last
        ? `last exit code ${last.exitCode}${last.reason ? ` (${last.reason})` : ''}`
        : '';
      out.push(
        `container ${cs.name}: ${w?.reason ?? 'restarting'}, restarted ${cs.restartCount} times${exit ? `, ${exit}` : ''}`,
      );
      const logs = await lastLogLines(core, ns, name, cs.name, cs.restartCount > 0);
      for (const l of logs) out.push(`  | ${l}`);
    } else if (w?.reason) {
      out.push(`container ${cs.name}: ${w.reason}${w.message ? `: ${w.message}` : ''}`);
    } else if (cs.state?.running && !cs.ready) {
      out.push(`container ${cs.name}: running, readiness probe not passing yet`);
    } else if (cs.state?.terminated) {
      const t = cs.state.terminated;
      out.push(
        `container ${cs.name}: terminated, exit code ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}`,
      );
    }
  }
  try {
    const ev = await core.listNamespacedEvent({
      namespace: ns,
      fieldSelector: `involvedObject.name=${name},type=Warning`,
    });
    const recent = ev.items.sort((a, b) => eventTime(a) - eventTime(b)).slice(-EXPLAIN_MAX_EVENTS);
    for (const e of recent) {
      out.push(
        `event ${e.reason ?? 'Warning'}: ${e.message ?? ''}${e.count && e.count > 1 ? ` (×${e.count})` : ''}`,
      );
    }
  } catch {
    // Events are a bonus; the container states above already say the main thing.
  }
  return out;
}

function eventTime(e: {
  lastTimestamp?: Date;
  eventTime?: Date;
  metadata?: { creationTimestamp?: Date };
}): number {
  const t = e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp;
  return t ? new Date(t).getTime() : 0;
}

/** The last EXPLAIN_LOG_LINES lines of a container (its previous instance when it restarted). */
async function lastLogLines(
  core: CoreV1Api,
  namespace: string,
  name: string,
  container: string,
  previous: boolean,
): Promise<string[]> {
  for (const prev of previous ? [true, false] : [false]) {
    try {
      const text = await core.readNamespacedPodLog({
        name,
        namespace,
        container,
        previous: prev,
        tailLines: EXPLAIN_LOG_LINES,
      });
      const lines = String(text)
        .split('\n')
        .filter((l) => l.trim() !== '');
      if (lines.length > 0) return lines.slice(-EXPLAIN_LOG_LINES);
    } catch {
      // No previous instance: try the current one.
    }
  }
  return [];
}
