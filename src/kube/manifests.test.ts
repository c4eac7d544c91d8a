import { test } from 'node:test';
import assert from 'node:assert/strict';
import type {
  V1Container,
  V1DaemonSet,
  V1Deployment,
  V1NetworkPolicy,
  V1PodSpec,
} from '@kubernetes/client-node';
import { parse } from 'yaml';
import { defaultConfig, loadConfig, type ConfigTree } from '../config/load.ts';
import { CONFIG_CHECKSUM_ANNOTATION, releaseObjects, type K8sObject } from './manifests.ts';

const V = '1.2.3';

function cfgWith(sets: string[]): ConfigTree {
  return loadConfig({ configPath: '/dev/null', env: {}, sets });
}
function byKind(objs: K8sObject[], kind: string, component?: string): K8sObject {
  const o = objs.find(
    (x) =>
      x.kind === kind &&
      (component === undefined ||
        x.metadata?.labels?.['app.kubernetes.io/component'] === component),
  );
  assert.ok(o, `${kind} ${component ?? ''} present`);
  return o;
}
function podSpec(o: K8sObject): V1PodSpec {
  return (o as V1Deployment | V1DaemonSet).spec!.template.spec!;
}
function container(o: K8sObject): V1Container {
  return podSpec(o).containers[0]!;
}

test('objects in apply order, every one labelled with the release', () => {
  const objs = releaseObjects(cfgWith(['tap.release.name=rel', 'tap.release.namespace=ns1']), {
    version: V,
  });
  assert.deepEqual(
    objs.map((o) => o.kind),
    [
      'Namespace',
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
      'ConfigMap',
      'Deployment',
      'Service',
      'Deployment',
      'Service',
      'DaemonSet',
      'NetworkPolicy',
      'NetworkPolicy',
      'NetworkPolicy',
    ],
  );
  for (const o of objs) {
    const l = o.metadata!.labels!;
    assert.equal(l['app.kubernetes.io/name'], 'kubeshark', o.kind);
    assert.equal(l['app.kubernetes.io/instance'], 'rel', o.kind);
    assert.equal(l['app.kubernetes.io/managed-by'], 'kubeshark', o.kind);
    const clusterScoped = ['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind!);
    assert.equal(o.metadata!.namespace, clusterScoped ? undefined : 'ns1', o.kind);
  }
  assert.equal(byKind(objs, 'Namespace').metadata!.name, 'ns1');
  for (const c of ['hub', 'front', 'worker']) {
    const w = byKind(objs, c === 'worker' ? 'DaemonSet' : 'Deployment', c) as V1Deployment;
    assert.equal(w.spec!.template.metadata!.labels!['app.kubernetes.io/instance'], 'rel');
    assert.equal(w.spec!.selector.matchLabels!['app.kubernetes.io/component'], c);
  }
});

test('ClusterRole is exactly read-only on the resources the roles need', () => {
  const objs = releaseObjects(defaultConfig(), { version: V });
  const role = byKind(objs, 'ClusterRole') as { rules: unknown[] };
  assert.deepEqual(role.rules, [
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
  ]);
  const binding = byKind(objs, 'ClusterRoleBinding') as {
    roleRef: { name: string };
    subjects: { name: string; namespace: string }[];
  };
  assert.equal(binding.roleRef.name, byKind(objs, 'ClusterRole').metadata!.name);
  assert.deepEqual(binding.subjects, [
    { kind: 'ServiceAccount', name: 'kubeshark', namespace: 'default' },
  ]);
});

test('worker: hostNetwork, capabilities exactly NET_RAW+NET_ADMIN (+SETUID/SETGID/KILL for tcpdump) after dropping ALL', () => {
  const objs = releaseObjects(defaultConfig(), { version: V });
  const ds = byKind(objs, 'DaemonSet');
  assert.equal(podSpec(ds).hostNetwork, true);
  assert.equal(podSpec(ds).dnsPolicy, 'ClusterFirstWithHostNet');
  const c = container(ds);
  assert.deepEqual(c.securityContext, {
    capabilities: { drop: ['ALL'], add: ['NET_RAW', 'NET_ADMIN', 'SETUID', 'SETGID', 'KILL'] },
  });
  assert.deepEqual(c.args, [
    'worker',
    '--kube',
    '-i',
    'any',
    '--host',
    '$(POD_IP)',
    '--port',
    '48999',
    '--metrics-port',
    '49100',
    '--node',
    '$(NODE_NAME)',
  ]);
  assert.deepEqual(
    c.ports!.map((p) => p.containerPort),
    [48999, 49100],
  );
  // Only the worker is privileged in any way; it keeps the runtime's seccomp filter.
  assert.deepEqual(podSpec(byKind(objs, 'DaemonSet', 'worker')).securityContext, {
    seccompProfile: { type: 'RuntimeDefault' },
  });
  for (const comp of ['hub', 'front']) {
    const d = byKind(objs, 'Deployment', comp);
    const sc = container(d).securityContext!;
    assert.deepEqual(sc.capabilities, { drop: ['ALL'] }, comp);
    assert.equal(sc.allowPrivilegeEscalation, false, comp);
    assert.equal(sc.readOnlyRootFilesystem, true, comp);
    const pod = podSpec(d).securityContext!;
    assert.equal(pod.runAsNonRoot, true, comp);
    assert.ok((pod.runAsUser ?? 0) > 0, comp);
    assert.deepEqual(pod.seccompProfile, { type: 'RuntimeDefault' }, comp);
    // The only writable place is an emptyDir at /tmp, also HOME.
    assert.ok(container(d).volumeMounts!.some((m) => m.mountPath === '/tmp' && !m.readOnly));
    const tmp = container(d).volumeMounts!.find((m) => m.mountPath === '/tmp')!.name;
    assert.deepEqual(podSpec(d).volumes!.find((v) => v.name === tmp)!.emptyDir, {});
    assert.equal(container(d).env!.find((e) => e.name === 'HOME')?.value, '/tmp');
  }
});

test('NetworkPolicies: only the front reaches the hub, only the hub the workers API; switchable', () => {
  const objs = releaseObjects(cfgWith(['tap.release.name=rel']), { version: V });
  const pol = (comp: string) => {
    const p = objs.find(
      (o) =>
        o.kind === 'NetworkPolicy' && o.metadata!.labels!['app.kubernetes.io/component'] === comp,
    ) as V1NetworkPolicy | undefined;
    assert.ok(p, comp);
    assert.deepEqual(p.spec!.policyTypes, ['Ingress']);
    assert.equal(p.spec!.podSelector!.matchLabels!['app.kubernetes.io/component'], comp);
    // As the API spells it (`from`), whatever the client library's type calls it.
    return JSON.parse(JSON.stringify(p.spec!.ingress)) as {
      from?: { podSelector: { matchLabels: Record<string, string> } }[];
      ports: { port: number; protocol: string }[];
    }[];
  };
  const fromComp = (r: { from?: { podSelector: { matchLabels: Record<string, string> } }[] }) =>
    r.from?.map((f) => f.podSelector.matchLabels['app.kubernetes.io/component']);
  assert.deepEqual(pol('front'), [{ ports: [{ protocol: 'TCP', port: 8080 }] }]);
  const hub = pol('hub');
  assert.equal(hub.length, 1);
  assert.deepEqual(fromComp(hub[0]!), ['front']);
  assert.deepEqual(hub[0]!.ports, [{ protocol: 'TCP', port: 8898 }]);
  const worker = pol('worker');
  assert.deepEqual(fromComp(worker[0]!), ['hub']);
  assert.deepEqual(worker[0]!.ports, [{ protocol: 'TCP', port: 48999 }]);
  assert.deepEqual(worker[1], { ports: [{ protocol: 'TCP', port: 49100 }] });
  const off = releaseObjects(cfgWith(['tap.networkPolicy.enabled=false']), { version: V });
  assert.equal(off.filter((o) => o.kind === 'NetworkPolicy').length, 0);
});

test('images, args, probes and resources come from the config', () => {
  const cfg = cfgWith([
    'tap.docker.registry=reg.example/ks',
    'tap.proxy.hub.srvPort=7001',
    'tap.proxy.front.srvPort=7002',
    'tap.proxy.front.port=9999',
    'tap.probes.front.periodSeconds=33',
    'tap.probes.front.successThreshold=2',
    'tap.resources.hub.limits.memory=3Gi',
    'tap.release.namespace=obs',
  ]);
  const objs = releaseObjects(cfg, { version: V });
  const hub = container(byKind(objs, 'Deployment', 'hub'));
  const front = container(byKind(objs, 'Deployment', 'front'));
  assert.equal(hub.image, `reg.example/ks/kubeshark:${V}`);
  assert.deepEqual(hub.args, ['hub', '--port', '7001', '--discover']);
  assert.deepEqual(front.args, [
    'front',
    '--port',
    '7002',
    '--hub',
    'http://kubeshark-hub.obs.svc:7001',
  ]);
  assert.equal(hub.resources!.limits!.memory, '3Gi');
  assert.equal(front.readinessProbe!.periodSeconds, 33);
  assert.equal(front.readinessProbe!.successThreshold, 2);
  assert.equal(front.livenessProbe!.successThreshold, 1, 'liveness must use 1');
  assert.deepEqual(front.readinessProbe!.httpGet, { path: '/api/health', port: 7002 });
  const svc = byKind(objs, 'Service', 'hub') as { spec: { ports: { port: number }[] } };
  assert.equal(svc.spec.ports[0]!.port, 7001);
  const tagged = releaseObjects(cfgWith(['tap.docker.tag=v7']), { version: V });
  assert.equal(container(byKind(tagged, 'DaemonSet')).image, 'ghcr.io/kubeshark-ts/kubeshark:v7');
});

test('a changed config changes the pod templates (checksum annotation), the same config does not', () => {
  const sum = (cfg: ConfigTree) =>
    releaseObjects(cfg, { version: V })
      .filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet')
      .map(
        (o) => (o as V1DaemonSet).spec!.template.metadata!.annotations![CONFIG_CHECKSUM_ANNOTATION],
      );
  const a = sum(cfgWith(['tap.regex=^api-']));
  assert.equal(new Set(a).size, 1, 'one checksum for every pod template');
  assert.match(a[0]!, /^[0-9a-f]{64}$/);
  assert.deepEqual(sum(cfgWith(['tap.regex=^api-'])), a);
  assert.notDeepEqual(sum(cfgWith(['tap.regex=^web-'])), a);
});

test('ConfigMap holds the effective config, mounted and named by KUBESHARK_CONFIG', () => {
  const cfg = cfgWith(['tap.regex=^api-']);
  const objs = releaseObjects(cfg, { version: V });
  const cm = byKind(objs, 'ConfigMap') as {
    data: Record<string, string>;
    metadata: { name: string };
  };
  assert.deepEqual(parse(cm.data['config.yaml']!), cfg);
  const c = container(byKind(objs, 'DaemonSet'));
  assert.equal(
    c.env!.find((e) => e.name === 'KUBESHARK_CONFIG')!.value,
    '/etc/kubeshark/config.yaml',
  );
  assert.equal(c.volumeMounts![0]!.mountPath, '/etc/kubeshark');
  assert.equal(podSpec(byKind(objs, 'DaemonSet')).volumes![0]!.configMap!.name, cm.metadata.name);
});

test('tolerations and nodeSelector only when configured', () => {
  const plain = releaseObjects(defaultConfig(), { version: V });
  assert.equal(podSpec(byKind(plain, 'DaemonSet')).tolerations, undefined);
  assert.equal(podSpec(byKind(plain, 'DaemonSet')).nodeSelector, undefined);
  const cfg = cfgWith([
    'tap.tolerations.workers=dedicated,gpu',
    'tap.nodeSelector.disk=ssd',
    'tap.labels.team=net',
    'tap.annotations.owner=sre',
  ]);
  const objs = releaseObjects(cfg, { version: V });
  for (const o of objs) {
    assert.equal(o.metadata!.labels!.team, 'net', o.kind);
    assert.deepEqual(o.metadata!.annotations, { owner: 'sre' }, o.kind);
  }
  assert.equal(plain[0]!.metadata!.annotations, undefined);
  assert.deepEqual(podSpec(byKind(objs, 'DaemonSet')).tolerations, [
    { key: 'dedicated', operator: 'Exists' },
    { key: 'gpu', operator: 'Exists' },
  ]);
  assert.equal(podSpec(byKind(objs, 'Deployment', 'hub')).tolerations, undefined);
  assert.deepEqual(podSpec(byKind(objs, 'Deployment', 'hub')).nodeSelector, { disk: 'ssd' });
});

test('every field is known to the Kubernetes API models (typed round trip)', async () => {
  // Offline schema check: deserialising into the client's models drops unknown fields, so a
  // misspelt or misplaced field makes the round trip differ. (kubectl needs a server.)
  const { ObjectSerializer } =
    await import('@kubernetes/client-node/dist/gen/models/ObjectSerializer.js');
  const cfg = cfgWith([
    'tap.tolerations.hub=a',
    'tap.nodeSelector.disk=ssd',
    'tap.labels.team=net',
    'tap.annotations.owner=sre',
  ]);
  for (const o of releaseObjects(cfg, { version: V })) {
    const type = `V1${o.kind!}`;
    const typed: unknown = ObjectSerializer.deserialize(JSON.parse(JSON.stringify(o)), type, '');
    const back: unknown = ObjectSerializer.serialize(typed, type, '');
    assert.deepEqual(JSON.parse(JSON.stringify(back)), JSON.parse(JSON.stringify(o)), type);
  }
});
