/**
 * The Kubernetes identity table (DESIGN.md "Resolver"): IP(+port) → pod / service / node, with
 * history, fed by plain informer events (src/kube calls upsert/remove/resync; this file never
 * talks to an API server). Pod IPs are reused, so every IP keeps a short history of intervals
 * and `lookup` answers with the owner at capture time, not the current one.
 *
 * Precedence on one IP at one instant: a hostNetwork pod that declares the port, then a pod,
 * then a Service (ClusterIP), then the node. Limits are named below and counted in `stats()`.
 */
import { BlockList, isIP } from 'node:net';
import type { Identity, Resolver } from './types.ts';

/** Intervals kept per IP: closed ones are dropped oldest-first, open ones are never dropped. */
export const KUBE_HISTORY_PER_IP = 16;
/** IPs tracked in all; a new IP beyond it is not tracked (counted as `ipsDropped`). */
export const KUBE_MAX_IPS = 262_144;
/** Closed intervals that ended longer ago than this (µs, event time) are pruned. */
export const KUBE_HISTORY_RETENTION_US = 30 * 60 * 1_000_000;
/** A full sweep of expired history runs at most once per this much event time (µs). */
export const KUBE_SWEEP_EVERY_US = 60 * 1_000_000;

export type KubeKind = 'Pod' | 'Service' | 'EndpointSlice' | 'Node';

/**
 * The parts of a Kubernetes object this table reads: v1 JSON, or @kubernetes/client-node's
 * V1Pod / V1Service / V1EndpointSlice / V1Node. `spec` and `status` differ per kind: they are
 * read as SpecFields / StatusFields.
 */
export interface KubeObject {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string | Date;
  };
  spec?: object;
  status?: object;
  endpoints?: {
    addresses?: string[];
    targetRef?: { kind?: string; name?: string; namespace?: string; uid?: string };
  }[];
  ports?: { port?: number; protocol?: string; name?: string }[] | null;
}

/** The `spec` fields read, over Pod, Service and Node. */
interface SpecFields {
  nodeName?: string;
  hostNetwork?: boolean;
  containers?: { ports?: { containerPort?: number; hostPort?: number; protocol?: string }[] }[];
  clusterIP?: string;
  clusterIPs?: string[];
  ports?: { port?: number; protocol?: string }[];
  type?: string;
}

/** The `status` fields read, over Pod and Node. */
interface StatusFields {
  podIP?: string;
  podIPs?: { ip?: string }[];
  phase?: string;
  startTime?: string | Date;
  addresses?: { type?: string; address?: string }[];
}

const specOf = (o: KubeObject): SpecFields | undefined => o.spec as SpecFields | undefined;
const statusOf = (o: KubeObject): StatusFields | undefined => o.status as StatusFields | undefined;

/** An identity as this table answers it: the Resolver fields plus the workload's node. */
export type KubeIdentity = Identity & { node?: string };

/** A pod that held an IP at some time (`podAt`). */
export interface KubePodAt {
  name: string;
  namespace: string;
  node?: string;
  /** The pod's labels (shared: do not modify). */
  labels?: Readonly<Record<string, string>>;
}

/** Why an endpoint is not resolved (KFL `local_resolution_status`), `""` when it is. */
export type KubeResolutionStatus = '' | 'not_synced' | 'not_found' | 'expired';

export interface KubeTableOptions {
  historyPerIp?: number;
  maxIps?: number;
  retentionUs?: number;
  sweepEveryUs?: number;
}

export interface KubeTableStats {
  /** Events applied per kind (upserts + removes; a resync counts one per object). */
  events: Record<KubeKind, number>;
  /** Objects live now. */
  pods: number;
  services: number;
  endpointSlices: number;
  nodes: number;
  /** IPs with history now, intervals in all. */
  ips: number;
  intervals: number;
  lookups: number;
  hits: number;
  misses: number;
  /** Limits hit: KUBE_MAX_IPS, KUBE_HISTORY_PER_IP (closed dropped / open refused). */
  ipsDropped: number;
  intervalsDropped: number;
  intervalsRefused: number;
  /** Closed intervals removed for age (KUBE_HISTORY_RETENTION_US). */
  intervalsPruned: number;
  /** Objects ignored: no name, or no usable IP field where one is needed. */
  ignored: number;
}

interface Ref {
  name: string;
  namespace: string;
}

interface SvcPort {
  port: number;
  proto: 'tcp' | 'udp' | 'sctp';
}

/** A service a pod belongs to, from one EndpointSlice (ports are the slice's target ports). */
interface Membership {
  svc: Ref;
  ports: SvcPort[];
}

interface PodRec {
  kind: 'Pod';
  key: string;
  uid: string;
  ref: Ref;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  node?: string;
  hostNetwork: boolean;
  /** Declared container (and host) ports, `proto/port`. */
  ports: Set<string>;
  ips: string[];
  /** Set when the pod is gone: its services as they were (membership is live until then). */
  frozen?: Map<string, Membership>;
  /** Identities by chosen service key (`""` for none); cleared on update. */
  cache: Map<string, KubeIdentity>;
}

interface SvcRec {
  kind: 'Service';
  key: string;
  ref: Ref;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ips: string[];
  id?: KubeIdentity;
}

interface NodeRec {
  kind: 'Node';
  key: string;
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ips: string[];
  id?: KubeIdentity;
}

interface SliceRec {
  key: string;
  svc: Ref;
  ports: SvcPort[];
  /** Pod keys (`ns/name`) this slice lists. */
  pods: string[];
}

type Owner = PodRec | SvcRec | NodeRec;

/** One owner of an IP over [from, to) µs; `to` is Infinity while it holds the IP. */
interface Interval {
  from: number;
  to: number;
  owner: Owner;
}

const objKey = (o: KubeObject): string | undefined => {
  const name = o.metadata?.name;
  if (!name) return undefined;
  const ns = o.metadata?.namespace;
  return ns ? `${ns}/${name}` : name;
};

const proto = (p: string | undefined): 'tcp' | 'udp' | 'sctp' =>
  p === 'UDP' ? 'udp' : p === 'SCTP' ? 'sctp' : 'tcp';

/**
 * When the object got its IPs (µs): a pod's start, else the creation (ClusterIPs and node
 * addresses exist from then). Watch events arrive after traffic may have begun.
 */
function startUs(o: KubeObject): number | undefined {
  const c = statusOf(o)?.startTime ?? o.metadata?.creationTimestamp;
  if (c === undefined) return undefined;
  const ms = c instanceof Date ? c.getTime() : Date.parse(c);
  return Number.isFinite(ms) ? ms * 1000 : undefined;
}

/** Copies of string maps (the informer's objects are its own). */
const copyMap = (m: Record<string, string> | undefined): Record<string, string> | undefined =>
  m && Object.keys(m).length ? { ...m } : undefined;

function podIps(o: KubeObject): string[] {
  const s = statusOf(o);
  // A finished pod's IP is released by the kubelet and may be handed to another pod.
  if (!s || s.phase === 'Succeeded' || s.phase === 'Failed') return [];
  const out = new Set<string>();
  for (const p of s.podIPs ?? []) if (p.ip) out.add(p.ip);
  if (s.podIP) out.add(s.podIP);
  return [...out];
}

function serviceIps(o: KubeObject): string[] {
  const s = specOf(o);
  if (!s) return [];
  const out = new Set<string>();
  for (const ip of s.clusterIPs ?? []) if (ip && ip !== 'None') out.add(ip);
  if (s.clusterIP && s.clusterIP !== 'None') out.add(s.clusterIP);
  return [...out];
}

function nodeIps(o: KubeObject): string[] {
  const out = new Set<string>();
  for (const a of statusOf(o)?.addresses ?? [])
    if ((a.type === 'InternalIP' || a.type === 'ExternalIP') && a.address) out.add(a.address);
  return [...out];
}

const sameList = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

export class KubeIdentityTable implements Resolver {
  readonly historyPerIp: number;
  readonly maxIps: number;
  readonly retentionUs: number;
  readonly sweepEveryUs: number;

  private readonly history = new Map<string, Interval[]>();
  private readonly pods = new Map<string, PodRec>();
  private readonly services = new Map<string, SvcRec>();
  private readonly nodes = new Map<string, NodeRec>();
  private readonly slices = new Map<string, SliceRec>();
  /** Pod key → slice key → membership (kept for pods that come after their slice). */
  private readonly memberships = new Map<string, Map<string, Membership>>();
  private readonly synced = new Set<KubeKind>();
  /** Node key → its pod CIDRs; the ranges built from them (undefined: to rebuild). */
  private readonly nodeCidrs = new Map<string, string[]>();
  private podRanges: BlockList | undefined;
  /** Latest event time seen (µs): the clock of pruning. */
  private now = 0;
  private lastSweep = 0;
  private intervals = 0;
  private readonly counters = {
    events: { Pod: 0, Service: 0, EndpointSlice: 0, Node: 0 } as Record<KubeKind, number>,
    lookups: 0,
    hits: 0,
    misses: 0,
    ipsDropped: 0,
    intervalsDropped: 0,
    intervalsRefused: 0,
    intervalsPruned: 0,
    ignored: 0,
  };

  constructor(opts: KubeTableOptions = {}) {
    this.historyPerIp = opts.historyPerIp ?? KUBE_HISTORY_PER_IP;
    this.maxIps = opts.maxIps ?? KUBE_MAX_IPS;
    this.retentionUs = opts.retentionUs ?? KUBE_HISTORY_RETENTION_US;
    this.sweepEveryUs = opts.sweepEveryUs ?? KUBE_SWEEP_EVERY_US;
  }

  // ------------------------------------------------------------------ events

  /**
   * An object was added or changed (informer ADDED / MODIFIED) at event time `tsUs`. A new IP's
   * interval starts at the pod's `status.startTime` (else `creationTimestamp`) when earlier,
   * never before the previous holder of that IP let it go.
   */
  upsert(kind: KubeKind, obj: KubeObject, tsUs: number): void {
    this.apply(kind, obj, tsUs);
    this.maybeSweep();
  }

  /** An object was deleted (informer DELETED) at `tsUs`: its IPs are released, history stays. */
  remove(kind: KubeKind, obj: KubeObject, tsUs: number): void {
    this.tick(tsUs);
    this.counters.events[kind]++;
    const key = objKey(obj);
    if (key === undefined) {
      this.counters.ignored++;
      return;
    }
    // A late delete of an earlier pod of the same name (StatefulSet) leaves the new one alone.
    const uid = obj.metadata?.uid;
    const cur = kind === 'Pod' ? this.pods.get(key) : undefined;
    if (uid && cur && cur.uid !== uid) this.counters.ignored++;
    else this.removeKey(kind, key, tsUs);
    this.maybeSweep();
  }

  /**
   * A fresh LIST of `kind` at `tsUs`: every object is upserted, known objects absent from it are
   * removed as of `tsUs`.
   */
  resync(kind: KubeKind, objects: readonly KubeObject[], tsUs: number): void {
    const seen = new Set<string>();
    for (const o of objects) {
      const k = objKey(o);
      if (k !== undefined) seen.add(k);
      this.apply(kind, o, tsUs);
    }
    const known: Iterable<string> =
      kind === 'Pod'
        ? this.pods.keys()
        : kind === 'Service'
          ? this.services.keys()
          : kind === 'Node'
            ? this.nodes.keys()
            : this.slices.keys();
    for (const k of [...known]) if (!seen.has(k)) this.removeKey(kind, k, tsUs);
    this.synced.add(kind);
    this.maybeSweep();
  }

  // ------------------------------------------------------------------ lookups

  /** The identity behind `ip:port` at capture time `tsUs`, undefined when unknown. */
  lookup(
    ip: string,
    port: number,
    transport: 'tcp' | 'udp',
    tsUs: number,
  ): KubeIdentity | undefined {
    this.counters.lookups++;
    const owner = this.ownerAt(ip, port, transport, tsUs);
    if (!owner) {
      this.counters.misses++;
      return undefined;
    }
    this.counters.hits++;
    return this.identityOf(owner, port, transport);
  }

  /**
   * KFL resolution status of `ip:port` at `tsUs`: `""` when `lookup` resolves it, `not_synced`
   * before the first Pod/Service/Node LIST, `expired` when `tsUs` is older than the history
   * kept, else `not_found`.
   */
  status(ip: string, port: number, transport: 'tcp' | 'udp', tsUs: number): KubeResolutionStatus {
    if (this.ownerAt(ip, port, transport, tsUs)) return '';
    if (!this.synced.has('Pod') || !this.synced.has('Service') || !this.synced.has('Node'))
      return 'not_synced';
    if (tsUs < this.now - this.retentionUs) return 'expired';
    return 'not_found';
  }

  /**
   * The pod that held `ip` at `tsUs`, hostNetwork pods excluded (they share the node's IP, so the
   * IP says nothing about them): what pod targeting decides on, by capture time like `lookup`.
   */
  podAt(ip: string, tsUs: number): KubePodAt | undefined {
    const list = this.history.get(ip);
    if (!list) return undefined;
    let best: PodRec | undefined;
    let bestFrom = -Infinity;
    for (const iv of list) {
      if (iv.from > tsUs || iv.to <= tsUs) continue;
      const o = iv.owner;
      if (o.kind !== 'Pod' || o.hostNetwork) continue;
      // Overlap from late events: the latest holder wins (as in `lookup`).
      if (iv.from > bestFrom) {
        best = o;
        bestFrom = iv.from;
      }
    }
    if (!best) return undefined;
    const out: KubePodAt = { name: best.ref.name, namespace: best.ref.namespace };
    if (best.node !== undefined) out.node = best.node;
    if (best.labels !== undefined) out.labels = best.labels;
    return out;
  }

  /** Changes whenever an event or a LIST may have changed an answer (for entries waiting on one). */
  version(): number {
    const e = this.counters.events;
    return e.Pod + e.Service + e.EndpointSlice + e.Node + this.synced.size;
  }

  /** True once Pod, Service, EndpointSlice and Node have each had a LIST (resync). */
  isSynced(): boolean {
    return this.synced.size === 4;
  }

  stats(): KubeTableStats {
    return {
      ...this.counters,
      events: { ...this.counters.events },
      pods: this.pods.size,
      services: this.services.size,
      endpointSlices: this.slices.size,
      nodes: this.nodes.size,
      ips: this.history.size,
      intervals: this.intervals,
    };
  }

  // ------------------------------------------------------------------ internals

  private tick(tsUs: number): void {
    if (tsUs > this.now) this.now = tsUs;
  }

  private apply(kind: KubeKind, obj: KubeObject, tsUs: number): void {
    this.tick(tsUs);
    this.counters.events[kind]++;
    const key = objKey(obj);
    if (key === undefined) {
      this.counters.ignored++;
      return;
    }
    const from = Math.min(tsUs, startUs(obj) ?? tsUs);
    switch (kind) {
      case 'Pod':
        this.upsertPod(key, obj, tsUs, from);
        return;
      case 'Service':
        this.upsertService(key, obj, tsUs, from);
        return;
      case 'Node':
        this.upsertNode(key, obj, tsUs, from);
        return;
      case 'EndpointSlice':
        this.upsertSlice(key, obj);
        return;
    }
  }

  private upsertPod(key: string, o: KubeObject, tsUs: number, from: number): void {
    const uid = o.metadata?.uid ?? key;
    let rec = this.pods.get(key);
    if (rec && rec.uid !== uid) {
      // Same name, new pod (StatefulSet): the old one is gone.
      this.removeKey('Pod', key, tsUs);
      rec = undefined;
    }
    const ports = new Set<string>();
    for (const c of specOf(o)?.containers ?? [])
      for (const p of c.ports ?? []) {
        if (p.containerPort) ports.add(`${proto(p.protocol)}/${p.containerPort}`);
        if (p.hostPort) ports.add(`${proto(p.protocol)}/${p.hostPort}`);
      }
    const ips = podIps(o);
    const fields = {
      labels: copyMap(o.metadata?.labels),
      annotations: copyMap(o.metadata?.annotations),
      node: specOf(o)?.nodeName || undefined,
      hostNetwork: specOf(o)?.hostNetwork === true,
      ports,
    };
    if (!rec) {
      rec = {
        kind: 'Pod',
        key,
        uid,
        ref: { name: o.metadata!.name!, namespace: o.metadata?.namespace ?? '' },
        ...fields,
        ips: [],
        cache: new Map(),
      };
      this.pods.set(key, rec);
    } else {
      Object.assign(rec, fields);
      rec.cache.clear();
    }
    this.setIps(rec, ips, tsUs, from);
  }

  private upsertService(key: string, o: KubeObject, tsUs: number, from: number): void {
    let rec = this.services.get(key);
    const fields = {
      labels: copyMap(o.metadata?.labels),
      annotations: copyMap(o.metadata?.annotations),
    };
    if (!rec) {
      rec = {
        kind: 'Service',
        key,
        ref: { name: o.metadata!.name!, namespace: o.metadata?.namespace ?? '' },
        ...fields,
        ips: [],
      };
      this.services.set(key, rec);
    } else {
      Object.assign(rec, fields);
      rec.id = undefined;
    }
    this.setIps(rec, serviceIps(o), tsUs, from);
  }

  private upsertNode(key: string, o: KubeObject, tsUs: number, from: number): void {
    let rec = this.nodes.get(key);
    const fields = {
      labels: copyMap(o.metadata?.labels),
      annotations: copyMap(o.metadata?.annotations),
    };
    if (!rec) {
      rec = { kind: 'Node', key, name: o.metadata!.name!, ...fields, ips: [] };
      this.nodes.set(key, rec);
    } else {
      Object.assign(rec, fields);
      rec.id = undefined;
    }
    this.setIps(rec, nodeIps(o), tsUs, from);
    const spec = o.spec as { podCIDR?: string; podCIDRs?: string[] } | undefined;
    const cidrs = spec?.podCIDRs ?? (spec?.podCIDR ? [spec.podCIDR] : []);
    if (!sameList(cidrs, this.nodeCidrs.get(key) ?? [])) {
      if (cidrs.length > 0) this.nodeCidrs.set(key, cidrs);
      else this.nodeCidrs.delete(key);
      this.podRanges = undefined;
    }
  }

  /**
   * Whether `ip` may belong to a pod: inside a node's pod CIDR (`spec.podCIDRs`), or — when no
   * node declares one (CNIs with their own IPAM) — any address.
   */
  mayBePod(ip: string): boolean {
    if (this.nodeCidrs.size === 0) return true;
    if (!this.podRanges) {
      const bl = new BlockList();
      for (const list of this.nodeCidrs.values()) {
        for (const c of list) {
          const [net = '', bits] = c.split('/');
          const family = isIP(net);
          if (family && bits) bl.addSubnet(net, Number(bits), family === 6 ? 'ipv6' : 'ipv4');
        }
      }
      this.podRanges = bl;
    }
    const family = isIP(ip);
    return family !== 0 && this.podRanges.check(ip, family === 6 ? 'ipv6' : 'ipv4');
  }

  private upsertSlice(key: string, o: KubeObject): void {
    const svcName = o.metadata?.labels?.['kubernetes.io/service-name'];
    const ns = o.metadata?.namespace ?? '';
    if (!svcName) {
      // Not managed for a Service (custom slices without the label): nothing to attach.
      this.counters.ignored++;
      this.removeSlice(key);
      return;
    }
    const ports: SvcPort[] = [];
    for (const p of o.ports ?? [])
      if (p.port) ports.push({ port: p.port, proto: proto(p.protocol) });
    const pods: string[] = [];
    for (const ep of o.endpoints ?? []) {
      const t = ep.targetRef;
      if (t?.kind === 'Pod' && t.name) {
        pods.push(`${t.namespace ?? ns}/${t.name}`);
        continue;
      }
      // No targetRef: the pod that holds the address now, if any.
      for (const a of ep.addresses ?? []) {
        const open = this.history
          .get(a)
          ?.find((iv) => iv.to === Infinity && iv.owner.kind === 'Pod');
        if (open) pods.push(open.owner.key);
      }
    }
    const svc = { name: svcName, namespace: ns };
    this.removeSlice(key, new Set(pods));
    this.slices.set(key, { key, svc, ports, pods });
    for (const pk of pods) {
      let m = this.memberships.get(pk);
      if (!m) {
        m = new Map();
        this.memberships.set(pk, m);
      }
      m.set(key, { svc, ports });
      this.pods.get(pk)?.cache.clear();
    }
  }

  /** Drops a slice's memberships, except for pods in `keep` (they are re-added at once). */
  private removeSlice(key: string, keep?: ReadonlySet<string>): void {
    const old = this.slices.get(key);
    if (!old) return;
    this.slices.delete(key);
    for (const pk of old.pods) {
      if (keep?.has(pk)) continue;
      const m = this.memberships.get(pk);
      if (!m) continue;
      m.delete(key);
      if (m.size === 0) this.memberships.delete(pk);
      this.pods.get(pk)?.cache.clear();
    }
  }

  private removeKey(kind: KubeKind, key: string, tsUs: number): void {
    if (kind === 'EndpointSlice') {
      this.removeSlice(key);
      return;
    }
    const map = kind === 'Pod' ? this.pods : kind === 'Service' ? this.services : this.nodes;
    const rec = map.get(key);
    if (!rec) return;
    map.delete(key);
    if (rec.kind === 'Node' && this.nodeCidrs.delete(key)) this.podRanges = undefined;
    if (rec.kind === 'Pod') {
      // Entries captured while it lived still resolve to it with the services it had.
      rec.frozen = new Map(this.memberships.get(key) ?? []);
      rec.cache.clear();
    }
    this.setIps(rec, [], tsUs, tsUs);
  }

  /** Closes the intervals of IPs `rec` no longer holds and opens ones for IPs it gained. */
  private setIps(rec: Owner, ips: string[], tsUs: number, from: number): void {
    if (sameList(rec.ips, ips)) return;
    const now = new Set(ips);
    for (const ip of rec.ips) {
      if (now.has(ip)) continue;
      const list = this.history.get(ip);
      const iv = list?.find((x) => x.owner === rec && x.to === Infinity);
      if (iv) iv.to = Math.max(tsUs, iv.from);
      if (list) this.prune(ip, list);
    }
    const had = new Set(rec.ips);
    const kept: string[] = [];
    for (const ip of ips) {
      if (had.has(ip) || this.open(ip, rec, tsUs, from)) kept.push(ip);
    }
    rec.ips = kept;
  }

  /** Opens an interval for `rec` on `ip`; false when a limit refused it. */
  private open(ip: string, rec: Owner, tsUs: number, from: number): boolean {
    let list = this.history.get(ip);
    if (!list) {
      if (this.history.size >= this.maxIps) {
        if (this.lastSweep !== this.now) this.sweep();
        if (this.history.size >= this.maxIps) {
          this.counters.ipsDropped++;
          return false;
        }
      }
      list = [];
      this.history.set(ip, list);
    } else {
      // A pod IP is held by one pod at a time: a previous holder whose delete we have not
      // seen yet loses it now (same for ClusterIPs).
      for (const iv of list)
        if (iv.to === Infinity && iv.owner.kind === rec.kind && exclusive(rec)) {
          if (iv.owner.kind === 'Pod' && iv.owner.hostNetwork) continue;
          iv.to = Math.max(tsUs, iv.from);
          iv.owner.ips = iv.owner.ips.filter((x) => x !== ip);
        }
      // Backdating to the start never reaches into a previous holder's time.
      for (const iv of list) if (iv.to !== Infinity && iv.to > from) from = Math.min(tsUs, iv.to);
      this.prune(ip, list);
    }
    if (list.length >= this.historyPerIp) {
      let oldest = -1;
      for (let i = 0; i < list.length; i++)
        if (list[i]!.to !== Infinity && (oldest < 0 || list[i]!.to < list[oldest]!.to)) oldest = i;
      if (oldest < 0) {
        this.counters.intervalsRefused++;
        return false;
      }
      list.splice(oldest, 1);
      this.intervals--;
      this.counters.intervalsDropped++;
    }
    list.push({ from, to: Infinity, owner: rec });
    this.intervals++;
    return true;
  }

  /** Removes closed intervals of `ip` past retention (and the IP when nothing is left). */
  private prune(ip: string, list: Interval[]): void {
    const horizon = this.now - this.retentionUs;
    let w = 0;
    for (const iv of list) {
      if (iv.to < horizon) {
        this.counters.intervalsPruned++;
        this.intervals--;
      } else list[w++] = iv;
    }
    list.length = w;
    if (w === 0) this.history.delete(ip);
  }

  private maybeSweep(): void {
    if (this.now - this.lastSweep >= this.sweepEveryUs) this.sweep();
  }

  private sweep(): void {
    this.lastSweep = this.now;
    for (const [ip, list] of this.history) this.prune(ip, list);
  }

  private ownerAt(
    ip: string,
    port: number,
    transport: 'tcp' | 'udp',
    tsUs: number,
  ): Owner | undefined {
    const list = this.history.get(ip);
    if (!list) return undefined;
    let portKey: string | undefined; // only hostNetwork pods need it
    let best: Interval | undefined;
    let bestRank = 0;
    for (const iv of list) {
      if (iv.from > tsUs || iv.to <= tsUs) continue;
      const o = iv.owner;
      const rank =
        o.kind === 'Pod'
          ? o.hostNetwork
            ? o.ports.has((portKey ??= `${transport}/${port}`))
              ? 4
              : 0
            : 3
          : o.kind === 'Service'
            ? 2
            : 1;
      // Equal rank (overlap from late events): the latest holder wins.
      if (rank > bestRank || (rank === bestRank && rank > 0 && best && iv.from > best.from)) {
        best = iv;
        bestRank = rank;
      }
    }
    return bestRank > 0 ? best?.owner : undefined;
  }

  private identityOf(o: Owner, port: number, transport: 'tcp' | 'udp'): KubeIdentity {
    if (o.kind === 'Node') {
      o.id ??= freeze({ name: o.name, labels: o.labels, annotations: o.annotations, node: o.name });
      return o.id;
    }
    if (o.kind === 'Service') {
      o.id ??= freeze({
        name: o.ref.name,
        namespace: o.ref.namespace,
        service: o.ref,
        labels: o.labels,
        annotations: o.annotations,
      });
      return o.id;
    }
    const svc = this.serviceFor(o, port, transport);
    const ck = svc ? `${svc.namespace}/${svc.name}` : '';
    let id = o.cache.get(ck);
    if (!id) {
      id = freeze({
        name: o.ref.name,
        namespace: o.ref.namespace,
        pod: o.ref,
        service: svc,
        labels: o.labels,
        annotations: o.annotations,
        node: o.node,
      });
      o.cache.set(ck, id);
    }
    return id;
  }

  /** The pod's service for this port: one whose slice has the port, else the only/first one. */
  private serviceFor(p: PodRec, port: number, transport: 'tcp' | 'udp'): Ref | undefined {
    const m = p.frozen ?? this.memberships.get(p.key);
    if (!m || m.size === 0) return undefined;
    let first: Ref | undefined;
    let match: Ref | undefined;
    for (const { svc, ports } of m.values()) {
      if (!first || svcOrder(svc, first) < 0) first = svc;
      if (ports.some((x) => x.port === port && x.proto === transport))
        if (!match || svcOrder(svc, match) < 0) match = svc;
    }
    return match ?? first;
  }
}

/** Pods and Services own their IP alone; a node shares its IPs with its hostNetwork pods. */
const exclusive = (o: Owner): boolean =>
  o.kind === 'Service' || (o.kind === 'Pod' && !o.hostNetwork);

const svcOrder = (a: Ref, b: Ref): number =>
  a.namespace === b.namespace
    ? a.name.localeCompare(b.name)
    : a.namespace.localeCompare(b.namespace);

/** Drops absent keys (the identity is shared by many answers; nobody changes it). */
function freeze(id: KubeIdentity): KubeIdentity {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(id)) if (v !== undefined) out[k] = v;
  return Object.freeze(out) as KubeIdentity;
}
