/**
 * The objects of a Kubeshark release, built once from the config. `kubeshark tap` applies
 * `releaseObjects(config)`; `scripts/gen-helm-chart.ts` renders the same builder with marker
 * values and turns the markers into `{{ .Values.… }}` expressions, so the chart and `tap` cannot
 * drift (test/helm-chart.test.ts regenerates and compares).
 */
import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1ConfigMap,
  V1Container,
  V1DaemonSet,
  V1Deployment,
  V1Namespace,
  V1NetworkPolicy,
  V1PodSecurityContext,
  V1SecurityContext,
  V1Probe,
  V1ResourceRequirements,
  V1Service,
  V1ServiceAccount,
  V1Toleration,
} from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import { getPath, type ConfigTree } from '../config/load.ts';

export type Component = 'hub' | 'front' | 'worker';

export type K8sObject =
  | V1Namespace
  | V1ServiceAccount
  | V1ClusterRole
  | V1ClusterRoleBinding
  | V1ConfigMap
  | V1Deployment
  | V1DaemonSet
  | V1Service
  | V1NetworkPolicy;

/** Label every object carries; `clean` selects on it together with the instance label. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const INSTANCE_LABEL = 'app.kubernetes.io/instance';
export const NAME_LABEL = 'app.kubernetes.io/name';
export const COMPONENT_LABEL = 'app.kubernetes.io/component';
/** Where the ConfigMap is mounted in every container (KUBESHARK_CONFIG points at the file). */
export const CONFIG_MOUNT_DIR = '/etc/kubeshark';
export const CONFIG_FILE_KEY = 'config.yaml';
/** Pod template annotation holding the config checksum: re-applying a changed config rolls pods. */
export const CONFIG_CHECKSUM_ANNOTATION = 'kubeshark.io/config-checksum';

/** Least privilege: what the hub needs to resolve and discover; nothing else (issue 5). */
export const CLUSTER_ROLE_RULES = [
  {
    apiGroups: [''],
    resources: ['pods', 'services', 'endpoints', 'namespaces', 'nodes'],
    verbs: ['get', 'list', 'watch'],
  },
  {
    apiGroups: ['discovery.k8s.io'],
    resources: ['endpointslices'],
    verbs: ['get', 'list', 'watch'],
  },
] as const;

/**
 * Capabilities added to the worker after dropping ALL: NET_RAW (packet sockets) and NET_ADMIN
 * (promiscuous mode, capture buffer); SETUID/SETGID because Debian's tcpdump drops from root to
 * its `tcpdump` user after opening the interface (even `-Z root` calls setgroups/setuid) and
 * exits without them; KILL because a root worker cannot otherwise signal that user's process
 * (no SIGUSR1 counters, no stop: the pod would hang until its grace period). In the pod's own
 * PID namespace KILL reaches only the worker's processes. Each is proven necessary by
 * src/kube/capabilities.test.ts.
 */
export const WORKER_CAPABILITIES = ['NET_RAW', 'NET_ADMIN', 'SETUID', 'SETGID', 'KILL'] as const;

/**
 * The hub and the front run as this unprivileged user (the image's `nobody`-like id, no entry in
 * /etc/passwd needed), with a read-only root filesystem: their only writable place is an emptyDir
 * at /tmp (MCP downloads, Node's temporary files), which is also their HOME.
 */
export const NON_ROOT_UID = 65532;

/** Pod-level hardening of the hub and the front. */
export const NON_ROOT_POD_SECURITY: V1PodSecurityContext = {
  runAsNonRoot: true,
  runAsUser: NON_ROOT_UID,
  runAsGroup: NON_ROOT_UID,
  fsGroup: NON_ROOT_UID,
  seccompProfile: { type: 'RuntimeDefault' },
};

/** Container-level hardening of the hub and the front. */
export const NON_ROOT_CONTAINER_SECURITY: V1SecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};

/**
 * Where the builder gets values. The real source reads the config; the chart generator's source
 * returns markers that become template expressions. Keys are config keys (`tap.…`).
 */
export interface ValueSource {
  /** A string value (or an int used as a string, e.g. in container args). */
  str(key: string): string;
  int(key: string): number;
  /** Whether a list/map key is non-empty: guards optional fields. */
  present(key: string): boolean;
  /** A boolean key guarding whole objects (the chart wraps them in `{{- if }}`). */
  enabled(key: string): boolean;
  /** A map<string,string> value used whole (nodeSelector, annotations). */
  map(key: string): Record<string, string>;
  /** Tolerations built from a list of taint keys. */
  tolerations(key: string): V1Toleration[];
  /** Fixed labels plus the user's map key (fixed ones win). */
  merged(fixed: Record<string, string>, key: string): Record<string, string>;
  /** The effective config as YAML, for the ConfigMap. */
  configYaml(): string;
  /** sha256 of the config (pod template annotation: a changed config rolls the pods). */
  configChecksum(): string;
  /** Image tag (tap.docker.tag, empty: the version). */
  tag(): string;
}

/**
 * The release's objects in apply order. Pure: same config, same objects. The Namespace comes
 * first and is meant to be created only when missing: an existing namespace (e.g. `default`)
 * must not be patched with the release labels, or `clean` would delete it.
 */
export function releaseObjects(config: ConfigTree, opts: { version: string }): K8sObject[] {
  return buildObjects(configSource(config, opts.version));
}

/** The ValueSource that reads a resolved config. */
export function configSource(config: ConfigTree, version: string): ValueSource {
  const get = (key: string): unknown => getPath(config, key);
  return {
    str: (key) => String(get(key)),
    int: (key) => Number(get(key)),
    present: (key) => {
      const v = get(key);
      if (Array.isArray(v)) return v.length > 0;
      return typeof v === 'object' && v !== null && Object.keys(v).length > 0;
    },
    enabled: (key) => get(key) === true,
    map: (key) => ({ ...(get(key) as Record<string, string>) }),
    tolerations: (key) =>
      (get(key) as string[]).map((k) => ({ key: k, operator: 'Exists' }) as V1Toleration),
    merged: (fixed, key) => ({ ...(get(key) as Record<string, string>), ...fixed }),
    configYaml: () => stringify(config),
    // Helm's `toYaml .Values | sha256sum`: the YAML without its final newline.
    configChecksum: () =>
      createHash('sha256').update(stringify(config).replace(/\n$/, '')).digest('hex'),
    tag: () => (get('tap.docker.tag') as string) || version,
  };
}

/** Builds every object from a ValueSource (shared by `tap` and the chart generator). */
export function buildObjects(v: ValueSource): K8sObject[] {
  const name = v.str('tap.release.name');
  const ns = v.str('tap.release.namespace');
  const labels = (component?: Component): Record<string, string> =>
    v.merged(
      {
        [NAME_LABEL]: 'kubeshark',
        [INSTANCE_LABEL]: name,
        [MANAGED_BY_LABEL]: 'kubeshark',
        ...(component ? { [COMPONENT_LABEL]: component } : {}),
      },
      'tap.labels',
    );
  const selector = (component: Component): Record<string, string> => ({
    [NAME_LABEL]: 'kubeshark',
    [INSTANCE_LABEL]: name,
    [COMPONENT_LABEL]: component,
  });
  const meta = (objName: string, component?: Component, namespaced = true) => ({
    name: objName,
    ...(namespaced ? { namespace: ns } : {}),
    labels: labels(component),
    ...(v.present('tap.annotations') ? { annotations: v.map('tap.annotations') } : {}),
  });
  const svcName = (c: Component): string => `${name}-${c}`;
  const image = `${v.str('tap.docker.registry')}/kubeshark:${v.tag()}`;
  // In-cluster ports; tap.proxy.{hub,front}.port are the local ends of port-forwards.
  const hubPortKey = 'tap.proxy.hub.srvPort';
  const frontPortKey = 'tap.proxy.front.srvPort';
  const workerPortKey = 'tap.proxy.worker.srvPort';

  const probe = (component: Component, portKey: string, liveness: boolean): V1Probe => ({
    httpGet: { path: '/api/health', port: v.int(portKey) },
    initialDelaySeconds: v.int(`tap.probes.${component}.initialDelaySeconds`),
    periodSeconds: v.int(`tap.probes.${component}.periodSeconds`),
    // Kubernetes requires successThreshold 1 on liveness probes.
    successThreshold: liveness ? 1 : v.int(`tap.probes.${component}.successThreshold`),
    failureThreshold: v.int(`tap.probes.${component}.failureThreshold`),
  });
  const resources = (component: Component): V1ResourceRequirements => ({
    requests: {
      cpu: v.str(`tap.resources.${component}.requests.cpu`),
      memory: v.str(`tap.resources.${component}.requests.memory`),
    },
    limits: {
      cpu: v.str(`tap.resources.${component}.limits.cpu`),
      memory: v.str(`tap.resources.${component}.limits.memory`),
    },
  });
  const container = (
    component: Component,
    args: string[],
    ports: { name: string; key: string }[],
  ): V1Container => ({
    name: component,
    image,
    imagePullPolicy: v.str('tap.docker.imagePullPolicy'),
    args,
    env: [
      { name: 'KUBESHARK_CONFIG', value: `${CONFIG_MOUNT_DIR}/${CONFIG_FILE_KEY}` },
      { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
      { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
    ],
    ports: ports.map((p) => ({ name: p.name, containerPort: v.int(p.key), protocol: 'TCP' })),
    readinessProbe: probe(component, ports[0]!.key, false),
    livenessProbe: probe(component, ports[0]!.key, true),
    resources: resources(component),
    volumeMounts: [{ name: 'config', mountPath: CONFIG_MOUNT_DIR, readOnly: true }],
  });
  const podSpecExtras = (tolerationsKey: string) => ({
    ...(v.present(tolerationsKey) ? { tolerations: v.tolerations(tolerationsKey) } : {}),
    ...(v.present('tap.nodeSelector') ? { nodeSelector: v.map('tap.nodeSelector') } : {}),
  });
  const volumes = [{ name: 'config', configMap: { name: `${name}-config` } }];
  const templateAnnotations = { [CONFIG_CHECKSUM_ANNOTATION]: v.configChecksum() };
  const service = (component: Component, portKey: string): V1Service => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(svcName(component), component),
    spec: {
      type: 'ClusterIP',
      selector: selector(component),
      ports: [{ name: 'http', port: v.int(portKey), targetPort: v.int(portKey), protocol: 'TCP' }],
    },
  });
  const deployment = (component: Component, c: V1Container, tolKey: string): V1Deployment => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(svcName(component), component),
    spec: {
      replicas: 1,
      selector: { matchLabels: selector(component) },
      template: {
        metadata: { labels: labels(component), annotations: templateAnnotations },
        spec: {
          serviceAccountName: name,
          securityContext: NON_ROOT_POD_SECURITY,
          containers: [
            {
              ...c,
              env: [...(c.env ?? []), { name: 'HOME', value: '/tmp' }],
              securityContext: NON_ROOT_CONTAINER_SECURITY,
              volumeMounts: [...(c.volumeMounts ?? []), { name: 'tmp', mountPath: '/tmp' }],
            },
          ],
          volumes: [...volumes, { name: 'tmp', emptyDir: {} }],
          ...podSpecExtras(tolKey),
        },
      },
    },
  });

  const hub = container(
    'hub',
    // --discover: the hub finds the workers from the DaemonSet's pods (tap.release.*).
    ['hub', '--port', v.str(hubPortKey), '--discover'],
    [{ name: 'http', key: hubPortKey }],
  );
  const front = container(
    'front',
    [
      'front',
      '--port',
      v.str(frontPortKey),
      '--hub',
      `http://${svcName('hub')}.${ns}.svc:${v.str(hubPortKey)}`,
    ],
    [{ name: 'http', key: frontPortKey }],
  );
  const worker = container(
    'worker',
    [
      'worker',
      '--kube',
      '-i',
      'any',
      // The node's address, not 0.0.0.0: hostNetwork pods share the node's ports.
      '--host',
      '$(POD_IP)',
      '--port',
      v.str(workerPortKey),
      '--metrics-port',
      v.str('tap.metrics.port'),
      '--node',
      '$(NODE_NAME)',
    ],
    [
      { name: 'http', key: workerPortKey },
      { name: 'metrics', key: 'tap.metrics.port' },
    ],
  );
  worker.securityContext = {
    capabilities: { drop: ['ALL'], add: [...WORKER_CAPABILITIES] },
  };

  /**
   * Who may connect to whom. The front is the entry point (an ingress, a port-forward); the hub
   * takes connections from the front only; the workers' API from the hub only, their metrics
   * port from anywhere (counters, no traffic). Port-forwards enter the pod itself and are not
   * subject to these. Most CNIs do not apply NetworkPolicies to hostNetwork pods (the workers):
   * there the hub–worker authentication is what keeps others out.
   */
  const podsOf = (c: Component) => ({ podSelector: { matchLabels: selector(c) } });
  // Rules as the API spells them (`from`; the client library's type calls it `_from`).
  type Rule = { from?: ReturnType<typeof podsOf>[]; ports: { protocol: string; port: number }[] };
  const policy = (component: Component, rules: Rule[]): V1NetworkPolicy => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta(`${name}-${component}`, component),
    spec: {
      ...podsOf(component),
      policyTypes: ['Ingress'],
      ingress: rules as NonNullable<V1NetworkPolicy['spec']>['ingress'],
    },
  });
  const tcp = (key: string) => ({ protocol: 'TCP', port: v.int(key) });
  const policies: V1NetworkPolicy[] = v.enabled('tap.networkPolicy.enabled')
    ? [
        policy('front', [{ ports: [tcp(frontPortKey)] }]),
        policy('hub', [{ from: [podsOf('front')], ports: [tcp(hubPortKey)] }]),
        policy('worker', [
          { from: [podsOf('hub')], ports: [tcp(workerPortKey)] },
          { ports: [tcp('tap.metrics.port')] },
        ]),
      ]
    : [];

  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: meta(ns, undefined, false) },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(name) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: meta(`${name}-${ns}`, undefined, false),
      rules: CLUSTER_ROLE_RULES.map((r) => ({
        apiGroups: [...r.apiGroups],
        resources: [...r.resources],
        verbs: [...r.verbs],
      })),
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: meta(`${name}-${ns}`, undefined, false),
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: `${name}-${ns}`,
      },
      subjects: [{ kind: 'ServiceAccount', name, namespace: ns }],
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(`${name}-config`),
      data: { [CONFIG_FILE_KEY]: v.configYaml() },
    },
    deployment('hub', hub, 'tap.tolerations.hub'),
    service('hub', hubPortKey),
    deployment('front', front, 'tap.tolerations.front'),
    service('front', frontPortKey),
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: meta(`${name}-worker`, 'worker'),
      spec: {
        selector: { matchLabels: selector('worker') },
        template: {
          metadata: { labels: labels('worker'), annotations: templateAnnotations },
          spec: {
            serviceAccountName: name,
            // The capture needs root with the capabilities above; the syscalls stay filtered.
            securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
            hostNetwork: true,
            dnsPolicy: 'ClusterFirstWithHostNet',
            containers: [worker],
            volumes,
            ...podSpecExtras('tap.tolerations.workers'),
          },
        },
      },
    },
    ...policies,
  ];
}
