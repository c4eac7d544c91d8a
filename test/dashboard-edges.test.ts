/**
 * Call statistics per src → dst pair (`groupBy=*-edge`), what the dashboard's service map draws:
 * keys and labels over demo/shop.pcap, enriched identities, and merging across nodes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Entry } from '../src/entry/model.ts';
import { StatsAccumulator, accumulateStats } from '../src/store/stats/accumulator.ts';
import { edgeEnd } from '../src/store/stats/groups.ts';
import { entriesFromCapture } from '../src/tap/run.ts';

const shop = await entriesFromCapture(new URL('../demo/shop.pcap', import.meta.url).pathname, {
  node: { name: 'vm', ip: '' },
});

test('edges of the shop capture: one per protocol and server, clients by IP', () => {
  const r = accumulateStats(shop, { groupBy: 'service-edge', bucketSec: 0 }).result();
  assert.deepEqual(
    r.groups.map((g) => [g.key, g.calls]),
    [
      ['http 127.0.0.1 -> 127.0.0.1:80', 9],
      ['ws 127.0.0.1 -> 127.0.0.1:80', 7],
      ['dns 127.0.0.1 -> 127.0.0.1:53', 4],
    ],
  );
  const http = r.groups[0]!;
  assert.deepEqual(http.labels, { protocol: 'http', src: '127.0.0.1', dst: '127.0.0.1:80' });
  assert.equal(http.errorRate, 1 / 9, 'the 503 checkout');
  assert.ok(http.latency !== null && http.latency.p95 > 0);
  const nodes = accumulateStats(shop, { groupBy: 'node-edge', bucketSec: 0 }).result();
  assert.deepEqual(nodes.groups.map((g) => g.key).sort(), [
    'dns vm -> vm',
    'http vm -> vm',
    'ws vm -> vm',
  ]);
  const ns = accumulateStats(shop, { groupBy: 'namespace-edge', bucketSec: 0 }).result();
  assert.equal(ns.groups[0]!.key, 'http unknown -> unknown');
});

test('enriched ends: services, pods, namespaces', () => {
  const base = shop.find((e) => e.protocol === 'http')!;
  const e: Entry = {
    ...base,
    src: { ...base.src, pod: { name: 'web-1', namespace: 'shop' }, namespace: 'shop' },
    dst: {
      ...base.dst,
      pod: { name: 'cart-7', namespace: 'shop' },
      service: { name: 'cart', namespace: 'shop' },
      namespace: 'shop',
    },
  };
  assert.equal(edgeEnd(e, 'service-edge', 'src'), 'shop/web-1');
  assert.equal(edgeEnd(e, 'service-edge', 'dst'), 'shop/cart');
  assert.equal(edgeEnd(e, 'pod-edge', 'dst'), 'shop/cart-7');
  assert.equal(edgeEnd(e, 'namespace-edge', 'dst'), 'shop');
  const v6: Entry = { ...base, dst: { ip: 'fd00::1', port: 53 } };
  assert.equal(edgeEnd(v6, 'pod-edge', 'dst'), '[fd00::1]:53');
  const g = accumulateStats([e], { groupBy: 'service-edge', bucketSec: 0 }).result().groups[0]!;
  assert.equal(g.key, 'http shop/web-1 -> shop/cart');
  assert.deepEqual(g.labels, {
    protocol: 'http',
    src: 'shop/web-1',
    dst: 'shop/cart',
    srcNamespace: 'shop',
    namespace: 'shop',
  });
});

test('edge statistics merge across nodes exactly', () => {
  const half = Math.floor(shop.length / 2);
  const a = accumulateStats(shop.slice(0, half), { groupBy: 'pod-edge', bucketSec: 1 });
  const b = accumulateStats(shop.slice(half), { groupBy: 'pod-edge', bucketSec: 1 });
  const merged = StatsAccumulator.fromJSON(a.toJSON());
  merged.merge(b.toJSON());
  assert.deepEqual(
    merged.result(),
    accumulateStats(shop, { groupBy: 'pod-edge', bucketSec: 1 }).result(),
  );
  assert.throws(() =>
    merged.merge(accumulateStats(shop, { groupBy: 'service-edge', bucketSec: 1 })),
  );
});
