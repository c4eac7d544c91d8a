/**
 * The informer against the simulated API server over real sockets: list → resync, watch events,
 * bookmarks moving the resourceVersion, and a disconnection long enough for the watch history to
 * expire (410 Gone): the relist removes what was deleted meanwhile. A TCP proxy in between cuts
 * the connection and refuses reconnections while the store changes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { findResource, startSimCluster, type KObj } from '../../test/kube-sim/index.ts';
import {
  INFORMER_LIST_PAGE,
  Informer,
  TokenBucket,
  watchResource,
  type InformerHandlers,
} from './informer.ts';

const CM = findResource('', 'v1', 'configmaps')!;

/** A TCP proxy that can cut every connection and refuse new ones until restored. */
class CutProxy {
  private readonly server: Server;
  private readonly conns = new Set<Socket>();
  private down = false;
  constructor(private readonly target: number) {
    this.server = createServer((c) => {
      if (this.down) {
        c.destroy();
        return;
      }
      const up = connect(this.target, '127.0.0.1');
      this.conns.add(c).add(up);
      const drop = (): void => {
        c.destroy();
        up.destroy();
        this.conns.delete(c);
        this.conns.delete(up);
      };
      c.on('error', drop).on('close', drop);
      up.on('error', drop).on('close', drop);
      c.pipe(up).pipe(c);
    });
  }
  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return (this.server.address() as AddressInfo).port;
  }
  cut(): void {
    this.down = true;
    for (const s of this.conns) s.destroy();
  }
  restore(): void {
    this.down = false;
  }
  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

function kubeConfigAt(url: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'sim', server: url, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'c', cluster: 'sim', user: 'u' }],
    currentContext: 'c',
  });
  return kc;
}

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const cm = (ns: string, name: string, data: Record<string, string> = {}): KObj => ({
  metadata: { name, namespace: ns },
  data,
});

/** A consumer that mirrors the objects by name, as the identity table does. */
function mirror(): { objs: Map<string, KObj>; resyncs: number; h: InformerHandlers<KObj> } {
  const m = { objs: new Map<string, KObj>(), resyncs: 0 } as {
    objs: Map<string, KObj>;
    resyncs: number;
    h: InformerHandlers<KObj>;
  };
  m.h = {
    resync(items) {
      m.resyncs++;
      m.objs.clear();
      for (const o of items) m.objs.set(o.metadata.name, o);
    },
    upsert: (o) => void m.objs.set(o.metadata.name, o),
    remove: (o) => void m.objs.delete(o.metadata.name),
  };
  return m;
}

test('token bucket: a burst at once, then the rate', () => {
  let now = 1000;
  const b = new TokenBucket(2, 3, () => now);
  assert.deepEqual([b.reserve(), b.reserve(), b.reserve()], [0, 0, 0]);
  assert.equal(b.reserve(), 500);
  assert.equal(b.reserve(), 1000);
  now += 1000; // two tokens back: the debt of two is paid, nothing left
  assert.equal(b.reserve(), 500);
  now += 10_000; // refills to the burst, not beyond
  assert.deepEqual([b.reserve(), b.reserve(), b.reserve(), b.reserve() > 0], [0, 0, 0, true]);
});

test('informer: list, watch events, bookmarks, and a 410 after a disconnection relists', async () => {
  const sim = await startSimCluster({
    controllers: false,
    historyLimit: 20,
    bookmarkIntervalMs: 100,
  });
  const proxy = new CutProxy(sim.port);
  const port = await proxy.listen();
  const kc = kubeConfigAt(`http://127.0.0.1:${port}`);
  let inf: Informer<KObj> | undefined;
  try {
    for (let i = 0; i < 5; i++) sim.store.create(CM, cm('default', `cm-${i}`));
    const m = mirror();
    inf = new Informer<KObj>(kc, {
      path: '/api/v1/namespaces/default/configmaps',
      backoffInitialMs: 20,
      backoffMaxMs: 100,
      limiter: new TokenBucket(50, 50),
    });
    inf.subscribe(m.h);
    await inf.synced;
    assert.deepEqual([...m.objs.keys()].sort(), ['cm-0', 'cm-1', 'cm-2', 'cm-3', 'cm-4']);
    assert.equal(m.resyncs, 1);

    sim.store.create(CM, cm('default', 'cm-5'));
    const cur = sim.store.get(CM, 'default', 'cm-1')!;
    sim.store.update(CM, { ...cur, data: { v: '2' } });
    sim.store.delete(CM, 'default', 'cm-2');
    await until('watch events', () => m.objs.has('cm-5') && !m.objs.has('cm-2'));
    await until('modification', () => (m.objs.get('cm-1')?.data as { v?: string })?.v === '2');

    // Changes elsewhere move the global resourceVersion; only bookmarks tell this watch.
    for (let i = 0; i < 3; i++) sim.store.create(CM, cm('kube-system', `other-${i}`));
    const target = sim.store.resourceVersion;
    await until('a bookmark', () => Number(inf!.resourceVersion) >= target);
    assert.ok(inf.stats().bookmarks > 0);
    assert.ok(![...m.objs.keys()].some((k) => k.startsWith('other-')), 'other namespace seen');

    // Disconnected while more than the retained history happens.
    proxy.cut();
    sim.store.delete(CM, 'default', 'cm-3');
    sim.store.delete(CM, 'default', 'cm-4');
    for (let i = 3; i < 30; i++) sim.store.create(CM, cm('kube-system', `other-${i}`));
    sim.store.create(CM, cm('default', 'cm-6'));
    const listsBefore = inf.stats().lists;
    await new Promise((r) => setTimeout(r, 150)); // a few refused reconnections
    assert.ok(inf.stats().failures > 0, 'reconnections were refused');
    proxy.restore();
    await until('the relist', () => m.objs.has('cm-6') && !m.objs.has('cm-3'));
    assert.ok(!m.objs.has('cm-4'), 'deleted while disconnected, removed by the resync');
    const s = inf.stats();
    assert.ok(s.expired >= 1, `410 seen (${JSON.stringify(s)})`);
    assert.ok(s.lists > listsBefore);
    assert.ok(m.resyncs >= 2);
    assert.deepEqual([...m.objs.keys()].sort(), ['cm-0', 'cm-1', 'cm-5', 'cm-6']);
  } finally {
    await inf?.stop();
    await proxy.close();
    await sim.close();
  }
});

test('watchResource: one informer per resource, a late subscriber gets the current objects', async () => {
  const sim = await startSimCluster({ controllers: false });
  const kc = kubeConfigAt(sim.url);
  try {
    sim.store.create(CM, cm('default', 'a'));
    const m1 = mirror();
    const m2 = mirror();
    const s1 = watchResource(kc, { path: '/api/v1/configmaps' }, m1.h);
    await s1.synced;
    const s2 = watchResource(kc, { path: '/api/v1/configmaps' }, m2.h);
    assert.equal(s1.informer, s2.informer, 'shared');
    assert.ok(m2.objs.has('a'), 'late subscriber resynced at once');
    sim.store.create(CM, cm('default', 'b'));
    await until('both see b', () => m1.objs.has('b') && m2.objs.has('b'));
    assert.equal(s1.informer.stats().watches, 1);
    await s1.stop();
    sim.store.create(CM, cm('default', 'c'));
    await until('the remaining one sees c', () => m2.objs.has('c'));
    assert.ok(!m1.objs.has('c'), 'unsubscribed');
    await s2.stop();
    const s3 = watchResource(kc, { path: '/api/v1/configmaps' }, mirror().h);
    assert.notEqual(s3.informer, s1.informer, 'a stopped informer is not reused');
    await s3.stop();
  } finally {
    await sim.close();
  }
});

test('the first LIST is paged (limit/continue) and transformed page by page', async () => {
  const sim = await startSimCluster({ controllers: false });
  try {
    const n = INFORMER_LIST_PAGE * 2 + 37;
    for (let i = 0; i < n; i++)
      sim.store.create(
        CM,
        cm('default', `c-${String(i).padStart(5, '0')}`, { big: 'x'.repeat(200) }),
      );
    // The API server pages as asked: a continue token while more remain.
    const first = (await (
      await fetch(`${sim.url}/api/v1/namespaces/default/configmaps?limit=${INFORMER_LIST_PAGE}`)
    ).json()) as { items: unknown[]; metadata: { continue?: string } };
    assert.equal(first.items.length, INFORMER_LIST_PAGE);
    assert.ok(first.metadata.continue);
    const m = mirror();
    let transformed = 0;
    const inf = new Informer<KObj>(kubeConfigAt(sim.url), {
      path: '/api/v1/namespaces/default/configmaps',
      transform: function dropData(o) {
        transformed++;
        const { data: _drop, ...rest } = o as KObj;
        return rest as KObj;
      },
    });
    inf.subscribe(m.h);
    await inf.synced;
    assert.equal(m.objs.size, n, 'every page arrived');
    assert.equal(transformed, n);
    assert.equal(m.objs.get('c-00000')!.data, undefined, 'consumers see transformed objects');
    assert.equal(inf.stats().lists, 1, 'one LIST, however many pages');
    // Watch events go through the transform too.
    sim.store.create(CM, cm('default', 'late', { big: 'y' }));
    await until('the watched object', () => m.objs.has('late'));
    assert.equal(m.objs.get('late')!.data, undefined);
    await inf.stop();
  } finally {
    await sim.close();
  }
});
