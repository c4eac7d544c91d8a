/**
 * The simulated control plane: a scheduler, the Deployment → ReplicaSet → Pod and DaemonSet → Pod
 * controllers, and the pod-status half of a kubelet. All act through the Store, so every change
 * shows up in watches exactly as a real controller's writes would.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { KObj, Store } from './store.ts';
import { ApiError } from './store.ts';
import { findResource, apiVersionOf } from './resources.ts';
import type { ResourceDef } from './resources.ts';
import { EventRecorder } from './events.ts';
import { unfitReason, unschedulableMessage } from './scheduler.ts';
import type { SchedPodSpec } from './scheduler.ts';

/** Upper bound on reconcile passes per trigger; a pass that changes nothing ends the loop earlier. */
export const MAX_RECONCILE_PASSES = 20;
/** An unschedulable pod is retried after this long, or at once when nodes or its spec change. */
export const SCHEDULER_RETRY_MS = 1000;
/** Tolerations the DaemonSet controller adds to its pods (as the real one does). */
export const DAEMONSET_TOLERATIONS = [
  'node.kubernetes.io/not-ready:NoExecute',
  'node.kubernetes.io/unreachable:NoExecute',
  'node.kubernetes.io/disk-pressure:NoSchedule',
  'node.kubernetes.io/memory-pressure:NoSchedule',
  'node.kubernetes.io/pid-pressure:NoSchedule',
  'node.kubernetes.io/unschedulable:NoSchedule',
].map((s) => {
  const [key, effect] = s.split(':');
  return { key: key!, operator: 'Exists', effect: effect! };
});

/** The kubelet side: turns a pod bound to a simulated node into running containers. */
export interface PodRuntime {
  /** Called once per pod bound to a simulated node; the runtime writes the pod's status itself. */
  start(pod: KObj): void;
  /** Called when a pod is gone from the store. */
  stop(uid: string): void;
}

function R(plural: string, group = ''): ResourceDef {
  const r = findResource(group, 'v1', plural);
  if (!r) throw new Error(`kube-sim: unknown resource ${plural}`);
  return r;
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

function hashOf(v: unknown): string {
  return createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 10);
}

function suffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('');
}

type Spec = Record<string, unknown>;
interface Template {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Spec;
}

function ownerRef(res: ResourceDef, o: KObj): Record<string, unknown> {
  return {
    apiVersion: apiVersionOf(res),
    kind: res.kind,
    name: o.metadata.name,
    uid: o.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

function ownedBy(o: KObj, owner: KObj): boolean {
  const refs = (o.metadata.ownerReferences ?? []) as { uid?: string; controller?: boolean }[];
  return refs.some((r) => r.uid === owner.metadata.uid && r.controller === true);
}

function isReady(pod: KObj): boolean {
  const st = (pod.status ?? {}) as { conditions?: { type: string; status: string }[] };
  return (st.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** The node a pod is bound to, or for a DaemonSet pod not yet bound, the node it is pinned to. */
function targetNode(p: KObj): string {
  const spec = p.spec as SchedPodSpec;
  if (spec.nodeName) return spec.nodeName;
  const terms =
    spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  const f = terms?.[0]?.matchFields?.find((m) => m.key === 'metadata.name');
  return f?.values?.[0] ?? '';
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export class Controllers {
  private scheduled = false;
  private stopped = false;
  private readonly unsubscribe: () => void;
  private nextNode = 0;
  private readonly known = new Set<string>();
  /** Pods the scheduler found no node for: what it saw then, to retry only when that changes. */
  private readonly unschedulable = new Map<string, { gen: unknown; nodes: string; at: number }>();
  private retryTimer?: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    private readonly runtime: PodRuntime,
    private readonly events: EventRecorder,
  ) {
    // Events are written by the controllers themselves and never need a reconcile.
    this.unsubscribe = store.subscribe((ev) => {
      if (ev.res.kind !== 'Event') this.trigger();
    });
    this.trigger();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.unsubscribe();
  }

  /** Reconciles on the next tick: store listeners run inside a write, so no writes from there. */
  private trigger(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.stopped) return;
      for (let i = 0; i < MAX_RECONCILE_PASSES; i++) {
        if (!this.pass()) break;
      }
    });
  }

  /** One reconcile pass over everything; returns whether anything was written. */
  private pass(): boolean {
    let changed = false;
    const guard = (f: () => boolean): void => {
      try {
        if (f()) changed = true;
      } catch (e) {
        // A concurrent client write won the race (409/404); the next event re-triggers us.
        if (!(e instanceof ApiError)) throw e;
        changed = true;
      }
    };
    for (const d of this.store.list(R('deployments', 'apps'))) guard(() => this.deployment(d));
    for (const rs of this.store.list(R('replicasets', 'apps'))) guard(() => this.replicaSet(rs));
    for (const ds of this.store.list(R('daemonsets', 'apps'))) guard(() => this.daemonSet(ds));
    for (const p of this.store.list(R('pods'))) guard(() => this.pod(p));
    for (const svc of this.store.list(R('services'))) guard(() => this.endpointSlice(svc));
    guard(() => this.forgetGonePods());
    return changed;
  }

  /**
   * The EndpointSlice controller: one IPv4 slice per Service with a selector (`<svc>-<hash>`,
   * labelled `kubernetes.io/service-name`, owned by the Service so it goes with it), listing
   * every selected pod that has an IP, with its readiness, node and a targetRef; ports are the
   * Service's target ports. Written only when something changed.
   */
  private endpointSlice(svc: KObj): boolean {
    const res = R('endpointslices', 'discovery.k8s.io');
    const spec = svc.spec as {
      selector?: Record<string, string>;
      ports?: { name?: string; port: number; targetPort?: number | string; protocol?: string }[];
    };
    if (!spec.selector || Object.keys(spec.selector).length === 0) return false;
    const ns = svc.metadata.namespace!;
    const selected = this.store.list(R('pods'), ns).filter((p) => {
      const labels = (p.metadata.labels ?? {}) as Record<string, string>;
      const ip = (p.status as { podIP?: string } | undefined)?.podIP;
      return ip && Object.entries(spec.selector!).every(([k, v]) => labels[k] === v);
    });
    const endpoints = selected.map((p) => ({
      addresses: [(p.status as { podIP: string }).podIP],
      conditions: { ready: isReady(p), serving: isReady(p), terminating: false },
      nodeName: (p.spec as { nodeName?: string }).nodeName,
      targetRef: { kind: 'Pod', name: p.metadata.name, namespace: ns, uid: p.metadata.uid },
    }));
    const ports = (spec.ports ?? []).map((sp) => ({
      ...(sp.name ? { name: sp.name } : { name: '' }),
      port: typeof sp.targetPort === 'number' ? sp.targetPort : sp.port,
      protocol: sp.protocol ?? 'TCP',
    }));
    const name = `${svc.metadata.name}-${hashOf(svc.metadata.uid).slice(0, 5)}`;
    const existing = this.store.list(res, ns).find((o) => o.metadata.name === name);
    if (existing && sameJson(existing.endpoints, endpoints) && sameJson(existing.ports, ports))
      return false;
    const slice: KObj = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name,
        namespace: ns,
        labels: {
          'kubernetes.io/service-name': svc.metadata.name,
          'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
        },
        ownerReferences: [ownerRef(R('services'), svc)],
      },
      addressType: 'IPv4',
      endpoints,
      ports,
    };
    if (existing) this.store.update(res, { ...existing, endpoints, ports });
    else this.store.create(res, slice);
    return true;
  }

  private writeStatus(res: ResourceDef, o: KObj, status: Record<string, unknown>): boolean {
    if (sameJson(o.status, status)) return false;
    this.store.update(res, { ...o, status }, true);
    return true;
  }

  private deployment(d: KObj): boolean {
    const rsRes = R('replicasets', 'apps');
    const spec = d.spec as {
      replicas?: number;
      selector: { matchLabels: Record<string, string> };
      template: Template;
    };
    const replicas = spec.replicas ?? 1;
    const hash = hashOf(spec.template);
    const name = `${d.metadata.name}-${hash}`;
    const ns = d.metadata.namespace;
    let changed = false;
    const owned = this.store.list(rsRes, ns).filter((rs) => ownedBy(rs, d));
    const current = owned.find((rs) => rs.metadata.name === name);
    const labels = { ...(spec.template.metadata?.labels ?? {}), 'pod-template-hash': hash };
    if (!current) {
      this.store.create(rsRes, {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name,
          namespace: ns,
          labels,
          ownerReferences: [ownerRef(R('deployments', 'apps'), d)],
        },
        spec: {
          replicas,
          selector: { matchLabels: { ...spec.selector.matchLabels, 'pod-template-hash': hash } },
          template: { ...spec.template, metadata: { ...spec.template.metadata, labels } },
        },
        status: { replicas: 0 },
      });
      changed = true;
    } else if ((current.spec as { replicas?: number }).replicas !== replicas) {
      this.store.update(rsRes, { ...current, spec: { ...(current.spec as Spec), replicas } });
      changed = true;
    }
    // Old revisions scale to zero (a rolling update with maxUnavailable = 100%).
    for (const rs of owned) {
      if (rs.metadata.name !== name && (rs.spec as { replicas?: number }).replicas !== 0) {
        this.store.update(rsRes, { ...rs, spec: { ...(rs.spec as Spec), replicas: 0 } });
        changed = true;
      }
    }
    const all = this.store.list(rsRes, ns).filter((rs) => ownedBy(rs, d));
    const st = (
      rs: KObj,
    ): { replicas?: number; readyReplicas?: number; availableReplicas?: number } =>
      (rs.status ?? {}) as never;
    const sum = (f: (rs: KObj) => number | undefined): number =>
      all.reduce((a, rs) => a + (f(rs) ?? 0), 0);
    const cur = all.find((rs) => rs.metadata.name === name);
    const total = sum((rs) => st(rs).replicas);
    const ready = sum((rs) => st(rs).readyReplicas);
    const available = sum((rs) => st(rs).availableReplicas);
    const updated = cur ? (st(cur).replicas ?? 0) : 0;
    const old = d.status as
      { conditions?: { type: string; status: string; lastTransitionTime?: string }[] } | undefined;
    const availableNow = available >= replicas ? 'True' : 'False';
    const prevCond = old?.conditions?.find((c) => c.type === 'Available');
    const status: Record<string, unknown> = {
      observedGeneration: d.metadata.generation,
      replicas: total,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: available,
      ...(total - available > 0 ? { unavailableReplicas: total - available } : {}),
      conditions: [
        {
          type: 'Available',
          status: availableNow,
          reason:
            availableNow === 'True' ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
          message:
            availableNow === 'True'
              ? 'Deployment has minimum availability.'
              : 'Deployment does not have minimum availability.',
          lastTransitionTime:
            prevCond?.status === availableNow ? prevCond.lastTransitionTime : now(),
          lastUpdateTime: prevCond?.status === availableNow ? prevCond.lastTransitionTime : now(),
        },
      ],
    };
    if (status.readyReplicas === 0) delete status.readyReplicas;
    if (status.availableReplicas === 0) delete status.availableReplicas;
    return this.writeStatus(R('deployments', 'apps'), d, status) || changed;
  }

  private newPod(
    owner: KObj,
    ownerRes: ResourceDef,
    template: Template,
    name: string,
    extra: {
      node?: string;
      tolerations?: Record<string, string>[];
      labels?: Record<string, string>;
    } = {},
  ): void {
    const spec = structuredClone(template.spec ?? {}) as Spec & {
      affinity?: { nodeAffinity?: Record<string, unknown> };
      tolerations?: Record<string, string>[];
    };
    if (extra.node !== undefined) {
      // As the real DaemonSet controller: pin to the node through affinity; the scheduler binds.
      spec.affinity = {
        ...(spec.affinity ?? {}),
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              {
                matchFields: [{ key: 'metadata.name', operator: 'In', values: [extra.node] }],
              },
            ],
          },
        },
      };
    }
    if (extra.tolerations) spec.tolerations = [...(spec.tolerations ?? []), ...extra.tolerations];
    this.store.create(R('pods'), {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: owner.metadata.namespace,
        labels: { ...(template.metadata?.labels ?? {}), ...(extra.labels ?? {}) },
        ...(template.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
        ownerReferences: [ownerRef(ownerRes, owner)],
      },
      spec,
      status: { phase: 'Pending' },
    });
  }

  private replicaSet(rs: KObj): boolean {
    const podRes = R('pods');
    const rsRes = R('replicasets', 'apps');
    const spec = rs.spec as { replicas?: number; template: Template };
    const want = spec.replicas ?? 1;
    const pods = this.store.list(podRes, rs.metadata.namespace).filter((p) => ownedBy(p, rs));
    let changed = false;
    for (let i = pods.length; i < want; i++) {
      this.newPod(rs, rsRes, spec.template, `${rs.metadata.name}-${suffix()}`);
      changed = true;
    }
    for (const p of pods.slice(want)) {
      this.store.delete(podRes, p.metadata.namespace, p.metadata.name);
      changed = true;
    }
    const live = pods.slice(0, want);
    const ready = live.filter(isReady).length;
    const status: Record<string, unknown> = {
      replicas: live.length,
      fullyLabeledReplicas: live.length,
      readyReplicas: ready,
      availableReplicas: ready,
      observedGeneration: rs.metadata.generation,
    };
    return this.writeStatus(rsRes, rs, status) || changed;
  }

  private daemonSet(ds: KObj): boolean {
    const podRes = R('pods');
    const dsRes = R('daemonsets', 'apps');
    const spec = ds.spec as { template: Template };
    const hash = hashOf(spec.template);
    const podSpec = (spec.template.spec ?? {}) as SchedPodSpec;
    const withTolerations: SchedPodSpec = {
      ...podSpec,
      tolerations: [...(podSpec.tolerations ?? []), ...DAEMONSET_TOLERATIONS],
    };
    // Only nodes the pod template fits (nodeSelector, affinity, taints) get a daemon pod.
    const nodes = this.store
      .list(R('nodes'))
      .filter((n) => unfitReason(withTolerations, n) === undefined)
      .map((n) => n.metadata.name);
    const pods = this.store.list(podRes, ds.metadata.namespace).filter((p) => ownedBy(p, ds));
    let changed = false;
    for (const p of pods) {
      const node = targetNode(p);
      const stale =
        p.metadata.labels === undefined ||
        (p.metadata.labels as Record<string, string>)['controller-revision-hash'] !== hash;
      if (stale || !nodes.includes(node)) {
        this.store.delete(podRes, p.metadata.namespace, p.metadata.name);
        changed = true;
      }
    }
    const current = this.store.list(podRes, ds.metadata.namespace).filter((p) => ownedBy(p, ds));
    for (const node of nodes) {
      if (!current.some((p) => targetNode(p) === node)) {
        this.newPod(ds, dsRes, spec.template, `${ds.metadata.name}-${suffix()}`, {
          node,
          tolerations: DAEMONSET_TOLERATIONS,
          labels: { 'controller-revision-hash': hash },
        });
        changed = true;
      }
    }
    const after = this.store.list(podRes, ds.metadata.namespace).filter((p) => ownedBy(p, ds));
    const ready = after.filter(isReady).length;
    const status: Record<string, unknown> = {
      currentNumberScheduled: after.length,
      desiredNumberScheduled: nodes.length,
      numberMisscheduled: 0,
      numberReady: ready,
      numberAvailable: ready,
      updatedNumberScheduled: after.length,
      observedGeneration: ds.metadata.generation,
    };
    if (ready < nodes.length) status.numberUnavailable = nodes.length - ready;
    return this.writeStatus(dsRes, ds, status) || changed;
  }

  /** Scheduler (round-robin over the nodes the pod fits) and kubelet start for one pod. */
  private pod(p: KObj): boolean {
    const spec = p.spec as SchedPodSpec;
    const uid = String(p.metadata.uid);
    if (!spec.nodeName) return this.schedule(p, spec);
    this.unschedulable.delete(uid);
    if (this.known.has(uid)) return false;
    if (!this.store.get(R('nodes'), undefined, spec.nodeName)) return false;
    this.known.add(uid);
    this.runtime.start(p);
    return true;
  }

  private schedule(p: KObj, spec: SchedPodSpec): boolean {
    const uid = String(p.metadata.uid);
    const nodes = this.store.list(R('nodes'));
    const seen = {
      gen: p.metadata.generation,
      nodes: nodes.map((n) => `${n.metadata.name}@${n.metadata.resourceVersion}`).join(','),
    };
    const prev = this.unschedulable.get(uid);
    if (
      prev &&
      prev.gen === seen.gen &&
      prev.nodes === seen.nodes &&
      Date.now() - prev.at < SCHEDULER_RETRY_MS
    ) {
      return false;
    }
    const fit = nodes.filter((n) => unfitReason(spec, n) === undefined);
    const source = { component: 'default-scheduler' };
    if (fit.length === 0) {
      const message = unschedulableMessage(spec, nodes);
      this.unschedulable.set(uid, { ...seen, at: Date.now() });
      this.events.record(EventRecorder.pod(p), 'Warning', 'FailedScheduling', message, source);
      if (!this.retryTimer) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.trigger();
        }, SCHEDULER_RETRY_MS);
        this.retryTimer.unref();
      }
      const old = (p.status ?? {}) as { conditions?: { type: string; status: string }[] };
      const prevCond = old.conditions?.find((c) => c.type === 'PodScheduled');
      return this.writeStatus(R('pods'), p, {
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            lastProbeTime: null,
            lastTransitionTime:
              prevCond?.status === 'False'
                ? (prevCond as { lastTransitionTime?: string }).lastTransitionTime
                : now(),
            reason: 'Unschedulable',
            message,
          },
        ],
      });
    }
    this.unschedulable.delete(uid);
    const node = fit[this.nextNode++ % fit.length]!.metadata.name;
    const bound = this.store.update(R('pods'), { ...p, spec: { ...spec, nodeName: node } });
    this.events.record(
      EventRecorder.pod(bound),
      'Normal',
      'Scheduled',
      `Successfully assigned ${p.metadata.namespace ?? 'default'}/${p.metadata.name} to ${node}`,
      source,
    );
    return true;
  }

  private forgetGonePods(): boolean {
    const live = new Set(this.store.list(R('pods')).map((p) => String(p.metadata.uid)));
    for (const uid of this.unschedulable.keys()) if (!live.has(uid)) this.unschedulable.delete(uid);
    for (const uid of [...this.known]) {
      if (!live.has(uid)) {
        this.known.delete(uid);
        this.runtime.stop(uid);
      }
    }
    return false;
  }
}
