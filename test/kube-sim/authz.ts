/**
 * Authorization, simulated: RBAC objects are stored but not evaluated, so everything is allowed
 * except what `SimClusterOptions.deny` lists. The same rules answer SelfSubjectAccessReviews and
 * gate real requests (403 Forbidden Status), so tests can exercise permission failures.
 */
import type { StatusError } from './store.ts';

/** The user every request is authenticated as (the kubeconfig's user; the token is not checked). */
export const SIM_USER = 'sim-admin';
/** SelfSubjectAccessReview reason when nothing denies the request. */
export const ALLOWED_REASON = 'simulated cluster: RBAC not enforced';

/** A denied permission. `*` matches any verb/resource/group; no namespace means every namespace. */
export interface DenyRule {
  verb: string;
  /** Plural resource, optionally with a subresource: `pods`, `pods/log`, `pods/portforward`. */
  resource: string;
  /** API group ('' or absent = core). */
  group?: string;
  namespace?: string;
}

/** What an authorizer sees of a request (k8s authorizer.Attributes, resource requests only). */
export interface RequestAttributes {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export function deniedBy(rules: DenyRule[], a: RequestAttributes): DenyRule | undefined {
  const full = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  return rules.find(
    (r) =>
      (r.verb === '*' || r.verb === a.verb) &&
      (r.resource === '*' || r.resource === full) &&
      (r.group === '*' || (r.group ?? '') === a.group) &&
      (r.namespace === undefined || r.namespace === a.namespace),
  );
}

/** The verb the API server derives from an HTTP request on a resource path. */
export function verbOf(method: string, hasName: boolean, watch: boolean): string {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return watch ? 'watch' : hasName ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return hasName ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}

/** The 403 Status the real server returns when the authorizer says no. */
export function forbidden(a: RequestAttributes): StatusError {
  const full = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const what = a.group ? `${a.resource}.${a.group}` : a.resource;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return {
    code: 403,
    reason: 'Forbidden',
    message: `${what}${a.name ? ` "${a.name}"` : ''} is forbidden: User "${SIM_USER}" cannot ${a.verb} resource "${full}" in API group "${a.group}" ${scope}`,
    details: { ...(a.name ? { name: a.name } : {}), group: a.group, kind: a.resource },
  };
}

export interface ReviewSpec {
  resourceAttributes?: {
    verb?: string;
    group?: string;
    resource?: string;
    subresource?: string;
    namespace?: string;
    name?: string;
  };
  nonResourceAttributes?: { path?: string; verb?: string };
}

/** The status of a SelfSubjectAccessReview for `spec`. */
export function reviewStatus(
  rules: DenyRule[],
  spec: ReviewSpec | undefined,
): { allowed: boolean; reason?: string } {
  const ra = spec?.resourceAttributes;
  if (!ra) return { allowed: true, reason: ALLOWED_REASON };
  const rule = deniedBy(rules, {
    verb: ra.verb ?? '',
    group: ra.group ?? '',
    resource: ra.resource ?? '',
    ...(ra.subresource ? { subresource: ra.subresource } : {}),
    ...(ra.namespace ? { namespace: ra.namespace } : {}),
  });
  // As RBAC when no rule grants the permission: not allowed, no reason (kubectl prints "no").
  return rule ? { allowed: false } : { allowed: true, reason: ALLOWED_REASON };
}

/** Protobuf wire fields of one message: field number → raw values (varints as numbers). */
function pbFields(b: Buffer): Map<number, (Buffer | number)[]> {
  const out = new Map<number, (Buffer | number)[]>();
  let i = 0;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (i >= b.length) throw new Error('truncated varint');
      const byte = b[i++]!;
      v += (byte & 0x7f) * mul;
      if ((byte & 0x80) === 0) return v;
      mul *= 128;
    }
  };
  while (i < b.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    let val: Buffer | number;
    if (wire === 0) val = varint();
    else if (wire === 2) {
      const len = varint();
      if (i + len > b.length) throw new Error('truncated field');
      val = b.subarray(i, i + len);
      i += len;
    } else if (wire === 1) {
      val = b.subarray(i, i + 8);
      i += 8;
    } else if (wire === 5) {
      val = b.subarray(i, i + 4);
      i += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
    out.set(field, [...(out.get(field) ?? []), val]);
  }
  return out;
}

function pbMessage(f: Map<number, (Buffer | number)[]>, n: number): Buffer | undefined {
  const v = f.get(n)?.[0];
  return Buffer.isBuffer(v) ? v : undefined;
}

/** Magic prefix of Kubernetes protobuf bodies (runtime.Unknown envelope follows). */
const K8S_PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/**
 * The spec of a protobuf-encoded SelfSubjectAccessReview (what `kubectl auth can-i` sends):
 * runtime.Unknown{raw: SelfSubjectAccessReview{spec: {resourceAttributes | nonResourceAttributes}}}.
 */
export function decodeReviewProtobuf(body: Buffer): ReviewSpec {
  if (!body.subarray(0, 4).equals(K8S_PROTOBUF_MAGIC))
    throw new Error('not a Kubernetes protobuf body');
  const raw = pbMessage(pbFields(body.subarray(4)), 2);
  const spec = raw ? pbMessage(pbFields(raw), 2) : undefined;
  if (!spec) return {};
  const fields = pbFields(spec);
  const str = (m: Map<number, (Buffer | number)[]>, n: number): string | undefined => {
    const v = pbMessage(m, n);
    return v === undefined ? undefined : v.toString('utf8');
  };
  const ra = pbMessage(fields, 1);
  if (ra) {
    const f = pbFields(ra);
    const names = ['namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name'];
    const attrs: Record<string, string> = {};
    names.forEach((name, idx) => {
      const v = str(f, idx + 1);
      if (v !== undefined && v !== '') attrs[name] = v;
    });
    return { resourceAttributes: attrs };
  }
  const nra = pbMessage(fields, 2);
  if (nra) {
    const f = pbFields(nra);
    return { nonResourceAttributes: { path: str(f, 1) ?? '', verb: str(f, 2) ?? '' } };
  }
  return {};
}
