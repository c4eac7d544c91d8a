import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  HttpParser,
  lenientRequestLineAt,
  requestLineAt,
  simpleRequestAt,
  statusLineAt,
  type HeadVerdict,
  type HttpHead,
  type HttpMessage,
  type HttpParserOptions,
} from './parse.ts';

interface Run {
  parser: HttpParser;
  messages: HttpMessage[];
  violations: string[];
  limits: string[];
  lost: number;
  switched: Buffer[];
}

function run(
  kind: 'request' | 'response',
  verdict: (h: HttpHead) => HeadVerdict = () => 'default',
  opts: Partial<HttpParserOptions> = {},
): Run {
  const r: Run = {
    messages: [],
    violations: [],
    limits: [],
    lost: 0,
    switched: [],
  } as unknown as Run;
  r.parser = new HttpParser(
    { kind, maxHeaderBytes: 64 * 1024, maxBodyKeep: 1024 * 1024, ...opts },
    {
      onHead: verdict,
      onMessage: (m) => r.messages.push(m),
      onLost: () => r.lost++,
      onViolation: (m) => r.violations.push(m),
      onLimit: (n) => r.limits.push(n),
      onSwitchedData: (d) => r.switched.push(Buffer.from(d)),
      onSwitchedGap: () => {},
    },
  );
  return r;
}

const b = (s: string) => Buffer.from(s, 'latin1');

test('request with Content-Length body, headers in order, obs-fold joined', () => {
  const r = run('request');
  r.parser.push(
    b('POST /x?a=1 HTTP/1.1\r\nHost: h\r\nX-Long: one\r\n two\r\nContent-Length: 5\r\n\r\nhello'),
    7,
  );
  assert.equal(r.messages.length, 1);
  const m = r.messages[0]!;
  assert.equal(m.head.method, 'POST');
  assert.equal(m.head.target, '/x?a=1');
  assert.equal(m.head.version, 'HTTP/1.1');
  assert.deepEqual(m.head.headers, [
    ['Host', 'h'],
    ['X-Long', 'one two'],
    ['Content-Length', '5'],
  ]);
  assert.equal(m.body.toString(), 'hello');
  assert.equal(m.bodySize, 5);
  assert.equal(m.startTs, 7);
  assert.equal(m.wireBytes, m.head.headBytes + 5);
});

test('leading blank lines are skipped; bare LF line ends are tolerated', () => {
  const r = run('response');
  r.parser.push(
    b('\r\nHTTP/1.0 200 OK\nContent-Length: 2\n\nokHTTP/1.1 404\r\nContent-Length: 0\r\n\r\n'),
    1,
  );
  assert.deepEqual(
    r.messages.map((m) => [m.head.statusCode, m.head.statusText, m.body.toString()]),
    [
      [200, 'OK', 'ok'],
      [404, '', ''],
    ],
  );
  assert.equal(r.messages[0]!.head.headBytes, 'HTTP/1.0 200 OK\nContent-Length: 2\n\n'.length);
});

test('chunked body with extensions and trailers', () => {
  const r = run('response');
  r.parser.push(
    b(
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=v\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\nX-Other: a\r\n\r\n',
    ),
    1,
  );
  const m = r.messages[0]!;
  assert.equal(m.body.toString(), 'hello world');
  assert.equal(m.bodySize, 11);
  assert.deepEqual(m.trailers, [
    ['X-Sum', '42'],
    ['X-Other', 'a'],
  ]);
  assert.equal(m.cut, undefined);
});

test('Transfer-Encoding wins over Content-Length; repeated identical Content-Length is accepted', () => {
  const r = run('request');
  r.parser.push(
    b(
      'POST / HTTP/1.1\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
    ),
    1,
  );
  r.parser.push(b('POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\nabc'), 2);
  assert.deepEqual(
    r.messages.map((m) => m.body.toString()),
    ['ok', 'abc'],
  );
});

test('close-delimited response ends with the stream', () => {
  const r = run('response');
  r.parser.push(b('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\npart one,'), 1);
  r.parser.push(b(' part two'), 2);
  assert.equal(r.messages.length, 0);
  r.parser.end(3);
  assert.equal(r.messages[0]!.body.toString(), 'part one, part two');
  assert.equal(r.messages[0]!.cut, undefined);
});

test('no body for 1xx, 204, 304 and when the session says so (HEAD)', () => {
  const r = run('response', (h) => (h.statusCode === 200 ? 'no-body' : 'default'));
  r.parser.push(
    b(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n' +
        'HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n',
    ),
    1,
  );
  assert.deepEqual(
    r.messages.map((m) => [m.head.statusCode, m.bodySize]),
    [
      [100, 0],
      [204, 0],
      [304, 0],
      [200, 0],
    ],
  );
});

test('body keep limit: the rest is counted, not kept', () => {
  const r = run('request', undefined, { maxBodyKeep: 4 });
  r.parser.push(b('PUT / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789'), 1);
  const m = r.messages[0]!;
  assert.equal(m.body.toString(), '0123');
  assert.equal(m.bodySize, 10);
  assert.equal(m.bodyCut, true);
  assert.deepEqual(r.limits, ['maxBodyBytes']);
});

test('head larger than maxHeaderBytes: violation, limit counted, resync', () => {
  const r = run('request', undefined, { maxHeaderBytes: 100 });
  r.parser.push(b('GET / HTTP/1.1\r\nHost: a\r\n\r\n'), 1);
  r.parser.push(
    b(`GET /big HTTP/1.1\r\nX-Big: ${'x'.repeat(200)}\r\n\r\nGET /after HTTP/1.1\r\n\r\n`),
    2,
  );
  assert.deepEqual(r.limits, ['maxHeaderBytes']);
  assert.equal(r.violations.length, 1);
  assert.deepEqual(
    r.messages.map((m) => m.head.target),
    ['/', '/after'],
  );
});

test('garbage where a request line must be: violation, then resync at the next request line', () => {
  const r = run('request');
  r.parser.push(b('GET /1 HTTP/1.1\r\n\r\n'), 1);
  r.parser.push(
    b('\x00\x01garbage line\r\nmore junk GET\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n'),
    2,
  );
  assert.deepEqual(
    r.messages.map((m) => m.head.target),
    ['/1', '/2'],
  );
  assert.equal(r.violations.length, 1);
});

test('a mid-stream start (first bytes inside a body) resyncs without a violation', () => {
  const r = run('response');
  r.parser.push(
    b('tail of a previous body"}\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'),
    1,
  );
  assert.equal(r.messages.length, 1);
  assert.equal(r.violations.length, 0);
});

test('invalid Content-Length and chunk size are violations, flagged malformed', () => {
  const r = run('request');
  r.parser.push(b('GET / HTTP/1.1\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n'), 1);
  r.parser.push(b('POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'), 2);
  assert.deepEqual(
    r.messages.map((m) => [m.head.target, m.cut, m.malformed]),
    [
      ['/', undefined, undefined],
      ['/', 'malformed', 'invalid Content-Length'],
      ['/c', 'malformed', 'invalid chunk size'],
    ],
  );
  assert.equal(r.violations.length, 2);
});

test('gap inside a Content-Length body counts down and keeps framing', () => {
  const r = run('response');
  r.parser.push(b('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n012'), 1);
  r.parser.gap(4, 2);
  r.parser.push(b('789HTTP/1.1 204 No Content\r\n\r\n'), 3);
  const [m1, m2] = r.messages;
  assert.equal(m1!.body.toString(), '012');
  assert.equal(m1!.bodySize, 10);
  assert.equal(m1!.gapBytes, 4);
  assert.equal(m1!.bodyCut, true);
  assert.equal(m2!.head.statusCode, 204);
  assert.equal(r.lost, 0);
});

test('gap running past the body end, or in a head: the next start is lost, resync follows', () => {
  const r = run('response');
  r.parser.push(b('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab'), 1);
  r.parser.gap(30, 2); // 2 body bytes + the start of the next response
  r.parser.push(b('er: x\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n'), 3);
  r.parser.push(b('HTTP/1.1 200 OK\r\nX-A'), 4);
  r.parser.gap(10, 5);
  r.parser.push(b('HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n'), 6); // a message right after a gap
  assert.deepEqual(
    r.messages.map((m) => m.head.statusCode),
    [200, 201, 202],
  );
  assert.equal(r.lost, 2);
  assert.equal(r.violations.length, 0);
});

test('gap in chunked framing cuts the message and resyncs', () => {
  const r = run('response');
  r.parser.push(b('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel'), 1);
  r.parser.gap(100, 2);
  r.parser.push(b('junk\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), 3);
  assert.equal(r.messages[0]!.cut, 'gap');
  assert.equal(r.messages[0]!.body.toString(), 'hel');
  assert.equal(r.messages.length, 2);
});

test('hold and switch: bytes after an upgrade go to the new protocol', () => {
  const r = run('request', () => 'hold');
  r.parser.push(
    b('GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x85abcd'),
    1,
  );
  assert.equal(r.messages.length, 1);
  r.parser.switchProtocols();
  r.parser.push(b('more'), 2);
  assert.equal(Buffer.concat(r.switched).toString('latin1'), '\x81\x85abcdmore');
});

test('hold and resume: a refused upgrade continues as HTTP', () => {
  const r = run('request', (h) => (h.target === '/up' ? 'hold' : 'default'));
  r.parser.push(
    b('GET /up HTTP/1.1\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\nGET /next HTTP/1.1\r\n\r\n'),
    1,
  );
  assert.equal(r.messages.length, 1);
  r.parser.resume();
  assert.deepEqual(
    r.messages.map((m) => m.head.target),
    ['/up', '/next'],
  );
});

test('response switch: the rest of the chunk after the 101 head is passed on', () => {
  const r = run('response', (h) => (h.statusCode === 101 ? 'switch' : 'default'));
  r.parser.push(b('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi'), 1);
  assert.equal(r.messages[0]!.head.statusCode, 101);
  assert.equal(Buffer.concat(r.switched).toString('latin1'), '\x81\x02hi');
});

test('end inside a Content-Length body cuts the message', () => {
  const r = run('request');
  r.parser.push(b('POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc'), 1);
  r.parser.end(2);
  assert.equal(r.messages[0]!.cut, 'end');
  assert.equal(r.messages[0]!.bodySize, 3);
});

test('UTF-8 header values are decoded as UTF-8, other bytes as latin1', () => {
  const r = run('request');
  r.parser.push(
    Buffer.concat([b('GET / HTTP/1.1\r\nX-Name: '), Buffer.from('Zoë'), b('\r\n\r\n')]),
    1,
  );
  r.parser.push(b('GET / HTTP/1.1\r\nX-Name: caf\xe9\r\n\r\n'), 2);
  assert.equal(r.messages[0]!.head.headers[0]![1], 'Zoë');
  assert.equal(r.messages[1]!.head.headers[0]![1], 'café');
  assert.equal(
    r.messages[0]!.head.headBytes,
    Buffer.byteLength('GET / HTTP/1.1\r\nX-Name: Zoë\r\n\r\n'),
  );
});

test('start line verdicts: yes, no, maybe', () => {
  assert.equal(requestLineAt(b('GET / HTTP/1.1\r\n'), 0), 'yes');
  assert.equal(requestLineAt(b('PROPFIND /dav HTTP/1.1\n'), 0), 'yes');
  assert.equal(requestLineAt(b('GE'), 0), 'maybe');
  assert.equal(requestLineAt(b('GET /some/long/pa'), 0), 'maybe');
  assert.equal(requestLineAt(b('GET / HTTP/1.'), 0), 'maybe');
  assert.equal(requestLineAt(b('GET / HTTP/2.0\r\n'), 0), 'no');
  assert.equal(requestLineAt(b('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), 0), 'no');
  assert.equal(requestLineAt(b('\x16\x03\x01\x02\x00'), 0), 'no');
  assert.equal(requestLineAt(b('GET  HTTP/1.1\r\n'), 0), 'no');
  assert.equal(statusLineAt(b('HTTP/1.1 200 OK\r\n'), 0), 'yes');
  assert.equal(statusLineAt(b('HTTP/1.1 200\r\n'), 0), 'yes');
  assert.equal(statusLineAt(b('HTTP/1.1 2'), 0), 'maybe');
  assert.equal(statusLineAt(b('HTTP/2 200'), 0), 'no');
  assert.equal(statusLineAt(b('SSH-2.0-OpenSSH'), 0), 'no');
});

// ---- request lines as servers read them (issue 14)

test('odd request lines still make requests, read word by word, with the problem noted', () => {
  const cases: [string, string, string, string, string | undefined][] = [
    // line, method, target, version, problem
    ['GET / HTTP/1.', 'GET', '/', 'HTTP/1.', 'invalid HTTP version: HTTP/1.'],
    ['GET /HTTP/1.1', 'GET', '/HTTP/1.1', 'HTTP/0.9', 'no HTTP version'],
    ['OPTIONS HTTP/1.1', 'OPTIONS', '', 'HTTP/1.1', 'no request-target'],
    [
      'GET  /a  HTTP/1.1',
      'GET',
      '/a',
      'HTTP/1.1',
      'whitespace other than single spaces in the request line',
    ],
    [
      'GET\t/a\tHTTP/1.1',
      'GET',
      '/a',
      'HTTP/1.1',
      'whitespace other than single spaces in the request line',
    ],
    [
      'GET / HTTP/1.1 ',
      'GET',
      '/',
      'HTTP/1.1',
      'whitespace other than single spaces in the request line',
    ],
    ['get /lower HTTP/1.1', 'get', '/lower', 'HTTP/1.1', 'method not in upper case: get'],
    ['FOO /x HTTP/1.1', 'FOO', '/x', 'HTTP/1.1', 'unknown method: FOO'],
    ['GET / HTTP/1.9', 'GET', '/', 'HTTP/1.9', 'unsupported HTTP version: HTTP/1.9'],
    ['PRI * HTTP/2.0', 'PRI', '*', 'HTTP/2.0', 'unsupported HTTP version: HTTP/2.0'],
    ['PURGE /cache HTTP/1.1', 'PURGE', '/cache', 'HTTP/1.1', undefined],
    ['GET http://h/p HTTP/1.0', 'GET', 'http://h/p', 'HTTP/1.0', undefined],
  ];
  for (const [line, method, target, version, problem] of cases) {
    const r = run('request');
    r.parser.push(b(`${line}\r\nHost: h\r\n\r\nGET /next HTTP/1.1\r\n\r\n`), 1);
    assert.deepEqual(
      r.messages.map((m) => [m.head.method, m.head.target, m.head.version, m.head.problem]),
      [
        [method, target, version, problem],
        ['GET', '/next', 'HTTP/1.1', undefined],
      ],
      line,
    );
    assert.deepEqual(r.messages[0]!.head.headers, [['Host', 'h']], line);
    assert.equal(r.messages[0]!.head.headBytes, line.length + 13, line);
    assert.deepEqual(r.violations, [], line);
  }
});

test('lines no server takes for a request line stay garbage', () => {
  for (const line of [
    'hello world',
    'GET / FOO',
    'GET / HTTP/1.1 extra',
    'a /b HTTP/1.1 x',
    'GET',
    'get key',
    'GET /caf\xe9 HTTP/1.',
    'USER anonymous',
  ]) {
    const r = run('request');
    r.parser.push(b(`GET /1 HTTP/1.1\r\n\r\n${line}\r\nX: y\r\n\r\nGET /2 HTTP/1.1\r\n\r\n`), 1);
    assert.deepEqual(
      r.messages.map((m) => m.head.target),
      ['/1', '/2'],
      line,
    );
    assert.equal(r.violations.length, 1, line);
  }
});

test('a target with spaces inside is kept as sent, as before', () => {
  const r = run('request');
  r.parser.push(b('GET /a b HTTP/1.1\r\n\r\nGET  /c d  HTTP/1.1\r\n\r\n'), 1);
  assert.deepEqual(
    r.messages.map((m) => [m.head.target, m.head.problem]),
    [
      ['/a b', undefined],
      [' /c d ', 'whitespace other than single spaces in the request line'],
    ],
  );
});

test('HTTP/0.9 request: a line without a version ends when the server answers or at the end', () => {
  const r = run('request');
  r.parser.push(b('GET /legacy.html\r'), 1);
  r.parser.push(b('\n'), 2);
  assert.equal(r.messages.length, 0, 'header lines could still follow');
  assert.equal(r.parser.completeSimpleRequest(), true); // the server answers
  const m = r.messages[0]!;
  assert.deepEqual(
    [m.head.method, m.head.target, m.head.version, m.head.noVersion, m.head.problem],
    ['GET', '/legacy.html', 'HTTP/0.9', true, undefined],
  );
  assert.deepEqual([m.head.headBytes, m.wireBytes, m.startTs], [18, 18, 1]);

  const atEnd = run('request');
  atEnd.parser.push(b('GET /x\n'), 1);
  atEnd.parser.end(2);
  assert.deepEqual(
    atEnd.messages.map((x) => [x.head.target, x.head.version]),
    [['/x', 'HTTP/0.9']],
  );

  // A versioned line waits for its header lines whatever the server does.
  const versioned = run('request');
  versioned.parser.push(b('GET / HTTP/1.1\r\nHost: h\r\n'), 1);
  assert.equal(versioned.parser.completeSimpleRequest(), false);
  versioned.parser.push(b('\r\n'), 2);
  assert.equal(versioned.messages[0]!.head.version, 'HTTP/1.1');

  // `GET /x` then a blank line: no headers, still HTTP/0.9 without a problem; POST is not 0.9.
  const blank = run('request');
  blank.parser.push(b('GET /x\r\n\r\nPOST /y\r\n\r\n'), 1);
  assert.deepEqual(
    blank.messages.map((x) => [x.head.method, x.head.noVersion, x.head.problem]),
    [
      ['GET', true, undefined],
      ['POST', true, 'no HTTP version'],
    ],
  );
});

test('HTTP/0.9 response: no status line, the body runs to the end of the stream', () => {
  const simple = (next: () => boolean) => {
    const r = run('response');
    const p = new HttpParser(
      { kind: 'response', maxHeaderBytes: 1024, maxBodyKeep: 1024 },
      {
        onHead: () => 'default',
        onMessage: (m) => r.messages.push(m),
        onLost: () => {},
        onViolation: (v) => r.violations.push(v),
        onLimit: () => {},
        onSwitchedData: () => {},
        onSwitchedGap: () => {},
        simpleResponseNext: next,
      },
    );
    p.expectSimpleResponses();
    return { r, p };
  };
  const { r, p } = simple(() => true);
  p.push(b('\r\n<html>'), 5);
  p.push(b('HTTP/1.1 200 OK\r\n</html>'), 6);
  assert.equal(r.messages.length, 0);
  p.end(7);
  const m = r.messages[0]!;
  assert.deepEqual(
    [m.head.statusCode, m.head.version, m.head.headBytes, m.body.toString(), m.startTs],
    [0, 'HTTP/0.9', 0, '\r\n<html>HTTP/1.1 200 OK\r\n</html>', 5],
  );
  assert.equal(m.wireBytes, m.body.length);

  // A status line is a normal response; a short prefix of one at the end is a bare body.
  const normal = simple(() => true);
  normal.p.push(b('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'), 1);
  normal.p.end(2);
  assert.equal(normal.r.messages[0]!.head.statusCode, 400);
  const short = simple(() => true);
  short.p.push(b('HTT'), 1);
  short.p.push(b('P/'), 2);
  short.p.end(3);
  assert.deepEqual(
    short.r.messages.map((x) => [x.head.version, x.body.toString(), x.startTs]),
    [['HTTP/0.9', 'HTTP/', 1]],
  );

  // Not an answer to a versionless request: garbage as always.
  const strict = simple(() => false);
  strict.p.push(b('<html>\r\n'), 1);
  strict.p.end(2);
  assert.equal(strict.r.messages.length, 0);
});

test('lenient request line verdicts (detection)', () => {
  const yes = [
    'GET / HTTP/1.\r\n',
    'GET /HTTP/1.1\r\n',
    'OPTIONS HTTP/1.1\r\n',
    'GET\t/\tHTTP/1.1\r\n',
    'get / HTTP/1.1\r\n',
    'FOO /x HTTP/1.1\n',
    'GET /path\r\n',
    'CONNECT host:443  HTTP/1.1\r\n',
  ];
  for (const l of yes) assert.equal(lenientRequestLineAt(b(l), 0), 'yes', JSON.stringify(l));
  const maybe = ['', 'G', 'get', 'GET ', 'GET /pa', 'FOO /x HTTP/1'];
  for (const l of maybe) assert.equal(lenientRequestLineAt(b(l), 0), 'maybe', JSON.stringify(l));
  const no = [
    'hello world\r\n',
    'hello ',
    'get key\r\n',
    'PRI * HTTP/2.0\r\n',
    'USER anonymous\r\n',
    '\x16\x03\x01\x02\x00',
    'GET / HTTP/1.1 x\r\n',
    'a b c d',
    '{"json": true}',
    'SSH-2.0-OpenSSH_9.6\r\n',
  ];
  for (const l of no) assert.equal(lenientRequestLineAt(b(l), 0), 'no', JSON.stringify(l));
  assert.equal(simpleRequestAt(b('GET /legacy.html\r\n'), 0), true);
  assert.equal(simpleRequestAt(b('GET /x\n\n'), 0), true);
  for (const l of ['GET /x\r\nHost: h\r\n', 'POST /x\r\n', 'GET  /x\r\n', 'GET x\r\n', 'GET /x'])
    assert.equal(simpleRequestAt(b(l), 0), false, JSON.stringify(l));
});
