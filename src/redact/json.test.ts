import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MAX_JSON_DEPTH, redactJsonText } from './json.ts';

const R = '[REDACTED]';
const KEYS = new Set(['password', 'token', 'secret']);
const run = (text: string): { text: string; paths: string[] } | undefined =>
  redactJsonText(text, KEYS, R);

test('any value type, any depth, keys case-insensitive; formatting kept byte for byte', () => {
  const text = `{
  "user" : { "PassWord" : "p1", "name": "ann" },
  "list": [ {"token": 12}, {"x": [ {"secret": {"a": [1, {"b": 2}]}} ]} ],
  "n": 1.5e10, "t": true, "z": null, "token": null
}`;
  const r = run(text)!;
  assert.deepEqual(r.paths, ['user.PassWord', 'list.0.token', 'list.1.x.0.secret', 'token']);
  assert.equal(
    r.text,
    `{
  "user" : { "PassWord" : "${R}", "name": "ann" },
  "list": [ {"token": "${R}"}, {"x": [ {"secret": "${R}"} ]} ],
  "n": 1.5e10, "t": true, "z": null, "token": "${R}"
}`,
  );
});

test('escapes: an escaped key matches; an escaped quote inside a secret does not end it', () => {
  const r = run(String.raw`{"pass\u0077ord":"a\"b\\","k":"v"}`)!;
  assert.deepEqual(r.paths, [String.raw`password`]);
  assert.equal(r.text, `{"pass\\u0077ord":"${R}","k":"v"}`);
  assert.deepEqual(JSON.parse(r.text), { password: R, k: 'v' });
});

test('a top-level array, keys that only look like matches, nothing to do', () => {
  assert.deepEqual(run('[{"token":"a"},{"tokens":"b"},"password"]')?.paths, ['0.token']);
  assert.equal(run('{"passwords":["a"],"note":"password"}'), undefined);
  assert.equal(run('"password"'), undefined);
  assert.equal(run(''), undefined);
});

test('idempotent: a value already redacted is not marked again', () => {
  const once = run('{"token":"abc"}')!;
  assert.equal(run(once.text), undefined);
});

test('a body cut at maxBodyBytes: redacted up to the cut, a value cut off to the end', () => {
  assert.deepEqual(run('{"a":1,"password":"s3cr3t-cut'), {
    text: `{"a":1,"password":"${R}"`,
    paths: ['password'],
  });
  assert.deepEqual(run('{"secret":{"x":[1,2'), { text: `{"secret":"${R}"`, paths: ['secret'] });
  assert.deepEqual(run('{"x":{"token":"abc"},"passw'), {
    text: `{"x":{"token":"${R}"},"passw`,
    paths: ['x.token'],
  });
  assert.equal(run('{"password":'), undefined, 'no value yet: nothing to redact');
});

test('text the scanner cannot follow still gets every matching pair redacted', () => {
  const r = run('{"a": oops, "password": "s3cr3t-1", "b": {"token": s3cr3t2}}')!;
  assert.ok(!r.text.includes('s3cr3t'), r.text);
  assert.ok(r.paths.includes('password'));
  const trailing = run('{"a":1} {"token":"s3cr3t-3"}')!;
  assert.ok(!trailing.text.includes('s3cr3t'), trailing.text);
});

test(`nesting deeper than MAX_JSON_DEPTH (${MAX_JSON_DEPTH}) is still redacted`, () => {
  const deep =
    '{"a":'.repeat(MAX_JSON_DEPTH + 10) +
    '{"token":"s3cr3t-deep"}' +
    '}'.repeat(MAX_JSON_DEPTH + 10);
  const r = run(deep)!;
  assert.ok(!r.text.includes('s3cr3t'));
  JSON.parse(r.text);
});

test('property: for any JSON document, the result parses to the document with secrets replaced', () => {
  const key = fc.oneof(
    fc.constantFrom('password', 'Token', 'SECRET', 'name', 'items', 'passwordx'),
    fc.string(),
  );
  const doc = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.string(),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(key, tie('value'), { maxKeys: 4 }),
    ),
  })).value;
  const expected = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(expected);
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = KEYS.has(k.toLowerCase()) ? R : expected(x);
      return out;
    }
    return v;
  };
  fc.assert(
    fc.property(doc, fc.boolean(), (v, pretty) => {
      const text = JSON.stringify(v, null, pretty ? 2 : undefined);
      if (text === undefined) return;
      const r = run(text);
      const out = JSON.parse(r ? r.text : text) as unknown;
      assert.deepEqual(out, expected(JSON.parse(text)));
    }),
    { numRuns: 300 },
  );
});
