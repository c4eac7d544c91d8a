/**
 * What the identity informers keep of each object: the fields `KubeIdentityTable` and pod
 * targeting read (see KubeObject in src/enrich/kube-table.ts), nothing else. A real pod object
 * is several KiB of JSON (managedFields, the full spec, `last-applied-configuration`); a worker
 * watching every pod of a large cluster would otherwise hold all of it twice (informer cache and
 * parsed events) on every node.
 */
import type { WatchedObject } from './informer.ts';

/** An annotation that is a copy of the whole object (`kubectl apply`): never kept. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

type Obj = Record<string, unknown>;

function pick(o: unknown, keys: readonly string[]): Obj | undefined {
  if (typeof o !== 'object' || o === null) return undefined;
  const src = o as Obj;
  const out: Obj = {};
  for (const k of keys) if (src[k] !== undefined) out[k] = src[k];
  return out;
}

const META = [
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'labels',
  'creationTimestamp',
  'deletionTimestamp',
] as const;
const SPEC = [
  'nodeName',
  'hostNetwork',
  'clusterIP',
  'clusterIPs',
  'ports',
  'type',
  'podCIDR',
  'podCIDRs',
] as const;
const STATUS = ['podIP', 'podIPs', 'hostIP', 'phase', 'startTime', 'addresses'] as const;
const ENDPOINT = ['addresses', 'targetRef', 'nodeName', 'conditions'] as const;

/** The identity-relevant part of a Pod, Service, EndpointSlice or Node (v1 JSON). */
export function slimIdentityObject(o: WatchedObject): WatchedObject {
  const src = o as Obj;
  const out: Obj = {};
  const meta = pick(src.metadata, META) ?? {};
  const annotations = (src.metadata as Obj | undefined)?.annotations as
    Record<string, string> | undefined;
  if (annotations) {
    const kept = Object.fromEntries(
      Object.entries(annotations).filter(([k]) => k !== LAST_APPLIED_ANNOTATION),
    );
    if (Object.keys(kept).length > 0) meta.annotations = kept;
  }
  out.metadata = meta;
  const spec = pick(src.spec, SPEC);
  const containers = (src.spec as Obj | undefined)?.containers as Obj[] | undefined;
  if (spec && containers) spec.containers = containers.map((c) => pick(c, ['ports']) ?? {});
  if (spec) out.spec = spec;
  const status = pick(src.status, STATUS);
  const conditions = (src.status as Obj | undefined)?.conditions as Obj[] | undefined;
  if (status && conditions) status.conditions = conditions.map((c) => pick(c, ['type', 'status']));
  if (status) out.status = status;
  if (Array.isArray(src.endpoints))
    out.endpoints = (src.endpoints as Obj[]).map((e) => pick(e, ENDPOINT));
  if (src.ports !== undefined) out.ports = src.ports;
  if (src.addressType !== undefined) out.addressType = src.addressType;
  if (src.kind !== undefined) out.kind = src.kind;
  return out as WatchedObject;
}
