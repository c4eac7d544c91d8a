/**
 * The pieces of redaction by name pattern and by shape (names.ts, patterns.ts, multipart.ts) on
 * their own: what a pattern means, what is replaced (only the credential), what stays valid, and
 * look-alikes from real captures that are not secrets.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultConfig } from '../config/load.ts';
import { redactionConfig } from './config.ts';
import { multipartBoundary, redactMultipart } from './multipart.ts';
import { nameKeywords, nameTest } from './names.ts';
import { textScanner } from './patterns.ts';

const R = '[REDACTED]';
const cfg = redactionConfig(defaultConfig());
const every = [...cfg.headers, ...cfg.bodyFields];
const secret = nameTest(every, cfg.names);
const scan = textScanner(secret, nameKeywords(every, cfg.names), R);

test('name patterns: without case and separators; * at either end or inside; exact lists', () => {
  const t = nameTest(['X-Exact'], ['*token', 'pin*', '*secret*', 'a*z', 'sig']);
  for (const n of ['X-Amz-Security-Token', 'refreshToken', 'id_token', 'PIN_code', 'mySecretName'])
    assert.ok(t(n), n);
  for (const n of ['abcz', 'A.B.Z', 'SIG', 'x-exact']) assert.ok(t(n), n);
  for (const n of ['tokens', 'max_tokens', 'token_type', 'spin', 'signal', 'x-exact-2', ''])
    assert.ok(!t(n), n);
  assert.ok(!nameTest([], ['*'])('anything'), '`*` alone is ignored');
  for (const n of ['X-Amz-Security-Token', 'client_secret', 'privateKey', 'passcode', 'x-api-key'])
    assert.ok(secret(n), n);
  for (const n of ['Sec-WebSocket-Key', 'x-ratelimit-remaining-tokens', 'content-type', 'keyboard'])
    assert.ok(!secret(n), n);
});

test('only the credential is replaced; JSON stays JSON; a second pass finds nothing', () => {
  const cases: [string, string][] = [
    ['Authorization: Bearer abc123def456ghi', `Authorization: ${R}`],
    ['curl -H "x: Bearer abc123def456ghi"', `curl -H "x: Bearer ${R}"`],
    ['postgres://app:hunter2@db:5432/x', `postgres://app:${R}@db:5432/x`],
    ['redis://:pw123@cache', `redis://:${R}@cache`],
    ['a=1&client_secret=xyz&b=2', `a=1&client_secret=${R}&b=2`],
    ['password = "two words"', `password = "${R}"`],
    ['<ns:Password attr="1">pw</ns:Password>', `<ns:Password attr="1">${R}</ns:Password>`],
    ['{"apiKey": "k1", "n": 1}', `{"apiKey": "${R}", "n": 1}`],
  ];
  for (const [input, want] of cases) {
    assert.equal(scan.redact(input, 'all'), want, input);
    assert.equal(scan.redact(want, 'all'), undefined, `${want}: nothing left`);
  }
  // Inside JSON strings, with escapes: the document stays valid.
  const doc = JSON.stringify({
    log: 'token=abc\\"def\nnext line',
    cfg: 'DB_PASSWORD=s3\\cret',
    key: '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADAN\n-----END PRIVATE KEY-----\n',
  });
  const out = scan.redact(doc, 'assign')!;
  const back = JSON.parse(out) as Record<string, string>;
  assert.match(back.log!, /^token=\[REDACTED\]/);
  assert.match(
    back.cfg!,
    /^DB_PASSWORD=\[REDACTED\]$/,
    'an escaped backslash is part of the value',
  );
  assert.ok(!out.includes('MIIEvQIBADAN'));
});

test('look-alikes from real captures are kept', () => {
  for (const text of [
    'Access-Control-Allow-Credentials: true',
    'this.transport.withCredentials=true',
    'ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com',
    'Basic authentication is described in RFC 7617',
    '{"token_type":"Bearer","max_tokens":2571}',
    'see https://example.com:8443/path?a=b',
    'x == token && y => secret',
  ])
    assert.equal(scan.redact(text, 'all'), undefined, text);
});

test('multipart: a secret field or JSON part replaced, the rest byte for byte, a cut part too', () => {
  assert.equal(multipartBoundary('multipart/form-data; boundary="a b"'), 'a b');
  assert.equal(multipartBoundary('multipart/mixed;boundary=xyz'), 'xyz');
  assert.equal(multipartBoundary('application/json'), undefined);
  const body =
    '--xyz\r\nContent-Disposition: form-data; name="user"\r\n\r\nann\r\n' +
    '--xyz\r\nContent-Disposition: form-data; name="Password"\r\n\r\nhunter2\r\n' +
    '--xyz\r\nContent-Disposition: form-data; name="meta"\r\nContent-Type: application/json\r\n\r\n{"token":"t1","x":1}\r\n' +
    '--xyz--\r\n';
  const r = redactMultipart(body, 'xyz', secret, R)!;
  assert.deepEqual(r.paths, ['Password', 'meta.token']);
  assert.equal(r.text, body.replace('hunter2', R).replace('"t1"', `"${R}"`));
  const cut = redactMultipart(body.slice(0, body.indexOf('hunter2') + 3), 'xyz', secret, R)!;
  assert.ok(cut.text.endsWith(`\r\n\r\n${R}`), 'a value cut off is redacted to the end');
  assert.equal(redactMultipart(r.text, 'xyz', secret, R), undefined, 'idempotent');
});
