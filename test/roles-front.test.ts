/**
 * The front over a real hub and worker: the dashboard's files (content types, cache headers, SPA
 * fallback, deep-link assets), `/api` proxied (HTTP streamed, any method, errors passed on,
 * WebSocket upgrades), a hub that is down, no dashboard built, and an in-process hub.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { ApiClient } from '../src/api/client.ts';
import type { EntrySummary, StreamMessage } from '../src/api/types.ts';
import { loadAssets, seaAssets } from '../src/front/assets.ts';
import { createFront, type Front } from '../src/front/server.ts';
import { createHub, type Hub } from '../src/hub/index.ts';
import { entriesFromCapture } from '../src/tap/run.ts';
import { createWorker, fileSource, type Worker } from '../src/worker/index.ts';
import { FILES_B, SHOP, configFor, until } from './helpers/roles-kit.ts';

const assetsDir = mkdtempSync(join(tmpdir(), 'roles-assets-'));
const INDEX =
  '<!doctype html><title>ks</title><script type="module" src="./assets/index-AbCd1234.js"></script>\n';
const JS = 'console.log("dashboard");\n';
let worker: Worker;
let hub: Hub;
let front: Front;
let hubUrl: string;
let frontUrl: string;

before(async () => {
  mkdirSync(join(assetsDir, 'assets'));
  writeFileSync(join(assetsDir, 'index.html'), INDEX);
  writeFileSync(join(assetsDir, 'assets/index-AbCd1234.js'), JS);
  writeFileSync(join(assetsDir, 'assets/index-Zz9_8-7y.css'), 'body{}\n');
  writeFileSync(join(assetsDir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>\n');
  worker = await createWorker({
    config: configFor('f'),
    sources: [SHOP, ...FILES_B].map(fileSource),
  });
  const wp = await worker.listen(0, '127.0.0.1');
  await worker.replayed;
  hub = createHub({ workers: [{ name: 'f', url: `http://127.0.0.1:${wp}` }] });
  hubUrl = `http://127.0.0.1:${await hub.listen(0, '127.0.0.1')}`;
  await hub.ready;
  front = createFront({ hub: hubUrl, assets: loadAssets({ dir: assetsDir }) });
  frontUrl = `http://127.0.0.1:${await front.listen(0, '127.0.0.1')}`;
});
after(async () => {
  await front.close();
  await hub.close();
  await worker.close();
  rmSync(assetsDir, { recursive: true, force: true });
});

test('serves the dashboard: content types, cache headers, SPA fallback, deep-link assets', async () => {
  const get = (p: string, init?: RequestInit) => fetch(frontUrl + p, init);
  const root = await get('/');
  assert.equal(root.status, 200);
  assert.equal(root.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(root.headers.get('cache-control'), 'no-cache');
  assert.equal(await root.text(), INDEX);

  const js = await get('/assets/index-AbCd1234.js');
  assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal(await js.text(), JS);
  const css = await get('/assets/index-Zz9_8-7y.css');
  assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
  assert.match(css.headers.get('cache-control') ?? '', /immutable/);
  const svg = await get('/favicon.svg');
  assert.equal(svg.headers.get('content-type'), 'image/svg+xml');
  assert.equal(svg.headers.get('cache-control'), 'no-cache', 'not hashed: revalidated');

  for (const route of ['/traffic', '/entries/f/12', '/service-map?q=http']) {
    const r = await get(route);
    assert.equal(r.status, 200, route);
    assert.equal(await r.text(), INDEX, `${route}: the app`);
  }
  // The build's relative asset URLs from a deep link.
  const deep = await get('/entries/f/assets/index-AbCd1234.js');
  assert.equal(deep.status, 200);
  assert.equal(await deep.text(), JS);
  assert.equal((await get('/missing.js')).status, 404);
  assert.equal((await get('/assets/index-AbCd1234.js.map')).status, 404);
  const head = await get('/', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(Buffer.byteLength(INDEX)));
  assert.equal((await get('/', { method: 'POST' })).status, 405);
  assert.equal(seaAssets(), undefined, 'not a single executable here');
});

test('proxies /api to the hub: answers, errors, other methods, large bodies', async () => {
  const viaFront = new ApiClient(frontUrl);
  const direct = new ApiClient(hubUrl);
  assert.equal((await viaFront.health()).role, 'hub');
  const big = await fetch(`${frontUrl}/api/entries?view=full&limit=1000&order=oldest`);
  assert.equal(big.headers.get('content-type'), 'application/json; charset=utf-8');
  const text = await big.text();
  assert.ok(text.length > 300_000, `${text.length} bytes`);
  assert.equal(
    text,
    JSON.stringify(await direct.entries({ view: 'full', limit: 1000, order: 'oldest' })),
  );
  // Paging through the front with the hub's cursors.
  const seen: EntrySummary[] = [];
  for await (const e of viaFront.allEntries({ limit: 4, q: 'http' })) seen.push(e);
  assert.equal(seen.length, (await direct.entries({ q: 'http', count: true, limit: 1 })).total);
  // The hub's error answers pass through unchanged.
  const bad = await fetch(`${frontUrl}/api/entries?q=${encodeURIComponent('http &&')}`);
  assert.equal(bad.status, 400);
  const body = (await bad.json()) as { error: { code: string; column: number } };
  assert.equal(body.error.code, 'KS_ERR_KFL_SYNTAX');
  assert.equal(body.error.column, 8);
  await assert.rejects(viaFront.entry(1, { node: 'nowhere' }), {
    code: 'KS_ERR_NOT_FOUND',
    status: 404,
  });
  // Any method reaches the hub, which decides.
  const post = await fetch(`${frontUrl}/api/entries`, {
    method: 'POST',
    body: 'x'.repeat(100_000),
  });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
});

test('proxies the live stream (WebSocket) to the hub', async () => {
  const msgs: StreamMessage[] = [];
  const s = new ApiClient(frontUrl).stream('http && status_code >= 400', (m) => msgs.push(m));
  await until(() => msgs.some((m) => m.type === 'hello'), 5000, 'hello');
  const hello = msgs.find((m) => m.type === 'hello');
  assert.equal(hello?.type === 'hello' ? hello.role : undefined, 'hub');
  await until(() => hub.streamClients()[0]?.upstreams === 1, 5000, 'upstream');
  for (const e of await entriesFromCapture(SHOP)) worker.ingest(e);
  await until(() => msgs.filter((m) => m.type === 'entry').length === 2, 5000, 'entries');
  s.setFilter('dns');
  await until(() => msgs.filter((m) => m.type === 'hello').length === 2, 5000, 'new filter');
  for (const e of await entriesFromCapture(SHOP)) worker.ingest(e);
  await until(() => msgs.filter((m) => m.type === 'entry').length === 2 + 4, 5000, 'dns');
  s.close();
  assert.equal((await s.closed).code, 1000);
  // Upgrades elsewhere are refused.
  const refused = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`${frontUrl.replace('http', 'ws')}/api/elsewhere`);
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => resolve(-1));
  });
  assert.equal(refused, 404);
  const notApi = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`${frontUrl.replace('http', 'ws')}/somewhere`);
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => resolve(-1));
  });
  assert.equal(notApi, 404);
});

test('a hub that is down: 502 with a stable code; no dashboard built: a 503 page, /api still works', async () => {
  const dead = createFront({ hub: 'http://127.0.0.1:1', assets: loadAssets({ dir: assetsDir }) });
  const port = await dead.listen(0, '127.0.0.1');
  try {
    const r = await fetch(`http://127.0.0.1:${port}/api/health`);
    assert.equal(r.status, 502);
    assert.equal(
      ((await r.json()) as { error: { code: string } }).error.code,
      'KS_ERR_UNAVAILABLE',
    );
    await assert.rejects(new ApiClient(`http://127.0.0.1:${port}`).health(), {
      code: 'KS_ERR_UNAVAILABLE',
    });
    const ws = await new Promise<number>((resolve) => {
      const w = new WebSocket(`ws://127.0.0.1:${port}/api/stream`);
      w.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      w.on('error', () => resolve(-1));
    });
    assert.equal(ws, 502);
    assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 200, 'files need no hub');
  } finally {
    await dead.close();
  }
  const empty = mkdtempSync(join(tmpdir(), 'roles-noassets-'));
  const bare = createFront({ hub: hubUrl, assets: loadAssets({ dir: empty }) });
  const p2 = await bare.listen(0, '127.0.0.1');
  try {
    assert.equal(bare.assets.kind, 'none');
    const page = await fetch(`http://127.0.0.1:${p2}/`);
    assert.equal(page.status, 503);
    assert.match(await page.text(), /npm run build/);
    assert.equal((await new ApiClient(`http://127.0.0.1:${p2}`).health()).role, 'hub');
  } finally {
    await bare.close();
    rmSync(empty, { recursive: true, force: true });
  }
});

test('an in-process hub: the front answers /api itself, HTTP and WebSocket', async () => {
  const f = createFront({ hub: hub.api, assets: loadAssets({ dir: assetsDir }) });
  const url = `http://127.0.0.1:${await f.listen(0, '127.0.0.1')}`;
  try {
    const c = new ApiClient(url);
    assert.equal((await c.health()).role, 'hub');
    assert.deepEqual(
      await c.entries({ q: 'dns', limit: 50 }),
      await new ApiClient(hubUrl).entries({ q: 'dns', limit: 50 }),
    );
    const msgs: StreamMessage[] = [];
    const s = c.stream('ws', (m) => msgs.push(m));
    await until(() => msgs.some((m) => m.type === 'hello'), 5000, 'hello');
    await until(() => hub.streamClients().some((x) => x.upstreams === 1), 5000, 'upstream');
    for (const e of await entriesFromCapture(SHOP)) worker.ingest(e);
    await until(() => msgs.filter((m) => m.type === 'entry').length === 7, 5000, 'ws entries');
    s.close();
    assert.equal((await fetch(url + '/entries/1')).status, 200);
  } finally {
    await f.close();
  }
});
