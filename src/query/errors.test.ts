/**
 * Every compile-time error class, with its code, position (line:column in the filter the user
 * wrote) and caret.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { KFL_ERROR_CODES } from '../util/errors.ts';
import { buildCatalogue } from '../tap/dissectors/registry.ts';
import { compileKfl } from './compile.ts';
import { KflError, type KflErrorCode } from './errors.ts';
import { validateMacros } from './macros.ts';

const catalogue = buildCatalogue();

function compileError(src: string, macros?: Record<string, string>): KflError {
  try {
    compileKfl(src, { catalogue, macros });
  } catch (e) {
    if (e instanceof KflError) return e;
    throw e;
  }
  assert.fail(`expected an error for ${src}`);
}

type Row = [src: string, code: KflErrorCode, at: string, message: RegExp];

const ROWS: Row[] = [
  // Syntax.
  ['http &&', 'KS_ERR_KFL_SYNTAX', '1:8', /^syntax error: unexpected end of the filter at 1:8$/],
  ['(http', 'KS_ERR_KFL_SYNTAX', '1:6', /^syntax error/],
  ['status_code = 500', 'KS_ERR_KFL_SYNTAX', '1:13', /unexpected `=` \(did you mean `==`\?\)/],
  ['http & dns', 'KS_ERR_KFL_SYNTAX', '1:6', /did you mean `&&`/],
  ['method == "GET', 'KS_ERR_KFL_SYNTAX', '1:11', /unterminated string literal/],
  ["method == 'a\nb'", 'KS_ERR_KFL_SYNTAX', '1:13', /newline in a single-quoted string/],
  ['http # comment', 'KS_ERR_KFL_SYNTAX', '1:6', /unexpected character `#`/],
  ['http &&\n  status_code >', 'KS_ERR_KFL_SYNTAX', '2:16', /unexpected end of the filter at 2:16/],
  ['http dns', 'KS_ERR_KFL_SYNTAX', '1:6', /^syntax error/],
  [
    'elapsed_time > 500ms',
    'KS_ERR_KFL_SYNTAX',
    '1:16',
    /`500ms`: a number with a unit .* \(500ms = 500000\)/,
  ],
  ['method == "\\q"', 'KS_ERR_KFL_SYNTAX', '1:12', /escape/i],
  ['not', 'KS_ERR_KFL_SYNTAX', '1:1', /`not` needs an operand/],
  // Unknown fields, with "did you mean".
  [
    'respnse.status >= 500',
    'KS_ERR_KFL_UNKNOWN_FIELD',
    '1:1',
    /^unknown field `respnse.status` at 1:1; did you mean `status_code`\?$/,
  ],
  [
    'http && stauts_code == 500',
    'KS_ERR_KFL_UNKNOWN_FIELD',
    '1:9',
    /unknown field `stauts_code` at 1:9; did you mean `status_code`\?/,
  ],
  [
    'src.pod == "a"',
    'KS_ERR_KFL_UNKNOWN_FIELD',
    '1:1',
    /unknown field `src.pod` .*did you mean `src.pod.name`/,
  ],
  [
    'dst.ipp == "a"',
    'KS_ERR_KFL_UNKNOWN_FIELD',
    '1:1',
    /unknown field `dst.ipp` .*did you mean `dst.ip`/,
  ],
  [
    'requst.headers["a"] == "b"',
    'KS_ERR_KFL_UNKNOWN_FIELD',
    '1:1',
    /unknown field `requst.headers` .*did you mean `request.headers`/,
  ],
  ['status', 'KS_ERR_KFL_UNKNOWN_FIELD', '1:1', /did you mean `status_code`/],
  ['latency > 5', 'KS_ERR_KFL_UNKNOWN_FIELD', '1:1', /did you mean `elapsed_time`/],
  ['xyzzy', 'KS_ERR_KFL_UNKNOWN_FIELD', '1:1', /^unknown field `xyzzy` at 1:1$/],
  [
    'http &&\n  redis_type == "GET"',
    'KS_ERR_KFL_UNKNOWN_FIELD',
    '2:3',
    /unknown field `redis_type` at 2:3: Redis fields are part of KFL, but this build has no Redis dissector/,
  ],
  [
    'redis.command == "GET"',
    'KS_ERR_KFL_UNKNOWN_FIELD',
    '1:1',
    /`redis_type` \(translated from `redis.command`\)/,
  ],
  ['tls', 'KS_ERR_KFL_UNKNOWN_FIELD', '1:1', /eBPF/],
  ['kfl__src__ip == ""', 'KS_ERR_KFL_UNKNOWN_FIELD', '1:1', /unknown field `kfl__src__ip`/],
  ['nosuchfn(method)', 'KS_ERR_KFL_TYPE', '1:1', /nosuchfn/],
  // Types.
  [
    'status_code == "200"',
    'KS_ERR_KFL_TYPE',
    '1:1',
    /^`status_code` is an int and cannot be compared with a string \("200"\) at 1:1; write `status_code == 200`$/,
  ],
  [
    'http && method == 200',
    'KS_ERR_KFL_TYPE',
    '1:9',
    /`method` is a string .* write `method == "200"`/,
  ],
  ['dst.port != "80"', 'KS_ERR_KFL_TYPE', '1:1', /`dst.port` is an int/],
  ['path.startsWith(1)', 'KS_ERR_KFL_TYPE', '1:1', /type error: .*startsWith/],
  [
    '"x" in status_code',
    'KS_ERR_KFL_TYPE',
    '1:1',
    /`status_code` is an int; `in` needs a list or a map/,
  ],
  ['timestamp > "2026-03-14"', 'KS_ERR_KFL_TYPE', '1:1', /`timestamp` is a timestamp .* string/],
  [
    'elapsed_time > duration("5m")',
    'KS_ERR_KFL_TYPE',
    '1:1',
    /^type error: no such overload: int > duration at 1:1$/,
  ],
  ['map_get(request.headers, "a", 1) == 1', 'KS_ERR_KFL_TYPE', '1:1', /map_get/],
  [
    'http && dns_questions == "a"',
    'KS_ERR_KFL_TYPE',
    '1:9',
    /`dns_questions` is a list<string> and cannot be compared with a string/,
  ],
  // Not a condition.
  [
    'method',
    'KS_ERR_KFL_NOT_BOOL',
    '1:1',
    /^the filter is a string, not a condition at 1:1; compare it, e.g. `method == "…"`$/,
  ],
  ['status_code + 1', 'KS_ERR_KFL_NOT_BOOL', '1:1', /is an int, not a condition/],
  ['dns_questions', 'KS_ERR_KFL_NOT_BOOL', '1:1', /e.g. `"…" in dns_questions`/],
  ['request.headers', 'KS_ERR_KFL_NOT_BOOL', '1:1', /e.g. `"key" in request.headers`/],
  ['  "x"', 'KS_ERR_KFL_NOT_BOOL', '1:3', /a string, not a condition/],
  ['timestamp', 'KS_ERR_KFL_NOT_BOOL', '1:1', /a timestamp, not a condition/],
  // Ambiguous KFL1.
  [
    'response.latency > request.body.size',
    'KS_ERR_KFL_AMBIGUOUS',
    '1:1',
    /`response.latency` .* can be translated only when compared with a number/,
  ],
  ['http and response.latency', 'KS_ERR_KFL_AMBIGUOUS', '1:10', /response.latency/],
  ['response.latency > "fast"', 'KS_ERR_KFL_AMBIGUOUS', '1:1', /response.latency/],
  ['response.latency > 5parsecs', 'KS_ERR_KFL_AMBIGUOUS', '1:1', /response.latency/],
  [
    'src.name exists',
    'KS_ERR_KFL_AMBIGUOUS',
    '1:10',
    /`exists` \(KFL1\) tests a map key.*`src.name != ""`/,
  ],
  ['[1] exists', 'KS_ERR_KFL_AMBIGUOUS', '1:5', /`exists` must follow a map key/],
  ['(a + b) == r"x.*"', 'KS_ERR_KFL_UNKNOWN_FIELD', '1:2', /unknown field `a`/],
  ['1 + 2 == r"x.*"', 'KS_ERR_KFL_TYPE', '1:5', /type error/],
  // Regular expressions outside RE2 / what JS would do differently.
  // An escaped pattern: the error points at the literal.
  ['path.matches("(a)\\\\1")', 'KS_ERR_KFL_REGEX', '1:14', /backreferences/],
  [
    'path.matches(r"(a)\\1")',
    'KS_ERR_KFL_REGEX',
    '1:19',
    /backreferences are not supported by RE2/,
  ],
  ['path.matches("(?=api)")', 'KS_ERR_KFL_REGEX', '1:15', /lookaround/],
  ['path.matches("^/api(?<!x)")', 'KS_ERR_KFL_REGEX', '1:20', /lookaround/],
  ['path.matches("[[:^alpha:]]")', 'KS_ERR_KFL_REGEX', '1:16', /negated POSIX/],
  ['path.matches("a**")', 'KS_ERR_KFL_REGEX', '1:17', /bad repetition operator/],
  ['path.matches("*a")', 'KS_ERR_KFL_REGEX', '1:15', /missing argument to repetition/],
  ['path.matches("a{1001}")', 'KS_ERR_KFL_REGEX', '1:16', /repetition count above 1000/],
  ['path.matches("(a")', 'KS_ERR_KFL_REGEX', '1:17', /missing closing \)/],
  ['path.matches(r"\\Qa.b\\E")', 'KS_ERR_KFL_REGEX', '1:16', /\\Q/],
  ['src.name == r"(?<=x)y"', 'KS_ERR_KFL_REGEX', '1:15', /lookaround/],
  ['dns_questions.exists(q, q.matches("x(?!y)"))', 'KS_ERR_KFL_REGEX', '1:37', /lookaround/],
];

test('each error class: code, position, message', () => {
  const failures: string[] = [];
  for (const [src, code, at, message] of ROWS) {
    let e: KflError;
    try {
      e = compileError(src);
    } catch (err) {
      failures.push(`${JSON.stringify(src)}: ${(err as Error).message}`);
      continue;
    }
    const got = `${e.code} ${e.line}:${e.column} ${e.message}`;
    if (e.code !== code || `${e.line}:${e.column}` !== at || !message.test(e.message)) {
      failures.push(`${JSON.stringify(src)}\n    want ${code} ${at} ${message}\n    got  ${got}`);
    }
  }
  assert.deepEqual(failures, []);
});

test('caret() shows the source line and marks the span', () => {
  const e = compileError('http &&\n  respnse.status >= 500');
  assert.equal(e.caret(), '  respnse.status >= 500\n  ^~~~~~~~~~~~~~');
  assert.equal(e.message, 'unknown field `respnse.status` at 2:3; did you mean `status_code`?');
  const t = compileError('status_code == "200"');
  assert.equal(t.caret(), 'status_code == "200"\n^~~~~~~~~~~~~~~~~~~~');
  const eof = compileError('http &&');
  assert.equal(eof.caret(), 'http &&\n       ^');
  const re = compileError('path.matches(r"(a)\\1")');
  assert.equal(re.caret(), 'path.matches(r"(a)\\1")\n                  ^~');
});

test('errors are KsError-shaped: stable code, usage exit code, KflError class', () => {
  const e = compileError('respnse.status');
  assert.ok(e instanceof Error);
  assert.equal(e.name, 'KflError');
  assert.equal(e.exitCode, 2);
  assert.equal(e.offset, 0);
  assert.equal(e.source, 'respnse.status');
});

test('an error in a translated filter carries the translation', () => {
  const e = compileError('http and response.status == "500"');
  assert.equal(e.code, 'KS_ERR_KFL_TYPE');
  assert.equal(e.translation?.to, 'http && status_code == "500"');
  assert.match(e.message, /`status_code` is an int/);
  assert.equal(`${e.line}:${e.column}`, '1:10');
});

test('macro errors: cycles, shadowed fields, bad bodies (reported at the macro use)', () => {
  const cyc = compileError('http && a', { a: 'b || dns', b: 'a' });
  assert.equal(cyc.code, 'KS_ERR_KFL_MACRO');
  assert.match(cyc.message, /macros expand in a cycle: a → b → a at 1:9/);
  const self = compileError('loop', { loop: 'loop && http' });
  assert.match(self.message, /cycle: loop → loop/);
  const shadow = compileError('http', { http: 'dns' });
  assert.match(shadow.message, /macro `http` has the name of a field/);
  const bad = compileError('dns || broken', { broken: 'http &&' });
  assert.equal(bad.code, 'KS_ERR_KFL_SYNTAX');
  assert.match(bad.message, /\(in macro `broken`\) at 1:8/);
  const unknown = compileError('https', { https: 'tls && http' });
  assert.match(unknown.message, /unknown field `tls` \(in macro `https`\) at 1:1/);
  const lexBad = compileError('x', { x: 'http # y' });
  assert.match(lexBad.message, /in macro `x`: unexpected character `#` at 1:1/);
});

test('validateMacros checks definitions up front', () => {
  const isField = (n: string): boolean => catalogue.some((f) => f.name === n);
  validateMacros({ errors: 'http && status_code >= 500', slow: 'elapsed_time > 1000' }, isField);
  const cases: [Record<string, string>, RegExp][] = [
    [{ 'my-macro': 'http' }, /not an identifier/],
    [{ and: 'http' }, /KFL keyword/],
    [{ dns: 'udp' }, /has the name of a field/],
    [{ empty: '  ' }, /is empty/],
    [{ bad: 'http = 1' }, /in macro `bad`: unexpected `=`/],
  ];
  for (const [m, re] of cases) {
    assert.throws(
      () => validateMacros(m, isField),
      (e: unknown) => e instanceof KflError && e.code === 'KS_ERR_KFL_MACRO' && re.test(e.message),
      JSON.stringify(m),
    );
  }
});

test('the docs list every KFL error code, in the order of the one list', () => {
  const doc = (name: string): string =>
    readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8');
  const codesIn = (text: string, re: RegExp): string[] => [...text.matchAll(re)].map((m) => m[1]!);
  // docs/kfl-language.md: one table row per code.
  assert.deepEqual(codesIn(doc('kfl-language.md'), /^\| `(KS_ERR_KFL_\w+)` \|/gm), KFL_ERROR_CODES);
  // docs/api.md: the 400 row of the error table.
  const row = doc('api.md')
    .split('\n')
    .find((l) => l.startsWith('| 400 | `KS_ERR_KFL_'));
  assert.deepEqual(codesIn(row ?? '', /`(KS_ERR_KFL_\w+)`/g), KFL_ERROR_CODES);
});
