/**
 * Validation, defaulting and the admission refusals of the simulated API server: what the real
 * server checks and fills in on every write (422 Invalid, 400, 403 for namespaces).
 */
import type { ResourceDef } from './resources.ts';
import { apiVersionOf, findResource } from './resources.ts';
import type { KObj, Store } from './store.ts';
import { ApiError, notFound } from './store.ts';
import type { ClusterIpAllocator } from './http.ts';
import { badRequest } from './http.ts';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Namespaces the real server refuses to delete. */
const UNDELETABLE_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);

function invalid(res: ResourceDef, name: string, field: string, message: string): ApiError {
  return new ApiError({
    code: 422,
    reason: 'Invalid',
    message: `${res.kind} "${name}" is invalid: ${field}: ${message}`,
    details: {
      name,
      group: res.group,
      kind: res.kind,
      causes: [{ reason: 'FieldValueInvalid', message, field }],
    },
  });
}

/** Spec defaults the real API server fills in on every write (the ones kubectl reads back). */
function defaultSpec(rd: ResourceDef, o: KObj): void {
  if (typeof o.spec !== 'object' || o.spec === null) return;
  const spec = o.spec as Record<string, unknown>;
  if (rd.kind === 'Deployment') {
    spec.replicas ??= 1;
    spec.revisionHistoryLimit ??= 10;
    spec.progressDeadlineSeconds ??= 600;
    spec.strategy ??= {
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' },
    };
  } else if (rd.kind === 'DaemonSet') {
    spec.revisionHistoryLimit ??= 10;
    spec.updateStrategy ??= {
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: 1, maxSurge: 0 },
    };
  } else if (rd.kind === 'ReplicaSet') {
    spec.replicas ??= 1;
  }
  const podSpec =
    rd.kind === 'Pod'
      ? spec
      : (spec.template as { spec?: Record<string, unknown> } | undefined)?.spec;
  if (podSpec) {
    podSpec.restartPolicy ??= 'Always';
    podSpec.terminationGracePeriodSeconds ??= 30;
    podSpec.dnsPolicy ??= 'ClusterFirst';
    podSpec.schedulerName ??= 'default-scheduler';
  }
}

/**
 * Checks an object written to `rd` at namespace `ns` (the URL's) and normalizes it as the real
 * server does on every write: namespace from the URL, spec defaults, Secret stringData into data.
 */
export function validate(rd: ResourceDef, ns: string | undefined, o: KObj): void {
  if (o.kind !== undefined && o.kind !== rd.kind) {
    throw badRequest(
      `the API version in the data (${String(o.apiVersion)}) does not match the expected API version (${apiVersionOf(rd)}) or kind ${String(o.kind)} is not ${rd.kind}`,
    );
  }
  const meta = o.metadata;
  if (!meta.name && typeof meta.generateName !== 'string') {
    throw invalid(rd, '', 'metadata.name', 'Required value: name or generateName is required');
  }
  if (meta.name && !DNS1123_SUBDOMAIN.test(meta.name)) {
    throw invalid(
      rd,
      meta.name,
      'metadata.name',
      `Invalid value: "${meta.name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
    );
  }
  if (rd.namespaced) {
    if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== ns) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    meta.namespace = ns;
  } else delete meta.namespace;
  defaultSpec(rd, o);
  if (rd.kind === 'Secret' && o.stringData && typeof o.stringData === 'object') {
    // stringData is write-only: the server merges it into data (base64) and drops it.
    const data = { ...((o.data ?? {}) as Record<string, string>) };
    for (const [k, v] of Object.entries(o.stringData as Record<string, string>)) {
      data[k] = Buffer.from(String(v), 'utf8').toString('base64');
    }
    o.data = data;
    delete o.stringData;
  }
  if (rd.kind === 'Pod') {
    const containers = (o.spec as { containers?: unknown[] } | undefined)?.containers;
    if (!Array.isArray(containers) || containers.length === 0) {
      throw invalid(rd, meta.name, 'spec.containers', 'Required value');
    }
  }
  if (rd.kind === 'Deployment' || rd.kind === 'DaemonSet' || rd.kind === 'ReplicaSet') {
    const spec = (o.spec ?? {}) as {
      selector?: { matchLabels?: Record<string, string> };
      template?: { metadata?: { labels?: Record<string, string> } };
    };
    const sel = spec.selector?.matchLabels ?? {};
    const labels = spec.template?.metadata?.labels ?? {};
    if (Object.keys(sel).length === 0)
      throw invalid(rd, meta.name, 'spec.selector', 'Required value');
    if (!Object.entries(sel).every(([k, v]) => labels[k] === v)) {
      throw invalid(
        rd,
        meta.name,
        'spec.template.metadata.labels',
        '`selector` does not match template `labels`',
      );
    }
  }
}

/** Service cluster IPs 10.96.x.y, handed out in order (never routed anywhere). */
export class SequentialClusterIps implements ClusterIpAllocator {
  private n = 0;

  next(): string {
    this.n++;
    return `10.96.${Math.floor(this.n / 256) % 256}.${this.n % 256}`;
  }
}

/** Server-side defaults applied on create (the subset clients here rely on). */
export function applyCreateDefaults(
  rd: ResourceDef,
  o: KObj,
  clusterIps: ClusterIpAllocator,
): void {
  if (rd.kind === 'Namespace') {
    o.spec = { finalizers: ['kubernetes'], ...((o.spec as object | undefined) ?? {}) };
    o.status = { phase: 'Active' };
  } else if (rd.kind === 'Pod') {
    // Clients cannot set status on create; the kubelet (or a test through /status) does.
    o.status = { phase: 'Pending' };
  } else if (rd.kind === 'Deployment' || rd.kind === 'DaemonSet' || rd.kind === 'ReplicaSet') {
    o.status = {};
  } else if (rd.kind === 'Service') {
    o.status = { loadBalancer: {} };
    const spec = (o.spec ?? {}) as Record<string, unknown>;
    spec.type ??= 'ClusterIP';
    if (spec.clusterIP === undefined && spec.type !== 'ExternalName') {
      spec.clusterIP = clusterIps.next();
      spec.clusterIPs = [spec.clusterIP];
    }
    o.spec = spec;
  }
}

/** Writes into a missing namespace are 404, into a terminating one 403 (as the real admission chain). */
export function checkNamespaceWritable(store: Store, ns: string, creating: boolean): void {
  const nsRes = findResource('', 'v1', 'namespaces')!;
  const o = store.get(nsRes, undefined, ns);
  if (!o) throw notFound(nsRes, ns);
  if (creating && o.metadata.deletionTimestamp) {
    throw new ApiError({
      code: 403,
      reason: 'Forbidden',
      message: `unable to create new content in namespace ${ns} because it is being terminated`,
    });
  }
}

/** The namespaces the real server refuses to delete answer 403. */
export function checkNamespaceDeletable(name: string): void {
  if (UNDELETABLE_NAMESPACES.has(name)) {
    throw new ApiError({
      code: 403,
      reason: 'Forbidden',
      message: `namespaces "${name}" is forbidden: this namespace may not be deleted`,
      details: { name, kind: 'namespaces' },
    });
  }
}
