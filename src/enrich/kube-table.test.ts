/**
 * KubeIdentityTable on kubectl-shaped objects (testdata/kube/*.json): pods, services through
 * EndpointSlices, ClusterIPs, hostNetwork pods against their node, IP reuse resolved by capture
 * time, LIST resyncs, limits, and enrichEntry on a golden capture read through KFL.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { V1EndpointSlice, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import type { Entry } from '../entry/model.ts';
import { compileKfl } from '../query/index.ts';
import { buildCatalogue } from '../tap/dissectors/registry.ts';
import { entriesFromCapture } from '../tap/run.ts';
import { enrichEntry } from './enrich.ts';
import { KubeIdentityTable, type KubeObject } from './kube-table.ts';

const DATA = new URL('./testdata/kube/', import.meta.url).pathname;
const KEEPALIVE = join(
  new URL('../tap/dissectors/http/testdata/', import.meta.url).pathname,
  'keepalive.pcap',
);

/** A fresh deep copy of a fixture list's items (tests change them). */
function items(file: string): KubeObject[] {
  return (JSON.parse(readFileSync(join(DATA, file), 'utf8')) as { items: KubeObject[] }).items;
}
const byName = (xs: KubeObject[], name: string): KubeObject => {
  const o = xs.find((x) => x.metadata?.name === name);
  assert.ok(o, name);
  return o;
};

const us = (iso: string): number => Date.parse(iso) * 1000;
/** Informers' first LIST, after every fixture object was created. */
const T0 = us('2026-11-21T15:00:00Z');
const MIN = 60_000_000;

/** Compile-time: the informers (src/kube, @kubernetes/client-node) can pass their objects. */
type ClientNodeObjectsFit = [V1Pod, V1Service, V1EndpointSlice, V1Node] extends KubeObject[]
  ? true
  : false;
const clientNodeObjectsFit: ClientNodeObjectsFit = true;

const CART = 'cart-5c8d9b7f4-abcde';
const FRONT = 'frontend-7d9f8c6b5-x2x4q';

function loaded(t = new KubeIdentityTable()): KubeIdentityTable {
  t.resync('Node', items('nodes.json'), T0);
  t.resync('Pod', items('pods.json'), T0);
  t.resync('Service', items('services.json'), T0);
  t.resync('EndpointSlice', items('endpointslices.json'), T0);
  return t;
}

/** A minimal pod holding `ip` (for churn tests). */
const pod = (name: string, ip: string, uid = name): KubeObject => ({
  metadata: { name, namespace: 'shop', uid, labels: { app: name } },
  spec: { nodeName: 'worker-2' },
  status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] },
});

test('LIST of all four kinds: pod, ClusterIP, node IPs, unknown', () => {
  const t = loaded();
  assert.equal(t.isSynced(), true);
  assert.equal(clientNodeObjectsFit, true);
  const f = t.lookup('10.244.1.5', 43210, 'tcp', T0 + MIN);
  assert.deepEqual(f, {
    name: FRONT,
    namespace: 'shop',
    pod: { name: FRONT, namespace: 'shop' },
    labels: { app: 'frontend', 'pod-template-hash': '7d9f8c6b5' },
    annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-21T13:58:00Z' },
    node: 'worker-1',
  });
  // The first LIST dates an interval from the object's creation: earlier captures resolve.
  assert.equal(t.lookup('10.244.1.5', 43210, 'tcp', us('2026-11-21T14:30:00Z'))?.pod?.name, FRONT);
  assert.equal(t.lookup('10.244.1.5', 43210, 'tcp', us('2026-11-21T13:59:00Z')), undefined);

  // ClusterIP → the service, no pod; any port.
  const svc = t.lookup('10.96.12.34', 80, 'tcp', T0 + MIN);
  assert.deepEqual(svc, {
    name: 'cart',
    namespace: 'shop',
    service: { name: 'cart', namespace: 'shop' },
    labels: { app: 'cart' },
  });
  assert.equal(t.lookup('10.96.12.35', 9090, 'tcp', T0 + MIN)?.service?.name, 'cart-metrics');
  assert.equal(t.lookup('10.96.12.35', 9090, 'tcp', T0 + MIN)?.pod, undefined);

  // Node IPs (internal and external) → the node.
  const w2 = t.lookup('10.0.1.12', 22, 'tcp', T0 + MIN);
  assert.equal(w2?.name, 'worker-2');
  assert.equal(w2?.node, 'worker-2');
  assert.equal(w2?.pod, undefined);
  assert.equal(t.lookup('203.0.113.11', 443, 'tcp', T0 + MIN)?.name, 'worker-1');

  // A finished pod holds no IP; headless services have none; unknown IPs are unknown.
  assert.equal(t.lookup('10.244.2.3', 80, 'tcp', T0 + MIN), undefined);
  assert.equal(t.lookup('192.0.2.1', 80, 'tcp', T0 + MIN), undefined);
  assert.equal(t.status('192.0.2.1', 80, 'tcp', T0 + MIN), 'not_found');
  assert.equal(t.status('10.244.1.5', 80, 'tcp', T0 + MIN), '');

  const s = t.stats();
  assert.equal(s.pods, 5);
  assert.equal(s.services, 3);
  assert.equal(s.endpointSlices, 2);
  assert.equal(s.nodes, 2);
  // 10.0.1.11 10.0.1.12 203.0.113.11 10.244.1.5 10.244.2.7 10.96.12.34 10.96.12.35
  assert.equal(s.ips, 7);
  assert.deepEqual(s.events, { Pod: 5, Service: 3, EndpointSlice: 2, Node: 2 });
  assert.equal(s.lookups, 10);
  assert.equal(s.misses, 3);
});

test('a pod in two services: the service is chosen by the slice ports', () => {
  const t = loaded();
  const at = T0 + MIN;
  assert.equal(t.lookup('10.244.2.7', 8080, 'tcp', at)?.service?.name, 'cart');
  assert.equal(t.lookup('10.244.2.7', 9000, 'tcp', at)?.service?.name, 'cart');
  assert.equal(t.lookup('10.244.2.7', 9090, 'tcp', at)?.service?.name, 'cart-metrics');
  // Port in no slice (the pod as a client): first service by namespace/name.
  assert.equal(t.lookup('10.244.2.7', 51234, 'tcp', at)?.service?.name, 'cart');
  // UDP 9090 is not the TCP metrics port.
  assert.equal(t.lookup('10.244.2.7', 9090, 'udp', at)?.service?.name, 'cart');
  const id = t.lookup('10.244.2.7', 9090, 'tcp', at);
  assert.equal(id?.pod?.name, CART);
  assert.equal(id?.node, 'worker-2');
  assert.deepEqual(id?.service, { name: 'cart-metrics', namespace: 'shop' });
  // The same answer object is shared (enrichEntry copies; nobody may change it).
  assert.equal(t.lookup('10.244.2.7', 9090, 'tcp', at), id);
  assert.ok(Object.isFrozen(id));

  // A slice that comes before its pod still attaches once the pod arrives.
  const late = new KubeIdentityTable();
  late.upsert('EndpointSlice', byName(items('endpointslices.json'), 'cart-7xq2k'), T0);
  late.upsert('Pod', byName(items('pods.json'), CART), T0 + 1);
  assert.equal(late.lookup('10.244.2.7', 8080, 'tcp', T0 + 2)?.service?.name, 'cart');
  // A slice without targetRef attaches by address; a slice update dropping the pod detaches.
  const slice: KubeObject = {
    metadata: { name: 'ext-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'ext' } },
    endpoints: [{ addresses: ['10.244.2.7'] }],
    ports: [{ port: 7000, protocol: 'TCP' }],
  };
  late.upsert('EndpointSlice', slice, T0 + 3);
  assert.equal(late.lookup('10.244.2.7', 7000, 'tcp', T0 + 4)?.service?.name, 'ext');
  late.upsert('EndpointSlice', { ...slice, endpoints: [] }, T0 + 5);
  assert.equal(late.lookup('10.244.2.7', 7000, 'tcp', T0 + 6)?.service?.name, 'cart');
  // Slices without the service-name label are ignored (counted).
  late.upsert('EndpointSlice', { metadata: { name: 'x', namespace: 'shop' } }, T0 + 7);
  assert.equal(late.stats().ignored, 1);
});

test('hostNetwork pods share the node IP: declared port → pod, else the node', () => {
  const t = loaded();
  const at = T0 + MIN;
  const ne = t.lookup('10.0.1.11', 9100, 'tcp', at);
  assert.equal(ne?.pod?.name, 'node-exporter-q7w8e');
  assert.equal(ne?.namespace, 'monitoring');
  assert.equal(ne?.node, 'worker-1');
  // kube-proxy declares no port: its traffic is the node's.
  assert.equal(t.lookup('10.0.1.11', 10256, 'tcp', at)?.name, 'worker-1');
  assert.equal(t.lookup('10.0.1.11', 10256, 'tcp', at)?.pod, undefined);
  assert.equal(t.lookup('10.0.1.11', 9100, 'udp', at)?.name, 'worker-1');
  // The exporter goes away: 9100 is the node's again; before, it was the exporter's.
  t.remove('Pod', byName(items('pods.json'), 'node-exporter-q7w8e'), at + MIN);
  assert.equal(t.lookup('10.0.1.11', 9100, 'tcp', at + 2 * MIN)?.name, 'worker-1');
  assert.equal(t.lookup('10.0.1.11', 9100, 'tcp', at)?.pod?.name, 'node-exporter-q7w8e');
  // A new hostNetwork pod does not take the node IP away from other hostNetwork pods.
  const again = byName(items('pods.json'), 'node-exporter-q7w8e');
  again.metadata!.uid = 'new-uid';
  t.upsert('Pod', again, at + 3 * MIN);
  assert.equal(t.lookup('10.0.1.11', 9100, 'tcp', at + 4 * MIN)?.pod?.name, 'node-exporter-q7w8e');
  assert.equal(t.lookup('10.0.1.11', 1, 'tcp', at + 4 * MIN)?.name, 'worker-1');
});

test('pod update, delete, and IP reuse resolved by capture time', () => {
  const t = loaded();
  const pods = items('pods.json');
  const cart = byName(pods, CART);
  // Update: new labels show at once (the table holds the current object).
  cart.metadata!.labels = { app: 'cart', tier: 'backend', version: 'v2' };
  t.upsert('Pod', cart, T0 + MIN);
  assert.equal(t.lookup('10.244.2.7', 8080, 'tcp', T0 + 2 * MIN)?.labels?.version, 'v2');

  // Delete at T0+10m; a new pod gets the same IP at T0+12m.
  t.remove('Pod', cart, T0 + 10 * MIN);
  assert.equal(t.lookup('10.244.2.7', 8080, 'tcp', T0 + 11 * MIN), undefined);
  assert.equal(t.status('10.244.2.7', 8080, 'tcp', T0 + 11 * MIN), 'not_found');
  t.upsert('Pod', pod('checkout-6b7c8d9e0-zzzzz', '10.244.2.7'), T0 + 12 * MIN);
  const before = t.lookup('10.244.2.7', 8080, 'tcp', T0 + 9 * MIN);
  assert.equal(before?.pod?.name, CART);
  // The deleted pod keeps the service it had while it lived.
  assert.equal(before?.service?.name, 'cart');
  const after = t.lookup('10.244.2.7', 8080, 'tcp', T0 + 13 * MIN);
  assert.equal(after?.pod?.name, 'checkout-6b7c8d9e0-zzzzz');
  assert.equal(after?.service, undefined);

  // A missed delete: pod C takes B's IP while B is still open; B ends when C starts.
  t.upsert('Pod', pod('c', '10.244.2.7'), T0 + 20 * MIN);
  assert.equal(
    t.lookup('10.244.2.7', 80, 'tcp', T0 + 19 * MIN)?.pod?.name,
    'checkout-6b7c8d9e0-zzzzz',
  );
  assert.equal(t.lookup('10.244.2.7', 80, 'tcp', T0 + 21 * MIN)?.pod?.name, 'c');
  // The late delete of B does not end C.
  t.remove('Pod', pod('checkout-6b7c8d9e0-zzzzz', '10.244.2.7'), T0 + 22 * MIN);
  assert.equal(t.lookup('10.244.2.7', 80, 'tcp', T0 + 23 * MIN)?.pod?.name, 'c');

  // Same name, new uid (StatefulSet): the old pod ends, the new one starts.
  t.upsert('Pod', pod('db-0', '10.244.2.50', 'uid-1'), T0 + 30 * MIN);
  t.upsert('Pod', pod('db-0', '10.244.2.51', 'uid-2'), T0 + 31 * MIN);
  assert.equal(t.lookup('10.244.2.50', 5432, 'tcp', T0 + 30.5 * MIN)?.pod?.name, 'db-0');
  assert.equal(t.lookup('10.244.2.50', 5432, 'tcp', T0 + 32 * MIN), undefined);
  assert.equal(t.lookup('10.244.2.51', 5432, 'tcp', T0 + 32 * MIN)?.pod?.name, 'db-0');
  // The old pod's DELETE arriving late does not end the new one.
  t.remove('Pod', pod('db-0', '10.244.2.50', 'uid-1'), T0 + 33 * MIN);
  assert.equal(t.lookup('10.244.2.51', 5432, 'tcp', T0 + 34 * MIN)?.pod?.name, 'db-0');
  t.remove('Pod', pod('db-0', '10.244.2.51', 'uid-2'), T0 + 35 * MIN);
  assert.equal(t.lookup('10.244.2.51', 5432, 'tcp', T0 + 36 * MIN), undefined);

  // The watch event with the IP comes after the pod started: captures since its start resolve,
  // but never before the previous holder of the IP let it go.
  const started = (name: string, ip: string, startIso: string): KubeObject => {
    const p = pod(name, ip);
    return { ...p, status: { ...p.status, startTime: startIso } };
  };
  t.upsert('Pod', started('w1', '10.244.2.70', '2026-11-21T15:35:00Z'), T0 + 36 * MIN);
  assert.equal(t.lookup('10.244.2.70', 1, 'tcp', T0 + 35.5 * MIN)?.pod?.name, 'w1');
  assert.equal(t.lookup('10.244.2.70', 1, 'tcp', T0 + 34.5 * MIN), undefined);
  t.remove('Pod', pod('w1', '10.244.2.70'), T0 + 37 * MIN);
  t.upsert('Pod', started('w2', '10.244.2.70', '2026-11-21T15:36:00Z'), T0 + 38 * MIN);
  assert.equal(t.lookup('10.244.2.70', 1, 'tcp', T0 + 36.5 * MIN)?.pod?.name, 'w1');
  assert.equal(t.lookup('10.244.2.70', 1, 'tcp', T0 + 37.5 * MIN)?.pod?.name, 'w2');

  // A pod that completes releases its IP.
  const done = pod('job-1', '10.244.2.60');
  t.upsert('Pod', done, T0 + 40 * MIN);
  t.upsert('Pod', { ...done, status: { ...done.status, phase: 'Succeeded' } }, T0 + 41 * MIN);
  assert.equal(t.lookup('10.244.2.60', 1, 'tcp', T0 + 40.5 * MIN)?.pod?.name, 'job-1');
  assert.equal(t.lookup('10.244.2.60', 1, 'tcp', T0 + 42 * MIN), undefined);
});

test('resync removes objects absent from the LIST as of its time', () => {
  const t = loaded();
  const pods = items('pods.json').filter((p) => p.metadata?.name !== CART);
  t.resync('Pod', pods, T0 + 5 * MIN);
  assert.equal(t.stats().pods, 4);
  assert.equal(t.lookup('10.244.2.7', 8080, 'tcp', T0 + 4 * MIN)?.pod?.name, CART);
  assert.equal(t.lookup('10.244.2.7', 8080, 'tcp', T0 + 6 * MIN), undefined);
  t.resync(
    'Service',
    items('services.json').filter((s) => s.metadata?.name !== 'cart'),
    T0 + 5 * MIN,
  );
  assert.equal(t.lookup('10.96.12.34', 80, 'tcp', T0 + 4 * MIN)?.service?.name, 'cart');
  assert.equal(t.lookup('10.96.12.34', 80, 'tcp', T0 + 6 * MIN), undefined);
  t.resync('Node', [], T0 + 5 * MIN);
  assert.equal(t.stats().nodes, 0);
  assert.equal(t.lookup('10.0.1.12', 22, 'tcp', T0 + 6 * MIN), undefined);
  assert.equal(t.lookup('10.0.1.12', 22, 'tcp', T0 + 4 * MIN)?.name, 'worker-2');
  // Objects from @kubernetes/client-node carry Date timestamps.
  const t2 = new KubeIdentityTable();
  const n = byName(items('nodes.json'), 'worker-2');
  n.metadata!.creationTimestamp = new Date('2026-11-20T09:00:00Z');
  t2.resync('Node', [n], T0);
  assert.equal(t2.lookup('10.0.1.12', 22, 'tcp', us('2026-11-20T10:00:00Z'))?.name, 'worker-2');
  assert.equal(t2.status('10.0.1.99', 22, 'tcp', T0), 'not_synced');
});

test('limits: history per IP, IPs tracked, retention — each counted', () => {
  const t = new KubeIdentityTable({ historyPerIp: 3, maxIps: 4, retentionUs: 10 * MIN });
  // Five pods in turn on one IP, one minute each.
  for (let i = 0; i < 5; i++) {
    t.upsert('Pod', pod(`p${i}`, '10.244.9.9'), T0 + i * MIN);
    t.remove('Pod', pod(`p${i}`, '10.244.9.9'), T0 + i * MIN + MIN / 2);
  }
  let s = t.stats();
  assert.equal(s.intervalsDropped, 2);
  assert.equal(s.intervals, 3);
  assert.equal(t.lookup('10.244.9.9', 1, 'tcp', T0 + MIN / 4), undefined, 'p0 dropped');
  assert.equal(t.lookup('10.244.9.9', 1, 'tcp', T0 + 2 * MIN + MIN / 4)?.pod?.name, 'p2');

  // Open intervals are never dropped: a 4th open owner of a node IP is refused.
  const n = byName(items('nodes.json'), 'worker-2');
  t.upsert('Node', n, T0);
  for (let i = 0; i < 3; i++)
    t.upsert(
      'Pod',
      { ...pod(`hn${i}`, '10.0.1.12'), spec: { hostNetwork: true, nodeName: 'worker-2' } },
      T0,
    );
  s = t.stats();
  assert.equal(s.intervalsRefused, 1);

  // IPs tracked: 10.244.9.9 and 10.0.1.12 so far; two more fit, the fifth does not.
  t.upsert('Pod', pod('a', '10.244.8.1'), T0 + 5 * MIN);
  t.upsert('Pod', pod('b', '10.244.8.2'), T0 + 5 * MIN);
  t.upsert('Pod', pod('c', '10.244.8.3'), T0 + 5 * MIN);
  s = t.stats();
  assert.equal(s.ips, 4);
  assert.equal(s.ipsDropped, 1);
  assert.equal(t.lookup('10.244.8.3', 1, 'tcp', T0 + 6 * MIN), undefined);

  // Retention: 20 minutes later the closed intervals of 10.244.9.9 are pruned on the next
  // event, which frees the IP for a new one.
  t.upsert('Pod', pod('d', '10.244.8.4'), T0 + 25 * MIN);
  s = t.stats();
  assert.equal(s.intervalsPruned, 3);
  assert.equal(t.lookup('10.244.9.9', 1, 'tcp', T0 + 2 * MIN + MIN / 4), undefined);
  assert.equal(t.lookup('10.244.8.4', 1, 'tcp', T0 + 26 * MIN)?.pod?.name, 'd');
  t.resync('Pod', [], T0 + 25 * MIN);
  t.resync('Service', [], T0 + 25 * MIN);
  t.resync('Node', [], T0 + 25 * MIN);
  assert.equal(t.status('10.244.9.9', 1, 'tcp', T0), 'expired');
  assert.equal(t.status('10.244.9.9', 1, 'tcp', T0 + 24 * MIN), 'not_found');
});

test('enrichEntry with the table: KFL view of a golden entry moved onto cluster IPs', async () => {
  const catalogue = buildCatalogue();
  const kfl = (q: string, e: Entry): boolean => compileKfl(q, { catalogue }).matches(e);
  const entries = await entriesFromCapture(KEEPALIVE);
  const e = entries[0]!;
  // The capture is from the same day as the fixtures, after their creation.
  assert.ok(e.timestamp > us('2026-11-21T14:00:00Z'));
  const t = new KubeIdentityTable();
  const at = us('2026-11-21T14:05:00Z');
  t.resync('Node', items('nodes.json'), at);
  t.resync('Pod', items('pods.json'), at);
  t.resync('Service', items('services.json'), at);
  t.resync('EndpointSlice', items('endpointslices.json'), at);
  e.src = { ...e.src, ip: '10.244.1.5' };
  e.dst = { ...e.dst, ip: '10.244.2.7' };
  assert.equal(e.dst.port, 8080);
  assert.ok(kfl('local_resolution_status == "unresolved"', e));
  enrichEntry(e, t);
  assert.equal(e.src.pod?.name, FRONT);
  assert.equal(e.dst.pod?.name, CART);
  assert.equal(e.dst.service?.name, 'cart');
  for (const q of [
    'dst.service.name == "cart"',
    `src.pod.name == "${FRONT}"`,
    `dst.name == "${CART}"`,
    'src.namespace == "shop" && dst.namespace == "shop"',
    'local_labels["app"] == "frontend"',
    'remote_labels["tier"] == "backend"',
    'remote_annotations["prometheus.io/scrape"] == "true"',
    '"cart" in services',
    'local_resolution_status == "" && remote_resolution_status == ""',
  ])
    assert.ok(kfl(q, e), q);
  assert.ok(!kfl('dst.service.name == "cart-metrics"', e));
  // The workloads' nodes (KFL local_node_name / remote_node_name).
  assert.equal(e.src.node, t.lookup('10.244.1.5', e.src.port, 'tcp', e.timestamp)?.node);
  assert.ok(e.src.node && e.dst.node, 'both workloads have a node');
  assert.ok(kfl(`local_node_name == "${e.src.node}" && remote_node_name == "${e.dst.node}"`, e));
  // An address the cluster does not know: the table says why (remote_resolution_status).
  const stray = entries[1]!;
  stray.src = { ...stray.src, ip: '10.244.1.5' };
  stray.dst = { ...stray.dst, ip: '192.0.2.77' };
  enrichEntry(stray, t);
  assert.equal(stray.dst.resolution, 'not_found');
  assert.ok(kfl('local_resolution_status == "" && remote_resolution_status == "not_found"', stray));
  // The identity object the table shares was copied, not aliased.
  const id = t.lookup('10.244.2.7', 8080, 'tcp', e.timestamp);
  assert.notEqual(e.dst.labels, id?.labels);
  assert.deepEqual(e.dst.labels, id?.labels);
});
