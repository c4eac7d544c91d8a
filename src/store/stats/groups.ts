/** Group keys for call statistics (`groupBy`) — what an API dashboard rows are. */
import type { Endpoint, Entry } from '../../entry/model.ts';
import type { ProtocolStatsSpec } from './classify.ts';

export type StatsGroupBy = 'endpoint' | 'service' | 'namespace' | 'node' | 'protocol';
export const STATS_GROUP_BY: readonly StatsGroupBy[] = [
  'endpoint',
  'service',
  'namespace',
  'node',
  'protocol',
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
  return ep.namespace ?? ep.pod?.namespace ?? ep.service?.namespace ?? 'unknown';
}

/** Destination service, else destination pod, else ip:port — `namespace/name` when known. */
export function serviceOf(ep: Endpoint): GroupKey {
  const named = ep.service ?? ep.pod;
  if (named !== undefined) {
    const kind = ep.service !== undefined ? 'service' : 'pod';
    const key = named.namespace ? `${named.namespace}/${named.name}` : named.name;
    return { key, labels: { name: named.name, namespace: named.namespace, kind } };
  }
  const hp = hostPort(ep.ip, ep.port);
  return { key: hp, labels: { name: hp, kind: 'address' } };
}

export function nodeOf(e: Entry): string {
  return e.node.name || e.node_id || 'unknown';
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
  }
}

export function groupKeyOf(e: Entry, by: StatsGroupBy, spec: ProtocolStatsSpec): GroupKey {
  return { key: groupKey(e, by, spec), labels: groupLabels(e, by, spec) };
}
