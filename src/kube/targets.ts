/**
 * Pod targeting (`kubeshark tap POD_REGEX -n NS -e EXCLUDED`): which pods' traffic is kept, and
 * which node keeps a flow so that a call is recorded exactly once in the cluster.
 *
 * A worker on node N keeps a flow (every entry of it: L7 calls and L4 records) when
 *   - its server is a targeted pod on N, or
 *   - its client is a targeted pod on N and the server is not a targeted pod on another node
 *     (that node keeps it);
 * and drops flows that touch no targeted pod. So pod→pod across nodes is kept by the server's
 * node only, pod→outside by the client's node, outside→pod by the server's node.
 *
 * hostNetwork pods are never targets: their IP is the node's, shared with every other
 * hostNetwork pod and the kubelet, so an IP cannot say which of them talks.
 *
 * Churn and IP reuse: the decision is made per entry at its capture time, against the identity
 * table's IP history (KubeIdentityTable.podAt), not against the current pod list. Entries leave
 * the pipeline after their connection ends or is idle-flushed (up to tap.limits.idleTimeoutSec
 * later), by which time the pod may be gone and its IP handed to another pod in another
 * namespace; deciding by current state would then keep or drop the flow for the new owner.
 * History also makes replays of capture files decide as they would have live. The selection
 * itself (regex, namespaces) is fixed for the worker's life; pods that start matching (created)
 * or stop (deleted) are followed by the informer without restarting anything.
 */
import { getPath, type ConfigTree } from '../config/load.ts';
import type { KubeObject, KubePodAt } from '../enrich/kube-table.ts';
import type { Entry } from '../entry/model.ts';
import { KsError } from '../util/errors.ts';
import { INSTANCE_LABEL, MANAGED_BY_LABEL } from './manifests.ts';

/** What `tap.regex`, `tap.namespaces` and `tap.excludedNamespaces` select. */
export interface TargetSelection {
  /** Pod names to tap (searched, not anchored: Kubeshark's Go `MatchString`). */
  regex: RegExp;
  /** Namespaces to tap; empty: all. */
  namespaces: ReadonlySet<string>;
  /** Namespaces never tapped (wins over `namespaces`). */
  excluded: ReadonlySet<string>;
  /**
   * Kubeshark's own release (`tap.release.name`): its pods (labelled with it as
   * app.kubernetes.io/instance and managed-by kubeshark) are never targets, or the hub's queries
   * to the workers would be captured, stored and queried again.
   */
  release?: string;
}

export function targetSelection(o: {
  regex?: string;
  namespaces?: readonly string[];
  excludedNamespaces?: readonly string[];
  release?: string;
}): TargetSelection {
  let regex: RegExp;
  try {
    regex = new RegExp(o.regex === undefined || o.regex === '' ? '.*' : o.regex);
  } catch (err) {
    throw new KsError(
      'KS_ERR_USAGE',
      `tap.regex is not a valid regular expression: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return {
    regex,
    namespaces: new Set(o.namespaces ?? []),
    excluded: new Set(o.excludedNamespaces ?? []),
    ...(o.release && { release: o.release }),
  };
}

/** The selection of a resolved config (`tap.regex`, `tap.namespaces`, `tap.excludedNamespaces`). */
export function targetSelectionFromConfig(config: ConfigTree): TargetSelection {
  return targetSelection({
    regex: getPath(config, 'tap.regex') as string,
    namespaces: getPath(config, 'tap.namespaces') as string[],
    excludedNamespaces: getPath(config, 'tap.excludedNamespaces') as string[],
    release: getPath(config, 'tap.release.name') as string,
  });
}

/** Whether a pod of this name, namespace and labels is selected (state aside). */
export function selects(
  sel: TargetSelection,
  name: string,
  namespace: string,
  labels?: Readonly<Record<string, string>>,
): boolean {
  if (sel.excluded.has(namespace)) return false;
  if (
    sel.release !== undefined &&
    labels?.[INSTANCE_LABEL] === sel.release &&
    labels[MANAGED_BY_LABEL] === 'kubeshark'
  )
    return false;
  if (sel.namespaces.size > 0 && !sel.namespaces.has(namespace)) return false;
  return sel.regex.test(name);
}

/** A targeted pod as it is now. */
export interface TargetPod {
  name: string;
  namespace: string;
  /** Its node (`spec.nodeName`); absent while unscheduled. */
  node?: string;
  ips: string[];
}

interface PodFields {
  spec?: { nodeName?: string; hostNetwork?: boolean };
  status?: { podIP?: string; podIPs?: { ip?: string }[]; phase?: string };
}

/**
 * The targeted pods among `pods` (v1 JSON or client-node objects), sorted by namespace and name:
 * selected by name and namespace, not hostNetwork, not finished (Succeeded/Failed pods released
 * their IP), with at least one IP (a pod without one has no traffic yet).
 */
export function targetedPods(pods: readonly KubeObject[], sel: TargetSelection): TargetPod[] {
  const out: TargetPod[] = [];
  for (const p of pods) {
    const name = p.metadata?.name;
    if (!name) continue;
    const namespace = p.metadata?.namespace ?? '';
    const { spec, status } = p as PodFields;
    if (spec?.hostNetwork === true) continue;
    if (status?.phase === 'Succeeded' || status?.phase === 'Failed') continue;
    if (!selects(sel, name, namespace, p.metadata?.labels)) continue;
    const ips = new Set<string>();
    for (const x of status?.podIPs ?? []) if (x.ip) ips.add(x.ip);
    if (status?.podIP) ips.add(status.podIP);
    if (ips.size === 0) continue;
    const t: TargetPod = { name, namespace, ips: [...ips] };
    if (spec?.nodeName) t.node = spec.nodeName;
    out.push(t);
  }
  return out.sort((a, b) =>
    a.namespace === b.namespace
      ? a.name.localeCompare(b.name)
      : a.namespace.localeCompare(b.namespace),
  );
}

/**
 * Where a targeted pod is: the node of the targeted pod that held `ip` at `tsUs` (`""` when it
 * had none), undefined when no targeted pod held it.
 */
export type TargetLocator = (ip: string, tsUs: number) => string | undefined;

/** A locator over the current state (`targetedPods`): for `--dry-run`-like views and tests. */
export function currentLocator(targets: readonly TargetPod[]): TargetLocator {
  const byIp = new Map<string, string>();
  for (const t of targets) for (const ip of t.ips) byIp.set(ip, t.node ?? '');
  return (ip) => byIp.get(ip);
}

/** A locator by capture time over a pod history (KubeIdentityTable.podAt). */
export function historyLocator(
  podAt: (ip: string, tsUs: number) => KubePodAt | undefined,
  sel: TargetSelection,
): TargetLocator {
  return (ip, tsUs) => {
    const p = podAt(ip, tsUs);
    return p && selects(sel, p.name, p.namespace, p.labels) ? (p.node ?? '') : undefined;
  };
}

/**
 * The exactly-once rule: whether the worker on `node` keeps a flow whose client's targeted pod
 * is on `clientNode` and server's on `serverNode` (undefined: not a targeted pod).
 */
export function keepFlow(
  node: string,
  clientNode: string | undefined,
  serverNode: string | undefined,
): boolean {
  if (serverNode !== undefined) return serverNode === node;
  return clientNode === node;
}

/** The worker's flow filter for `node`: entries are client (`src`) → server (`dst`). */
export function flowFilter(node: string, locate: TargetLocator): (e: Entry) => boolean {
  return (e) => keepFlow(node, locate(e.src.ip, e.timestamp), locate(e.dst.ip, e.timestamp));
}
