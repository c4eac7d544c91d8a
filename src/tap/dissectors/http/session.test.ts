import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import zlib from 'node:zlib';
import type { HttpRecord } from './record.ts';
import type { Emitted } from '../types.ts';
import {
  bytesOf,
  replay,
  startTeeProxy,
  testContext,
  type Chunk,
} from '../../../../test/helpers/dissector-session.ts';
import { HttpSession } from './session.ts';

const json = JSON.stringify({
  items: Array.from({ length: 20 }, (_, i) => ({ id: i, name: `item ${i}` })),
});

/** Real server behaviours, chosen by path. */
function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (d: Buffer) => chunks.push(d));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString();
    const path = (req.url ?? '').split('?')[0];
    switch (path) {
      case '/gzip':
      case '/br':
      case '/deflate': {
        const enc = path.slice(1);
        const z =
          enc === 'gzip'
            ? zlib.gzipSync(json)
            : enc === 'br'
              ? zlib.brotliCompressSync(json)
              : zlib.deflateSync(json);
        res.writeHead(200, { 'content-encoding': enc, 'content-type': 'application/json' }).end(z);
        return;
      }
      case '/bomb':
        res
          .writeHead(200, { 'content-encoding': 'gzip' })
          .end(zlib.gzipSync(Buffer.alloc(20 * 1024 * 1024)));
        return;
      case '/corrupt':
        res.writeHead(200, { 'content-encoding': 'gzip' }).end('this is not gzip');
        return;
      case '/204':
      case '/304':
        res.writeHead(Number(path.slice(1)), { 'content-length': '10' }).end();
        return;
      case '/head':
        res.writeHead(200, { 'content-length': '1234' }).end();
        return;
      case '/chunked':
        res.writeHead(200, { trailer: 'x-checksum' });
        res.write('first,');
        res.write('second');
        res.addTrailers({ 'x-checksum': 'abc' });
        res.end();
        return;
      case '/stream': // no Content-Length: chunked for HTTP/1.1, close-delimited for HTTP/1.0
        res.write('streamed ');
        res.end('body');
        return;
      default:
        res.setHeader('set-cookie', ['session=s1; Path=/; HttpOnly', 'theme=dark']);
        res.end(JSON.stringify({ method: req.method, url: req.url, body }));
    }
  });
}

/** Runs `drive` against a real server through the tee proxy; returns each connection's bytes. */
function record(drive: (port: number) => Promise<void>): Promise<Chunk[][]> {
  return recordWith(http.createServer(handler), drive);
}

/** Runs `drive` against `server` (listening here) through the tee proxy. */
async function recordWith(
  server: net.Server,
  drive: (port: number) => Promise<void>,
): Promise<Chunk[][]> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const proxy = await startTeeProxy((server.address() as net.AddressInfo).port);
  try {
    await drive(proxy.port);
  } finally {
    await proxy.close();
    server.close();
  }
  return proxy.connections;
}

function request(
  port: number,
  agent: http.Agent,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    if (headers.expect === '100-continue') req.on('continue', () => req.end(body));
    else req.end(body);
  });
}

/** Raw socket: writes `data`, collects what comes back until `done(received)` or close. */
function rawExchange(
  port: number,
  data: string,
  done: (received: string) => boolean,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(data));
    let got = '';
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (done(got)) s.end();
    });
    s.on('close', () => resolve());
    s.on('error', reject);
  });
}

function dissect(chunks: Chunk[], limits = {}) {
  const t = testContext(limits);
  replay(new HttpSession(t.ctx), chunks);
  return { ...t, records: t.entries.map((e) => e.record as HttpRecord) };
}

const b = (s: string) => Buffer.from(s, 'latin1');

test('keep-alive connection: methods, query, cookies, encodings, HEAD/204/304, chunked with trailers', async () => {
  const [conn, ...others] = await record(async (port) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    await request(port, agent, 'GET', '/search?q=a+b&tag=x&tag=y%2Fz&empty', undefined, {
      cookie: 'sid=42; lang=en',
    });
    await request(port, agent, 'POST', '/items', json, { 'content-type': 'application/json' });
    for (const p of ['/gzip', '/br', '/deflate', '/204', '/304', '/chunked'])
      await request(port, agent, 'GET', p);
    await request(port, agent, 'HEAD', '/head');
    await request(port, agent, 'GET', '/after-head');
    agent.destroy();
  });
  assert.equal(others.length, 0, 'one keep-alive connection');
  const { entries, records, violations } = dissect(conn!);
  assert.deepEqual(violations, []);
  assert.equal(entries.length, 10);
  for (const e of entries) {
    assert.equal(e.error, undefined);
    assert.ok(e.elapsed > 0 && e.ts > 0);
  }

  const [search, post, gz, br, deflate, r204, r304, chunked, head, afterHead] = records;
  assert.equal(search!.request!.method, 'GET');
  assert.equal(search!.request!.url, '/search?q=a+b&tag=x&tag=y%2Fz&empty');
  assert.equal(search!.request!.path, '/search');
  assert.deepEqual(search!.request!.query, { q: 'a b', tag: 'x,y/z', empty: '' });
  assert.deepEqual(search!.request!.cookies, { sid: '42', lang: 'en' });
  assert.deepEqual(search!.response!.cookies, { session: 's1', theme: 'dark' });
  assert.equal(search!.response!.headers['set-cookie'], 'session=s1; Path=/; HttpOnly, theme=dark');
  assert.equal(search!.response!.headersList.filter(([n]) => n === 'set-cookie').length, 2);
  assert.equal(search!.request!.headers.host?.startsWith('127.0.0.1:'), true);

  assert.equal(post!.request!.body.text, json);
  assert.equal(post!.request!.body.size, Buffer.byteLength(json));
  assert.equal(JSON.parse(post!.response!.body.text!).body, json);
  const postSizes = entries[1]!;
  assert.equal(postSizes.requestSize, post!.request!.headersSize + post!.request!.body.size);
  assert.equal(postSizes.responseSize, post!.response!.headersSize + post!.response!.body.size);

  for (const [r, enc] of [
    [gz, 'gzip'],
    [br, 'br'],
    [deflate, 'deflate'],
  ] as const) {
    assert.equal(r!.response!.body.encoding, enc);
    assert.equal(r!.response!.body.text, json);
    assert.equal(r!.response!.body.decodedSize, json.length);
    assert.ok(r!.response!.body.size < json.length);
  }
  assert.deepEqual([r204!.response!.statusCode, r204!.response!.body.size], [204, 0]);
  assert.deepEqual([r304!.response!.statusCode, r304!.response!.body.size], [304, 0]);
  assert.equal(r304!.response!.headers['content-length'], '10');
  assert.equal(chunked!.response!.body.text, 'first,second');
  assert.deepEqual(chunked!.response!.trailers, { 'x-checksum': 'abc' });
  assert.equal(head!.request!.method, 'HEAD');
  assert.equal(head!.response!.headers['content-length'], '1234');
  assert.equal(head!.response!.body.size, 0);
  assert.equal(afterHead!.request!.path, '/after-head'); // framing survived the bodiless HEAD response
});

test('pipelining: three requests in one segment, answered in order', async () => {
  const reqs = ['/one', '/two', '/three']
    .map((p) => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`)
    .join('');
  const [conn] = await record((port) =>
    rawExchange(port, reqs, (got) => got.split('HTTP/1.1 200').length === 4),
  );
  assert.equal(
    conn!.filter((c) => c.dir === 0).length,
    1,
    'the three requests arrived in one chunk',
  );
  const { records, entries } = dissect(conn!);
  assert.deepEqual(
    records.map((r) => [r.request?.path, JSON.parse(r.response!.body.text!).url]),
    [
      ['/one', '/one'],
      ['/two', '/two'],
      ['/three', '/three'],
    ],
  );
  assert.ok(entries.every((e) => e.error === undefined));
});

test('Expect: 100-continue — the interim response is informational, the body follows', async () => {
  const [conn] = await record(async (port) => {
    const agent = new http.Agent({ keepAlive: false });
    await request(port, agent, 'POST', '/upload', 'payload after continue', {
      expect: '100-continue',
    });
  });
  const { records, entries } = dissect(conn!);
  assert.equal(records.length, 1);
  const r = records[0]!;
  assert.equal(r.request!.body.text, 'payload after continue');
  assert.equal(r.response!.statusCode, 200);
  assert.deepEqual(
    r.response!.informational?.map((i) => [i.statusCode, i.statusText]),
    [[100, 'Continue']],
  );
  assert.equal(entries[0]!.error, undefined);
  assert.ok(
    entries[0]!.responseSize > r.response!.headersSize + r.response!.body.size,
    'interim bytes counted',
  );
});

test('HTTP/1.0 close-delimited response ends with the connection', async () => {
  const [conn] = await record((port) =>
    rawExchange(port, 'GET /stream HTTP/1.0\r\n\r\n', () => false),
  );
  const { records, entries } = dissect(conn!);
  assert.equal(records.length, 1);
  assert.equal(records[0]!.response!.headers['content-length'], undefined);
  assert.equal(records[0]!.response!.headers['transfer-encoding'], undefined);
  assert.equal(records[0]!.response!.body.text, 'streamed body');
  assert.equal(entries[0]!.error, undefined);
});

test('decompression bomb is cut at maxBodyBytes and flagged', async () => {
  const [conn] = await record((port) => request(port, new http.Agent(), 'GET', '/bomb'));
  const { records, counters, entries } = dissect(conn!, { maxBodyBytes: 64 * 1024 });
  const body = records[0]!.response!.body;
  assert.equal(body.truncated, true);
  assert.equal(body.encoding, 'gzip');
  assert.ok(body.decodedSize! <= 64 * 1024 && body.decodedSize! > 60 * 1024);
  assert.equal(counters.hits.get('maxDecompressedBytes'), 1);
  assert.equal(entries[0]!.error, undefined);
});

test('corrupt gzip keeps the raw bytes with an error value', async () => {
  const [conn] = await record((port) => request(port, new http.Agent(), 'GET', '/corrupt'));
  const { records, entries } = dissect(conn!);
  const body = records[0]!.response!.body;
  assert.equal(body.encoding, undefined);
  assert.equal(body.text, 'this is not gzip');
  assert.equal(entries[0]!.error?.code, 'KS_BODY_DECODE');
  assert.match(entries[0]!.error!.message, /response body: gzip:/);
});

test('body keep limit: truncated body, counted, sizes still exact', async () => {
  const [conn] = await record((port) => request(port, new http.Agent(), 'POST', '/echo', json));
  const { records, counters } = dissect(conn!, { maxBodyBytes: 100 });
  const body = records[0]!.request!.body;
  assert.equal(body.size, json.length);
  assert.equal(body.text, json.slice(0, 100));
  assert.equal(body.truncated, true);
  assert.ok((counters.hits.get('maxBodyBytes') ?? 0) >= 1);
});

// ---- hand-written edge cases (bytes as real clients/servers send them)

test('a request never answered is emitted at the end with KS_NO_RESPONSE', () => {
  const t = testContext();
  const s = new HttpSession(t.ctx);
  s.onData(0, b('GET /a HTTP/1.1\r\nHost: x\r\n\r\n'), 100);
  s.onData(1, b('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), 150);
  s.onData(0, b('GET /never HTTP/1.1\r\nHost: x\r\n\r\n'), 200);
  assert.equal(t.entries.length, 1);
  s.onEnd(300);
  assert.equal(t.entries.length, 2);
  const last = t.entries[1]!;
  assert.equal(last.error?.code, 'KS_NO_RESPONSE');
  assert.equal((last.record as HttpRecord).response, undefined);
  assert.deepEqual([last.ts, last.elapsed, last.responseSize], [200, 0, 0]);
  assert.deepEqual([t.entries[0]!.ts, t.entries[0]!.elapsed], [100, 50]);
});

test('mid-stream start: a response without its request is emitted alone', () => {
  const t = testContext();
  const s = new HttpSession(t.ctx);
  // The capture starts inside a JSON body; the next response follows its last byte directly.
  s.onData(1, b('e": 3}]}HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}'), 20);
  s.onData(0, b('GET /next HTTP/1.1\r\n\r\n'), 30);
  s.onData(1, b('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), 40);
  s.onEnd(50);
  const recs = t.entries.map((e) => e.record as HttpRecord);
  assert.deepEqual(
    recs.map((r) => [r.request?.path, r.response?.statusCode]),
    [
      [undefined, 404],
      ['/next', 200],
    ],
  );
  assert.deepEqual(
    [t.entries[0]!.ts, t.entries[0]!.elapsed, t.entries[0]!.requestSize],
    [20, 0, 0],
  );
  assert.equal(t.entries[0]!.error, undefined);
  assert.deepEqual(t.violations, []);
});

test('gap inside a request body: counted down, entry flagged KS_GAP, pairing intact', () => {
  const t = testContext();
  const s = new HttpSession(t.ctx);
  s.onData(0, b('POST /up HTTP/1.1\r\nContent-Length: 20\r\n\r\n0123'), 1);
  s.onGap(0, 10, 2);
  s.onData(0, b('456789'), 3);
  s.onData(1, b('HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n'), 4);
  s.onData(0, b('GET /b HTTP/1.1\r\n\r\n'), 5);
  s.onData(1, b('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), 6);
  s.onEnd(7);
  const [e1, e2] = t.entries;
  const r1 = e1!.record as HttpRecord;
  assert.equal(r1.request!.body.size, 20);
  assert.equal(r1.request!.body.text, '0123');
  assert.equal(r1.request!.body.truncated, true);
  assert.equal(r1.response!.statusCode, 201);
  assert.equal(e1!.error?.code, 'KS_GAP');
  assert.equal(e2!.error, undefined);
  assert.equal((e2!.record as HttpRecord).request!.path, '/b');
});

test('gap in a response head: that response is lost, the next one resyncs and pairs', () => {
  const t = testContext();
  const s = new HttpSession(t.ctx);
  s.onData(0, b('GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n'), 1);
  s.onData(1, b('HTTP/1.1 200 OK\r\nConte'), 2);
  s.onGap(1, 50, 3);
  s.onData(1, b('nt-Length: 1\r\n\r\nxHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'), 4);
  s.onEnd(5);
  const recs = t.entries.map((e) => [
    (e.record as HttpRecord).request?.path,
    (e.record as HttpRecord).response?.body.text,
    e.error?.code,
  ]);
  assert.deepEqual(recs, [
    ['/1', undefined, 'KS_GAP'],
    ['/2', 'ok', undefined],
  ]);
  assert.deepEqual(t.violations, []);
});

test('header block beyond maxHeaderBytes: violation, counted, next request parsed', () => {
  const t = testContext({ maxHeaderBytes: 256 });
  const s = new HttpSession(t.ctx);
  s.onData(0, b('GET /ok HTTP/1.1\r\n\r\n'), 1);
  s.onData(1, b('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), 2);
  s.onData(
    0,
    b(`GET /huge HTTP/1.1\r\nX-Pad: ${'p'.repeat(300)}\r\n\r\nGET /small HTTP/1.1\r\n\r\n`),
    3,
  );
  s.onData(1, b('HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n\r\n'), 4);
  s.onEnd(5);
  assert.equal(t.violations.length, 1);
  assert.equal(t.counters.hits.get('maxHeaderBytes'), 1);
  assert.deepEqual(
    t.entries.map((e) => (e.record as HttpRecord).request?.path),
    ['/ok', '/small'],
  );
});

test('pending-request limit: the oldest unanswered request is emitted and counted', () => {
  const t = testContext({ maxPendingRequests: 2 });
  const s = new HttpSession(t.ctx);
  s.onData(
    0,
    b(
      'GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\nGET /4 HTTP/1.1\r\n\r\n',
    ),
    1,
  );
  assert.deepEqual(
    t.entries.map((e) => [(e.record as HttpRecord).request?.path, e.error?.code]),
    [
      ['/1', 'KS_NO_RESPONSE'],
      ['/2', 'KS_NO_RESPONSE'],
    ],
  );
  assert.equal(t.counters.hits.get('maxPendingRequests'), 2);
  s.onEnd(2);
  assert.equal(t.entries.length, 4);
});

test('garbage instead of a request: violation per bad start, then resync', () => {
  const t = testContext();
  const s = new HttpSession(t.ctx);
  s.onData(0, b('GET /a HTTP/1.1\r\n\r\n'), 1);
  s.onData(1, b('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), 2);
  s.onData(
    0,
    b('\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03 binary junk\r\nGET /b HTTP/1.1\r\n\r\n'),
    3,
  );
  s.onData(1, b('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), 4);
  s.onEnd(5);
  assert.equal(t.violations.length, 1);
  assert.match(t.violations[0]!, /request: invalid start line/);
  assert.deepEqual(
    t.entries.map((e) => (e.record as HttpRecord).request?.path),
    ['/a', '/b'],
  );
});

test('CONNECT tunnel and h2c upgrade: the HTTP entry is emitted, the rest is not parsed', () => {
  for (const [reqHead, resHead] of [
    [
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
      'HTTP/1.1 200 Connection established\r\n\r\n',
    ],
    [
      'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n',
      'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n',
    ],
  ]) {
    const t = testContext();
    const s = new HttpSession(t.ctx);
    s.onData(0, b(reqHead!), 1);
    s.onData(0, b('\x16\x03\x01 client bytes of the tunnel'), 2); // held, then dropped with the switch
    s.onData(1, b(`${resHead}\x00\x00\x12\x04\x00 server bytes`), 3);
    s.onData(0, b('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), 4);
    s.onEnd(5);
    assert.equal(t.entries.length, 1);
    assert.equal(t.entries[0]!.error, undefined);
    assert.deepEqual(t.violations, []);
  }
});

test('a refused upgrade continues as HTTP', () => {
  const t = testContext();
  const s = new HttpSession(t.ctx);
  s.onData(
    0,
    b(
      'GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nGET /plain HTTP/1.1\r\n\r\n',
    ),
    1,
  );
  s.onData(
    1,
    b(
      'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
    ),
    2,
  );
  s.onEnd(3);
  assert.deepEqual(
    t.entries.map((e) => [
      (e.record as HttpRecord).request?.path,
      (e.record as HttpRecord).response?.statusCode,
    ]),
    [
      ['/ws', 400],
      ['/plain', 200],
    ],
  );
});

test('an early response waits for the end of its request body', () => {
  const t = testContext();
  const s = new HttpSession(t.ctx);
  s.onData(0, b('POST /big HTTP/1.1\r\nContent-Length: 10\r\n\r\n01234'), 1);
  s.onData(1, b('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n'), 2);
  assert.equal(t.entries.length, 0);
  s.onData(0, b('56789'), 3);
  assert.equal(t.entries.length, 1);
  const r = t.entries[0]!.record as HttpRecord;
  assert.deepEqual([r.request!.body.text, r.response!.statusCode], ['0123456789', 413]);
});

test('connection cut inside a request body: emitted with KS_TRUNCATED', () => {
  const t = testContext();
  const s = new HttpSession(t.ctx);
  s.onData(0, b('PUT /f HTTP/1.1\r\nContent-Length: 1000\r\n\r\npartial'), 1);
  s.onEnd(2);
  const e: Emitted = t.entries[0]!;
  assert.equal(e.error?.code, 'KS_TRUNCATED');
  assert.match(e.error!.message, /no response/);
  assert.equal((e.record as HttpRecord).request!.body.truncated, true);
});

test('headers named like Object.prototype members stay plain values', () => {
  const t = testContext();
  const s = new HttpSession(t.ctx);
  s.onData(
    0,
    b(
      'GET /?constructor=1&__proto__=2 HTTP/1.1\r\nConstructor: a\r\n__proto__: b\r\nCookie: toString=c\r\n\r\n',
    ),
    1,
  );
  s.onEnd(2);
  const req = (t.entries[0]!.record as HttpRecord).request!;
  assert.equal(req.headers.constructor, 'a');
  assert.equal(Object.getOwnPropertyDescriptor(req.headers, '__proto__')?.value, 'b');
  assert.equal(req.query.constructor, '1');
  assert.equal(req.cookies.toString, 'c');
  assert.match(JSON.stringify(req.headers), /"__proto__":"b"/);
});

test('recorded bytes are what the session sees: request bytes equal the sizes reported', async () => {
  const [conn] = await record(async (port) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    await request(port, agent, 'POST', '/a', 'x'.repeat(5000));
    await request(port, agent, 'GET', '/chunked');
    agent.destroy();
  });
  const { entries } = dissect(conn!);
  assert.equal(
    entries.reduce((n, e) => n + e.requestSize, 0),
    bytesOf(conn!, 0).length,
  );
  assert.equal(
    entries.reduce((n, e) => n + e.responseSize, 0),
    bytesOf(conn!, 1).length,
  );
});

// ---- request lines as servers read them (issue 14)

test('odd request lines a real server answers: each is a request paired with its answer', async () => {
  const cases: [string, string, string, string, number, string][] = [
    // request line, method, url, version, status, problem
    ['GET / HTTP/1.', 'GET', '/', 'HTTP/1.', 400, 'invalid HTTP version: HTTP/1.'],
    ['GET /HTTP/1.1', 'GET', '/HTTP/1.1', 'HTTP/0.9', 200, 'no HTTP version'],
    ['OPTIONS HTTP/1.1', 'OPTIONS', '', 'HTTP/1.1', 400, 'no request-target'],
    [
      'GET\t/tabs\tHTTP/1.1',
      'GET',
      '/tabs',
      'HTTP/1.1',
      400,
      'whitespace other than single spaces in the request line',
    ],
    ['get /lower HTTP/1.1', 'get', '/lower', 'HTTP/1.1', 400, 'method not in upper case: get'],
    ['FOO /x HTTP/1.1', 'FOO', '/x', 'HTTP/1.1', 400, 'unknown method: FOO'],
  ];
  const conns = await record(async (port) => {
    // Node's server answers each with a status line and closes (400, or 200 for HTTP/0.9).
    for (const [line] of cases) await rawExchange(port, `${line}\r\nHost: x\r\n\r\n`, () => false);
  });
  assert.equal(conns.length, cases.length);
  cases.forEach(([line, method, url, version, status, problem], i) => {
    const { entries, records, violations } = dissect(conns[i]!);
    assert.equal(entries.length, 1, line);
    const r = records[0]!;
    assert.deepEqual(
      [r.request?.method, r.request?.url, r.request?.httpVersion, r.response?.statusCode],
      [method, url, version, status],
      line,
    );
    assert.deepEqual(r.request!.headers, { host: 'x' }, line);
    assert.deepEqual(entries[0]!.error, {
      code: 'KS_DISSECT_MALFORMED',
      message: `request: ${problem}`,
    });
    assert.deepEqual(violations, [], `${line}: answered, so no violation`);
  });
  // The 200 for `GET /HTTP/1.1` shows how the server read it.
  assert.equal(JSON.parse(dissect(conns[1]!).records[0]!.response!.body.text!).url, '/HTTP/1.1');
});

test('odd lines answered on a kept-alive connection never detach the dissector', async () => {
  const odd = ['/1', '/2', '/3', '/4'].map((p) => `GET  ${p}  HTTP/1.1\r\nHost: x\r\n\r\n`);
  const [conn] = await record((port) =>
    rawExchange(
      port,
      `${odd.join('')}GET /5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      () => false,
    ),
  );
  const { records, entries, violations } = dissect(conn!, { maxViolations: 3 });
  assert.deepEqual(
    records.map((r) => [r.request?.path, JSON.parse(r.response!.body.text!).url]),
    [
      ['/1', '/1'],
      ['/2', '/2'],
      ['/3', '/3'],
      ['/4', '/4'],
      ['/5', '/5'],
    ],
  );
  assert.deepEqual(
    entries.map((e) => e.error?.code),
    [
      'KS_DISSECT_MALFORMED',
      'KS_DISSECT_MALFORMED',
      'KS_DISSECT_MALFORMED',
      'KS_DISSECT_MALFORMED',
      undefined,
    ],
  );
  assert.deepEqual(violations, []);
});

test('an odd request line nobody answers is a violation (and KS_NO_RESPONSE)', () => {
  const t = testContext();
  const s = new HttpSession(t.ctx);
  s.onData(0, b('FOO /x HTTP/1.1\r\nHost: x\r\n\r\n'), 1);
  s.onEnd(2);
  assert.equal(t.entries.length, 1);
  assert.deepEqual(t.entries[0]!.error, {
    code: 'KS_DISSECT_MALFORMED',
    message: 'request: unknown method: FOO; no response seen before the connection ended',
  });
  assert.deepEqual(t.violations, ['request: unknown method: FOO']);
});

/** Runs `drive` against a raw node:net server through the tee proxy. */
function recordRaw(
  serve: (sock: net.Socket) => void,
  drive: (port: number) => Promise<void>,
): Promise<Chunk[][]> {
  return recordWith(net.createServer(serve), drive);
}

/** An HTTP/0.9 server: one line in, the bare document out, then the close. */
const doc = '<html>\n<body>hello from HTTP/0.9</body>\n</html>\n';
function serve09(sock: net.Socket): void {
  let got = '';
  sock.on('data', (d: Buffer) => {
    got += d.toString('latin1');
    if (got.includes('\n')) sock.end(doc);
  });
  sock.on('error', () => {});
}

test('HTTP/0.9: `GET /path` alone, answered by a bare body up to the close', async () => {
  const [conn] = await recordRaw(serve09, (port) =>
    rawExchange(port, 'GET /legacy.html\r\n', () => false),
  );
  const { entries, records, violations } = dissect(conn!);
  assert.equal(entries.length, 1);
  const r = records[0]!;
  assert.deepEqual(
    [r.request!.method, r.request!.url, r.request!.httpVersion, r.request!.headersSize],
    ['GET', '/legacy.html', 'HTTP/0.9', 18],
  );
  assert.deepEqual(
    [r.response!.statusCode, r.response!.statusText, r.response!.httpVersion],
    [0, '', 'HTTP/0.9'],
  );
  assert.deepEqual([r.response!.headersList, r.response!.headersSize], [[], 0]);
  assert.equal(r.response!.body.text, doc);
  assert.deepEqual([entries[0]!.requestSize, entries[0]!.responseSize], [18, doc.length]);
  assert.equal(entries[0]!.error, undefined);
  assert.ok(entries[0]!.elapsed > 0);
  assert.deepEqual(violations, []);
});

test('HTTP/0.9 after HTTP/1.1 on one connection; a status line still answers a versionless line', () => {
  const t = testContext();
  const s = new HttpSession(t.ctx);
  s.onData(0, b('GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /legacy\r\n'), 1);
  s.onData(1, b('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok<p>old'), 2);
  s.onData(1, b('</p>\n'), 3);
  s.onEnd(4);
  assert.deepEqual(
    t.entries.map((e) => {
      const r = e.record as HttpRecord;
      return [
        r.request?.url,
        r.request?.httpVersion,
        r.response?.statusCode,
        r.response?.body.text,
      ];
    }),
    [
      ['/a', 'HTTP/1.1', 200, 'ok'],
      ['/legacy', 'HTTP/0.9', 0, '<p>old</p>\n'],
    ],
  );
  assert.deepEqual([t.entries[1]!.ts, t.entries[1]!.elapsed], [1, 1]);

  const u = testContext();
  const s2 = new HttpSession(u.ctx);
  s2.onData(0, b('GET /x\r\n'), 1);
  s2.onData(1, b('HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n'), 2);
  s2.onEnd(3);
  const r2 = u.entries[0]!.record as HttpRecord;
  assert.deepEqual(
    [r2.request?.httpVersion, r2.response?.statusCode, u.entries[0]!.error],
    ['HTTP/0.9', 404, undefined],
  );
});

test('HTTP/0.9 request never answered: emitted at the end with KS_NO_RESPONSE', () => {
  const t = testContext();
  const s = new HttpSession(t.ctx);
  s.onData(0, b('GET /silent\r\n'), 1);
  s.onEnd(2);
  const r = t.entries[0]!.record as HttpRecord;
  assert.deepEqual([r.request?.url, r.request?.httpVersion], ['/silent', 'HTTP/0.9']);
  assert.equal(t.entries[0]!.error?.code, 'KS_NO_RESPONSE');
  assert.deepEqual(t.violations, []);
});
