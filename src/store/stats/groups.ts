/** Group keys for call statistics (`groupBy`) — what an API dashboard rows are. */
import { endpointNamespace } from '../../entry/common-fields.ts';
import type { Endpoint, Entry } from '../../entry/model.ts';
import type { ProtocolStatsSpec } from './classify.ts';

export type StatsGroupBy = 'endpoint' | 'service' | 'namespace' | 'node' | 'protocol' | EdgeGroupBy;
/**
 * Calls per `protocol src -> dst` pair (the service map's edges), the two ends grouped by
 * service, pod, namespace or node; see `edgeEnd`.
 */
export type EdgeGroupBy = 'service-edge' | 'pod-edge' | 'namespace-edge' | 'node-edge';
export const STATS_GROUP_BY: readonly StatsGroupBy[] = [
  'endpoint',
  'service',
  'namespace',
  'node',
  'protocol',
  'service-edge',
  'pod-edge',
  'namespace-edge',
  'node-edge',
];

/** The parts a key was made of, so tools can show them as columns. */
export interface GroupLabels {
  protocol?: string;
  method?: string;
  path?: string;
  /** Service (or pod, or ip:port) name. */
  name?: string;
  namespace?: string;
  /** `service`, `pod` or `address`: what `name` is (service grouping). */
  kind?: 'service' | 'pod' | 'address';
  node?: string;
  /** Edge groupings: the two ends' keys (`namespace` is the destination's). */
  src?: string;
  dst?: string;
  srcNamespace?: string;
}

export interface GroupKey {
  key: string;
  labels: GroupLabels;
}

/** `10.0.0.1:80`, `[fd00::1]:53`. */
export function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Namespace of an endpoint, from enrichment; `unknown` when not enriched. */
export function namespaceOf(ep: Endpoint): string {
  return endpointNamespace(ep) ?? 'unknown';
}

/** Destination service, else destination pod, else ip:port — `namespace/name` when known. */
export function serviceOf(ep: Endpoint): GroupKey {
  const who = ep.service ?? ep.pod;
  if (who !== undefined) {
    const kind = ep.service !== undefined ? 'service' : 'pod';
    return { key: named(who), labels: { name: who.name, namespace: who.namespace, kind } };
  }
  const hp = hostPort(ep.ip, ep.port);
  return { key: hp, labels: { name: hp, kind: 'address' } };
}

export function nodeOf(e: Entry): string {
  return e.node.name || e.node_id || 'unknown';
}

/** `namespace/name` (just `name` without a namespace). */
export function named(n: { name: string; namespace: string }): string {
  return n.namespace ? `${n.namespace}/${n.name}` : n.name;
}

/**
 * One end of an edge: the service (else pod, else address), the pod (else address), the
 * namespace, or the capturing node. An unresolved client is its IP (its port is ephemeral), an
 * unresolved server its `ip:port`, so different services on one host stay apart.
 */
export function edgeEnd(e: Entry, by: EdgeGroupBy, side: 'src' | 'dst'): string {
  const ep = side === 'src' ? e.src : e.dst;
  const address = (): string => (side === 'src' ? ep.ip : hostPort(ep.ip, ep.port));
  switch (by) {
    case 'service-edge':
      return ep.service ? named(ep.service) : ep.pod ? named(ep.pod) : address();
    case 'pod-edge':
      return ep.pod ? named(ep.pod) : address();
    case 'namespace-edge':
      return namespaceOf(ep);
    case 'node-edge':
      return nodeOf(e);
  }
}

/** The group key of a call (cheap: no labels). */
export function groupKey(e: Entry, by: StatsGroupBy, spec: ProtocolStatsSpec): string {
  switch (by) {
    case 'endpoint': {
      const { method, path } = spec.endpoint(e);
      let key = e.protocol;
      if (method) key += ` ${method}`;
      if (path) key += ` ${path}`;
      return key;
    }
    case 'service':
      return serviceOf(e.dst).key;
    case 'namespace':
      return namespaceOf(e.dst);
    case 'node':
      return nodeOf(e);
    case 'protocol':
      return e.protocol;
    default:
      return `${e.protocol} ${edgeEnd(e, by, 'src')} -> ${edgeEnd(e, by, 'dst')}`;
  }
}

/** The parts of a call's group key. */
export function groupLabels(e: Entry, by: StatsGroupBy, spec: ProtocolStatsSpec): GroupLabels {
  switch (by) {
    case 'endpoint': {
      const { method, path } = spec.endpoint(e);
      return { protocol: e.protocol, method, path };
    }
    case 'service':
      return serviceOf(e.dst).labels;
    case 'namespace':
      return { namespace: namespaceOf(e.dst) };
    case 'node':
      return { node: nodeOf(e) };
    case 'protocol':
      return { protocol: e.protocol };
    default: {
      const labels: GroupLabels = {
        protocol: e.protocol,
        src: edgeEnd(e, by, 'src'),
        dst: edgeEnd(e, by, 'dst'),
      };
      const sns = endpointNamespace(e.src);
      const dns = endpointNamespace(e.dst);
      if (sns) labels.srcNamespace = sns;
      if (dns) labels.namespace = dns;
      return labels;
    }
  }
}
