import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Entry } from '../../../entry/model.ts';
import type { HttpRecord } from './record.ts';
import type { DetectContext } from '../types.ts';
import { testContext } from '../../../../test/helpers/dissector-session.ts';
import { detectHttp, httpDissector } from './index.ts';

const b = (s: string) => Buffer.from(s, 'latin1');
const ctx = (over: Partial<DetectContext> = {}): DetectContext => ({
  transport: 'tcp',
  portHint: false,
  clientEnded: false,
  serverEnded: false,
  ...over,
});
const none = Buffer.alloc(0);

test('detects a request on the client side or a response on the server side', () => {
  assert.equal(detectHttp(b('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), none, ctx()), 'match');
  assert.equal(detectHttp(b('\r\nDELETE /items/1 HTTP/1.0\r\n'), none, ctx()), 'match');
  assert.equal(detectHttp(none, b('HTTP/1.1 200 OK\r\n'), ctx()), 'match');
  assert.equal(detectHttp(b('PROPFIND /dav/ HTTP/1.1\r\n'), none, ctx()), 'match');
});

test('needs more while the bytes are a prefix of a start line', () => {
  for (const prefix of [
    '',
    'G',
    'GET',
    'GET ',
    'GET /very/long/path?with=query',
    'GET / HTTP/1.',
  ]) {
    assert.equal(detectHttp(b(prefix), none, ctx()), 'need-more', JSON.stringify(prefix));
  }
  assert.equal(detectHttp(none, b('HTTP/1.1 20'), ctx()), 'need-more');
  assert.equal(detectHttp(b('GET /pa'), none, ctx({ clientEnded: true, serverEnded: true })), 'no');
});

test('reversed endpoints: responses from the "client", requests from the "server"', () => {
  assert.equal(detectHttp(b('HTTP/1.1 404 Not Found\r\n'), none, ctx()), 'match-reversed');
  assert.equal(detectHttp(none, b('POST /api HTTP/1.1\r\n'), ctx()), 'match-reversed');
});

test('other protocols are not HTTP', () => {
  const others = [
    b('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03'), // TLS ClientHello
    b('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), // HTTP/2 preface
    b('*1\r\n$4\r\nPING\r\n'), // Redis
    b('SSH-2.0-OpenSSH_9.6\r\n'),
    b('\x00\x00\x00\x08\x04\xd2\x16\x2f'), // PostgreSQL SSLRequest
  ];
  for (const o of others)
    assert.equal(detectHttp(o, none, ctx()), 'no', JSON.stringify(o.toString('latin1')));
  assert.equal(detectHttp(none, b('220 smtp.example.com ESMTP\r\n'), ctx()), 'no');
  assert.equal(detectHttp(b('GET / HTTP/1.1\r\n'), none, ctx({ transport: 'udp' })), 'no');
});

test('mid-stream start: a start line on a later line matches; glued to a body only with a port hint', () => {
  assert.equal(
    detectHttp(b('":true}\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n'), none, ctx()),
    'match',
  );
  assert.equal(detectHttp(none, b('0\r\n\r\nHTTP/1.1 200 OK\r\n'), ctx()), 'match');
  const glued = b('{"id":7}HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n');
  assert.equal(detectHttp(none, glued, ctx()), 'no');
  assert.equal(detectHttp(none, glued, ctx({ portHint: true })), 'match');
  assert.equal(detectHttp(b('binary \x00\x01 body'), none, ctx({ portHint: true })), 'need-more');
});

test('the dissector object and its KFL fields', () => {
  assert.equal(httpDissector.id, 'http');
  const names = httpDissector.fields.map((f) => f.name);
  assert.deepEqual(names.sort(), [
    'http',
    'http_version',
    'method',
    'path',
    'query_string',
    'request.cookies',
    'request.headers',
    'request_body_size',
    'request_headers_size',
    'response.cookies',
    'response.headers',
    'response_body_size',
    'response_headers_size',
    'status_code',
    'url',
  ]);
  const t = testContext();
  const s = httpDissector.createSession(t.ctx);
  s.onData(0, b('POST /p?a=1 HTTP/1.1\r\nCookie: c=1\r\nContent-Length: 2\r\n\r\nhi'), 1);
  s.onData(
    1,
    b('HTTP/1.1 201 Created\r\nSet-Cookie: s=2; Path=/\r\nContent-Length: 3\r\n\r\nabc'),
    2,
  );
  const emitted = t.entries[0]!;
  const entry = { protocol: 'http', record: emitted.record } as Entry;
  const get = (name: string) => httpDissector.fields.find((f) => f.name === name)!.get(entry);
  assert.equal(get('http'), true);
  assert.equal(get('method'), 'POST');
  assert.equal(get('url'), '/p?a=1');
  assert.equal(get('path'), '/p');
  assert.equal(get('http_version'), 'HTTP/1.1');
  assert.equal(get('status_code'), 201);
  assert.deepEqual(get('query_string'), { a: '1' });
  assert.deepEqual(get('request.cookies'), { c: '1' });
  assert.deepEqual(get('response.cookies'), { s: '2' });
  assert.equal((get('request.headers') as Record<string, string>)['content-length'], '2');
  assert.equal(get('request_body_size'), 2);
  assert.equal(get('response_body_size'), 3);
  const rec = emitted.record as HttpRecord;
  assert.equal(get('request_headers_size'), rec.request!.headersSize);
  assert.equal(get('response_headers_size'), rec.response!.headersSize);
  const dns = { protocol: 'dns', record: { kind: 'dns' } } as Entry;
  for (const f of httpDissector.fields) assert.equal(f.get(dns), undefined, f.name);
});

test('odd request lines wait for the server: its status line confirms, anything else does not', () => {
  const odd = [
    'GET / HTTP/1.\r\nHost: x\r\n\r\n',
    'GET /HTTP/1.1\r\nHost: x\r\n\r\n',
    'OPTIONS HTTP/1.1\r\n',
    'GET\t/tabs\tHTTP/1.1\r\n',
    'GET / HTTP/1.1 \r\n',
  ];
  // (Lower-case and unregistered methods in an otherwise well-formed line match as before.)
  assert.equal(detectHttp(b('FOO /x HTTP/1.1\r\n'), none, ctx()), 'match');
  assert.equal(detectHttp(b('get /x HTTP/1.1\r\n'), none, ctx()), 'match');
  for (const o of odd) {
    const what = JSON.stringify(o);
    assert.equal(detectHttp(b(o), none, ctx()), 'need-more', what);
    assert.equal(detectHttp(b(o), b('HTTP/1.1 400 Bad Request\r\n'), ctx()), 'match', what);
    assert.equal(detectHttp(b(o), b('\x00\x00\x00\x04junk'), ctx()), 'no', what);
    assert.equal(detectHttp(b(o), b('+OK\r\n'), ctx({ portHint: true })), 'need-more', what);
    const ended = { clientEnded: true, serverEnded: true };
    assert.equal(detectHttp(b(o), none, ctx(ended)), 'no', what);
    assert.equal(detectHttp(b(o), b('+OK\r\n'), ctx({ portHint: true, ...ended })), 'no', what);
  }
});

test('HTTP/0.9 (`GET /path`, a bare body, the close) matches only on an HTTP port, once ended', () => {
  const req = b('GET /legacy.html\r\n');
  const body = b('<html>\n<body>old</body>\n</html>\n');
  const ended = { clientEnded: true, serverEnded: true };
  assert.equal(detectHttp(req, none, ctx()), 'need-more');
  assert.equal(detectHttp(req, body, ctx()), 'no');
  assert.equal(detectHttp(req, body, ctx(ended)), 'no');
  assert.equal(detectHttp(req, body, ctx({ portHint: true })), 'need-more');
  assert.equal(detectHttp(req, body, ctx({ portHint: true, ...ended })), 'match');
  // Not HTTP/0.9: more than the one line, another method, no body.
  for (const c of ['GET /x\r\nmore\r\n', 'POST /x\r\n', 'GET x\r\n'])
    assert.equal(detectHttp(b(c), body, ctx({ portHint: true, ...ended })), 'no', c);
  assert.equal(detectHttp(req, none, ctx({ portHint: true, ...ended })), 'no');

  // The session makes the entry.
  const t = testContext();
  const s = httpDissector.createSession(t.ctx);
  s.onData(0, req, 1);
  s.onData(1, body, 2);
  s.onEnd(3);
  const rec = t.entries[0]!.record as HttpRecord;
  assert.deepEqual(
    [rec.request?.httpVersion, rec.response?.statusCode, rec.response?.body.text],
    ['HTTP/0.9', 0, body.toString()],
  );
  const get = (name: string) =>
    httpDissector.fields.find((f) => f.name === name)!.get({ record: rec } as Entry);
  assert.equal(get('status_code'), undefined, 'no status code, as in Wireshark');
  assert.equal(get('http_version'), 'HTTP/0.9');
});

test('the relaxed reading does not make other protocols HTTP', () => {
  const ended = { clientEnded: true, serverEnded: true };
  const conversations: [string, string][] = [
    ['get key\r\n', 'END\r\n'], // memcached
    ['USER anonymous\r\n', '220 ftp ready\r\n'], // FTP
    ['RETR /pub/file.txt\r\n', '150 Opening\r\n'],
    ['*1\r\n$4\r\nPING\r\n', '+PONG\r\n'], // Redis
    ['hello world\r\n', 'hello\r\n'],
    ['OPTIONS rtsp://cam/stream RTSP/1.0\r\nCSeq: 1\r\n\r\n', 'RTSP/1.0 200 OK\r\n'],
    ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', '\x00\x00\x12\x04\x00\x00\x00\x00\x00'],
  ];
  for (const [c, s] of conversations) {
    const what = JSON.stringify(c);
    assert.equal(detectHttp(b(c), b(s), ctx()), 'no', what);
    assert.equal(detectHttp(b(c), b(s), ctx(ended)), 'no', what);
    assert.equal(detectHttp(b(c), b(s), ctx({ portHint: true, ...ended })), 'no', what);
  }
});
