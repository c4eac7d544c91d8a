/**
 * The gate's access checks (src/api/origin.ts) on every role: a foreign Host (DNS rebinding) is
 * refused by the worker, the hub and the front, over HTTP and on upgrades; a cross-origin
 * WebSocket is refused while same-origin and Origin-less ones work; a cross-site POST to
 * `/api/mcp` is refused; the front → hub proxy still works, and `get_file_url` only believes
 * checked forwarded hosts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
const port: Record<'worker' | 'hub' | 'front' | 'inproc', number> = {
  worker: 0,
  hub: 0,
  front: 0,
  inproc: 0,
};
const ROLES = Object.keys(port) as (keyof typeof port)[];

before(async () => {
  assetsDir = mkdtempSync(join(tmpdir(), 'roles-access-'));
  mkdirSync(join(assetsDir, 'assets'));
  writeFileSync(join(assetsDir, 'index.html'), '<!doctype html><title>x</title>');
  worker = await createWorker({ config: configFor('n1'), sources: [fileSource(SHOP)] });
  await worker.replayed;
  port.worker = await worker.listen(0, '127.0.0.1');
  // The front and the hub share their config (one ConfigMap): the same allowed names.
  const access = { allowedHosts: ['shark.example.com'], trustedProxies: [] };
  hub = createHub({ workers: [{ name: 'n1', url: `http://127.0.0.1:${port.worker}` }], access });
  await hub.ready;
  port.hub = await hub.listen(0, '127.0.0.1');
  const assets = loadAssets({ dir: assetsDir });
  front = createFront({
    hub: `http://127.0.0.1:${port.hub}`,
    assets,
    access,
  });
  port.front = await front.listen(0, '127.0.0.1');
  inproc = createFront({ hub: hub.api, assets });
  port.inproc = await inproc.listen(0, '127.0.0.1');
});

after(async () => {
  await inproc?.close();
  await front?.close();
  await hub?.close();
  await worker?.close();
  rmSync(assetsDir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  body: string;
}

/** One request with exactly these headers (Host included), to 127.0.0.1:`p`. */
function send(
  p: number,
  path: string,
  headers: Record<string, string>,
  opts: { method?: string; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const r = request(
      {
        host: '127.0.0.1',
        port: p,
        path,
        method: opts.method ?? 'GET',
        headers: { host: `127.0.0.1:${p}`, ...headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    r.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '' });
    });
    r.on('error', reject);
    r.end(opts.body);
  });
}

/** A WebSocket handshake on `/api/stream` with these headers: its status (101: accepted). */
function upgrade(p: number, headers: Record<string, string>): Promise<Answer> {
  return send(p, '/api/stream', {
    connection: 'Upgrade',
    upgrade: 'websocket',
    'sec-websocket-version': '13',
    'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
    ...headers,
  });
}

function forbidden(a: Answer, what: string): void {
  assert.equal(a.status, 403, `${what}: ${a.status} ${a.body}`);
  if (a.body !== '') {
    const e = (JSON.parse(a.body) as { error: { code: string } }).error;
    assert.equal(e.code, 'KS_ERR_FORBIDDEN', what);
  }
}

test('a foreign Host is refused by every role (HTTP and upgrade); IP, localhost pass', async () => {
  for (const role of ROLES) {
    const p = port[role];
    forbidden(await send(p, '/api/health', { host: `evil.example:${p}` }), `${role} GET`);
    forbidden(await send(p, '/', { host: 'evil.example' }), `${role} GET /`);
    forbidden(await upgrade(p, { host: `evil.example:${p}` }), `${role} upgrade`);
    for (const host of [`127.0.0.1:${p}`, `localhost:${p}`, `[::1]:${p}`]) {
      const ok = await send(p, '/api/health', { host });
      assert.equal(ok.status, 200, `${role} ${host}: ${ok.body}`);
    }
  }
  // A configured name passes (the front's allow-list).
  const named = await send(port.front, '/api/health', { host: 'shark.example.com' });
  assert.equal(named.status, 200, named.body);
});

test('a cross-origin WebSocket is refused; same-origin and Origin-less ones are accepted', async () => {
  for (const role of ROLES) {
    const p = port[role];
    forbidden(await upgrade(p, { origin: 'http://evil.example' }), `${role} evil origin`);
    forbidden(await upgrade(p, { origin: 'http://127.0.0.1:1' }), `${role} other port`);
    assert.equal((await upgrade(p, {})).status, 101, `${role} no Origin`);
    const same = await upgrade(p, { origin: `http://127.0.0.1:${p}` });
    assert.equal(same.status, 101, `${role} same origin: ${same.body}`);
  }
});

const MCP_INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'get_file_url', arguments: { path: '/api/health' } },
});
const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
};

test('a cross-site POST to /api/mcp is refused; a same-origin one is answered', async () => {
  for (const role of ['hub', 'front', 'inproc'] as const) {
    const p = port[role];
    const post = (h: Record<string, string>): Promise<Answer> =>
      send(p, '/api/mcp', { ...MCP_HEADERS, ...h }, { method: 'POST', body: MCP_INIT });
    forbidden(await post({ origin: 'http://evil.example' }), `${role} evil origin`);
    forbidden(await post({ 'sec-fetch-site': 'cross-site' }), `${role} cross-site`);
    const same = await post({ origin: `http://127.0.0.1:${p}`, 'sec-fetch-site': 'same-origin' });
    assert.equal(same.status, 200, `${role}: ${same.body}`);
    assert.ok(same.body.includes(`127.0.0.1:${p}/api/health`), same.body);
  }
});

test('get_file_url: forwarded hosts only from trusted proxies, and only allowed ones', async () => {
  const post = (p: number, h: Record<string, string>): Promise<Answer> =>
    send(p, '/api/mcp', { ...MCP_HEADERS, ...h }, { method: 'POST', body: MCP_INIT });
  // Through the front (a loopback proxy of the hub): the front's checked host.
  const via = await post(port.front, { host: 'shark.example.com' });
  assert.equal(via.status, 200, via.body);
  assert.ok(via.body.includes('http://shark.example.com/api/health'), via.body);
  // A forwarded host the hub does not allow is refused, not echoed.
  forbidden(await post(port.hub, { 'x-forwarded-host': 'evil.example' }), 'forwarded evil');
});
