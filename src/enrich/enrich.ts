/**
 * Fills an entry's endpoints from a Resolver, before the entry is stored. What is already set
 * is kept (a Kubernetes pod stays when /proc adds the process). KFL's `src.name`, `dst.name`,
 * `local_process_name`, `remote_process_name` and `local_resolution_status` /
 * `remote_resolution_status` (`""` once a name is known) read what this writes.
 */
import type { Endpoint, Entry } from '../entry/model.ts';
import type { Identity, Resolver } from './types.ts';

/**
 * Endpoint keys in the order the pipeline and the store schema (src/store/schema.ts ENDPOINT)
 * have them: a stored entry reads back with its keys in this order, so enrichment keeps it and
 * the JSON text of an entry is the same before and after a store round trip.
 */
const ENDPOINT_ORDER = [
  'ip',
  'port',
  'name',
  'namespace',
  'pod',
  'service',
  'labels',
  'annotations',
  'process',
  'containerId',
  'node',
  'dns',
  'resolution',
] as const;
const KNOWN_KEYS: ReadonlySet<string> = new Set(ENDPOINT_ORDER);

type IdentityKey = keyof Identity;
const IDENTITY_KEYS: readonly IdentityKey[] = [
  'name',
  'namespace',
  'pod',
  'service',
  'labels',
  'annotations',
  'process',
  'containerId',
  'node',
];
const IS_IDENTITY_KEY: ReadonlySet<string> = new Set(IDENTITY_KEYS);

/**
 * Per resolver: endpoint → its enriched copy. The pipeline gives all entries of a flow the same
 * Endpoint objects, and entries already emitted (stored, shown: the JSON view memoises an
 * endpoint's text per object) may hold them, so they are never changed: the enriched copy
 * replaces them, and the flow's next entries get the same copy without a lookup. An endpoint the
 * resolver did not know is asked again with the next entry (it may know it by then).
 */
const enriched = new WeakMap<Resolver, WeakMap<Endpoint, Endpoint>>();

/** A private copy of one identity value (identities are shared by many endpoints). */
function copyValue(k: IdentityKey, v: NonNullable<Identity[IdentityKey]>): unknown {
  switch (k) {
    case 'pod':
    case 'service': {
      const o = v as { name: string; namespace: string };
      return { name: o.name, namespace: o.namespace };
    }
    case 'process': {
      const p = v as { name: string; pid?: number };
      return p.pid === undefined ? { name: p.name } : { name: p.name, pid: p.pid };
    }
    case 'labels':
    case 'annotations':
      return { ...(v as Record<string, string>) };
    default:
      return v;
  }
}

/** `ep` with the identity's fields it lacks, keys in ENDPOINT_ORDER (unknown keys last). */
function merged(ep: Endpoint, id: Identity): Endpoint {
  const from = ep as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of ENDPOINT_ORDER) {
    const have = from[k];
    if (have !== undefined) out[k] = have;
    else if (IS_IDENTITY_KEY.has(k)) {
      const v = id[k as IdentityKey];
      if (v !== undefined) out[k] = copyValue(k as IdentityKey, v);
    }
  }
  for (const k of Object.keys(from)) if (!KNOWN_KEYS.has(k)) out[k] = from[k];
  return out as unknown as Endpoint;
}

function enrichEndpoint(
  ep: Endpoint,
  e: Entry,
  r: Resolver,
  done: WeakMap<Endpoint, Endpoint>,
): Endpoint {
  const known = done.get(ep);
  if (known) return known;
  const id = r.lookup(ep.ip, ep.port, e.transport, e.timestamp);
  if (id === undefined) {
    // Not cached: the next entry asks again (the resolver may learn it meanwhile).
    const why = r.status?.(ep.ip, ep.port, e.transport, e.timestamp);
    return why && ep.resolution === undefined ? { ...ep, resolution: why } : ep;
  }
  const out = IDENTITY_KEYS.some((k) => id[k] !== undefined && ep[k] === undefined)
    ? merged(ep, id)
    : ep;
  done.set(ep, out);
  done.set(out, out);
  return out;
}

/**
 * Fills `e.src` and `e.dst` from `r`, never overwriting a field that is already set. The
 * endpoints are replaced by enriched copies, not changed in place (see `enriched`).
 */
export function enrichEntry(e: Entry, r: Resolver): void {
  let done = enriched.get(r);
  if (!done) {
    done = new WeakMap();
    enriched.set(r, done);
  }
  e.src = enrichEndpoint(e.src, e, r, done);
  e.dst = enrichEndpoint(e.dst, e, r, done);
}
