/**
 * `kubeshark clean`: deletes every object of a release, found by its labels (instance +
 * managed-by) for each kind the release applies — namespaced kinds in the release namespace,
 * the ClusterRole/ClusterRoleBinding by label and by the names this release gives them (so a
 * release of the same name in another namespace is left alone) — and the namespace only when
 * the release created it. ReplicaSets and Pods follow their owners (garbage collection).
 * Idempotent: a second run finds nothing and says so.
 */
import {
  KubernetesObjectApi,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { getPath, type ConfigTree } from '../config/load.ts';
import { version } from '../util/version.ts';
import { releaseObjects, type K8sObject } from './manifests.ts';
import { createdByRelease, objectRef, releaseSelector } from './apply.ts';
import { kubeError, kubeOptionsOf, loadKubeConfig, statusCode } from './config.ts';

export interface RemovedObject {
  kind: string;
  namespace?: string;
  name: string;
}

export interface CleanOptions {
  kc: KubeConfig;
  /** releaseObjects(config) of the release: which kinds to look for. */
  objects: readonly K8sObject[];
  release: string;
  namespace: string;
  /** A line per removed object (`removed Deployment default/kubeshark-hub`). */
  progress?: (line: string) => void;
}

type Obj = KubernetesObject & { metadata: { name: string; namespace?: string } };

export async function cleanRelease(o: CleanOptions): Promise<RemovedObject[]> {
  const api = KubernetesObjectApi.makeApiClient(o.kc);
  const server = o.kc.getCurrentCluster()?.server;
  const selector = releaseSelector(o.release);
  const removed: RemovedObject[] = [];
  const kinds = new Map<string, { apiVersion: string; kind: string; namespaced: boolean }>();
  /** Cluster-scoped objects are deleted only under the names this release gives them. */
  const clusterNames = new Set<string>();
  let namespaceObj: K8sObject | undefined;
  for (const obj of o.objects) {
    if (obj.kind === 'Namespace') {
      namespaceObj = obj;
      continue;
    }
    const namespaced = obj.metadata?.namespace !== undefined;
    if (!namespaced) clusterNames.add(`${obj.kind}/${obj.metadata?.name}`);
    kinds.set(`${obj.apiVersion}/${obj.kind}`, {
      apiVersion: obj.apiVersion!,
      kind: obj.kind!,
      namespaced,
    });
  }

  const remove = async (spec: Obj): Promise<void> => {
    try {
      await api.delete(spec, undefined, undefined, undefined, undefined, 'Background');
    } catch (e) {
      if (statusCode(e) === 404) return; // gone meanwhile: that is what we want
      throw kubeError(e, `deleting ${objectRef(spec)}`, server);
    }
    removed.push({
      kind: spec.kind!,
      ...(spec.metadata.namespace ? { namespace: spec.metadata.namespace } : {}),
      name: spec.metadata.name,
    });
    o.progress?.(`removed ${objectRef(spec)}`);
  };

  // Workloads first (their pods stop), then what they use, cluster-wide RBAC last.
  const order = [...kinds.values()].sort((a, b) => rank(a.kind) - rank(b.kind));
  for (const k of order) {
    let items: Obj[];
    try {
      const list = await api.list<Obj>(
        k.apiVersion,
        k.kind,
        k.namespaced ? o.namespace : undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        selector,
      );
      items = list.items;
    } catch (e) {
      if (statusCode(e) === 404) continue; // the kind is not served (or the namespace is gone)
      throw kubeError(e, `listing ${k.kind} ${selector}`, server);
    }
    for (const item of items) {
      const spec: Obj = {
        apiVersion: k.apiVersion,
        kind: k.kind,
        metadata: { name: item.metadata.name, namespace: item.metadata.namespace },
      };
      if (!k.namespaced && !clusterNames.has(`${k.kind}/${item.metadata.name}`)) continue;
      await remove(spec);
    }
  }

  if (namespaceObj) {
    const spec: Obj = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: o.namespace },
    };
    let ns: KubernetesObject | undefined;
    try {
      ns = await api.read(spec);
    } catch (e) {
      if (statusCode(e) !== 404) throw kubeError(e, `reading namespace ${o.namespace}`, server);
    }
    const terminating = (ns as { status?: { phase?: string } } | undefined)?.status?.phase;
    if (ns && createdByRelease(ns, o.release) && terminating !== 'Terminating') await remove(spec);
  }
  return removed;
}

/** What cleanConfiguredRelease removed, and from where (for its caller's message). */
export interface ConfiguredClean {
  removed: RemovedObject[];
  release: string;
  namespace: string;
  /** The kubeconfig context used. */
  context: string;
}

/**
 * `clean` of the release a resolved config names (`tap.release.*`, the `kube.*` kubeconfig
 * options): what `kubeshark clean` and MCP's stop_kubeshark both run.
 */
export async function cleanConfiguredRelease(
  config: ConfigTree,
  progress?: (line: string) => void,
): Promise<ConfiguredClean> {
  const { kc, context } = loadKubeConfig(kubeOptionsOf(config));
  const namespace = getPath(config, 'tap.release.namespace') as string;
  const release = getPath(config, 'tap.release.name') as string;
  const removed = await cleanRelease({
    kc,
    objects: releaseObjects(config, { version: version() }),
    release,
    namespace,
    progress,
  });
  return { removed, release, namespace, context };
}

const RANK: Record<string, number> = {
  DaemonSet: 0,
  Deployment: 1,
  Service: 2,
  ConfigMap: 3,
  ServiceAccount: 4,
  ClusterRoleBinding: 5,
  ClusterRole: 6,
};
function rank(kind: string): number {
  return RANK[kind] ?? 3;
}
