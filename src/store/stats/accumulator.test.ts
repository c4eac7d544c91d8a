import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Entry } from '../../entry/model.ts';
import { KsError } from '../../util/errors.ts';
import type { GroupStats, SerializedStats, StatsResult } from './accumulator.ts';
import { OTHER_GROUP, StatsAccumulator, accumulateStats } from './accumulator.ts';
import type { ProtocolStatsSpec } from './classify.ts';
import { PROTOCOL_STATS } from './classify.ts';
import {
  T0,
  dns,
  entriesOf,
  http,
  pod,
  tcpConn,
  udpFlow,
  ws,
} from '../../../test/helpers/stats-entries.ts';
import { corpus, needsSharedFor } from '../../../test/helpers/shared.ts';

const root = new URL('../../..', import.meta.url).pathname;

function near(actual: number | undefined, want: number, alpha = 0.01): void {
  assert.ok(actual !== undefined, 'no value');
  assert.ok(
    Math.abs(actual - want) <= alpha * want + 1e-9,
    `${actual} not within ${alpha} of ${want}`,
  );
}

function byKey(r: StatsResult): Map<string, GroupStats> {
  return new Map(r.groups.map((g) => [g.key, g]));
}

const S = 1_000_000;

/** A small API's traffic with every error class, over 10 seconds. */
function sample(): Entry[] {
  return [
    http({ path: '/api/products/42', status: 200, elapsed: 1000, ts: T0 }),
    http({ path: '/api/products/43', status: 500, elapsed: 3000, ts: T0 + 1 * S }),
    http({ path: '/api/products/44?x=1', status: 404, elapsed: 2000, ts: T0 + 2 * S }),
    http({ path: '/api/products/45', status: null, ts: T0 + 3 * S }),
    http({ path: '/api/products/46', status: 503, elapsed: 4000, ts: T0 + 4 * S }),
    http({ path: '/api/products', status: 200, elapsed: 500, ts: T0 + 5 * S }),
    http({ method: 'POST', path: '/api/products', status: 201, elapsed: 700, ts: T0 + 6 * S }),
    // A request whose response fell into a capture gap: counted, not a failure, no latency.
    http({
      path: '/api/products/47',
      status: null,
      error: { code: 'KS_GAP', message: 'response lost in a capture gap' },
      ts: T0 + 7 * S,
    }),
    // gRPC: status in the trailer; HTTP 200.
    http({
      method: 'POST',
      path: '/shop.Cart/Add',
      reqHeaders: { 'content-type': 'application/grpc' },
      trailers: { 'grpc-status': '14' },
      elapsed: 900,
      ts: T0 + 8 * S,
    }),
    http({
      method: 'POST',
      path: '/shop.Cart/Add',
      reqHeaders: { 'content-type': 'application/grpc+proto' },
      trailers: { 'grpc-status': '0' },
      elapsed: 1100,
      ts: T0 + 8 * S,
    }),
    // Trailers-only gRPC error: grpc-status in the headers.
    http({
      method: 'POST',
      path: '/shop.Cart/Add',
      reqHeaders: { 'content-type': 'application/grpc' },
      resHeaders: { 'grpc-status': '5' },
      elapsed: 300,
      ts: T0 + 8 * S,
    }),
    dns({ name: 'Catalogue.Shop.svc.cluster.local.', rcode: 0, elapsed: 400, ts: T0 + 9 * S }),
    dns({ name: 'catalogue.shop.svc.cluster.local', rcode: 3, elapsed: 600, ts: T0 + 9 * S }),
    dns({ name: 'catalogue.shop.svc.cluster.local', rcode: null, ts: T0 + 9 * S }),
    dns({ name: 'catalogue.shop.svc.cluster.local', qtype: 'AAAA', ts: T0 + 10 * S }),
    ws({ upgradePath: '/chat', ts: T0 + 10 * S }),
    ws({ upgradePath: '/chat', fromClient: false, ts: T0 + 10 * S }),
    http({ noRequest: true, status: 200, ts: T0 + 10 * S }),
    tcpConn({ ts: T0 }),
    udpFlow({ ts: T0 }),
  ];
}

test('per endpoint: exact counts, error classes and rates, latency, bytes', () => {
  const acc = accumulateStats(sample(), { groupBy: 'endpoint' });
  const r = acc.result();
  assert.equal(r.ignored, 2, 'L4 records are not calls');
  assert.equal(r.total.calls, 18);
  assert.deepEqual(r.window, { start: T0, end: T0 + 10 * S, seconds: 10 });
  const g = byKey(r);
  assert.deepEqual([...g.keys()].sort(), [
    'dns A catalogue.shop.svc.cluster.local',
    'dns AAAA catalogue.shop.svc.cluster.local',
    'http (no request)',
    'http GET /api/products',
    'http GET /api/products/:id',
    'http POST /api/products',
    'http POST /shop.Cart/Add',
    'ws /chat',
  ]);

  const p = g.get('http GET /api/products/:id')!;
  assert.equal(p.calls, 6);
  assert.deepEqual(p.labels, { protocol: 'http', method: 'GET', path: '/api/products/:id' });
  assert.deepEqual(p.errors, {
    http_4xx: 1,
    http_5xx: 2,
    grpc: 0,
    dns: 0,
    db: 0,
    no_response: 1,
    capture: 1,
  });
  assert.equal(p.failed, 3, '2 × 5xx + 1 unanswered; 4xx and the gap are not failures');
  assert.equal(p.errorRate, 3 / 6);
  assert.equal(p.errorRates.http_5xx, 2 / 6);
  assert.equal(p.errorRates.http_4xx, 1 / 6);
  assert.equal(p.errorRates.no_response, 1 / 6);
  assert.equal(p.ratePerSec, 6 / 10);
  // Latency only from answered calls: 1000, 3000, 2000, 4000.
  assert.equal(p.latency!.samples, 4);
  assert.equal(p.latency!.min, 1000);
  assert.equal(p.latency!.max, 4000);
  assert.equal(p.latency!.mean, 2500);
  near(p.latency!.p50, 2000);
  near(p.latency!.p99, 3000); // rank ⌊0.99·3⌋ = 2 of [1000, 2000, 3000, 4000]
  // Requests without a response (unanswered, lost in a gap) carry no response bytes.
  assert.deepEqual(p.bytes, { request: 600, response: 800, total: 1400 });
  assert.deepEqual([p.first, p.last], [T0, T0 + 7 * S]);

  const grpc = g.get('http POST /shop.Cart/Add')!;
  assert.equal(grpc.calls, 3);
  assert.equal(grpc.errors.grpc, 2);
  assert.equal(grpc.errors.http_5xx + grpc.errors.http_4xx, 0);
  assert.equal(grpc.failed, 2);

  const a = g.get('dns A catalogue.shop.svc.cluster.local')!;
  assert.equal(a.calls, 3, 'names are case-folded and lose the trailing dot');
  assert.equal(a.errors.dns, 1);
  assert.equal(a.errors.no_response, 1);
  assert.equal(a.failed, 2);
  assert.equal(a.latency!.samples, 2);

  const chat = g.get('ws /chat')!;
  assert.equal(chat.calls, 2);
  assert.equal(chat.latency, null, 'WebSocket messages have no latency');
  assert.equal(g.get('http (no request)')!.latency, null);

  assert.equal(r.total.failed, 3 + 2 + 2);
  assert.equal(r.total.errors.http_4xx, 1);
  // Sorted by calls, then key.
  assert.deepEqual(
    r.groups.map((x) => x.calls),
    [...r.groups.map((x) => x.calls)].sort((x, y) => y - x),
  );
  assert.equal(r.groups[0]!.key, 'http GET /api/products/:id');
});

test('group keys: service, namespace, node, protocol', () => {
  const cat = pod('10.2.0.5', 'catalogue-7d9f', 'shop', 'catalogue', 8080);
  const cart = pod('10.2.0.6', 'cart-1', 'shop', undefined, 8080);
  const es = [
    http({ dst: cat, node: 'node-a' }),
    http({ dst: cat, node: 'node-b', status: 500 }),
    http({ dst: cart, node: 'node-a' }),
    http({ dst: { ip: '10.9.9.9', port: 8443 }, node: 'node-a' }),
    dns({ dst: { ip: 'fd00::a', port: 53 }, node: 'node-b' }),
  ];
  const keys = (by: 'service' | 'namespace' | 'node' | 'protocol'): Record<string, number> =>
    Object.fromEntries(
      accumulateStats(es, { groupBy: by })
        .result()
        .groups.map((g) => [g.key, g.calls]),
    );
  assert.deepEqual(keys('service'), {
    'shop/catalogue': 2,
    'shop/cart-1': 1,
    '10.9.9.9:8443': 1,
    '[fd00::a]:53': 1,
  });
  assert.deepEqual(keys('namespace'), { shop: 3, unknown: 2 });
  assert.deepEqual(keys('node'), { 'node-a': 3, 'node-b': 2 });
  assert.deepEqual(keys('protocol'), { http: 4, dns: 1 });
  const svc = accumulateStats(es, { groupBy: 'service' }).result().groups[0]!;
  assert.deepEqual(svc.labels, { name: 'catalogue', namespace: 'shop', kind: 'service' });
});

test('time series: per-bucket count, errors and percentiles; filled holes; total series', () => {
  const es: Entry[] = [];
  // Minute 0: 10 calls at 1..10 ms, one 500. Minute 1: nothing. Minute 2: 4 calls at 100 ms, two 500s.
  for (let i = 1; i <= 10; i++)
    es.push(http({ ts: T0 + i * S, elapsed: i * 1000, status: i === 10 ? 500 : 200 }));
  for (let i = 0; i < 4; i++)
    es.push(http({ ts: T0 + 125 * S + i, elapsed: 100_000, status: i < 2 ? 500 : 200 }));
  es.push(dns({ ts: T0 + 130 * S, elapsed: 50 }));
  const acc = accumulateStats(es, { groupBy: 'protocol', bucketSec: 60 });
  const r = acc.result();
  const h = byKey(r).get('http')!;
  assert.deepEqual(
    h.series.map((b) => [b.start, b.calls, b.failed]),
    [
      [T0, 10, 1],
      [T0 + 120 * S, 4, 2],
    ],
  );
  const [m0, m2] = h.series;
  near(m0!.latency!.p50, 5000); // rank ⌊0.5·9⌋ = 4 → 5 ms
  near(m0!.latency!.p95, 9000);
  near(m0!.latency!.p99, 9000);
  near(m2!.latency!.p50, 100_000);
  assert.equal(m0!.ratePerSec, 10 / 60);
  assert.equal(m2!.errorRate, 0.5);

  const filled = acc.result({ fill: true });
  assert.deepEqual(
    byKey(filled)
      .get('http')!
      .series.map((b) => [b.start, b.calls, b.latency]),
    [
      [T0, 10, m0!.latency],
      [T0 + 60 * S, 0, null],
      [T0 + 120 * S, 4, m2!.latency],
    ],
  );
  assert.deepEqual(
    r.total.series.map((b) => [b.start, b.calls]),
    [
      [T0, 10],
      [T0 + 120 * S, 5],
    ],
  );
  // Only the total's series, or none: same numbers otherwise.
  const totalOnly = acc.result({ series: 'total' });
  assert.deepEqual(totalOnly.total.series, r.total.series);
  assert.ok(totalOnly.groups.every((g) => g.series.length === 0));
  const none = acc.result({ series: 'none' });
  assert.deepEqual(none.total.series, []);
  assert.deepEqual(
    none.groups.map(({ series: _s, ...rest }) => rest),
    r.groups.map(({ series: _s, ...rest }) => rest),
  );
  // Without series.
  const flat = accumulateStats(es, { groupBy: 'protocol', bucketSec: 0 }).result();
  assert.deepEqual(flat.total.series, []);
  assert.equal(flat.total.calls, 15);
});

test('rates over an explicit window; a tiny observed window counts as 1 s', () => {
  const es = [http({ ts: T0 }), http({ ts: T0 + 1000 })];
  const acc = accumulateStats(es, { groupBy: 'protocol' });
  assert.equal(acc.result().total.ratePerSec, 2);
  assert.equal(acc.result({ window: { start: T0, end: T0 + 60 * S } }).total.ratePerSec, 2 / 60);
  const empty = new StatsAccumulator({ groupBy: 'endpoint' }).result();
  assert.deepEqual(empty.window, { start: null, end: null, seconds: 0 });
  assert.equal(empty.total.calls, 0);
  assert.equal(empty.total.latency, null);
});

// ---------------------------------------------------------------- merge

/** Random hand-built entries over a few endpoints, nodes, statuses and minutes. */
const arbEntry: fc.Arbitrary<Entry> = fc
  .record({
    kind: fc.constantFrom('http', 'http', 'http', 'dns', 'ws', 'tcp'),
    path: fc.constantFrom('/a/1', '/a/2', '/b', '/c/507f1f77bcf86cd799439011'),
    status: fc.constantFrom<number | null>(200, 200, 201, 404, 500, 503, null),
    rcode: fc.constantFrom<number | null>(0, 0, 3, 2, null),
    elapsed: fc.integer({ min: 0, max: 5_000_000 }),
    ts: fc.integer({ min: 0, max: 600 * S }),
    node: fc.constantFrom('node-a', 'node-b'),
    req: fc.integer({ min: 0, max: 10_000 }),
  })
  .map((o) => {
    const b = { ts: T0 + o.ts, elapsed: o.elapsed, node: o.node, requestSize: o.req };
    if (o.kind === 'http') return http({ ...b, path: o.path, status: o.status });
    if (o.kind === 'dns') return dns({ ...b, rcode: o.rcode, name: `n${o.req % 3}.example` });
    if (o.kind === 'ws') return ws({ ...b, upgradePath: o.path });
    return tcpConn(b);
  });

function roundTrip(acc: StatsAccumulator): SerializedStats {
  return JSON.parse(JSON.stringify(acc.toJSON())) as SerializedStats;
}

test('merge(a, b) equals accumulating the union, also through toJSON/JSON.parse', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(arbEntry, fc.integer({ min: 0, max: 2 })), { maxLength: 150 }),
      fc.constantFrom('endpoint', 'service', 'namespace', 'node', 'protocol' as const),
      fc.constantFrom(0, 60, 7.5),
      (tagged, groupBy, bucketSec) => {
        const opts = { groupBy, bucketSec };
        const parts = [0, 1, 2].map((i) =>
          accumulateStats(
            tagged.filter(([, t]) => t === i).map(([e]) => e),
            opts,
          ),
        );
        const union = accumulateStats(
          tagged.map(([e]) => e),
          opts,
        );
        // In memory.
        const m = new StatsAccumulator(opts);
        for (const p of parts) m.merge(p);
        assert.deepEqual(m.toJSON(), union.toJSON());
        assert.deepEqual(m.result(), union.result());
        // As a hub would: each node's JSON, parsed.
        const hub = new StatsAccumulator(opts);
        for (const p of parts) hub.merge(roundTrip(p));
        assert.deepEqual(hub.toJSON(), union.toJSON());
        assert.deepEqual(hub.result({ fill: true }), union.result({ fill: true }));
        // A round trip alone changes nothing.
        assert.deepEqual(StatsAccumulator.fromJSON(roundTrip(union)).result(), union.result());
      },
    ),
    { numRuns: 150 },
  );
});

test('merging itself doubles; incompatible or malformed input is refused', () => {
  const acc = accumulateStats(sample(), { groupBy: 'endpoint' });
  const calls = acc.calls;
  acc.merge(acc);
  assert.equal(acc.calls, 2 * calls);
  const refuse = (f: () => void, re: RegExp): void =>
    assert.throws(
      f,
      (e: unknown) => e instanceof KsError && e.code === 'KS_ERR_USAGE' && re.test(e.message),
    );
  refuse(() => acc.merge(new StatsAccumulator({ groupBy: 'node' })), /node into endpoint/);
  refuse(() => acc.merge(new StatsAccumulator({ groupBy: 'endpoint', bucketSec: 10 })), /10 s/);
  refuse(
    () => acc.merge(new StatsAccumulator({ groupBy: 'endpoint', relativeAccuracy: 0.02 })),
    /accuracy/,
  );
  refuse(() => acc.merge({ format: 'nope' } as unknown as SerializedStats), /not a serialised/);
  const j = roundTrip(acc);
  refuse(() => acc.merge({ ...j, version: 2 } as unknown as SerializedStats), /version 2/);
  const bad = roundTrip(acc);
  bad.groups[0]!.buckets[0]!.latency!.n += 1;
  refuse(() => acc.merge(bad), /malformed statistics/);
  refuse(() => new StatsAccumulator({ groupBy: 'pod' as 'node' }), /unknown groupBy/);
});

test('distinct groups are bounded: the rest goes to (other)', () => {
  const es = Array.from({ length: 10 }, (_, i) => http({ path: `/p${i}` }));
  const acc = accumulateStats(es, { groupBy: 'endpoint', maxGroups: 3 });
  const r = acc.result();
  assert.equal(r.groups.length, 4);
  assert.equal(byKey(r).get(OTHER_GROUP)!.calls, 7);
  assert.equal(r.total.calls, 10);
});

test('a protocol row adds database errors without touching the accumulator', () => {
  // A stand-in for a future database dissector's record.
  const query = (ok: boolean): Entry => {
    const e = http({ elapsed: 2000 });
    return {
      ...e,
      protocol: 'mysql',
      record: { kind: 'mysql', command: 'COM_QUERY', ok } as unknown as Entry['record'],
    };
  };
  const mysql: ProtocolStatsSpec = {
    endpoint: (e) => ({ method: (e.record as unknown as { command: string }).command, path: '' }),
    classify: (e, out) => {
      if (!(e.record as unknown as { ok: boolean }).ok) out.push('db');
    },
    latency: (e) => e.elapsed_time,
  };
  const es = [query(true), query(false), query(false), query(true)];
  const r = accumulateStats(es, {
    groupBy: 'endpoint',
    protocols: { ...PROTOCOL_STATS, mysql },
  }).result();
  const g = r.groups[0]!;
  assert.equal(g.key, 'mysql COM_QUERY');
  assert.equal(g.errors.db, 2);
  assert.equal(g.errorRate, 0.5);
  assert.equal(g.latency!.samples, 4);
  // Without the row, the generic one still counts the calls (per protocol, with latency).
  const generic = accumulateStats(es, { groupBy: 'endpoint' }).result().groups[0]!;
  assert.deepEqual([generic.key, generic.calls, generic.failed], ['mysql', 4, 0]);
});

// ---------------------------------------------------------------- real captures

const CAPTURES = [
  corpus('mixed/pcapplusplus-example-mixed.pcap'),
  corpus('mixed/mercury-capture2.pcap'),
  join(root, 'demo/shop.pcap'),
  join(root, 'src/tap/dissectors/http/testdata/unanswered.pcap'),
];

test(
  'real captures: every L7 entry is one call; per-file accumulators merge to the whole',
  needsSharedFor(CAPTURES),
  async () => {
    const perFile: StatsAccumulator[] = [];
    const all: Entry[] = [];
    let l7 = 0;
    let l4 = 0;
    for (const [i, f] of CAPTURES.entries()) {
      const es = await entriesOf(f, `node-${i}`);
      all.push(...es);
      for (const e of es) {
        if (e.record.kind === 'tcp_conn' || e.record.kind === 'udp_flow') l4++;
        else l7++;
      }
      perFile.push(accumulateStats(es, { groupBy: 'endpoint' }));
    }
    assert.ok(l7 > 500, `${l7} calls`);
    const whole = accumulateStats(all, { groupBy: 'endpoint' });
    const hub = new StatsAccumulator({ groupBy: 'endpoint' });
    for (const p of perFile) hub.merge(roundTrip(p));
    assert.deepEqual(hub.result(), whole.result());
    const r = whole.result();
    assert.equal(r.total.calls, l7);
    assert.equal(r.ignored, l4);
    assert.equal(
      r.groups.reduce((n, g) => n + g.calls, 0),
      l7,
    );
    // Per protocol: the same calls; unanswered ones have no latency sample.
    const byProto = byKey(accumulateStats(all, { groupBy: 'protocol' }).result());
    for (const [proto, g] of byProto) {
      const es = all.filter((e) => e.protocol === proto);
      assert.equal(g.calls, es.length, proto);
      const unanswered = es.filter((e) => e.error?.code === 'KS_NO_RESPONSE').length;
      assert.equal(g.errors.no_response, unanswered, proto);
      if (proto === 'http' || proto === 'dns') {
        const paired = es.filter(
          (e) =>
            (e.record.kind === 'http' || e.record.kind === 'dns') &&
            e.record.request !== undefined &&
            e.record.response !== undefined &&
            e.error?.code !== 'KS_NO_RESPONSE',
        );
        assert.equal(g.latency?.samples ?? 0, paired.length, proto);
      }
    }
    // Per node (one node per file here): calls per file.
    const byNode = byKey(accumulateStats(all, { groupBy: 'node' }).result());
    for (const [i, p] of perFile.entries())
      assert.equal(byNode.get(`node-${i}`)?.calls ?? 0, p.calls);
  },
);
