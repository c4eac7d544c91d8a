/**
 * HTTP/1.1 captures: a real Node http server on 127.0.0.1:8080 (a port tshark dissects as HTTP
 * without decode-as rules) and real clients (Node's http client, raw sockets, curl).
 *
 *   node --import tsx scripts/capture/http.ts [case...]     (inside scripts/capture/in-netns.sh)
 */
import http from 'node:http';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import net from 'node:net';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { capture, runCases, sleep } from './lib.ts';

const PORT = 8080;
const HOST = '127.0.0.1';
const FILTER = `tcp port ${PORT}`;

async function withServer(
  listener: RequestListener,
  scenario: () => Promise<void>,
  setup: (s: http.Server) => void = () => {},
): Promise<void> {
  const server = http.createServer(listener);
  setup(server);
  await new Promise<void>((resolve) => server.listen(PORT, HOST, resolve));
  try {
    await scenario();
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of req) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function request(opts: http.RequestOptions & { body?: string | Buffer }): Promise<Reply> {
  const { body, ...rest } = opts;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: HOST, port: PORT, ...rest }, (res) => {
      readBody(res).then(
        (b) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b }),
        reject,
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

function json(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: http.OutgoingHttpHeaders = {},
): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

/** Several GET/POST JSON calls over one kept-alive connection. */
async function keepalive(): Promise<void> {
  const items = [{ id: 1, name: 'gear' }];
  await withServer(
    (req, res) => {
      void readBody(req).then((body) => {
        const url = new URL(req.url ?? '/', `http://${HOST}`);
        if (req.method === 'GET' && url.pathname === '/api/items') return json(res, 200, items);
        if (req.method === 'POST' && url.pathname === '/api/items') {
          const item = { id: items.length + 1, ...(JSON.parse(body.toString()) as object) };
          items.push(item as { id: number; name: string });
          return json(res, 201, item, {
            location: `/api/items/${item.id}`,
            'set-cookie': 'session=s3cr3t; Path=/; HttpOnly',
          });
        }
        if (req.method === 'GET' && url.pathname === '/api/items/2')
          return json(res, 200, items[1]);
        if (req.method === 'DELETE' && url.pathname === '/api/items/1')
          return json(res, 200, { deleted: 1 });
        return json(res, 404, { error: 'not found' });
      });
    },
    async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const headers = { 'content-type': 'application/json', accept: 'application/json' };
      await request({ agent, path: '/api/items', headers });
      await request({
        agent,
        method: 'POST',
        path: '/api/items',
        headers,
        body: JSON.stringify({ name: 'widget' }),
      });
      await request({
        agent,
        path: '/api/items/2?verbose=true&fields=id,name',
        headers: { ...headers, cookie: 'session=s3cr3t' },
      });
      await request({ agent, method: 'DELETE', path: '/api/items/1', headers });
      await request({ agent, path: '/api/missing', headers });
      agent.destroy();
    },
  );
}

/** Three requests written at once on a raw socket; the server answers them in order. */
async function pipelined(): Promise<void> {
  await withServer(
    (req, res) => {
      void readBody(req).then((body) =>
        json(res, 200, { path: req.url, method: req.method, received: body.length }),
      );
    },
    async () => {
      const post = JSON.stringify({ q: 'pipelined' });
      const wire =
        `GET /one HTTP/1.1\r\nHost: ${HOST}:${PORT}\r\nUser-Agent: raw-net\r\n\r\n` +
        `GET /two?x=1 HTTP/1.1\r\nHost: ${HOST}:${PORT}\r\nUser-Agent: raw-net\r\n\r\n` +
        `POST /three HTTP/1.1\r\nHost: ${HOST}:${PORT}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${post.length}\r\nConnection: close\r\n\r\n${post}`;
      await new Promise<void>((resolve, reject) => {
        const sock = net.connect(PORT, HOST, () => sock.write(wire));
        sock.resume();
        sock.on('end', () => resolve());
        sock.on('error', reject);
      });
    },
  );
}

/** Chunked responses (one with trailers) and a chunked request body, on one connection. */
async function chunked(): Promise<void> {
  await withServer(
    (req, res) => {
      void (async () => {
        const body = await readBody(req);
        if (req.url === '/stream') {
          res.writeHead(200, { 'content-type': 'text/plain' });
          for (let i = 1; i <= 4; i++) {
            res.write(`line ${i} of a streamed response\n`);
            await sleep(20);
          }
          res.end();
        } else if (req.url === '/trailers') {
          res.writeHead(200, {
            'content-type': 'application/json',
            trailer: 'x-checksum, x-row-count',
          });
          res.write('[{"row":1},');
          await sleep(20);
          res.write('{"row":2}]');
          res.addTrailers({ 'x-checksum': 'c0ffee', 'x-row-count': '2' });
          res.end();
        } else {
          json(res, 200, { uploaded: body.length });
        }
      })();
    },
    async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      await request({ agent, path: '/stream' });
      await request({ agent, path: '/trailers', headers: { te: 'trailers' } });
      await new Promise<void>((resolve, reject) => {
        // No Content-Length: Node sends the body with Transfer-Encoding: chunked.
        const req = http.request(
          {
            host: HOST,
            port: PORT,
            agent,
            method: 'POST',
            path: '/upload',
            headers: { 'content-type': 'text/csv' },
          },
          (res) => {
            res.resume();
            res.on('end', resolve);
          },
        );
        req.on('error', reject);
        void (async () => {
          for (let i = 1; i <= 3; i++) {
            req.write(`${i},value-${i}\n`);
            await sleep(20);
          }
          req.end();
        })();
      });
      agent.destroy();
    },
  );
}

/** gzip and br encoded responses (Content-Length), and a gzip stream sent chunked. */
async function gzipBr(): Promise<void> {
  const doc = JSON.stringify({
    items: Array.from({ length: 60 }, (_, i) => ({ id: i, name: `item-${i}`, tags: ['a', 'b'] })),
  });
  await withServer(
    (req, res) => {
      if (req.url === '/gzip') {
        const z = zlib.gzipSync(doc);
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
          'content-length': z.length,
        });
        res.end(z);
      } else if (req.url === '/br') {
        const z = zlib.brotliCompressSync(doc);
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-encoding': 'br',
          'content-length': z.length,
        });
        res.end(z);
      } else {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        const gz = zlib.createGzip();
        gz.pipe(res);
        gz.end(doc);
      }
    },
    async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const headers = { 'accept-encoding': 'gzip, deflate, br' };
      await request({ agent, path: '/gzip', headers });
      await request({ agent, path: '/br', headers });
      await request({ agent, path: '/gzip-stream', headers });
      agent.destroy();
    },
  );
}

/** A 100 000-byte request body and a 50 000-byte response body, over many segments. */
async function largeBody(): Promise<void> {
  // 50-byte lines: `000042,xxxx…\n`.
  const lines = (n: number, fill: string): string =>
    Array.from({ length: n }, (_, i) => `${String(i).padStart(6, '0')},${fill.repeat(42)}\n`).join(
      '',
    );
  const upload = lines(2000, 'x');
  await withServer(
    (req, res) => {
      void readBody(req).then((body) => {
        const text = lines(1000, 'y');
        res.writeHead(200, {
          'content-type': 'text/csv',
          'content-length': text.length,
          'x-received': String(body.length),
        });
        res.end(text);
      });
    },
    async () => {
      await request({
        method: 'POST',
        path: '/bulk',
        headers: { 'content-type': 'text/csv', 'content-length': upload.length },
        body: upload,
        agent: false,
      });
    },
  );
}

/** `Expect: 100-continue`: accepted (100 then 200) and refused (417, the body is never sent). */
async function continue100(): Promise<void> {
  await withServer(
    (_req, res) => json(res, 200, { plain: true }),
    async () => {
      const body = JSON.stringify({ file: 'report.csv', bytes: 2048, data: 'z'.repeat(2048) });
      for (const path of ['/upload', '/reject']) {
        await new Promise<void>((resolve, reject) => {
          const req = http.request(
            {
              host: HOST,
              port: PORT,
              method: 'PUT',
              path,
              agent: false,
              headers: {
                expect: '100-continue',
                'content-type': 'application/json',
                'content-length': body.length,
              },
            },
            (res) => {
              res.resume();
              res.on('end', () => {
                if (res.statusCode === 417) req.destroy();
                resolve();
              });
            },
          );
          req.on('continue', () => req.end(body));
          req.on('error', reject);
          req.flushHeaders();
        });
      }
    },
    (server) =>
      server.on('checkContinue', (req, res) => {
        if (req.url === '/reject') {
          res.writeHead(417, { connection: 'close', 'content-length': 0 });
          res.end();
          return;
        }
        res.writeContinue();
        void readBody(req).then((b) => json(res, 201, { stored: b.length }));
      }),
  );
}

/** curl on one connection: GET with ETag, HEAD, conditional GET → 304, POST → 204, GET. */
async function curl(): Promise<void> {
  const etag = '"v1-5f2b"';
  await withServer(
    (req, res) => {
      void readBody(req).then(() => {
        if (req.url === '/etag') {
          if (req.headers['if-none-match'] === etag) {
            res.writeHead(304, { etag });
            res.end();
            return;
          }
          const body = 'cached content\n';
          res.writeHead(200, {
            etag,
            'content-type': 'text/plain',
            'content-length': body.length,
            'cache-control': 'max-age=60',
          });
          res.end(req.method === 'HEAD' ? undefined : body);
        } else if (req.url === '/events') {
          res.writeHead(204);
          res.end();
        } else {
          json(res, 200, { after: true });
        }
      });
    },
    async () => {
      const base = `http://${HOST}:${PORT}`;
      await promisify(execFile)('curl', [
        '-sS',
        '-o',
        '/dev/null',
        `${base}/etag`,
        '--next',
        '-sS',
        '-o',
        '/dev/null',
        '-I',
        `${base}/etag`,
        '--next',
        '-sS',
        '-o',
        '/dev/null',
        '-H',
        `If-None-Match: ${etag}`,
        `${base}/etag`,
        '--next',
        '-sS',
        '-o',
        '/dev/null',
        '-H',
        'Content-Type: application/json',
        '--data',
        '{"event":"click"}',
        `${base}/events`,
        '--next',
        '-sS',
        '-o',
        '/dev/null',
        `${base}/after`,
      ]);
    },
  );
}

/**
 * Requests that get no response: the server resets the connection after answering the first
 * request (second connection: the client gives up and closes).
 */
async function unanswered(): Promise<void> {
  await withServer(
    (req, res) => {
      if (req.url === '/ok') return json(res, 200, { ok: true });
      if (req.url === '/hang') {
        setTimeout(() => req.socket.resetAndDestroy(), 200);
      }
      // /slow: never answered; the client closes first.
    },
    async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      await request({ agent, path: '/ok' });
      await request({ agent, path: '/hang' }).then(
        () => {
          throw new Error('/hang was answered');
        },
        () => {},
      );
      agent.destroy();
      await new Promise<void>((resolve) => {
        const req = http.request({
          host: HOST,
          port: PORT,
          path: '/slow',
          agent: false,
          timeout: 200,
        });
        req.on('timeout', () => req.destroy());
        req.on('error', () => resolve());
        req.on('close', () => resolve());
        req.end();
      });
    },
  );
}

/** A gzip response that inflates to 10 MB (a decompression bomb), then a normal one. */
async function bomb(): Promise<void> {
  const z = zlib.gzipSync(Buffer.alloc(10 * 1024 * 1024), { level: 9 });
  await withServer(
    (req, res) => {
      if (req.url === '/bomb') {
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-encoding': 'gzip',
          'content-length': z.length,
        });
        res.end(z);
      } else json(res, 200, { after: 'bomb' });
    },
    async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      await request({ agent, path: '/bomb', headers: { 'accept-encoding': 'gzip' } });
      await request({ agent, path: '/after' });
      agent.destroy();
    },
  );
}

const cases: Record<string, () => Promise<void>> = {
  keepalive,
  pipelined,
  chunked,
  'gzip-br': gzipBr,
  'large-body': largeBody,
  'continue-100': continue100,
  curl,
  unanswered,
  bomb,
};

await runCases(
  Object.fromEntries(
    Object.entries(cases).map(([name, run]) => [name, () => capture('http', name, FILTER, run)]),
  ),
);
