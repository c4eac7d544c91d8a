/** The resource types the simulated API server serves; discovery, routing and storage all read this table. */
export interface ResourceDef {
  group: string; // '' for core
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  /** Has a /status subresource: the main endpoint ignores .status, /status changes only .status. */
  hasStatus: boolean;
  /** metadata.generation is bumped when anything outside metadata/status changes. */
  tracksGeneration: boolean;
  /** Discovery categories; `all` makes `kubectl get all` include the kind. */
  categories: string[];
  /** Verbs served (default: all CRUD verbs). */
  verbs?: string[];
  /** Not stored: a POST is answered from the body (SelfSubjectAccessReview). */
  virtual?: boolean;
}

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function def(
  group: string,
  version: string,
  kind: string,
  plural: string,
  namespaced: boolean,
  shortNames: string[] = [],
  hasStatus = false,
  tracksGeneration = false,
): ResourceDef {
  return {
    group,
    version,
    kind,
    plural,
    singular: kind.toLowerCase(),
    namespaced,
    shortNames,
    hasStatus,
    tracksGeneration,
    categories: ['pods', 'services', 'deployments', 'daemonsets', 'replicasets'].includes(plural)
      ? ['all']
      : [],
  };
}

export const RESOURCES: readonly ResourceDef[] = [
  def('', 'v1', 'Namespace', 'namespaces', false, ['ns'], true),
  def('', 'v1', 'Pod', 'pods', true, ['po'], true, true),
  def('', 'v1', 'Service', 'services', true, ['svc'], true),
  def('', 'v1', 'ConfigMap', 'configmaps', true, ['cm']),
  def('', 'v1', 'Secret', 'secrets', true),
  def('', 'v1', 'ServiceAccount', 'serviceaccounts', true, ['sa']),
  def('', 'v1', 'Node', 'nodes', false, ['no'], true),
  def('', 'v1', 'Event', 'events', true, ['ev']),
  def('', 'v1', 'Endpoints', 'endpoints', true, ['ep']),
  def('apps', 'v1', 'Deployment', 'deployments', true, ['deploy'], true, true),
  def('apps', 'v1', 'DaemonSet', 'daemonsets', true, ['ds'], true, true),
  def('apps', 'v1', 'ReplicaSet', 'replicasets', true, ['rs'], true, true),
  def('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', false),
  def('rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', false),
  def('rbac.authorization.k8s.io', 'v1', 'Role', 'roles', true),
  def('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings', true),
  def('discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices', true),
  def('networking.k8s.io', 'v1', 'NetworkPolicy', 'networkpolicies', true, ['netpol']),
  {
    ...def(
      'authorization.k8s.io',
      'v1',
      'SelfSubjectAccessReview',
      'selfsubjectaccessreviews',
      false,
    ),
    verbs: ['create'],
    virtual: true,
  },
];

export function apiVersionOf(r: ResourceDef): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

export function findResource(
  group: string,
  version: string,
  plural: string,
): ResourceDef | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

export function resourcesOf(group: string, version: string): ResourceDef[] {
  return RESOURCES.filter((r) => r.group === group && r.version === version);
}

/** Groups other than core, in discovery order. */
export function apiGroups(): { name: string; version: string }[] {
  const seen = new Map<string, string>();
  for (const r of RESOURCES) if (r.group !== '' && !seen.has(r.group)) seen.set(r.group, r.version);
  return [...seen].map(([name, version]) => ({ name, version }));
}

/** APIResourceList as served at /api/v1 and /apis/<group>/<version>. */
export function apiResourceList(group: string, version: string): Record<string, unknown> {
  const resources: Record<string, unknown>[] = [];
  for (const r of resourcesOf(group, version)) {
    resources.push({
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs ?? VERBS,
      ...(r.shortNames.length > 0 ? { shortNames: r.shortNames } : {}),
      ...(r.categories.length > 0 ? { categories: r.categories } : {}),
    });
    if (r.kind === 'Pod') {
      resources.push({
        name: 'pods/log',
        singularName: '',
        namespaced: true,
        kind: 'Pod',
        verbs: ['get'],
      });
      resources.push({
        name: 'pods/portforward',
        singularName: '',
        namespaced: true,
        kind: 'PodPortForwardOptions',
        verbs: ['create', 'get'],
      });
    }
    if (r.hasStatus) {
      resources.push({
        name: `${r.plural}/status`,
        singularName: '',
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: ['get', 'patch', 'update'],
      });
    }
  }
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group === '' ? version : `${group}/${version}`,
    resources,
  };
}
