/**
 * Split-anywhere property (the same bytes in any chunking give the same entries) and fuzzing
 * (random or mutated input never throws) for the HTTP session.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import zlib from 'node:zlib';
import fc from 'fast-check';
import type { Direction } from '../../reassembly/types.ts';
import {
  outcome,
  replay,
  resplit,
  startTeeProxy,
  testContext,
  type Chunk,
} from '../../../../test/helpers/dissector-session.ts';
import { HttpSession } from './session.ts';

const body = JSON.stringify({
  users: Array.from({ length: 30 }, (_, i) => ({ id: i, name: `user-${i}`, active: i % 2 === 0 })),
});

/** A real keep-alive conversation with most framings: recorded once through the tee proxy. */
async function recordConversation(): Promise<Chunk[]> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/gzip')
        res.writeHead(200, { 'content-encoding': 'gzip' }).end(zlib.gzipSync(body));
      else if (req.url === '/chunked') {
        res.writeHead(200, { trailer: 'x-t' });
        res.write(body.slice(0, 100));
        res.write(body.slice(100));
        res.addTrailers({ 'x-t': '1' });
        res.end();
      } else if (req.url === '/304') res.writeHead(304).end();
      else
        res
          .writeHead(200, { 'set-cookie': ['a=1', 'b=2'], 'content-type': 'application/json' })
          .end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const proxy = await startTeeProxy((server.address() as net.AddressInfo).port);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const call = (
    method: string,
    path: string,
    payload?: string,
    headers: Record<string, string> = {},
  ) =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: proxy.port, method, path, agent, headers },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      if (headers.expect !== undefined) req.on('continue', () => req.end(payload));
      else req.end(payload);
    });
  await call('GET', '/users?page=2&sort=name', undefined, { cookie: 'sid=1' });
  await call('POST', '/users', body, { 'content-type': 'application/json' });
  await call('GET', '/gzip');
  await call('GET', '/chunked');
  await call('HEAD', '/users');
  await call('GET', '/304');
  await call('PUT', '/users/1', body, { expect: '100-continue' });
  agent.destroy();
  await proxy.close();
  server.close();
  return proxy.connections[0]!;
}

const b = (dir: Direction, s: string, ts: number): Chunk => ({
  dir,
  data: Buffer.from(s, 'latin1'),
  ts,
});

const gap = (dir: Direction, n: number, ts: number): Chunk => ({
  dir,
  data: Buffer.alloc(0),
  ts,
  gap: n,
});

/**
 * Hand-written conversations: pipelining, mid-stream start, garbage, gaps, unanswered request,
 * odd request lines answered by the server, HTTP/0.9 after HTTP/1.1.
 */
const handWritten: Chunk[][] = [
  [
    b(
      0,
      'GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nPOST /3 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
      1,
    ),
    b(1, 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none', 2),
    b(
      1,
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\ntwo\r\n0\r\nX-T: 1\r\n\r\nHTTP/1.1 201 Created\r\n\r\n',
      3,
    ),
  ],
  [
    b(
      1,
      'ail of a body"}HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 204 No Content\r\n\r\n',
      1,
    ),
    b(0, 'tail}GET /x HTTP/1.1\r\nX: y\r\n\r\n\x00\x01junk\r\nGET /y HTTP/1.1\r\n\r\n', 2),
    b(1, 'HTTP/1.0 200 OK\r\n\r\nclose-delimited to the end', 3),
  ],
  [
    b(0, 'POST /a HTTP/1.1\r\nContent-Length: 30\r\n\r\n0123456789', 1),
    gap(0, 10, 2),
    b(0, '0123456789GET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n', 3),
    b(1, 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirstHTTP/1.1 200 OK\r\nTransfer-', 4),
    gap(1, 40, 5),
    b(
      1,
      'ncoding: chunked\r\n\r\n5\r\nthird\r\n0\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nlost',
      6,
    ),
  ],
  [
    b(
      0,
      'GET  /odd  HTTP/1.1\r\nHost: a\r\n\r\nOPTIONS HTTP/1.1\r\n\r\nGET\t/t\tHTTP/1.\r\nHost: a\r\n\r\n',
      1,
    ),
    b(1, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 204 No Content\r\n\r\n', 2),
    b(0, 'get /lower HTTP/1.1\r\n\r\nFOO /x HTTP/1.1\r\n\r\n', 3),
    b(1, 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n', 4),
    b(1, 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n', 5),
  ],
  [
    b(0, 'GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /legacy.html\r\n', 1),
    b(1, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/0.9 has no status line\r\n', 2),
    b(1, '<html>\r\n</html>\r\n', 3),
  ],
];

let recorded: Chunk[] | undefined;
async function fixtures(): Promise<Chunk[][]> {
  recorded ??= await recordConversation();
  return [recorded, ...handWritten];
}

function run(chunks: readonly Chunk[]): string {
  const t = testContext({ maxBodyBytes: 200 });
  replay(new HttpSession(t.ctx), chunks);
  return outcome(t);
}

test('split anywhere: any chunking of the same bytes gives the same entries', async () => {
  for (const chunks of await fixtures()) {
    const expected = run(chunks);
    assert.ok(JSON.parse(expected).entries.length > 0);
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 40 }),
        (sizes) => {
          assert.equal(run(resplit(chunks, sizes)), expected);
        },
      ),
      { numRuns: 150 },
    );
    assert.equal(run(resplit(chunks, [1])), expected, 'byte by byte');
  }
});

const event = fc.oneof(
  fc.record({
    kind: fc.constant('data' as const),
    dir: fc.constantFrom<Direction>(0, 1),
    bytes: fc.uint8Array({ maxLength: 200 }),
  }),
  fc.record({
    kind: fc.constant('gap' as const),
    dir: fc.constantFrom<Direction>(0, 1),
    n: fc.integer({ min: 1, max: 5000 }),
  }),
);

test('fuzz: random bytes and gaps never throw', () => {
  fc.assert(
    fc.property(fc.array(event, { maxLength: 30 }), (events) => {
      const t = testContext({ maxPendingRequests: 4, maxHeaderBytes: 512 });
      const s = new HttpSession(t.ctx);
      let ts = 0;
      for (const e of events) {
        if (e.kind === 'data') s.onData(e.dir, Buffer.from(e.bytes), ts++);
        else s.onGap(e.dir, e.n, ts++);
      }
      s.onEnd(ts);
      JSON.stringify(t.entries);
    }),
    { numRuns: 500 },
  );
});

test('fuzz: mutated real conversations never throw and keep sizes sane', async () => {
  const all = await fixtures();
  const mutation = fc.record({
    fixture: fc.nat(all.length - 1),
    edits: fc.array(
      fc.record({
        at: fc.nat(),
        op: fc.constantFrom('flip', 'delete', 'insert', 'gap', 'crlf'),
        len: fc.integer({ min: 1, max: 40 }),
        byte: fc.integer({ min: 0, max: 255 }),
      }),
      { maxLength: 8 },
    ),
    sizes: fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 10 }),
  });
  fc.assert(
    fc.property(mutation, ({ fixture, edits, sizes }) => {
      const chunks = resplit(all[fixture]!, sizes).map((c) => ({
        ...c,
        data: Buffer.from(c.data),
      }));
      const gaps = new Map<number, number>();
      for (const e of edits) {
        const i = e.at % chunks.length;
        const c = chunks[i]!;
        const p = e.at % Math.max(1, c.data.length);
        if (e.op === 'flip' && c.data.length > 0) c.data[p] = e.byte;
        else if (e.op === 'delete')
          c.data = Buffer.concat([c.data.subarray(0, p), c.data.subarray(p + e.len)]);
        else if (e.op === 'insert')
          c.data = Buffer.concat([
            c.data.subarray(0, p),
            Buffer.alloc(e.len, e.byte),
            c.data.subarray(p),
          ]);
        else if (e.op === 'crlf')
          c.data = Buffer.concat([
            c.data.subarray(0, p),
            Buffer.from('\r\n\r\n'),
            c.data.subarray(p),
          ]);
        else gaps.set(i, e.len * 37);
      }
      const t = testContext({ maxBodyBytes: 1000, maxPendingRequests: 3 });
      const s = new HttpSession(t.ctx);
      chunks.forEach((c, i) => {
        const gap = gaps.get(i);
        if (gap !== undefined) s.onGap(c.dir, gap, c.ts);
        else s.onData(c.dir, c.data, c.ts);
      });
      s.onEnd(1e18);
      for (const e of t.entries) {
        assert.ok(e.requestSize >= 0 && e.responseSize >= 0 && e.elapsed >= 0);
        JSON.stringify(e);
      }
    }),
    { numRuns: 400 },
  );
});
