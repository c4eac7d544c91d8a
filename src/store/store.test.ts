/**
 * EntryStore behaviour with real entries (demo/shop.pcap and every dissector's test captures,
 * replayed through the pipeline): round trip, order, windows, paging, count, restart, FIFO and
 * age retention, torn and corrupt records, and a reader racing the writer and eviction.
 */
import { entriesFromCapture } from '../tap/run.ts';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry } from '../entry/model.ts';
import type { HttpRecord } from '../tap/dissectors/http/record.ts';
import { EntryStore, type StoreQuery } from './store.ts';
import { replayCaptures } from '../../test/helpers/dissector-captures.ts';

const tmp = mkdtempSync(join(tmpdir(), 'ks-store-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let dirs = 0;
const newDir = (): string => join(tmp, `s${++dirs}`);

function entriesOf(file: string): Promise<Entry[]> {
  return entriesFromCapture(file, { l4All: true });
}

let realCache: Entry[] | undefined;
/** Every entry of the repository's captures, renumbered 1, 2, 3… (JSON copies). */
async function real(): Promise<Entry[]> {
  if (realCache === undefined) {
    const files = replayCaptures();
    const all: Entry[] = [];
    for (const f of files) all.push(...(await entriesOf(f)));
    realCache = all.map((e, i) => ({ ...(JSON.parse(JSON.stringify(e)) as Entry), id: i + 1 }));
  }
  return realCache;
}

/**
 * `n` distinct entries made from the real ones (small ones only, so tests stay quick): ids
 * from `firstId`, timestamps 1 ms apart from `t0`.
 */
async function variants(n: number, firstId = 1, t0 = 1_700_000_000_000_000): Promise<Entry[]> {
  const small = (await real()).filter((e) => JSON.stringify(e).length < 4000);
  return Array.from({ length: n }, (_, i) => {
    const e = JSON.parse(JSON.stringify(small[i % small.length])) as Entry;
    e.id = firstId + i;
    e.timestamp = t0 + (firstId + i) * 1000;
    e.flow_id = e.flow_id + 1000 * Math.floor(i / small.length);
    e.stream = `${e.transport}-${e.flow_id}`;
    return e;
  });
}

async function all(store: EntryStore, q: StoreQuery = {}): Promise<Entry[]> {
  const out: Entry[] = [];
  for await (const e of store.query(q)) out.push(e);
  return out;
}

const json = (es: readonly Entry[]): string[] => es.map((e) => JSON.stringify(e));
const ids = (es: readonly Entry[]): number[] => es.map((e) => e.id);
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const httpStatus = (e: Entry): number =>
  e.record.kind === 'http' ? (e.record.response?.statusCode ?? 0) : 0;

function segmentFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.seg'))
    .sort();
}

test('real entries read back exactly: query both orders, get, lazy summaries', async () => {
  const es = await real();
  const store = await EntryStore.open(newDir(), { segmentBytes: 32 * 1024, maxBytes: 64 << 20 });
  for (const e of es) assert.equal(store.append(e), e.id);
  const expect = json(es);
  assert.deepEqual(json(await all(store, { order: 'oldest' })), expect, 'oldest first');
  assert.deepEqual(json(await all(store)), expect.slice().reverse(), 'newest first (default)');
  assert.deepEqual(json(await all(store, { lazy: true, order: 'oldest' })), expect, 'lazy');
  for (const e of es) assert.equal(JSON.stringify(await store.get(e.id)), JSON.stringify(e));
  assert.equal(await store.get(0), undefined);
  assert.equal(await store.get(es.length + 1), undefined);
  await store.flush();
  const st = store.stats();
  assert.equal(st.entries, es.length);
  assert.equal(st.opaqueEntries, 0, 'the schema describes every entry the dissectors emit');
  assert.equal(st.pendingBytes, 0);
  assert.ok(st.segments > 1);
  assert.equal(st.oldestId, 1);
  assert.equal(st.newestId, es.length);
  // Appended but not yet written entries are readable too.
  const more = await variants(3, es.length + 1);
  for (const e of more) store.append(e);
  assert.deepEqual(json(await all(store, { limit: 3 })), json(more).reverse());
  await store.close();
});

test('index checks and filters select what a brute-force scan selects; count agrees', async () => {
  const es = await variants(1500);
  const store = await EntryStore.open(newDir(), { segmentBytes: 64 * 1024, maxBytes: 64 << 20 });
  for (const e of es) store.append(e);
  const mid = es[700]!.timestamp;
  const cases: { q: StoreQuery; want: (e: Entry) => boolean }[] = [
    { q: {}, want: () => true },
    { q: { protocols: ['dns'] }, want: (e) => e.protocol === 'dns' },
    { q: { protocols: ['http', 'ws'] }, want: (e) => e.protocol === 'http' || e.protocol === 'ws' },
    { q: { status: { min: 400 } }, want: (e) => httpStatus(e) >= 400 },
    {
      q: { protocols: ['dns'], status: { min: 0, max: 0 } },
      want: (e) => e.record.kind === 'dns' && e.record.response?.rcodeNumber === 0,
    },
    { q: { errors: true }, want: (e) => e.error !== undefined },
    { q: { errors: false }, want: (e) => e.error === undefined },
    { q: { start: mid }, want: (e) => e.timestamp >= mid },
    { q: { end: mid }, want: (e) => e.timestamp < mid },
    {
      q: { start: es[100]!.timestamp, end: es[1300]!.timestamp, protocols: ['http'] },
      want: (e) =>
        e.timestamp >= es[100]!.timestamp &&
        e.timestamp < es[1300]!.timestamp &&
        e.protocol === 'http',
    },
    {
      q: { filter: (e) => (e.record as HttpRecord).request?.method === 'POST' },
      want: (e) => e.record.kind === 'http' && e.record.request?.method === 'POST',
    },
    {
      // A heavy field (headers): the summary entry loads the full one.
      q: {
        protocols: ['http'],
        filter: (e) => (e.record as HttpRecord).request?.headers['host'] !== undefined,
      },
      want: (e) => e.record.kind === 'http' && e.record.request?.headers['host'] !== undefined,
    },
    {
      q: { filter: (e) => e.dst.port === 53, start: mid },
      want: (e) => e.dst.port === 53 && e.timestamp >= mid,
    },
  ];
  for (const [k, c] of cases.entries()) {
    const want = es.filter(c.want);
    assert.ok(want.length > 0 || k === 0, `case ${k} selects something`);
    const got = await all(store, { ...c.q, order: 'oldest' });
    assert.deepEqual(ids(got), ids(want), `case ${k}`);
    assert.deepEqual(json(got), json(want), `case ${k} contents`);
    assert.equal(await store.count(c.q), want.length, `case ${k} count`);
    const newest = await all(store, { ...c.q, limit: 5 });
    assert.deepEqual(ids(newest), ids(want).reverse().slice(0, 5), `case ${k} newest 5`);
  }
  await store.close();
});

test('limit + cursor paging covers every entry exactly once, both orders, under appends', async () => {
  const es = await variants(600);
  const store = await EntryStore.open(newDir(), { segmentBytes: 16 * 1024, maxBytes: 64 << 20 });
  for (const e of es) store.append(e);
  const extra = await variants(50, 601);
  for (const order of ['newest', 'oldest'] as const) {
    for (const q of [
      {},
      { filter: (e: Entry) => e.protocol !== 'tcp' },
      { start: es[50]!.timestamp, protocols: ['http', 'dns'] },
    ] as StoreQuery[]) {
      const want = await all(store, { ...q, order });
      const seen: number[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.page({ ...q, order, limit: 7, cursor });
        seen.push(...ids(page.entries));
        cursor = page.cursor;
        pages++;
        // Appends between pages must not disturb a newest-first walk (they are newer than the
        // first page) and extend an oldest-first one only at its end.
        if (pages === 3 && order === 'newest' && extra.length > 0) {
          for (const e of extra.splice(0, 25)) store.append(e);
        }
      } while (cursor !== undefined);
      if (order === 'newest') assert.deepEqual(seen, ids(want), `${order} ${JSON.stringify(q)}`);
      else assert.deepEqual(seen.slice(0, want.length), ids(want));
      assert.equal(new Set(seen).size, seen.length, 'no entry twice');
    }
  }
  await assert.rejects(store.page({ cursor: 'not-a-cursor' }), /cursor/);
  const p = await store.page({ limit: 2 });
  await assert.rejects(store.page({ cursor: p.cursor, order: 'oldest' }), /other order/);
  await store.close();
});

test('restart: a reopened store answers the same, and keeps appending after', async () => {
  const dir = newDir();
  const es = await variants(800);
  const opts = { segmentBytes: 32 * 1024, maxBytes: 64 << 20 };
  let store = await EntryStore.open(dir, opts);
  for (const e of es) store.append(e);
  const q: StoreQuery = { protocols: ['http'], filter: (e) => httpStatus(e) === 200 };
  const before = {
    all: json(await all(store)),
    some: ids(await all(store, q)),
    count: await store.count(q),
    stats: store.stats(),
  };
  await store.close();
  await assert.rejects(
    (async () => {
      await store.flush();
      store.append(es[0]!);
    })(),
    /closed/,
  );
  store = await EntryStore.open(dir, opts);
  await assert.rejects(EntryStore.open(dir, opts), /already open/);
  assert.deepEqual(json(await all(store)), before.all);
  assert.deepEqual(ids(await all(store, q)), before.some);
  assert.equal(await store.count(q), before.count);
  const st = store.stats();
  for (const k of ['entries', 'bytes', 'segments', 'oldestTs', 'newestTs', 'newestId'] as const) {
    assert.equal(st[k], before.stats[k], k);
  }
  assert.equal(st.tornRecords, 0);
  assert.equal(store.newestId, 800);
  const more = await variants(100, 801);
  for (const e of more) store.append(e);
  await store.close();
  store = await EntryStore.open(dir, opts);
  assert.deepEqual(json(await all(store, { order: 'oldest' })), json([...es, ...more]));
  await store.close();
});

test('FIFO eviction at the size limit under continuous writes keeps the newest, intact', async () => {
  const dir = newDir();
  const maxBytes = 96 * 1024;
  const segmentBytes = 8 * 1024;
  const store = await EntryStore.open(dir, { maxBytes, segmentBytes });
  const es = await variants(1500);
  let maxSeen = 0;
  for (const [i, e] of es.entries()) {
    store.append(e);
    maxSeen = Math.max(maxSeen, store.stats().bytes);
    if (i % 100 === 99) await tick();
  }
  await store.flush();
  await tick();
  const st = store.stats();
  assert.ok(st.evictedEntries > 1000, `evicted ${st.evictedEntries}`);
  assert.equal(st.evictedEntries + st.entries, es.length);
  assert.ok(maxSeen <= maxBytes + segmentBytes, `bytes peaked at ${maxSeen}`);
  const onDisk = segmentFiles(dir).reduce((a, f) => a + statSync(join(dir, f)).size, 0);
  assert.equal(onDisk, st.bytes, 'the files are what the store counts');
  assert.ok(onDisk <= maxBytes + segmentBytes);
  // What remains is the newest, contiguous, and equal to what was appended.
  const left = await all(store, { order: 'oldest' });
  const first = es.length - left.length;
  assert.deepEqual(json(left), json(es.slice(first)));
  assert.equal(st.oldestId, first + 1);
  assert.equal(await store.get(1), undefined);
  assert.equal(JSON.stringify(await store.get(es.length)), JSON.stringify(es.at(-1)));
  await store.close();
  // And a restart sees the same.
  const again = await EntryStore.open(dir, { maxBytes, segmentBytes });
  assert.deepEqual(ids(await all(again, { order: 'oldest' })), ids(left));
  await again.close();
});

test('age retention evicts segments whose last append is older than maxAgeSec', async () => {
  let now = 1_000_000;
  const store = await EntryStore.open(newDir(), {
    maxBytes: 64 << 20,
    segmentBytes: 8 * 1024,
    maxAgeSec: 5,
    now: () => now,
  });
  const a = await variants(200, 1);
  const b = await variants(200, 201);
  for (const e of a) store.append(e);
  now += 4000;
  for (const e of b) store.append(e);
  now += 4000; // a: 8 s old, b: 4 s old
  store.enforceRetention();
  const left = ids(await all(store, { order: 'oldest' }));
  assert.ok(left.length >= 200 && left.length < 260, `kept ${left.length}`);
  assert.deepEqual(left.slice(-200), ids(b), 'all of b is kept');
  assert.equal(left[0], 400 - left.length + 1, 'only a tail of a (its last segment) is kept');
  now += 60_000; // everything is old, the segment being written too
  store.enforceRetention();
  assert.equal(store.stats().entries, 0);
  assert.equal((await all(store)).length, 0);
  const c = await variants(10, 401);
  for (const e of c) store.append(e);
  assert.deepEqual(ids(await all(store, { order: 'oldest' })), ids(c));
  await store.close();
});

test('a torn final record (cut short, or a flipped byte) is dropped on reopen and counted', async () => {
  const es = await variants(120);
  const opts = { maxBytes: 64 << 20, segmentBytes: 16 * 1024 };
  for (const damage of ['truncate', 'flip'] as const) {
    const dir = newDir();
    let store = await EntryStore.open(dir, opts);
    for (const e of es) store.append(e);
    await store.close();
    const last = join(dir, segmentFiles(dir).at(-1)!);
    const size = statSync(last).size;
    if (damage === 'truncate') truncateSync(last, size - 7);
    else {
      const b = readFileSync(last);
      b[size - 20] = b[size - 20]! ^ 0x40;
      writeFileSync(last, b);
    }
    store = await EntryStore.open(dir, opts);
    const st = store.stats();
    assert.equal(st.tornRecords, 1, damage);
    assert.ok(st.truncatedBytes > 0);
    assert.equal(st.entries, es.length - 1);
    assert.deepEqual(json(await all(store, { order: 'oldest' })), json(es.slice(0, -1)));
    // The store goes on: the cut entry's id is free again, appends continue after the cut.
    store.append(es.at(-1)!);
    await store.close();
    store = await EntryStore.open(dir, opts);
    assert.equal(store.stats().tornRecords, 0);
    assert.deepEqual(json(await all(store, { order: 'oldest' })), json(es));
    await store.close();
  }
});

test('a corrupt record inside a segment is skipped, the rest is kept', async () => {
  const dir = newDir();
  const es = await variants(60);
  const opts = { maxBytes: 64 << 20, segmentBytes: 1 << 20 };
  let store = await EntryStore.open(dir, opts);
  for (const e of es) store.append(e);
  await store.close();
  const file = join(dir, segmentFiles(dir)[0]!);
  const b = readFileSync(file);
  const mid = Math.floor(b.length / 2);
  b[mid] = b[mid]! ^ 0x01;
  writeFileSync(file, b);
  store = await EntryStore.open(dir, opts);
  const st = store.stats();
  assert.equal(st.tornRecords, 0);
  assert.equal(st.corruptRecords, 1);
  const left = await all(store, { order: 'oldest' });
  assert.equal(left.length, es.length - 1);
  const byId = new Map(es.map((e) => [e.id, JSON.stringify(e)]));
  for (const e of left) assert.equal(JSON.stringify(e), byId.get(e.id));
  await store.close();
});

test('a reader iterating while the writer appends and eviction runs sees intact entries', async () => {
  const dir = newDir();
  const store = await EntryStore.open(dir, { maxBytes: 64 * 1024, segmentBytes: 8 * 1024 });
  const es = await variants(1600);
  const byId = new Map(es.map((e) => [e.id, JSON.stringify(e)]));
  for (const e of es.slice(0, 100)) store.append(e);
  let writing = true;
  const writer = (async (): Promise<void> => {
    for (let i = 100; i < es.length; i++) {
      store.append(es[i]!);
      if (i % 20 === 0) await tick();
    }
    await store.flush();
    writing = false;
  })();
  const readers = (['oldest', 'newest'] as const).map(async (order) => {
    let n = 0;
    let prev = order === 'oldest' ? 0 : Infinity;
    let heavy = 0;
    for await (const e of store.query({ order, lazy: order === 'newest' })) {
      assert.ok(order === 'oldest' ? e.id > prev : e.id < prev, `${order} order`);
      prev = e.id;
      // Full entries equal the originals; lazy ones load their heavy fields even if their
      // segment was evicted meanwhile (the scan pins it).
      if (order === 'oldest') assert.equal(JSON.stringify(e), byId.get(e.id));
      else if (e.record.kind === 'http' && e.record.request) {
        const orig = (JSON.parse(byId.get(e.id)!) as Entry).record as HttpRecord;
        assert.deepEqual(e.record.request.headers, orig.request!.headers);
        heavy++;
      }
      n++;
      await tick();
    }
    return { n, heavy };
  });
  const counts: number[] = [];
  while (writing) {
    counts.push(await store.count({ protocols: ['http'] }));
    await tick();
  }
  await writer;
  const [oldest, newest] = await Promise.all(readers);
  assert.ok(oldest!.n > 0 && newest!.n > 0);
  assert.ok(newest!.heavy > 0);
  assert.ok(store.stats().evictedEntries > 500, 'eviction ran during the reads');
  assert.ok(counts.length > 0);
  // Files of evicted segments are gone once readers left them.
  await tick();
  assert.equal(
    segmentFiles(dir).reduce((a, f) => a + statSync(join(dir, f)).size, 0),
    store.stats().bytes,
  );
  await store.close();
});

test('ids that do not increase are stored under the next id; unknown shapes are stored whole', async () => {
  const [a, b] = await variants(2, 10);
  const store = await EntryStore.open(newDir(), { maxBytes: 64 << 20 });
  assert.equal(store.append(b!), 11);
  assert.equal(store.append(a!), 12, 'id 10 ≤ 11: stored as 12');
  const odd = { ...a!, id: 20, tls: { sni: 'example.com' } } as unknown as Entry;
  assert.equal(store.append(odd), 20);
  const st = store.stats();
  assert.equal(st.reassignedIds, 1);
  assert.equal(st.opaqueEntries, 1);
  assert.equal(JSON.stringify(await store.get(12)), JSON.stringify({ ...a!, id: 12 }));
  assert.equal(JSON.stringify(await store.get(20)), JSON.stringify(odd));
  assert.deepEqual(
    ids(await all(store, { filter: (e) => (e as unknown as { tls?: unknown }).tls !== undefined })),
    [20],
  );
  const bad = { ...a!, id: 21, elapsed_time: 10n } as unknown as Entry;
  assert.equal(store.append(bad), 0, 'not serialisable: dropped');
  assert.equal(store.stats().droppedEntries, 1);
  await store.close();
});
