/**
 * `tap --dry-run`: which pods `tap` would dissect, by the same rule the workers apply
 * (targets.ts: tap.regex searched in the pod name, tap.namespaces — empty: all — minus
 * tap.excludedNamespaces, never hostNetwork, finished or IP-less pods, never the release's own).
 * `previewRows` is the pure part; `previewTargets` lists the cluster's pods.
 */
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { kubeError } from './config.ts';
import { targetedPods, type TargetSelection } from './targets.ts';

export interface PreviewRow {
  namespace: string;
  name: string;
  node: string;
  /** The pod's IPs, comma-separated. */
  ip: string;
}

/** The targeted pods among `pods` as rows, sorted by namespace then name. */
export function previewRows(pods: readonly V1Pod[], sel: TargetSelection): PreviewRow[] {
  return targetedPods(pods, sel).map((t) => ({
    namespace: t.namespace,
    name: t.name,
    node: t.node ?? '',
    ip: t.ips.join(','),
  }));
}

/** Lists the pods (in the selected namespaces, else everywhere) and keeps the targeted ones. */
export async function previewTargets(kc: KubeConfig, sel: TargetSelection): Promise<PreviewRow[]> {
  const core = kc.makeApiClient(CoreV1Api);
  const server = kc.getCurrentCluster()?.server;
  const pods: V1Pod[] = [];
  try {
    if (sel.namespaces.size === 0) {
      pods.push(...(await core.listPodForAllNamespaces()).items);
    } else {
      for (const ns of sel.namespaces) {
        pods.push(...(await core.listNamespacedPod({ namespace: ns })).items);
      }
    }
  } catch (e) {
    throw kubeError(e, 'listing pods', server);
  }
  return previewRows(pods, sel);
}

/** A plain text table: NAMESPACE NAME NODE IP. */
export function formatTargets(pods: readonly PreviewRow[]): string {
  const rows = [
    ['NAMESPACE', 'NAME', 'NODE', 'IP'],
    ...pods.map((p) => [p.namespace, p.name, p.node || '<none>', p.ip || '<none>']),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return (
    rows
      .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('   '))
      .join('\n') + '\n'
  );
}
