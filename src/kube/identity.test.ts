/**
 * Kubernetes identity from the simulated API server: the four informers feed the table; pods,
 * services (through EndpointSlices), ClusterIPs and nodes resolve; `not_synced` before the first
 * lists; and a pod IP reused by another pod after the first is deleted resolves by capture time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import { findResource, startSimCluster, type KObj } from '../../test/kube-sim/index.ts';
import { startKubeIdentity, startWorkerCluster } from './identity.ts';
import { targetSelection } from './targets.ts';
import type { Entry } from '../entry/model.ts';

const POD = findResource('', 'v1', 'pods')!;
const SVC = findResource('', 'v1', 'services')!;
const NODE = findResource('', 'v1', 'nodes')!;
const NS = findResource('', 'v1', 'namespaces')!;
const SLICE = findResource('discovery.k8s.io', 'v1', 'endpointslices')!;

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const nowUs = (): number => Date.now() * 1000;

/** A running pod as the kubelet would report it (status written with the object). */
function pod(ns: string, name: string, node: string, ip: string, labels = {}): KObj {
  return {
    metadata: { name, namespace: ns, labels },
    spec: {
      nodeName: node,
      containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 8080 }] }],
    },
    status: {
      phase: 'Running',
      podIP: ip,
      podIPs: [{ ip }],
      startTime: new Date(Date.now() - 60_000).toISOString(),
    },
  };
}

test('identity: pods, services, nodes; not_synced first; a reused pod IP resolves by capture time', async () => {
  const sim = await startSimCluster({ controllers: false, nodes: ['node-a', 'node-b'] });
  const kc = new KubeConfig();
  kc.loadFromFile(sim.kubeconfigPath);
  for (const [name, ip] of [
    ['node-a', '192.168.7.1'],
    ['node-b', '192.168.7.2'],
  ] as const) {
    const n = sim.store.get(NODE, undefined, name)!;
    sim.store.update(
      NODE,
      {
        ...n,
        status: { ...(n.status as object), addresses: [{ type: 'InternalIP', address: ip }] },
      },
      true,
    );
  }
  for (const ns of ['shop', 'data']) sim.store.create(NS, { metadata: { name: ns } });
  const id = startKubeIdentity(kc, { backoffInitialMs: 20 });
  try {
    assert.equal(id.resolver.status!('10.0.0.5', 8080, 'tcp', nowUs()), 'not_synced');
    await id.synced;
    assert.ok(id.isSynced());
    assert.equal(id.resolver.status!('10.0.0.5', 8080, 'tcp', nowUs()), 'not_found');

    sim.store.create(POD, pod('shop', 'web-1', 'node-a', '10.0.0.5', { app: 'web' }));
    sim.store.create(SVC, {
      metadata: { name: 'web', namespace: 'shop' },
      spec: { clusterIP: '10.96.0.7', ports: [{ port: 80, targetPort: 8080 }] },
    });
    sim.store.create(SLICE, {
      metadata: {
        name: 'web-x1',
        namespace: 'shop',
        labels: { 'kubernetes.io/service-name': 'web' },
      },
      addressType: 'IPv4',
      endpoints: [
        { addresses: ['10.0.0.5'], targetRef: { kind: 'Pod', name: 'web-1', namespace: 'shop' } },
      ],
      ports: [{ port: 8080, protocol: 'TCP' }],
    });
    await until(
      'pod and service',
      () => id.resolver.lookup('10.0.0.5', 8080, 'tcp', nowUs())?.service?.name === 'web',
    );
    const t1 = nowUs();
    const p = id.resolver.lookup('10.0.0.5', 8080, 'tcp', t1)!;
    assert.deepEqual(p.pod, { name: 'web-1', namespace: 'shop' });
    assert.deepEqual(p.service, { name: 'web', namespace: 'shop' });
    assert.equal(p.node, 'node-a');
    assert.deepEqual(p.labels, { app: 'web' });
    const svc = id.resolver.lookup('10.96.0.7', 80, 'tcp', t1)!;
    assert.deepEqual([svc.pod, svc.service], [undefined, { name: 'web', namespace: 'shop' }]);
    await until('nodes', () => id.resolver.lookup('192.168.7.2', 22, 'tcp', nowUs()) !== undefined);
    assert.equal(id.resolver.lookup('192.168.7.2', 22, 'tcp', nowUs())!.name, 'node-b');

    // The pod goes; its IP is handed to another pod in another namespace.
    await new Promise((r) => setTimeout(r, 5));
    sim.store.delete(POD, 'shop', 'web-1');
    await until(
      'deletion',
      () => id.resolver.lookup('10.0.0.5', 8080, 'tcp', nowUs()) === undefined,
    );
    await new Promise((r) => setTimeout(r, 5));
    sim.store.create(POD, pod('data', 'db-1', 'node-b', '10.0.0.5'));
    await until(
      'the new owner',
      () => id.resolver.lookup('10.0.0.5', 8080, 'tcp', nowUs())?.pod?.name === 'db-1',
    );
    const t2 = nowUs();
    const now = id.resolver.lookup('10.0.0.5', 5432, 'tcp', t2)!;
    assert.deepEqual(
      [now.pod, now.node, now.service],
      [{ name: 'db-1', namespace: 'data' }, 'node-b', undefined],
    );
    const then = id.resolver.lookup('10.0.0.5', 8080, 'tcp', t1)!;
    assert.deepEqual(
      [then.pod, then.service],
      [
        { name: 'web-1', namespace: 'shop' },
        { name: 'web', namespace: 'shop' },
      ],
    );
    assert.deepEqual(id.table.podAt('10.0.0.5', t1), {
      name: 'web-1',
      namespace: 'shop',
      node: 'node-a',
      labels: { app: 'web' },
    });
    assert.equal(id.informers().length, 4);
    assert.ok(id.informers().every((s) => s.synced && s.watches >= 1));
  } finally {
    await id.stop();
    await sim.close();
  }
});

test('worker cluster: the flow filter follows pods as they come and go', async () => {
  const sim = await startSimCluster({ controllers: false, nodes: ['node-a', 'node-b'] });
  const kc = new KubeConfig();
  kc.loadFromFile(sim.kubeconfigPath);
  sim.store.create(NS, { metadata: { name: 'shop' } });
  const a = startWorkerCluster(kc, {
    node: 'node-a',
    selection: targetSelection({ regex: '^web', namespaces: ['shop'] }),
    backoffInitialMs: 20,
  });
  const flow = (client: string, server: string): Entry =>
    ({
      src: { ip: client, port: 40000 },
      dst: { ip: server, port: 80 },
      timestamp: nowUs(),
      transport: 'tcp',
    }) as Entry;
  try {
    await a.synced;
    assert.equal(a.filter(flow('10.0.1.1', '10.0.2.2')), false, 'no targeted pod yet');
    sim.store.create(POD, pod('shop', 'web-new', 'node-a', '10.0.1.1'));
    await until('the new pod targeted', () => a.filter(flow('10.0.1.1', '8.8.8.8')));
    // Its server is a targeted pod on node-b: node-b records the call.
    sim.store.create(POD, pod('shop', 'web-b', 'node-b', '10.0.2.2'));
    await until('the server on node-b', () => !a.filter(flow('10.0.1.1', '10.0.2.2')));
    // Not matching the regex: not a target; the client's node keeps the call.
    sim.store.create(POD, pod('shop', 'api-x', 'node-b', '10.0.2.3'));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(a.filter(flow('10.0.1.1', '10.0.2.3')), true);
    sim.store.delete(POD, 'shop', 'web-b');
    await until('the deleted pod dropped', () => a.filter(flow('10.0.1.1', '10.0.2.2')));
    assert.match(a.describe(), /node-a/);
  } finally {
    await a.stop();
    await sim.close();
  }
});
