/**
 * The scheduler's filter plugins that matter here, with the real reason strings: NodeName,
 * NodeUnschedulable, NodeAffinity (nodeSelector and required node affinity: matchExpressions on
 * labels, matchFields on metadata.name) and TaintToleration (NoSchedule/NoExecute taints).
 */
import type { KObj } from './store.ts';

interface Taint {
  key: string;
  value?: string;
  effect: string;
}
interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}
interface Requirement {
  key: string;
  operator: string;
  values?: string[];
}
interface Term {
  matchExpressions?: Requirement[];
  matchFields?: Requirement[];
}
export interface SchedPodSpec {
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  affinity?: {
    nodeAffinity?: {
      requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: Term[] };
    };
  };
}

function requirementMatches(r: Requirement, value: string | undefined): boolean {
  const vals = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return value !== undefined && vals.includes(value);
    case 'NotIn':
      return value === undefined || !vals.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
      return value !== undefined && Number(value) > Number(vals[0]);
    case 'Lt':
      return value !== undefined && Number(value) < Number(vals[0]);
    default:
      return false;
  }
}

function tolerates(tols: Toleration[], t: Taint): boolean {
  return tols.some((tol) => {
    if (tol.effect && tol.effect !== t.effect) return false;
    if (tol.operator === 'Exists') return !tol.key || tol.key === t.key;
    return tol.key === t.key && (tol.value ?? '') === (t.value ?? '');
  });
}

/** Why `node` cannot run the pod (the plugin's reason string), or undefined if it fits. */
export function unfitReason(spec: SchedPodSpec, node: KObj): string | undefined {
  const labels = (node.metadata.labels ?? {}) as Record<string, string>;
  const nodeSpec = (node.spec ?? {}) as { unschedulable?: boolean; taints?: Taint[] };
  if (spec.nodeName && spec.nodeName !== node.metadata.name)
    return "node(s) didn't match the requested node name";
  if (
    nodeSpec.unschedulable &&
    !tolerates(spec.tolerations ?? [], {
      key: 'node.kubernetes.io/unschedulable',
      effect: 'NoSchedule',
    })
  ) {
    return 'node(s) were unschedulable';
  }
  const sel = spec.nodeSelector ?? {};
  const terms =
    spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  const termOk = (t: Term): boolean =>
    (t.matchExpressions ?? []).every((r) => requirementMatches(r, labels[r.key])) &&
    (t.matchFields ?? []).every((r) =>
      requirementMatches(r, r.key === 'metadata.name' ? node.metadata.name : undefined),
    );
  if (
    !Object.entries(sel).every(([k, v]) => labels[k] === v) ||
    (terms !== undefined && terms.length > 0 && !terms.some(termOk))
  ) {
    return "node(s) didn't match Pod's node affinity/selector";
  }
  const blocking = (nodeSpec.taints ?? []).filter(
    (t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute',
  );
  const bad = blocking.find((t) => !tolerates(spec.tolerations ?? [], t));
  if (bad) return `node(s) had untolerated taint {${bad.key}: ${bad.value ?? ''}}`;
  return undefined;
}

/** The FailedScheduling message for a pod that fits none of `nodes`, as kube-scheduler 1.32 words it. */
export function unschedulableMessage(spec: SchedPodSpec, nodes: KObj[]): string {
  if (nodes.length === 0) return 'no nodes available to schedule pods';
  const counts = new Map<string, number>();
  for (const n of nodes) {
    const r = unfitReason(spec, n);
    if (r !== undefined) counts.set(r, (counts.get(r) ?? 0) + 1);
  }
  const parts = [...counts]
    .map(([r, c]) => `${c} ${r}`)
    .sort()
    .join(', ');
  const n = nodes.length;
  return `0/${n} nodes are available: ${parts}. preemption: 0/${n} nodes are available: ${n} Preemption is not helpful for scheduling.`;
}
