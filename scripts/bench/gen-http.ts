/**
 * Load generator for the dissect benchmark: a real Node http server and keep-alive + fresh
 * connection clients on loopback. Prints nothing but a final line with the counts.
 * Usage: node --import tsx scripts/bench/gen-http.ts <port> <pairs>
 */
import http from 'node:http';

const port = Number(process.argv[2] ?? 0);
const pairs = Number(process.argv[3] ?? 50000);
const concurrency = Number(process.env.CONCURRENCY ?? 8);

const items = Array.from({ length: 12 }, (_, i) => ({
  id: i,
  name: `item-${i}`,
  price: Math.round(i * 137.5) / 10,
  tags: ['alpha', 'beta', 'gamma'].slice(0, (i % 3) + 1),
}));
const body = JSON.stringify({ ok: true, items }); // ~1 KB

const server = http.createServer((req, res) => {
  let n = 0;
  req.on('data', (c: Buffer) => (n += c.length));
  req.on('end', () => {
    res.writeHead(req.url?.startsWith('/missing') ? 404 : 200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-request-bytes': String(n),
    });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;

await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
const addr = server.address();
const actualPort = typeof addr === 'object' && addr ? addr.port : port;
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: concurrency });

let done = 0;
let issued = 0;
let errors = 0;
function one(i: number): Promise<void> {
  const fresh = i % 10 === 0; // every 10th request on a fresh connection
  const post = i % 4 === 1;
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: actualPort,
        method: post ? 'POST' : 'GET',
        path: i % 50 === 7 ? `/missing/${i}` : `/api/v1/items/${i % 100}?page=${i % 7}`,
        agent: fresh ? false : keepAlive,
        headers: post ? { 'content-type': 'application/json' } : {},
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          done++;
          resolve();
        });
      },
    );
    req.on('error', () => {
      errors++;
      resolve();
    });
    req.end(post ? JSON.stringify({ order: i, qty: i % 5 }) : undefined);
  });
}

async function worker(): Promise<void> {
  while (issued < pairs) await one(issued++);
}
await Promise.all(Array.from({ length: concurrency }, () => worker()));
keepAlive.destroy();
server.close();
console.log(`pairs=${done} errors=${errors}`);
