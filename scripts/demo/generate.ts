/**
 * The demo traffic: a small shop API (HTTP/1.1 keep-alive, JSON, gzip, errors), a WebSocket
 * notification channel and DNS lookups, between real Node servers and real clients (Node http,
 * ws, curl, dig). Run inside a fresh network namespace by generate.sh; writes the capture.
 */
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import dnsPacket from 'dns-packet';
import { WebSocketServer, WebSocket } from 'ws';

const out = process.argv[2] ?? 'demo/shop.pcap';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const products = Array.from({ length: 8 }, (_, i) => ({
  id: 40 + i,
  name: ['kettle', 'teapot', 'mug', 'saucer', 'spoon', 'tray', 'cozy', 'strainer'][i],
  price: 4.5 + i * 3,
}));
const cart: { id: number; qty: number }[] = [];

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const url = new URL(req.url ?? '/', 'http://shop');
    const json = (status: number, body: unknown, gzip = false) => {
      const raw = Buffer.from(JSON.stringify(body));
      const data = gzip ? gzipSync(raw) : raw;
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': data.length,
        ...(gzip ? { 'content-encoding': 'gzip' } : {}),
        'set-cookie': 'session=demo-7f3a; Path=/; HttpOnly',
      });
      res.end(data);
    };
    const m = /^\/api\/products\/(\d+)$/.exec(url.pathname);
    if (url.pathname === '/api/products') return json(200, products, req.headers['accept-encoding']?.includes('gzip'));
    if (m) {
      const p = products.find((x) => x.id === Number(m[1]));
      return p ? json(200, p) : json(404, { error: 'no such product' });
    }
    if (url.pathname === '/api/cart' && req.method === 'POST') {
      cart.push(JSON.parse(Buffer.concat(chunks).toString()) as { id: number; qty: number });
      return json(201, { items: cart.length });
    }
    if (url.pathname === '/api/cart') return json(200, cart);
    if (url.pathname === '/api/checkout') return json(503, { error: 'payment service unavailable' });
    json(404, { error: 'not found' });
  });
});
const wss = new WebSocketServer({ server, path: '/ws/notifications' });
wss.on('connection', (ws) => {
  ws.send(JSON.stringify({ event: 'hello', cartItems: cart.length }));
  ws.on('message', (m) => ws.send(JSON.stringify({ event: 'ack', echo: m.toString() })));
});

// A DNS server for demo.local over UDP and TCP (dns-packet encodes the answers).
const zone: Record<string, { A?: string; AAAA?: string }> = {
  'shop.demo.local': { A: '127.0.0.1' },
  'api.demo.local': { A: '127.0.0.1', AAAA: '::1' },
};
function answer(query: Buffer): Buffer {
  const q = dnsPacket.decode(query);
  const question = q.questions?.[0];
  const rec = question ? zone[question.name] : undefined;
  const data = question && rec ? (rec as Record<string, string | undefined>)[question.type] : undefined;
  return dnsPacket.encode({
    type: 'response',
    id: q.id,
    flags: dnsPacket.AUTHORITATIVE_ANSWER | (q.flags ?? 0) | (rec ? 0 : 3),
    questions: q.questions,
    answers: data && question ? [{ type: question.type as 'A', name: question.name, ttl: 30, data }] : [],
  });
}
const udp = dgram.createSocket('udp4');
udp.on('message', (msg, rinfo) => udp.send(answer(msg), rinfo.port, rinfo.address));
const tcp = net.createServer((sock) => {
  let buf = Buffer.alloc(0);
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
      buf = buf.subarray(2 + msg.length);
      const a = answer(msg);
      const len = Buffer.alloc(2);
      len.writeUInt16BE(a.length);
      sock.write(Buffer.concat([len, a]));
    }
  });
});

await new Promise<void>((r) => server.listen(80, '127.0.0.1', r));
await new Promise<void>((r) => udp.bind(53, '127.0.0.1', r));
await new Promise<void>((r) => tcp.listen(53, '127.0.0.1', r));

const dump = spawn('tcpdump', ['--immediate-mode', '-i', 'lo', '-s', '0', '-U', '-w', out, 'port 80 or port 53'], {
  stdio: ['ignore', 'ignore', 'pipe'],
});
let dumpLog = '';
await new Promise<void>((resolve) => {
  dump.stderr.on('data', (d: Buffer) => {
    dumpLog += d.toString();
    if (dumpLog.includes('listening on')) resolve();
  });
});

// Clients run as child processes, asynchronously: the servers live in this event loop.
const run = promisify(execFile);
const dig = (...args: string[]) => run('dig', ['@127.0.0.1', '+tries=1', '+time=2', ...args]);
await dig('shop.demo.local', 'A');
await dig('api.demo.local', 'AAAA');
await dig('missing.demo.local', 'A');

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  new Promise<void>((resolve, reject) => {
    const req = http.request(
      { host: 'shop.demo.local', lookup: (_h, _o, cb) => cb(null, [{ address: '127.0.0.1', family: 4 }]), port: 80, method, path, agent, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve());
      },
    );
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
await call('GET', '/api/products', undefined, { 'accept-encoding': 'gzip' });
await call('GET', '/api/products/42');
await call('GET', '/api/products/999');
await call('POST', '/api/cart', { id: 42, qty: 2 });
await call('POST', '/api/cart', { id: 45, qty: 1 });
await call('GET', '/api/cart', undefined, { cookie: 'session=demo-7f3a' });
await call('POST', '/api/checkout', { card: 'tok_visa' });
agent.destroy();
await run('curl', ['-s', '-o', '/dev/null', 'http://127.0.0.1/api/products?sort=price&limit=3']);
await dig('+tcp', 'api.demo.local', 'A');

const ws = new WebSocket('ws://127.0.0.1/ws/notifications');
await new Promise<void>((r) => ws.on('open', () => r()));
await sleep(50);
ws.send(JSON.stringify({ subscribe: 'order-status' }));
await sleep(50);
ws.ping();
await sleep(50);
ws.close(1000, 'bye');
await sleep(200);

await sleep(200);
dump.kill('SIGINT');
await new Promise((r) => dump.on('exit', r));
process.stderr.write(dumpLog);
server.close();
udp.close();
tcp.close();
