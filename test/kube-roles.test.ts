/**
 * The roles against the (simulated) Kubernetes API:
 * - `kubeshark worker --kube` (as processes, one per node) replays a capture whose flows are
 *   rewritten onto pod IPs of the simulated cluster: each keeps only the flows targeting rules
 *   give its node (a cross-node call is recorded once, by the server's node), labels the entries
 *   with pod / service / namespace / node, and counts what it dropped (health and metrics);
 * - the hub with discovery follows the release's worker pods: a Ready pod whose IP points at a
 *   real worker server joins /api/workers and the fan-out, a deleted one leaves both within a
 *   couple of seconds and its upstream in a live stream is closed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { ResultPromise } from 'execa';
import type { EntriesResponse, Health, WorkersResponse } from '../src/api/types.ts';
import { defaultConfig, setKey } from '../src/config/load.ts';
import { createHub } from '../src/hub/hub.ts';
import { runHub } from '../src/hub/run.ts';
import { workerDiscoverySource } from '../src/kube/discovery.ts';
import { createWorker, fileSource, type Worker } from '../src/worker/worker.ts';
import { findResource, startSimCluster, type KObj, type SimCluster } from './kube-sim/index.ts';
import {
  fixLengthsAndChecksums,
  locateIp,
  parsePcap,
  serializePcap,
} from './helpers/pcap-rewrite.ts';
import { Collector, SHOP, getJson } from './helpers/roles-kit.ts';
import { runRole } from './helpers/role-process.ts';

const POD = findResource('', 'v1', 'pods')!;
const SVC = findResource('', 'v1', 'services')!;
const NODE = findResource('', 'v1', 'nodes')!;
const NS = findResource('', 'v1', 'namespaces')!;
const SLICE = findResource('discovery.k8s.io', 'v1', 'endpointslices')!;

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Client port of a flow in demo/shop.pcap → [client IP, server IP] in the simulated cluster. */
const FLOWS: Record<number, [string, string]> = {
  60196: ['10.1.0.10', '10.1.0.20'], // web-a → api-a, both on node-a
  60212: ['10.1.0.10', '10.2.0.30'], // web-a (node-a) → api-b (node-b): node-b records it
  60218: ['10.9.0.5', '10.2.0.40'], // excluded namespace → pod outside the regex: nobody
  47201: ['10.1.0.10', '10.96.0.10'], // web-a → kube-dns ClusterIP: node-a
  51867: ['10.1.0.10', '10.96.0.10'],
  35895: ['10.1.0.10', '10.96.0.10'],
  45129: ['192.168.0.2', '10.96.0.10'], // a hostNetwork pod → ClusterIP: nobody
};
const ON_A = [60196, 47201, 51867, 35895];
const ON_B = [60212];
const SERVER_PORTS = new Set([80, 53]);

/** demo/shop.pcap with its flows moved onto the cluster's IPs, starting at `startMs`. */
function clusterPcap(startMs: number): Buffer {
  const f = parsePcap(readFileSync(SHOP));
  const shift = Math.floor(startMs / 1000) - f.records[0]!.sec;
  for (const r of f.records) {
    r.sec += shift;
    const loc = locateIp(f.linkType, r.data);
    if (!loc || loc.ipVersion !== 4) continue;
    const sport = r.data.readUInt16BE(loc.l4Off);
    const dport = r.data.readUInt16BE(loc.l4Off + 2);
    const toServer = SERVER_PORTS.has(dport);
    const pair = FLOWS[toServer ? sport : dport];
    if (!pair) throw new Error(`unexpected flow ${sport} -> ${dport}`);
    const [src, dst] = toServer ? pair : [pair[1], pair[0]];
    Buffer.from(src.split('.').map(Number)).copy(r.data, loc.ipOff + 12);
    Buffer.from(dst.split('.').map(Number)).copy(r.data, loc.ipOff + 16);
    fixLengthsAndChecksums(r.data, loc);
  }
  return serializePcap(f);
}

function pod(
  ns: string,
  name: string,
  node: string,
  ip: string,
  o: { labels?: Record<string, string>; hostNetwork?: boolean; ready?: boolean } = {},
): KObj {
  return {
    metadata: { name, namespace: ns, labels: o.labels ?? {} },
    spec: {
      nodeName: node,
      ...(o.hostNetwork && { hostNetwork: true }),
      containers: [{ name: 'c', image: 'x' }],
    },
    status: {
      phase: 'Running',
      podIP: ip,
      podIPs: [{ ip }],
      startTime: new Date(Date.now() - 60_000).toISOString(),
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
    },
  };
}

function setNodeIp(sim: SimCluster, name: string, ip: string): void {
  const n = sim.store.get(NODE, undefined, name)!;
  sim.store.update(
    NODE,
    { ...n, status: { ...(n.status as object), addresses: [{ type: 'InternalIP', address: ip }] } },
    true,
  );
}

/** The shop's workloads on two nodes. */
function shopCluster(sim: SimCluster): void {
  setNodeIp(sim, 'node-a', '192.168.0.1');
  setNodeIp(sim, 'node-b', '192.168.0.2');
  sim.store.create(NS, { metadata: { name: 'shop' } });
  const s = sim.store;
  s.create(POD, pod('shop', 'web-a', 'node-a', '10.1.0.10', { labels: { app: 'web' } }));
  s.create(POD, pod('shop', 'api-a', 'node-a', '10.1.0.20', { labels: { app: 'api' } }));
  s.create(POD, pod('shop', 'api-b', 'node-b', '10.2.0.30', { labels: { app: 'api' } }));
  s.create(POD, pod('shop', 'db-b', 'node-b', '10.2.0.40'));
  s.create(POD, pod('kube-system', 'web-intruder', 'node-b', '10.9.0.5'));
  s.create(POD, pod('shop', 'agent', 'node-b', '192.168.0.2', { hostNetwork: true }));
  s.create(SVC, {
    metadata: { name: 'api', namespace: 'shop' },
    spec: { clusterIP: '10.96.0.20', ports: [{ port: 80 }] },
  });
  s.create(SVC, {
    metadata: { name: 'kube-dns', namespace: 'kube-system' },
    spec: { clusterIP: '10.96.0.10', ports: [{ port: 53, protocol: 'UDP' }] },
  });
  s.create(SLICE, {
    metadata: {
      name: 'api-1',
      namespace: 'shop',
      labels: { 'kubernetes.io/service-name': 'api' },
    },
    addressType: 'IPv4',
    endpoints: [
      { addresses: ['10.1.0.20'], targetRef: { kind: 'Pod', name: 'api-a', namespace: 'shop' } },
      { addresses: ['10.2.0.30'], targetRef: { kind: 'Pod', name: 'api-b', namespace: 'shop' } },
    ],
    ports: [{ port: 80, protocol: 'TCP' }],
  });
}

type FullEntry = {
  node?: { name: string };
  local_node_name?: string;
  remote_node_name?: string;
  remote_labels?: Record<string, string>;
  remote_resolution_status?: string;
  src: { ip: string; port: number; [k: string]: unknown };
  dst: { ip: string; port: number; [k: string]: unknown };
};

async function entries(base: string, q = ''): Promise<FullEntry[]> {
  const r = await getJson<EntriesResponse<FullEntry>>(
    `${base}/api/entries?limit=1000&view=full&q=${encodeURIComponent(q)}`,
  );
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.entries;
}

test('worker --kube: each node keeps its targeted flows once, labelled from the cluster', async () => {
  const sim = await startSimCluster({ controllers: false, nodes: ['node-a', 'node-b'] });
  const dir = mkdtempSync(join(tmpdir(), 'kube-roles-'));
  const procs: ResultPromise[] = [];
  let baseline: Worker | undefined;
  try {
    shopCluster(sim);
    const pcap = join(dir, 'cluster.pcap');
    writeFileSync(pcap, clusterPcap(Date.now() + 1000));

    // What the capture holds, unfiltered: entries per flow (by client port).
    baseline = await createWorker({ node: 'all', sources: [fileSource(pcap)], l4All: true });
    await baseline.replayed;
    const all = (await baseline.api.call('/api/entries', {
      limit: '1000',
      view: 'full',
    })) as EntriesResponse<FullEntry>;
    const perFlow = new Map<number, number>();
    for (const e of all.entries) perFlow.set(e.src.port, (perFlow.get(e.src.port) ?? 0) + 1);
    const count = (ports: number[]): number => ports.reduce((n, p) => n + (perFlow.get(p) ?? 0), 0);
    const total = all.entries.length;
    const wantA = count(ON_A);
    const wantB = count(ON_B);
    assert.ok(wantA > 0 && wantB > 0 && wantA + wantB < total, `${wantA} ${wantB} ${total}`);

    const env = { KUBECONFIG: sim.kubeconfigPath, NO_COLOR: '1' };
    const common = [
      '--pcap',
      pcap,
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--metrics-port',
      '0',
      '--l4',
      '--kube',
      '--set',
      'tap.namespaces=shop',
      '--set',
      'tap.excludedNamespaces=kube-system',
      '--set',
      'tap.regex=^(web|api|agent)',
    ];
    const [a, b] = await Promise.all([
      runRole(['worker', '--node', 'node-a', ...common], env),
      runRole(['worker', '--node', 'node-b', ...common], env),
    ]);
    procs.push(a.proc, b.proc);
    const urlA = `http://127.0.0.1:${a.port}`;
    const urlB = `http://127.0.0.1:${b.port}`;
    const health = async (u: string) => (await getJson<Health>(`${u}/api/health`)).body;
    for (const u of [urlA, urlB]) {
      await until(`${u} replayed`, async () => {
        const c = (await health(u)).capture!;
        return c.entries + (c.targetDropped ?? 0) === total;
      });
    }
    const ha = (await health(urlA)).capture!;
    const hb = (await health(urlB)).capture!;
    assert.deepEqual([ha.entries, ha.targetDropped], [wantA, total - wantA]);
    assert.deepEqual([hb.entries, hb.targetDropped], [wantB, total - wantB]);
    assert.match(
      a.stderr(),
      /kube node node-a: pods \/\^\(web\|api\|agent\)\/ in shop except kube-system/,
    );

    const ea = await entries(urlA);
    const eb = await entries(urlB);
    assert.deepEqual([...new Set(ea.map((e) => e.src.port))].sort(), [...ON_A].sort());
    assert.deepEqual([...new Set(eb.map((e) => e.src.port))], ON_B);

    // Identity from the cluster, queried with KFL.
    const webToApi = await entries(
      urlA,
      'src.pod.name == "web-a" && src.namespace == "shop" && dst.pod.name == "api-a" && dst.service.name == "api"',
    );
    assert.equal(webToApi.length, perFlow.get(60196));
    const e0 = webToApi[0]!;
    assert.deepEqual(
      [e0.local_node_name, e0.remote_node_name, e0.remote_labels, e0.remote_resolution_status],
      ['node-a', 'node-a', { app: 'api' }, ''],
    );
    const dns = await entries(
      urlA,
      'dst.service.name == "kube-dns" && dst.namespace == "kube-system"',
    );
    assert.equal(dns.length, count([47201, 51867, 35895]));
    const cross = await entries(urlB, 'src.pod.name == "web-a" && dst.pod.name == "api-b"');
    assert.equal(cross.length, wantB);
    assert.deepEqual([cross[0]!.local_node_name, cross[0]!.remote_node_name], ['node-a', 'node-b']);

    // The drop count is a metric too.
    const metricsPort = Number(/metrics on :(\d+)/.exec(a.line)![1]);
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const m = /kubeshark_target_dropped_entries_total\{node="node-a"\} (\d+)/.exec(text);
    assert.ok(m, text);
    assert.equal(Number(m[1]), total - wantA);
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.catch(() => undefined)));
    await baseline?.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A port free on every one of `hosts`. */
async function commonFreePort(hosts: string[]): Promise<number> {
  const tryListen = (host: string, port: number) =>
    new Promise<number | undefined>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(undefined));
      s.listen(port, host, () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
  for (let i = 0; i < 20; i++) {
    const p = await tryListen(hosts[0]!, 0);
    if (p === undefined) continue;
    const ok = await Promise.all(hosts.slice(1).map((h) => tryListen(h, p)));
    if (ok.every((x) => x === p)) return p;
  }
  throw new Error('no common free port');
}

test('hub --discover: worker pods join and leave the hub live, static workers stay', async () => {
  const sim = await startSimCluster({ controllers: false, nodes: ['node-b', 'node-c'] });
  const kc = new KubeConfig();
  kc.loadFromFile(sim.kubeconfigPath);
  const port = await commonFreePort(['127.0.0.2', '127.0.0.3']);
  const config = defaultConfig();
  setKey(config, 'tap.proxy.worker.srvPort', String(port), 'test', true);
  const workers: Worker[] = [];
  let stop!: () => void;
  const until$ = new Promise<void>((r) => (stop = r));
  let hubRun: Promise<void> | undefined;
  let collector: Collector | undefined;
  const procs: ResultPromise[] = [];
  try {
    const [wb, wc, ws] = await Promise.all(
      ['node-b', 'node-c', 'static-node'].map((node) =>
        createWorker({ node, sources: [fileSource(SHOP)] }),
      ),
    );
    workers.push(wb!, wc!, ws!);
    await wb!.listen(port, '127.0.0.2');
    await wc!.listen(port, '127.0.0.3');
    const staticPort = await ws!.listen(0, '127.0.0.1');
    await Promise.all(workers.map((w) => w.replayed));

    sim.store.create(NS, { metadata: { name: 'ks-system' } });
    const labels = (instance: string) => ({
      'app.kubernetes.io/name': 'kubeshark',
      'app.kubernetes.io/instance': instance,
      'app.kubernetes.io/component': 'worker',
    });
    sim.store.create(
      POD,
      pod('ks-system', 'ks-worker-b', 'node-b', '127.0.0.2', { labels: labels('ks') }),
    );
    // Running but not Ready yet; and a worker of another release.
    sim.store.create(
      POD,
      pod('ks-system', 'ks-worker-c', 'node-c', '127.0.0.3', {
        labels: labels('ks'),
        ready: false,
      }),
    );
    sim.store.create(
      POD,
      pod('ks-system', 'other-worker', 'node-c', '127.0.0.4', { labels: labels('other') }),
    );

    let hubLine = '';
    const discovery = workerDiscoverySource(kc, {
      namespace: 'ks-system',
      release: 'ks',
      port,
      backoffInitialMs: 20,
    });
    hubRun = runHub({
      workers: [`static=http://127.0.0.1:${staticPort}`],
      discovery,
      port: 0,
      host: '127.0.0.1',
      config,
      out: (l) => (hubLine = l),
      until: until$,
    });
    await until('hub listening', () => hubLine !== '');
    const hub = `http://127.0.0.1:${/:(\d+) /.exec(hubLine)![1]}`;
    const names = async () =>
      (await getJson<WorkersResponse>(`${hub}/api/workers`)).body.workers.map((w) => w.name);

    await until('node-b discovered', async () => (await names()).join() === 'node-b,static');
    const wState = (await getJson<WorkersResponse>(`${hub}/api/workers`)).body.workers;
    assert.equal(wState[0]!.url, `http://127.0.0.2:${port}`);

    // The command does the same from its config and KUBECONFIG.
    const cliHub = await runRole(
      [
        'hub',
        '--discover',
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--set',
        'tap.release.namespace=ks-system',
        '--set',
        'tap.release.name=ks',
        '--set',
        `tap.proxy.worker.srvPort=${port}`,
      ],
      { KUBECONFIG: sim.kubeconfigPath },
    );
    procs.push(cliHub.proc);
    assert.match(cliHub.line, /discovering workers/);
    const cliWorkers = async () =>
      (
        await getJson<WorkersResponse>(`http://127.0.0.1:${cliHub.port}/api/workers`)
      ).body.workers.map((w) => `${w.name}@${w.url}:${w.up}`);
    await until(
      'the command hub discovers node-b',
      async () => (await cliWorkers()).join() === `node-b@http://127.0.0.2:${port}:true`,
    );
    cliHub.proc.kill('SIGTERM');
    assert.equal((await cliHub.proc).exitCode, 0);

    // Ready now: it joins.
    const c = sim.store.get(POD, 'ks-system', 'ks-worker-c')!;
    sim.store.update(
      POD,
      {
        ...c,
        status: { ...(c.status as object), conditions: [{ type: 'Ready', status: 'True' }] },
      },
      true,
    );
    const t0 = Date.now();
    await until(
      'node-c discovered',
      async () => (await names()).join() === 'node-b,node-c,static',
      2000,
    );
    assert.ok(Date.now() - t0 < 2000);
    await until('every worker up', async () =>
      (await getJson<WorkersResponse>(`${hub}/api/workers`)).body.workers.every((w) => w.up),
    );
    const fanned = await entries(hub);
    assert.deepEqual([...new Set(fanned.map((e) => e.node?.name))].sort(), [
      'node-b',
      'node-c',
      'static-node',
    ]);

    // A live stream through the hub has an upstream on each worker.
    collector = new Collector(`${hub.replace('http', 'ws')}/api/stream?view=summary`);
    await collector.open();
    await until('upstreams', () => workers.every((w) => w.streamClients().length === 1));

    // The pod goes: the worker leaves /api/workers, the fan-out and the stream.
    sim.store.delete(POD, 'ks-system', 'ks-worker-c');
    const t1 = Date.now();
    await until('node-c removed', async () => (await names()).join() === 'node-b,static', 2000);
    assert.ok(Date.now() - t1 < 2000);
    await until('its upstream closed', () => wc!.streamClients().length === 0, 2000);
    const before = collector.entries().length;
    await wc!.addSource(fileSource(SHOP));
    await wb!.addSource(fileSource(SHOP));
    await until('node-b entries streamed', () =>
      collector!.of('entry').some((m) => (m.entry as { node: string }).node === 'node-b'),
    );
    await new Promise((r) => setTimeout(r, 200));
    const after = collector
      .of('entry')
      .slice(before)
      .map((m) => (m.entry as { node: string }).node);
    assert.ok(!after.includes('node-c'), 'nothing from the removed worker');
    assert.equal(collector.closed, undefined, 'the client stream stays open');
    const left = await entries(hub);
    assert.ok(!left.some((e) => e.node?.name === 'node-c'), 'the removed worker is not queried');
    assert.ok(left.some((e) => e.node?.name === 'node-b'));
    assert.equal(wb!.streamClients().length, 1, 'the kept worker keeps its upstream');
  } finally {
    collector?.close();
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.catch(() => undefined)));
    stop();
    await hubRun?.catch(() => undefined);
    await Promise.all(workers.map((w) => w.close()));
    await sim.close();
  }
});

test('hub worker set: unchanged links are kept with their state, moved ones replaced', async () => {
  const hub = createHub({ workers: [], backoffInitialMs: 20, backoffMaxMs: 40 });
  try {
    // Nothing listens on port 1 of 127.0.0.9: the link fails and counts failures.
    hub.setWorkers([{ name: 'a', url: 'http://127.0.0.9:1' }]);
    await until('failures', () => (hub.workers()[0]?.failures ?? 0) >= 2);
    const before = hub.workers()[0]!.failures ?? 0;
    hub.setWorkers([
      { name: 'a', url: 'http://127.0.0.9:1/' },
      { name: 'b', url: 'http://127.0.0.9:2' },
    ]);
    const a = hub.workers().find((w) => w.name === 'a')!;
    assert.ok((a.failures ?? 0) >= before, 'same link: its state is kept');
    assert.deepEqual(
      hub.workers().map((w) => w.name),
      ['a', 'b'],
    );
    hub.setWorkers([{ name: 'a', url: 'http://127.0.0.9:3' }]);
    const moved = hub.workers();
    assert.deepEqual(
      moved.map((w) => [w.name, w.url]),
      [['a', 'http://127.0.0.9:3']],
    );
    assert.ok((moved[0]!.failures ?? 0) < before, 'a new link for a new address');
    assert.equal(hub.removeWorker('zzz'), false);
    assert.equal(hub.removeWorker('a'), true);
    assert.deepEqual(hub.workers(), []);
    assert.throws(
      () =>
        hub.setWorkers([
          { name: 'x', url: 'http://127.0.0.9:4' },
          { name: 'x', url: 'http://127.0.0.9:5' },
        ]),
      /two hub workers are named x/,
    );
  } finally {
    await hub.close();
  }
});
