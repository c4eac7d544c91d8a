/**
 * The route table (src/api/routes.ts) is the API of every role: each route is served by the
 * worker and by the hub (and through the front), a refused parameter gets the same 400 body from
 * all of them and from an in-process call, HEAD answers like GET without a body, and every request
 * of every role — API calls, stream upgrades, the front's files and proxy — passes the one gate.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { errorOf } from '../src/api/errors.ts';
import { API_ROUTES, JSON_ROUTES, type RouteName } from '../src/api/routes.ts';
import { REQUEST_CHANNEL } from '../src/api/server.ts';
import type { ApiErrorBody, Params, StreamMessage } from '../src/api/types.ts';
import { loadAssets } from '../src/front/assets.ts';
import { createFront, type Front } from '../src/front/server.ts';
import { createHub, type Hub } from '../src/hub/index.ts';
import { createWorker, fileSource, type Worker } from '../src/worker/index.ts';
import { SHOP, configFor } from './helpers/roles-kit.ts';

let worker: Worker;
let hub: Hub;
let front: Front;
let inproc: Front;
let assetsDir: string;
const base: Record<'worker' | 'hub' | 'front' | 'inproc', string> = {
  worker: '',
  hub: '',
  front: '',
  inproc: '',
};

before(async () => {
  assetsDir = mkdtempSync(join(tmpdir(), 'roles-routes-'));
  mkdirSync(join(assetsDir, 'assets'));
  writeFileSync(join(assetsDir, 'index.html'), '<!doctype html><title>x</title>');
  worker = await createWorker({ config: configFor('n1'), sources: [fileSource(SHOP)] });
  await worker.replayed;
  base.worker = `http://127.0.0.1:${await worker.listen(0, '127.0.0.1')}`;
  hub = createHub({ workers: [{ name: 'n1', url: base.worker }] });
  await hub.ready;
  base.hub = `http://127.0.0.1:${await hub.listen(0, '127.0.0.1')}`;
  front = createFront({ hub: base.hub, assets: loadAssets({ dir: assetsDir }) });
  base.front = `http://127.0.0.1:${await front.listen(0, '127.0.0.1')}`;
  inproc = createFront({ hub: hub.api, assets: loadAssets({ dir: assetsDir }) });
  base.inproc = `http://127.0.0.1:${await inproc.listen(0, '127.0.0.1')}`;
});

after(async () => {
  await inproc?.close();
  await front?.close();
  await hub?.close();
  await worker?.close();
  rmSync(assetsDir, { recursive: true, force: true });
});

/** A concrete URL path of a route (`:id` → an entry of the worker). */
function pathOf(name: RouteName): string {
  return API_ROUTES[name].path.replace(':id', '1');
}

async function get(url: string, method = 'GET') {
  const r = await fetch(url, { method });
  const text = await r.text();
  return { status: r.status, headers: r.headers, text };
}

test('every JSON route of the table is served by the worker, the hub and both fronts', async () => {
  for (const { name } of JSON_ROUTES) {
    const q = name === 'entry' ? '?node=n1' : '';
    for (const [who, url] of Object.entries(base)) {
      const r = await get(`${url}${pathOf(name)}${q}`);
      if (name === 'workers' && who === 'worker') {
        // The worker serves the route by saying it is the hub's.
        assert.equal(r.status, 404);
        assert.match(r.text, /served by the hub, not by a worker/);
        continue;
      }
      assert.equal(r.status, 200, `${who} ${name}: ${r.text.slice(0, 200)}`);
      assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
      assert.equal(r.headers.get('cache-control'), 'no-store');
      // The same route in process (what the hub uses for an in-process worker, MCP in the hub).
      const api = who === 'worker' ? worker.api : hub.api;
      const params: Params = name === 'entry' ? { node: 'n1' } : {};
      if (name !== 'health' && name !== 'workers') {
        assert.deepEqual(
          JSON.parse(r.text),
          await api.call(pathOf(name), params),
          `${who} ${name} in process`,
        );
      }
    }
  }
});

test('HEAD answers every JSON route like GET, without a body', async () => {
  for (const { name } of JSON_ROUTES) {
    if (name === 'health' || name === 'workers') continue; // counters move between two calls
    const url = `${base.hub}${pathOf(name)}${name === 'entry' ? '?node=n1' : ''}`;
    const g = await get(url);
    const h = await get(url, 'HEAD');
    assert.equal(h.status, g.status, name);
    assert.equal(h.text, '', name);
    assert.equal(h.headers.get('content-length'), g.headers.get('content-length'), name);
    assert.equal(h.headers.get('content-type'), g.headers.get('content-type'), name);
  }
});

/** Parameters each route refuses, with the message of the 400. */
const REFUSED: [string, string][] = [
  ['/api/entries?limit=x', 'parameter `limit`: expected an integer, got "x"'],
  [
    '/api/entries?order=sideways',
    'parameter `order`: expected one of newest, oldest, got "sideways"',
  ],
  ['/api/entries?view=tiny', 'parameter `view`: expected one of summary, full, got "tiny"'],
  ['/api/entries?count=maybe', 'parameter `count`: expected 1/0 or true/false, got "maybe"'],
  [
    '/api/entries?start=yesterday',
    'parameter `start`: expected µs since the epoch or an ISO-8601 time, got "yesterday"',
  ],
  ['/api/entries/abc?node=n1', 'parameter `id`: not an entry id: "abc"'],
  ['/api/entries/0?node=n1', 'parameter `id`: not an entry id: "0"'],
  [
    '/api/entries/1?node=n1&maxPayload=-1',
    'parameter `maxPayload`: must be between 0 and 67108864, got -1',
  ],
  ['/api/entries/1?node=n1&payload=2', 'parameter `payload`: expected 1/0 or true/false, got "2"'],
  [
    '/api/stats?bucketSec=-1',
    'parameter `bucketSec`: expected seconds between 0 and 86400, got -1',
  ],
  ['/api/stats?bucketSec=0.0001', 'parameter `bucketSec`: must be 0 or at least 0.001'],
  [
    '/api/stats?groupBy=planet',
    'parameter `groupBy`: expected one of endpoint, service, namespace, node, protocol, service-edge, pod-edge, namespace-edge, node-edge, got "planet"',
  ],
  ['/api/stats?series=some', 'parameter `series`: expected one of all, total, none, got "some"'],
  [
    '/api/l4?by=planet',
    'parameter `by`: expected one of pod, namespace, node, service, ip, got "planet"',
  ],
  ['/api/l4?pairs=yes', 'parameter `pairs`: expected 1/0 or true/false, got "yes"'],
];

test('a refused parameter gets the same 400 body from the worker, the hub, the fronts and in process', async () => {
  for (const [path, message] of REFUSED) {
    const want: ApiErrorBody = { error: { code: 'KS_ERR_USAGE', message } };
    for (const [who, url] of Object.entries(base)) {
      const r = await get(url + path);
      assert.equal(r.status, 400, `${who} ${path}`);
      assert.deepEqual(JSON.parse(r.text), want, `${who} ${path}`);
    }
    const u = new URL(path, 'http://x');
    const params = Object.fromEntries(u.searchParams);
    for (const api of [worker.api, hub.api]) {
      const err = await api.call(u.pathname, params).then(
        () => assert.fail(`${path}: accepted in process`),
        (e: unknown) => e,
      );
      assert.deepEqual(errorOf(err), { status: 400, body: want }, `${path} in process`);
    }
  }
  // Defaults and the first of repeated parameters, as the typed client sends them.
  const r = await get(`${base.worker}/api/entries?limit=2&limit=x&order=`);
  assert.equal(r.status, 200);
  assert.equal((JSON.parse(r.text) as { entries: unknown[] }).entries.length, 2);
});

test('unknown routes 404, other methods 405, on every role', async () => {
  for (const [who, url] of Object.entries(base)) {
    const nf = await get(`${url}/api/nothing`);
    assert.equal(nf.status, 404, who);
    assert.deepEqual(JSON.parse(nf.text), {
      error: { code: 'KS_ERR_NOT_FOUND', message: 'no such route: /api/nothing' },
    });
    assert.equal((await get(`${url}/api/entries/`)).status, 404, `${who} empty id`);
    assert.equal((await get(`${url}${API_ROUTES.stream.path}`)).status, 404, `${who} stream`);
    const post = await fetch(`${url}/api/entries`, { method: 'POST', body: '{}' });
    assert.equal(post.status, 405, who);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    assert.deepEqual(await post.json(), {
      error: { code: 'KS_ERR_USAGE', message: 'POST not allowed' },
    });
  }
  // The hub's raw route (MCP) is the hub's only.
  assert.equal((await get(`${base.worker}/api/mcp`)).status, 404);
  for (const url of [base.hub, base.front, base.inproc]) {
    const r = await get(`${url}/api/mcp`);
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('allow'), 'POST');
  }
});

/** Opens `/api/stream` (or another path): the first message, or the refusal's status. */
function upgrade(url: string, path: string): Promise<StreamMessage | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url.replace('http', 'ws') + path);
    ws.on('message', (d) => {
      resolve(JSON.parse(String(d)) as StreamMessage);
      ws.terminate();
    });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => resolve(-1));
  });
}

test('the stream handshake is the same on every role; other paths refuse upgrades', async () => {
  for (const [who, url] of Object.entries(base)) {
    const hello = await upgrade(url, `${API_ROUTES.stream.path}?q=dns`);
    assert.ok(typeof hello === 'object' && hello.type === 'hello', who);
    assert.equal(hello.role, who === 'worker' ? 'worker' : 'hub');
    assert.deepEqual(hello.kfl, { kfl: 'dns', kfl2: 'dns' });
    const bad = await upgrade(url, `${API_ROUTES.stream.path}?view=tiny`);
    assert.deepEqual(bad, {
      type: 'error',
      error: {
        code: 'KS_ERR_USAGE',
        message: 'parameter `view`: expected one of summary, full, got "tiny"',
      },
    });
    for (const path of ['/api/health', '/api/nothing', '/elsewhere']) {
      assert.equal(await upgrade(url, path), 404, `${who} ${path}`);
    }
  }
});

test('every request of every role passes the one gate (REQUEST_CHANNEL)', async () => {
  const seen: { role: string; method: string; url: string; upgrade: boolean }[] = [];
  const on = (m: unknown): void => void seen.push(m as (typeof seen)[number]);
  subscribe(REQUEST_CHANNEL, on);
  try {
    await get(`${base.front}/`); // a file
    await get(`${base.front}/api/boundaries`); // proxied: front, then hub, then worker
    await upgrade(base.front, '/api/stream?q=http'); // tunnelled upgrade
    await get(`${base.inproc}/api/fields`);
    await get(`${base.worker}/api/nothing`);
  } finally {
    unsubscribe(REQUEST_CHANNEL, on);
  }
  const has = (role: string, url: string, upgrade = false): boolean =>
    seen.some((s) => s.role === role && s.url === url && s.upgrade === upgrade);
  assert.ok(has('front', '/'), 'front file');
  assert.ok(has('front', '/api/boundaries'), 'front proxy');
  assert.ok(has('hub', '/api/boundaries'), 'hub');
  assert.ok(has('worker', '/api/boundaries'), 'worker (fan-out)');
  assert.ok(has('front', '/api/stream?q=http', true), 'front upgrade');
  assert.ok(has('hub', '/api/stream?q=http', true), 'hub upgrade');
  assert.ok(has('front', '/api/fields'), 'front with the hub in process');
  assert.ok(has('worker', '/api/nothing'), 'unknown route');
});
