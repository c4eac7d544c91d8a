/**
 * A pod that calls before the informers have heard of it: its entries wait for its identity
 * (src/worker/hold.ts) instead of being dropped by pod targeting, and are stored with its name
 * once the pod arrives; addresses outside the nodes' pod ranges are decided at once, and an
 * identity that never comes is given up after HOLD_UNRESOLVED_MS, counted.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import type { Entry } from '../src/entry/model.ts';
import { enrichEntry } from '../src/enrich/enrich.ts';
import { startWorkerCluster } from '../src/kube/identity.ts';
import { targetSelection } from '../src/kube/targets.ts';
import { entriesFromCapture } from '../src/tap/run.ts';
import { HOLD_UNRESOLVED_MS } from '../src/worker/hold.ts';
import { createWorker } from '../src/worker/index.ts';
import { findResource, startSimCluster, type KObj } from './kube-sim/index.ts';

const POD = findResource('', 'v1', 'pods')!;
const NODE = findResource('', 'v1', 'nodes')!;
const NS = findResource('', 'v1', 'namespaces')!;
const root = new URL('..', import.meta.url).pathname;

/** What the API's full view of an entry holds that this test reads. */
interface EntryView {
  request: { path: string };
  src: { name?: string; namespace?: string };
}

function pod(ns: string, name: string, ip: string, startedUs: number): KObj {
  return {
    metadata: { name, namespace: ns },
    spec: { nodeName: 'node-a', containers: [{ name: 'c', image: 'x' }] },
    status: {
      phase: 'Running',
      podIP: ip,
      podIPs: [{ ip }],
      startTime: new Date(startedUs / 1000).toISOString(),
    },
  };
}

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a pod that calls within 100 ms of starting is recorded with its name', async () => {
  const sim = await startSimCluster({ controllers: false, nodes: ['node-a'] });
  const n = sim.store.get(NODE, undefined, 'node-a')!;
  sim.store.update(NODE, { ...n, spec: { ...(n.spec as object), podCIDR: '10.1.0.0/24' } });
  for (const ns of ['shop', 'other']) sim.store.create(NS, { metadata: { name: ns } });
  const t0 = Date.now() * 1000;
  // An untargeted server everybody calls.
  sim.store.create(POD, pod('other', 'db-1', '10.1.0.30', t0 - 60_000_000));
  const kc = new KubeConfig();
  kc.loadFromFile(sim.kubeconfigPath);
  const cluster = startWorkerCluster(kc, {
    node: 'node-a',
    selection: targetSelection({ regex: '.*', namespaces: ['shop'] }),
    backoffInitialMs: 20,
  });
  const worker = await createWorker({
    node: 'node-a',
    filter: cluster.filter,
    hold: { unresolved: cluster.unresolved!, version: cluster.version! },
    enrich: (e) => enrichEntry(e, cluster.resolver),
  });
  try {
    await cluster.synced;
    const call = (await entriesFromCapture(join(root, 'demo/shop.pcap'))).find(
      (e) => e.record.kind === 'http',
    )!;
    const from = (ip: string, tsUs: number, path: string): Entry => {
      const e = structuredClone(call);
      e.src = { ip, port: 40000 };
      e.dst = { ip: '10.1.0.30', port: 5432 };
      e.timestamp = tsUs;
      (e.record as { request: { path: string } }).request.path = path;
      return e;
    };
    const started = Date.now() * 1000;
    // Its first call, 100 ms after it started: the informers have not heard of the pod yet.
    worker.ingest(from('10.1.0.9', started + 100_000, '/first-call'));
    // Outside every pod range: decided at once.
    worker.ingest(from('203.0.113.5', started + 100_000, '/external'));
    // A pod range address whose pod never comes.
    worker.ingest(from('10.1.0.99', started + 100_000, '/ghost'));
    let c = worker.counters();
    assert.equal(c.targetHeld, 2);
    assert.equal(c.targetDropped, 1);
    assert.equal(c.entries, 0);
    sim.store.create(POD, pod('shop', 'new-1', '10.1.0.9', started));
    await until('the held call is kept', () => worker.counters().targetHeldKept === 1);
    const page = await worker.api.call('/api/entries', { limit: '10', view: 'full' });
    const stored = (page as { entries: EntryView[] }).entries;
    assert.equal(stored.length, 1);
    assert.equal(stored[0]!.request.path, '/first-call');
    assert.equal(stored[0]!.src.name, 'new-1', JSON.stringify(stored[0]!.src));
    assert.equal(stored[0]!.src.namespace, 'shop');
    await until(
      'the ghost is given up',
      () => worker.counters().targetHeldExpired === 1,
      HOLD_UNRESOLVED_MS + 3000,
    );
    c = worker.counters();
    assert.equal(c.targetHeld, 0);
    assert.equal(c.targetDropped, 2);
    assert.equal(c.entries, 1);
  } finally {
    await worker.close();
    await cluster.stop();
    await sim.close();
  }
});
