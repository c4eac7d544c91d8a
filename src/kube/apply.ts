/**
 * Applying the release (`releaseObjects`) idempotently with server-side apply, and the label
 * selectors every other command uses to find what was applied.
 *
 * The Namespace is special: it is created only when missing and never patched, because `clean`
 * deletes the namespace only when it carries the release's labels — which it does only when we
 * created it. A pre-existing namespace (`default`, the user's `monitoring`…) is left alone.
 */
import {
  KubernetesObjectApi,
  PatchStrategy,
  type CoreV1Api,
  type KubeConfig,
  type V1Pod,
} from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import {
  COMPONENT_LABEL,
  INSTANCE_LABEL,
  MANAGED_BY_LABEL,
  NAME_LABEL,
  type Component,
  type K8sObject,
} from './manifests.ts';
import { kubeError, statusCode } from './config.ts';
import { KsError } from '../util/errors.ts';

/** Field manager of every server-side apply (shows in managedFields). */
export const FIELD_MANAGER = 'kubeshark';
/** How long to wait for a Terminating release namespace to go before re-creating it. */
export const NAMESPACE_TERMINATING_WAIT_MS = 60_000;
const TERMINATING_POLL_MS = 250;

/** Selects every object of the release `name` (what `clean` deletes). */
export function releaseSelector(name: string): string {
  return `${INSTANCE_LABEL}=${name},${MANAGED_BY_LABEL}=kubeshark`;
}

/** Every pod of the release `release` in `namespace` (errors pass through to the caller). */
export async function listReleasePods(
  core: CoreV1Api,
  namespace: string,
  release: string,
): Promise<V1Pod[]> {
  return (await core.listNamespacedPod({ namespace, labelSelector: releaseSelector(release) }))
    .items;
}

/** Selects the pods of one component of the release (the Deployments' own selector). */
export function componentSelector(name: string, component: Component): string {
  return `${NAME_LABEL}=kubeshark,${INSTANCE_LABEL}=${name},${COMPONENT_LABEL}=${component}`;
}

/** Whether a namespace was created by a release (it carries the release labels). */
export function createdByRelease(ns: KubernetesObject, name: string): boolean {
  const l = ns.metadata?.labels ?? {};
  return l[INSTANCE_LABEL] === name && l[MANAGED_BY_LABEL] === 'kubeshark';
}

/** `exists`: a namespace that was already there and is left untouched. */
export type ApplyOutcome = 'created' | 'configured' | 'unchanged' | 'exists';

export interface AppliedObject {
  kind: string;
  namespace?: string;
  name: string;
  outcome: ApplyOutcome;
}

export interface ApplyOptions {
  /** Progress lines (`applying ServiceAccount default/kubeshark … created`); absent: silent. */
  progress?: (line: string) => void;
  /** The API server URL, for error messages. */
  server?: string;
  /** Default NAMESPACE_TERMINATING_WAIT_MS. */
  terminatingWaitMs?: number;
}

export function objectRef(o: {
  kind?: string;
  metadata?: { name?: string; namespace?: string };
}): string {
  const ns = o.metadata?.namespace;
  return `${o.kind ?? '?'} ${ns ? `${ns}/` : ''}${o.metadata?.name ?? '?'}`;
}

/**
 * Applies `objects` in order. Each object is reported as created (absent before), configured
 * (its resourceVersion changed) or unchanged; the Namespace as created or exists.
 */
export async function applyRelease(
  kc: KubeConfig,
  objects: readonly K8sObject[],
  o: ApplyOptions = {},
): Promise<AppliedObject[]> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  const out: AppliedObject[] = [];
  for (const obj of objects) {
    const spec = obj as KubernetesObject & { metadata: { name: string; namespace?: string } };
    const ref = objectRef(spec);
    let outcome: ApplyOutcome;
    try {
      outcome =
        spec.kind === 'Namespace'
          ? await ensureNamespace(api, spec, o.terminatingWaitMs ?? NAMESPACE_TERMINATING_WAIT_MS)
          : await applyOne(api, spec);
    } catch (e) {
      o.progress?.(`applying ${ref} … failed`);
      throw kubeError(e, `applying ${ref}`, o.server);
    }
    o.progress?.(`applying ${ref} … ${outcome === 'exists' ? 'exists, left as is' : outcome}`);
    out.push({
      kind: spec.kind!,
      ...(spec.metadata.namespace ? { namespace: spec.metadata.namespace } : {}),
      name: spec.metadata.name,
      outcome,
    });
  }
  return out;
}

async function readOrUndefined(
  api: KubernetesObjectApi,
  spec: KubernetesObject & { metadata: { name: string; namespace?: string } },
): Promise<KubernetesObject | undefined> {
  try {
    return await api.read({
      apiVersion: spec.apiVersion,
      kind: spec.kind,
      metadata: { name: spec.metadata.name, namespace: spec.metadata.namespace },
    });
  } catch (e) {
    if (statusCode(e) === 404) return undefined;
    throw e;
  }
}

async function applyOne(
  api: KubernetesObjectApi,
  spec: KubernetesObject & { metadata: { name: string; namespace?: string } },
): Promise<ApplyOutcome> {
  const before = await readOrUndefined(api, spec);
  const after = await api.patch(
    spec,
    undefined,
    undefined,
    FIELD_MANAGER,
    true,
    PatchStrategy.ServerSideApply,
  );
  if (!before) return 'created';
  return before.metadata?.resourceVersion === after.metadata?.resourceVersion
    ? 'unchanged'
    : 'configured';
}

/** Creates the namespace when missing (waiting out a Terminating one); never patches it. */
async function ensureNamespace(
  api: KubernetesObjectApi,
  spec: KubernetesObject & { metadata: { name: string; labels?: Record<string, string> } },
  waitMs: number,
): Promise<ApplyOutcome> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const cur = (await readOrUndefined(api, spec)) as
      (KubernetesObject & { status?: { phase?: string } }) | undefined;
    if (!cur) {
      try {
        await api.create(spec, undefined, undefined, FIELD_MANAGER);
        return 'created';
      } catch (e) {
        // Created meanwhile by someone else: it exists.
        if (statusCode(e) === 409) return 'exists';
        throw e;
      }
    }
    if (cur.status?.phase !== 'Terminating') {
      // Ours from an earlier `tap` (it carries the release labels): unchanged; else someone's.
      const release = spec.metadata.labels?.[INSTANCE_LABEL] ?? '';
      return createdByRelease(cur, release) ? 'unchanged' : 'exists';
    }
    if (Date.now() > deadline) {
      throw new KsError(
        'KS_ERR_KUBE_API',
        `namespace ${spec.metadata.name} is still terminating after ${Math.round(waitMs / 1000)} s; try again when it is gone`,
      );
    }
    await new Promise((r) => setTimeout(r, TERMINATING_POLL_MS));
  }
}
