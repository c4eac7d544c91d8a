/**
 * The hub over two real workers loaded with different captures: merged paging, filters,
 * statistics and L4 merged exactly, the live stream fanned in, and a worker that dies and comes
 * back (partial answers with `unavailable`, reconnection with backoff). Also a worker that
 * never answers (the per-request timeout), and an in-process worker.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../src/api/client.ts';
import { summarize } from '../src/api/summary.ts';
import type { EntriesResponse, EntrySummary, StreamMessage } from '../src/api/types.ts';
import type { Entry } from '../src/entry/model.ts';
import { StatsAccumulator } from '../src/store/stats/accumulator.ts';
import { L4Aggregation } from '../src/store/stats/l4.ts';
import { createHub, type Hub } from '../src/hub/index.ts';
import { entriesFromCapture } from '../src/tap/run.ts';
import { createWorker, fileSource, type Worker } from '../src/worker/index.ts';
import {
  Collector,
  FILES_A,
  FILES_B,
  SHOP,
  configFor,
  dissectViews,
  until,
} from './helpers/roles-kit.ts';

const timing = {
  requestTimeoutMs: 2000,
  healthIntervalMs: 200,
  backoffInitialMs: 100,
  backoffMaxMs: 800,
};
const dirs: string[] = [];
let a: Worker;
let b: Worker;
let portB: number;
let hub: Hub;
let api: ApiClient;
let hubUrl: string;

function startB(): Promise<Worker> {
  return createWorker({ config: configFor('b'), storeDir: dirs[1], sources: [], l4All: true });
}

before(async () => {
  dirs.push(mkdtempSync(join(tmpdir(), 'roles-a-')), mkdtempSync(join(tmpdir(), 'roles-b-')));
  a = await createWorker({
    config: configFor('a'),
    storeDir: dirs[0],
    sources: FILES_A.map(fileSource),
    l4All: true,
  });
  b = await createWorker({
    config: configFor('b'),
    storeDir: dirs[1],
    sources: FILES_B.map(fileSource),
    l4All: true,
  });
  const portA = await a.listen(0, '127.0.0.1');
  portB = await b.listen(0, '127.0.0.1');
  await Promise.all([a.replayed, b.replayed]);
  hub = createHub({
    workers: [
      { name: 'a', url: `http://127.0.0.1:${portA}` },
      { name: 'b', url: `http://127.0.0.1:${portB}` },
    ],
    ...timing,
  });
  hubUrl = `http://127.0.0.1:${await hub.listen(0, '127.0.0.1')}`;
  api = new ApiClient(hubUrl);
  await hub.ready;
});
after(async () => {
  await hub.close();
  await a.close();
  await b.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function storeEntries(w: Worker): Promise<Entry[]> {
  const out: Entry[] = [];
  for await (const e of w.store.query({ order: 'oldest' })) out.push(e);
  return out;
}

async function pageAll(q: {
  q?: string;
  order: 'newest' | 'oldest';
  limit: number;
}): Promise<EntrySummary[]> {
  const out: EntrySummary[] = [];
  let cursor: string | undefined;
  do {
    const p = await api.entries({ ...q, cursor });
    assert.equal(p.unavailable, undefined);
    assert.ok(p.entries.length <= q.limit);
    out.push(...p.entries);
    cursor = p.cursor;
  } while (cursor !== undefined);
  return out;
}

test('paging through the hub yields both stores merged by time, each entry once', async () => {
  const [ea, eb] = [await storeEntries(a), await storeEntries(b)];
  const want = new Set([...ea.map((e) => `a:${e.id}`), ...eb.map((e) => `b:${e.id}`)]);
  for (const order of ['newest', 'oldest'] as const) {
    const big = await pageAll({ order, limit: 1000 });
    for (const limit of [1, 6, 25]) {
      const got = await pageAll({ order, limit });
      assert.deepEqual(got, big, `${order}: same sequence with pages of ${limit}`);
    }
    const keys = big.map((s) => `${s.node}:${s.id}`);
    assert.equal(new Set(keys).size, keys.length, 'no duplicates');
    assert.deepEqual(new Set(keys), want, 'exactly the stores');
    for (const n of ['a', 'b']) {
      const ids = big.filter((s) => s.node === n).map((s) => s.id);
      assert.deepEqual(
        ids,
        [...ids].sort((x, y) => (order === 'newest' ? y - x : x - y)),
        `${n} in order`,
      );
    }
    // The two captures' times do not overlap: merged by time, one node's entries come first.
    const first = big[0]!.node;
    const switches = big.filter((s, i) => i > 0 && s.node !== big[i - 1]!.node).length;
    assert.ok(switches < 10, `${switches} switches between nodes`);
    assert.equal(
      first,
      order === 'newest'
        ? ea.at(-1)!.timestamp > eb.at(-1)!.timestamp
          ? 'a'
          : 'b'
        : ea[0]!.timestamp < eb[0]!.timestamp
          ? 'a'
          : 'b',
    );
  }
  const counted = await api.entries({ count: true, limit: 3 });
  assert.equal(counted.total, want.size);
  const next = await api.entries({ count: true, limit: 3, cursor: counted.cursor });
  assert.equal(next.total, want.size, 'total is the whole window on every page');
  const full = await api.entries({ view: 'full', order: 'oldest', limit: 5 });
  assert.deepEqual(
    full.entries.map((v) => v.id),
    (await api.entries({ order: 'oldest', limit: 5 })).entries.map((s) => s.id),
  );
});

test('filters through the hub count what dissect counts over both sets of files', async () => {
  for (const q of [
    'http',
    'dns || ws',
    'http && status_code >= 400',
    'tcp_conn',
    'method == "GET"',
  ]) {
    const want =
      (await dissectViews(FILES_A, { node: 'a', filter: q, l4All: true })).length +
      (await dissectViews(FILES_B, { node: 'b', filter: q, l4All: true })).length;
    assert.equal((await pageAll({ q, order: 'oldest', limit: 9 } as never)).length, want, q);
    assert.equal((await api.entries({ q, count: true, limit: 1 })).total, want, `${q}: total`);
  }
  await assert.rejects(api.entries({ q: 'http &&' }), {
    code: 'KS_ERR_KFL_SYNTAX',
    status: 400,
    column: 8,
  });
});

test('statistics merged by the hub equal statistics over all entries at once', async () => {
  const all = [...(await storeEntries(a)), ...(await storeEntries(b))];
  for (const groupBy of ['endpoint', 'protocol', 'node'] as const) {
    const one = new StatsAccumulator({ groupBy, bucketSec: 60 });
    for (const e of all) one.add(e);
    const want = one.result({ series: 'all' });
    const got = (await api.stats({ groupBy })).result;
    assert.equal(got.total.calls, want.total.calls);
    assert.ok(want.total.calls > 50);
    assert.equal(got.ignored, want.ignored);
    assert.deepEqual(
      got.groups.map((g) => [
        g.key,
        g.calls,
        g.failed,
        g.errors,
        g.bytes,
        g.first,
        g.last,
        g.series.length,
      ]),
      want.groups.map((g) => [
        g.key,
        g.calls,
        g.failed,
        g.errors,
        g.bytes,
        g.first,
        g.last,
        g.series.length,
      ]),
      groupBy,
    );
    const acc = want.relativeAccuracy;
    for (const [i, g] of got.groups.entries()) {
      const w = want.groups[i]!;
      assert.equal(g.latency === null, w.latency === null);
      if (!g.latency || !w.latency) continue;
      assert.equal(g.latency.samples, w.latency.samples);
      assert.equal(g.latency.min, w.latency.min);
      assert.equal(g.latency.max, w.latency.max);
      for (const k of ['p50', 'p95', 'p99'] as const) {
        assert.ok(
          Math.abs(g.latency[k] - w.latency[k]) <= acc * w.latency[k] + 1e-9,
          `${g.key} ${k}`,
        );
      }
    }
    const raw = await api.rawStats({ groupBy });
    assert.equal(raw.stats.groups.length, one.toJSON().groups.length);
  }
  // Filtered: only the matching calls.
  const http = (await api.stats({ q: 'http', groupBy: 'protocol', series: 'none' })).result;
  assert.deepEqual(
    http.groups.map((g) => g.key),
    ['http'],
  );
  assert.equal(http.groups[0]!.calls, all.filter((e) => e.protocol === 'http').length);
});

test('L4 aggregation, boundaries, health and workers through the hub', async () => {
  const all = [...(await storeEntries(a)), ...(await storeEntries(b))];
  // The store aggregates connection/flow records only (L7 entries are not visited).
  const one = new L4Aggregation({ by: 'ip' });
  for (const e of all) if (e.protocol === 'tcp' || e.protocol === 'udp') one.add(e);
  const raw = await api.rawL4({ by: 'ip' });
  assert.deepEqual(raw.l4, one.toJSON());
  assert.ok(raw.l4.totals.connections >= 20, `${raw.l4.totals.connections} connections`);
  const top = await api.l4({ by: 'ip', limit: 1 });
  assert.deepEqual(top.top, one.topTalkers(1));
  assert.equal(top.l4.groups.length, 1);

  const bd = await api.boundaries();
  assert.deepEqual(bd.nodes.map((n) => n.node).sort(), ['a', 'b']);
  assert.equal(bd.entries, all.length);
  assert.equal(bd.oldest, Math.min(...all.map((e) => e.timestamp)));

  const h = await api.health();
  assert.equal(h.role, 'hub');
  assert.equal(h.ok, true);
  assert.equal(h.capture!.entries, all.length);
  assert.deepEqual(h.capture!.sources, [...FILES_A, ...FILES_B]);
  const ws = (await api.workers()).workers;
  assert.deepEqual(
    ws.map((w) => [w.name, w.up, w.node]),
    [
      ['a', true, 'a'],
      ['b', true, 'b'],
    ],
  );

  const e = await api.entry(3, { node: 'b' });
  assert.equal(e.summary.node, 'b');
  assert.deepEqual(e.summary, summarize((await b.store.get(3))!));
  await assert.rejects(api.entry(3), { code: 'KS_ERR_USAGE' });
  await assert.rejects(api.entry(3, { node: 'zz' }), { code: 'KS_ERR_NOT_FOUND' });
  assert.ok((await api.fields()).fields.length > 50);
});

test('the hub fans the live stream in, and survives a worker restart', async () => {
  const shop = await entriesFromCapture(SHOP);
  const c = new Collector(
    `${hubUrl.replace('http', 'ws')}/api/stream?q=${encodeURIComponent('http && status_code >= 400')}`,
  );
  await c.open();
  await until(() => hub.streamClients()[0]?.upstreams === 2, 5000, 'upstreams');
  for (const e of shop) a.ingest(e);
  for (const e of shop) b.ingest(e);
  await until(() => c.entries().length === 4, 5000, 'entries from both');
  const got = c.entries() as unknown as EntrySummary[];
  assert.deepEqual(got.map((s) => `${s.node}:${s.status}`).sort(), [
    'a:404',
    'a:503',
    'b:404',
    'b:503',
  ]);
  const hello = c.of('hello')[0]!;
  assert.equal(hello.role, 'hub');
  assert.equal(hello.kfl.kfl2, 'http && status_code >= 400');

  // Worker b goes away: partial answers, never a hang; /api/workers says so.
  await b.close();
  const partial = await api.entries({ limit: 1000 });
  assert.deepEqual(partial.unavailable, ['b']);
  assert.ok(partial.entries.length > 0 && partial.entries.every((s) => s.node === 'a'));
  const st = await api.stats({ groupBy: 'node', series: 'none' });
  assert.deepEqual(st.unavailable, ['b']);
  assert.deepEqual(
    st.result.groups.map((g) => g.key),
    ['a'],
  );
  await until(() => hub.workers().find((w) => w.name === 'b')?.up === false, 5000, 'b down');
  const down = (await api.workers()).workers.find((w) => w.name === 'b')!;
  assert.equal(down.up, false);
  assert.ok(down.error && down.failures! >= 1, JSON.stringify(down));
  assert.equal((await api.health()).ok, false);
  await until(
    () => c.of('status').some((m) => m.workersDown.includes('b') && m.workersUp === 1),
    5000,
    'status with b down',
  );
  // The stream keeps working for a.
  for (const e of shop) a.ingest(e);
  await until(() => c.entries().length === 6, 5000, 'a still streams');

  // b comes back on the same port with its store: reconnected by the backoff, streams again.
  b = await startB();
  await b.listen(portB, '127.0.0.1');
  await until(() => hub.workers().find((w) => w.name === 'b')?.up === true, 10_000, 'b up again');
  await until(() => hub.streamClients()[0]?.upstreams === 2, 10_000, 'upstream to b reopened');
  const whole = await api.entries({ limit: 1000, count: true });
  assert.equal(whole.unavailable, undefined);
  assert.ok(whole.entries.some((s) => s.node === 'b'));
  for (const e of shop) b.ingest(e);
  await until(
    () => c.entries().filter((s) => s.node === 'b').length === 4,
    5000,
    'b streams again',
  );
  c.close();
});

test('a worker that never answers costs one timeout, not a hang; none answering is a 503', async () => {
  const sockets = new Set<Socket>();
  const silent: Server = createServer((s) => sockets.add(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as { port: number }).port;
  const h = createHub({
    workers: [
      { name: 'a', worker: a },
      { name: 'silent', url: `http://127.0.0.1:${port}` },
    ],
    requestTimeoutMs: 400,
    healthIntervalMs: 200,
    backoffInitialMs: 5000,
    backoffMaxMs: 5000,
  });
  try {
    const t0 = Date.now();
    const r = (await h.api.call('/api/entries', { limit: '3' })) as EntriesResponse;
    assert.ok(Date.now() - t0 < 2000, `answered in ${Date.now() - t0} ms`);
    assert.deepEqual(r.unavailable, ['silent']);
    assert.equal(r.entries.length, 3);
    // Known down: the next answer does not wait for it at all.
    const t1 = Date.now();
    const again = (await h.api.call('/api/entries', { limit: '3' })) as EntriesResponse;
    assert.ok(Date.now() - t1 < 300, `answered in ${Date.now() - t1} ms`);
    assert.deepEqual(again.unavailable, ['silent']);
  } finally {
    await h.close();
  }
  const lonely = createHub({
    workers: [{ name: 'silent', url: `http://127.0.0.1:${port}` }],
    requestTimeoutMs: 300,
  });
  try {
    await assert.rejects(lonely.api.call('/api/stats', {}), { code: 'KS_ERR_UNAVAILABLE' });
  } finally {
    await lonely.close();
    for (const s of sockets) s.destroy();
    silent.close();
  }
});

test('an in-process worker: no HTTP hop, same answers, live stream', async () => {
  const h = createHub({ workers: [{ name: 'a', worker: a }], ...timing });
  const port = await h.listen(0, '127.0.0.1');
  const c = new ApiClient(`http://127.0.0.1:${port}`);
  try {
    const direct = await new ApiClient(hubUrl).entries({ q: 'dns', limit: 1000 });
    const local = await c.entries({ q: 'dns', limit: 1000 });
    assert.deepEqual(
      local.entries,
      direct.entries.filter((s) => s.node === 'a'),
    );
    const msgs: StreamMessage[] = [];
    const s = c.stream('dns', (m) => msgs.push(m));
    await until(() => msgs.some((m) => m.type === 'hello'), 5000, 'hello');
    await until(() => h.streamClients()[0]?.upstreams === 1, 5000, 'upstream');
    const shop = await entriesFromCapture(SHOP);
    for (const e of shop) a.ingest(e);
    await until(() => msgs.filter((m) => m.type === 'entry').length === 4, 5000, 'dns entries');
    s.setFilter('http');
    await until(() => msgs.filter((m) => m.type === 'hello').length === 2, 5000, 'hello 2');
    for (const e of shop) a.ingest(e);
    await until(
      () => msgs.filter((m) => m.type === 'entry').length === 4 + 9,
      5000,
      'http entries',
    );
    s.close();
  } finally {
    await h.close();
  }
});
