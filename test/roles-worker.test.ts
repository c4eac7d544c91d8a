/**
 * The worker role over the golden captures: real worker on port 0, real HTTP and WebSocket
 * clients. What it stores is what `dissect` prints; paging, filters, entry, errors, live stream
 * and a consumer that never reads.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../src/api/client.ts';
import { ApiError } from '../src/api/errors.ts';
import {
  STREAM_CLOSE_BAD_FILTER,
  STREAM_MAX_QUEUED_BYTES,
  STREAM_MAX_QUEUED_MESSAGES,
  STREAM_MAX_SOCKET_BYTES,
} from '../src/api/stream.ts';
import { summarize } from '../src/api/summary.ts';
import type {
  Boundaries,
  EntriesResponse,
  EntryResponse,
  EntrySummary,
  FieldsResponse,
  Health,
  KflCheck,
} from '../src/api/types.ts';
import type { Entry } from '../src/entry/model.ts';
import { entriesFromCapture } from '../src/tap/run.ts';
import { createWorker, fileSource, type Worker } from '../src/worker/index.ts';
import {
  Collector,
  FILES_A,
  FILES_B,
  SHOP,
  configFor,
  dissectViews,
  getJson,
  tick,
  until,
} from './helpers/roles-kit.ts';

const FILES = [...FILES_A, ...FILES_B];
let worker: Worker;
let base: string;
let api: ApiClient;

before(async () => {
  worker = await createWorker({
    config: configFor('n1'),
    sources: FILES.map(fileSource),
    l4All: true,
  });
  base = `http://127.0.0.1:${await worker.listen(0, '127.0.0.1')}`;
  api = new ApiClient(base);
  await worker.replayed;
});
after(() => worker.close());

async function allPages(
  q: Record<string, string | number>,
): Promise<{ ids: number[]; pages: number }> {
  const ids: number[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const u = new URL(base + '/api/entries');
    for (const [k, v] of Object.entries(q)) u.searchParams.set(k, String(v));
    if (cursor) u.searchParams.set('cursor', cursor);
    const r = await getJson<EntriesResponse<{ id: number }>>(u.toString());
    assert.equal(r.status, 200);
    ids.push(...r.body.entries.map((e) => e.id));
    cursor = r.body.cursor;
    pages++;
  } while (cursor !== undefined);
  return { ids, pages };
}

test('the worker stores exactly what `dissect --l4 -o jsonl` prints for the same files', async () => {
  const want = await dissectViews(FILES, { node: 'n1', l4All: true });
  const got = await api.entries({ view: 'full', order: 'oldest', limit: 1000 });
  assert.ok(want.length > 100, `${want.length} entries`);
  assert.equal(got.cursor, undefined);
  assert.deepEqual(got.entries, want);
});

test('paging with cursors yields the store, newest first and oldest first, each entry once', async () => {
  const stored: number[] = [];
  for await (const e of worker.store.query({ order: 'oldest', lazy: true })) stored.push(e.id);
  for (const limit of [1, 7, 50]) {
    const oldest = await allPages({ order: 'oldest', limit });
    assert.deepEqual(oldest.ids, stored, `oldest, limit ${limit}`);
    assert.equal(oldest.pages, Math.ceil(stored.length / limit));
    const newest = await allPages({ order: 'newest', limit });
    assert.deepEqual(newest.ids, [...stored].reverse(), `newest, limit ${limit}`);
  }
  const full = await allPages({ order: 'newest', limit: 13, view: 'full' });
  assert.deepEqual(full.ids, [...stored].reverse());
  // A cursor made for one order is refused in the other.
  const first = await api.entries({ limit: 2 });
  await assert.rejects(api.entries({ cursor: first.cursor, order: 'oldest' }), {
    code: 'KS_ERR_USAGE',
    status: 400,
  });
});

test('KFL filters select what `dissect --filter` selects', async () => {
  const filters = [
    'http',
    'dns',
    'ws',
    'http && status_code >= 400',
    'dns && status_code == 3',
    'tcp_conn || udp_flow',
    'method == "POST"',
    'path.startsWith("/api/")',
    'elapsed_time > 500',
    'http and response.status >= 500',
    '"content-type" in response.headers',
  ];
  for (const q of filters) {
    const want = await dissectViews(FILES, { node: 'n1', l4All: true, filter: q });
    const { ids } = await allPages({ q, order: 'oldest', limit: 5 });
    assert.deepEqual(
      ids,
      want.map((v) => v.id),
      q,
    );
    const counted = await api.entries({ q, count: true, limit: 1 });
    assert.equal(counted.total, want.length, `${q}: total`);
  }
  const translated = await api.entries({ q: 'http and response.status >= 500', limit: 1 });
  assert.equal(translated.kfl.kfl2, 'http && status_code >= 500');
  assert.match(translated.kfl.note ?? '', /older syntax translated/);
});

test('a bad filter is a 400 with its line and column', async () => {
  const r = await getJson<{
    error: { code: string; line: number; column: number; detail: string[] };
  }>(`${base}/api/entries?q=${encodeURIComponent('http &&\n  respnse.status == 200')}`);
  assert.equal(r.status, 400);
  assert.equal(r.body.error.code, 'KS_ERR_KFL_UNKNOWN_FIELD');
  assert.equal(r.body.error.line, 2);
  assert.equal(r.body.error.column, 3);
  assert.deepEqual(r.body.error.detail, ['  respnse.status == 200', '  ^~~~~~~~~~~~~~']);
  const err = await api.stats({ q: 'status_code == "x"' }).catch((e: unknown) => e);
  assert.ok(err instanceof ApiError);
  assert.equal(err.code, 'KS_ERR_KFL_TYPE');
  assert.equal(err.status, 400);
  assert.equal(err.column, 1);
  assert.match(err.detail() ?? '', /\^~+/);
  const check = await getJson<KflCheck>(`${base}/api/kfl?q=${encodeURIComponent('dns &&')}`);
  assert.equal(check.status, 200);
  assert.equal(check.body.ok, false);
  assert.equal(check.body.error?.code, 'KS_ERR_KFL_SYNTAX');
  assert.deepEqual((await api.kfl('dns')).ok, true);
  const badParam = await getJson<{ error: { code: string } }>(`${base}/api/entries?order=sideways`);
  assert.equal(badParam.status, 400);
  assert.equal(badParam.body.error.code, 'KS_ERR_USAGE');
});

test('one entry: full view and summary, payload limits, 404s', async () => {
  const page = await api.entries({ q: 'http', order: 'oldest', limit: 3, view: 'full' });
  const sums = await api.entries({ q: 'http', order: 'oldest', limit: 3 });
  for (const [i, v] of page.entries.entries()) {
    const e = await api.entry(v.id as number, { node: 'n1', maxPayload: 1 << 20 });
    assert.deepEqual(e.entry, v);
    assert.deepEqual(e.summary, sums.entries[i]);
  }
  // The large body: cut to maxPayload, the stored entry stays whole.
  const big = (await api.entries({ q: 'request_body_size >= 100000', limit: 1 })).entries[0]!;
  const whole = await api.entry(big.id, { maxPayload: 1 << 24 });
  const wholeText = (whole.entry.request as { body: { text?: string } }).body.text ?? '';
  assert.equal(wholeText.length, 100_000);
  const cut = await api.entry(big.id, { maxPayload: 100 });
  assert.equal(cut.truncated, true);
  const body = (cut.entry.request as { body: { text?: string; truncated?: boolean } }).body;
  assert.equal(body.truncated, true);
  assert.ok(Buffer.byteLength(body.text ?? '') <= 100);
  assert.equal(body.text, wholeText.slice(0, body.text!.length));
  const none = await api.entry(big.id, { payload: false });
  assert.equal((none.entry.request as { body: { text?: string } }).body.text, undefined);
  assert.equal((none.entry.response as { body: { text?: string } }).body.text, undefined);
  // The default limit (64 KiB) applies without maxPayload.
  const dflt = await api.entry(big.id);
  assert.equal((dflt.entry.request as { body: { text: string } }).body.text.length, 65536);
  // Unknown id, other node, bad id.
  await assert.rejects(api.entry(999_999), { code: 'KS_ERR_NOT_FOUND', status: 404 });
  await assert.rejects(api.entry(1, { node: 'elsewhere' }), { code: 'KS_ERR_NOT_FOUND' });
  const bad = await fetch(`${base}/api/entries/abc`);
  assert.equal(bad.status, 400);
});

test('health, boundaries, fields, unknown routes and methods', async () => {
  const h = (await getJson<Health>(`${base}/api/health`)).body;
  assert.equal(h.role, 'worker');
  assert.equal(h.node, 'n1');
  assert.equal(h.ok, true);
  assert.ok(h.capture!.receivedPackets > 500, `${h.capture!.receivedPackets} packets`);
  assert.deepEqual(h.capture!.sources, FILES);
  assert.equal(h.capture!.entries, worker.store.stats().entries);
  assert.equal(h.capture!.liveTcpStreams, 0);
  const b = (await getJson<Boundaries>(`${base}/api/boundaries`)).body;
  assert.equal(b.entries, worker.store.stats().entries);
  assert.equal(b.nodes[0]!.node, 'n1');
  assert.ok(b.oldest! <= b.newest!);
  const f = (await getJson<FieldsResponse>(`${base}/api/fields`)).body;
  assert.ok(f.fields.some((x) => x.name === 'status_code' && x.type === 'int'));
  assert.ok(f.fields.some((x) => x.name === 'dns_questions' && x.kinds?.includes('dns')));
  const nf = await getJson<{ error: { code: string } }>(`${base}/api/nothing`);
  assert.equal(nf.status, 404);
  assert.equal(nf.body.error.code, 'KS_ERR_NOT_FOUND');
  assert.equal((await fetch(`${base}/api/workers`)).status, 404);
  const post = await fetch(`${base}/api/entries`, { method: 'POST', body: '{}' });
  assert.equal(post.status, 405);
});

test('the live stream sends new entries that match, and follows filter, pause and resume', async () => {
  const w = await createWorker({ config: configFor('live') });
  const url = `ws://127.0.0.1:${await w.listen(0, '127.0.0.1')}/api/stream`;
  const shop = await entriesFromCapture(SHOP);
  try {
    const c = new Collector(`${url}?q=dns`);
    await c.open();
    await until(() => c.of('hello').length === 1, 5000, 'hello');
    assert.equal(c.of('hello')[0]!.kfl.kfl2, 'dns');
    const ids = shop.map((e) => w.ingest(e));
    const mine = { node_id: 'live', worker: 'live', node: { name: 'live', ip: '' } };
    const dns = shop.flatMap((e, i) =>
      e.protocol === 'dns' ? [{ ...e, ...mine, id: ids[i]! }] : [],
    );
    await until(() => c.entries().length === dns.length, 5000, 'dns entries');
    assert.deepEqual(c.entries(), dns.map(summarize));

    c.send({ type: 'filter', q: 'http && status_code >= 400' });
    await until(() => c.of('hello').length === 2, 5000, 'second hello');
    for (const e of shop) w.ingest(e);
    await until(() => c.entries().length === dns.length + 2, 5000, 'filtered http');
    const last = c.entries().slice(-2) as unknown as EntrySummary[];
    assert.deepEqual(
      last.map((s) => s.status),
      [404, 503],
    );

    c.send({ type: 'filter', q: 'nope ==' });
    await until(() => c.of('error').length === 1, 5000, 'filter error');
    assert.equal(c.of('error')[0]!.error.code, 'KS_ERR_KFL_SYNTAX');

    c.send({ type: 'pause' });
    await new Promise((r) => setTimeout(r, 100));
    for (const e of shop) w.ingest(e);
    c.send({ type: 'resume' });
    await new Promise((r) => setTimeout(r, 100));
    for (const e of shop) w.ingest(e);
    await until(() => c.entries().length === dns.length + 4, 5000, 'after resume');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(c.entries().length, dns.length + 4, 'nothing sent while paused');
    c.close();

    // Full views, through the typed client.
    const client = new ApiClient(url.replace('ws', 'http').replace('/api/stream', ''));
    const views: Record<string, unknown>[] = [];
    const h = client.stream({ q: 'ws', view: 'full' }, (m) => {
      if (m.type === 'entry') views.push(m.entry as Record<string, unknown>);
    });
    await until(() => w.streamClients().length === 1, 5000, 'client');
    await new Promise((r) => setTimeout(r, 50));
    for (const e of shop) w.ingest(e);
    await until(() => views.length === 7, 5000, 'ws views');
    assert.ok(views.every((v) => v.ws === true && typeof v.timestamp === 'string'));
    h.close();
    assert.equal((await h.closed).code, 1000);

    // A bad filter at connect time: an error message and close code 4400.
    const bad = new Collector(`${url}?q=${encodeURIComponent('respnse.status')}`);
    await until(() => bad.closed !== undefined, 5000, 'close');
    assert.equal(bad.closed!.code, STREAM_CLOSE_BAD_FILTER);
    assert.equal(bad.of('error')[0]!.error.code, 'KS_ERR_KFL_UNKNOWN_FIELD');
  } finally {
    await w.close();
  }
});

test('a consumer that never reads gets drops, counted and reported; the worker stays bounded', async () => {
  const w = await createWorker({ config: configFor('slow') });
  const port = await w.listen(0, '127.0.0.1');
  const shop = await entriesFromCapture(SHOP);
  let published = 0;
  const publish = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const e = shop[i % shop.length]!;
      if (w.ingest(e) > 0) published++;
      if (i % 200 === 0) await tick();
    }
  };
  try {
    const c = new Collector(`ws://127.0.0.1:${port}/api/stream?view=full`);
    await c.open();
    await until(() => c.of('hello').length === 1, 5000, 'hello');
    const helloAt = c.messages.length;
    // Stop reading: the kernel buffers fill, then the worker's socket buffer, then its queue.
    (c.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const largest = Math.max(...shop.map((e) => JSON.stringify(e).length)) * 4;
    for (let round = 0; round < 40 && w.counters().streamDropped === 0; round++)
      await publish(2000);
    assert.ok(w.counters().streamDropped > 0, 'drops started');
    const bounded = (): void => {
      const [s] = w.streamClients();
      assert.ok(s, 'one client');
      assert.ok(s.queued <= STREAM_MAX_QUEUED_MESSAGES, `queued ${s.queued}`);
      assert.ok(s.queuedBytes <= STREAM_MAX_QUEUED_BYTES, `queued bytes ${s.queuedBytes}`);
      assert.ok(
        s.socketBytes <= STREAM_MAX_SOCKET_BYTES + largest,
        `socket bytes ${s.socketBytes}`,
      );
    };
    bounded();
    const heap = process.memoryUsage().heapUsed;
    const before = w.counters().streamDropped;
    await publish(20_000);
    bounded();
    const [s] = w.streamClients();
    assert.equal(s!.dropped - before, w.counters().streamDropped - before);
    assert.ok(w.counters().streamDropped >= before + 19_000, 'nearly all new entries were dropped');
    assert.ok(
      process.memoryUsage().heapUsed - heap < 64 * 1024 * 1024,
      'heap did not grow with the backlog',
    );

    // Read again: everything queued arrives, then one `dropped` message with the exact count.
    (c.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    const dropped = w.counters().streamDropped;
    await until(() => c.of('dropped').length > 0, 20_000, 'dropped message');
    const d = c.of('dropped');
    assert.equal(
      d.reduce((n, m) => n + m.count, 0),
      dropped,
    );
    assert.equal(d[d.length - 1]!.total, dropped);
    const received = c.messages.slice(helloAt).filter((m) => m.type === 'entry').length;
    assert.equal(received + dropped, published, 'every published entry was sent or counted');
    c.close();
  } finally {
    await w.close();
  }
});

test('a restarted worker reopens its store: entries kept, ids continue', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'roles-store-'));
  try {
    const a = await createWorker({
      config: configFor('r'),
      storeDir: dir,
      sources: [fileSource(SHOP)],
    });
    await a.replayed;
    const first = (await a.api.call('/api/entries', {
      order: 'newest',
      limit: '1',
    })) as EntriesResponse;
    await a.close();
    assert.ok(existsSync(dir) && !existsSync(join(dir, 'LOCK')), 'store closed, directory kept');
    const b = await createWorker({
      config: configFor('r'),
      storeDir: dir,
      sources: [fileSource(SHOP)],
    });
    await b.replayed;
    const all = (await b.api.call('/api/entries', {
      order: 'oldest',
      limit: '1000',
    })) as EntriesResponse;
    assert.equal(all.entries.length, 40);
    assert.deepEqual(
      all.entries.map((e) => e.id),
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    assert.equal(first.entries[0]!.id, 20);
    const e = (await b.api.call('/api/entries/25', {})) as EntryResponse;
    assert.equal((e.entry as Partial<Entry>).id, 25);
    await b.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('temporary stores left by killed workers are removed by the next one', async () => {
  const { spawnSync } = await import('node:child_process');
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const stale = join(tmpdir(), 'kubeshark-worker-rolesstale');
  const alive = join(tmpdir(), 'kubeshark-worker-rolesalive');
  for (const [d, pid] of [
    [stale, dead],
    [alive, process.pid],
  ] as const) {
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'LOCK'), `${pid}\n`);
  }
  try {
    const w = await createWorker({ config: configFor('tmp') });
    const own = w.store.dir;
    assert.ok(!existsSync(stale), 'the dead worker’s store is gone');
    assert.ok(existsSync(alive), 'a live process’s store is kept');
    await w.close();
    assert.ok(!existsSync(own), 'its own temporary store is removed on close');
  } finally {
    rmSync(stale, { recursive: true, force: true });
    rmSync(alive, { recursive: true, force: true });
  }
});
