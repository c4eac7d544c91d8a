/**
 * KFL1 → KFL2: every older-syntax row of ../shared/KFL.md, the examples of the issue, and that
 * the translated filters mean what KFL1 meant on entries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCatalogue } from '../tap/dissectors/registry.ts';
import { compileKfl, translateToKfl2 } from './compile.ts';
import { SAMPLES } from '../../test/helpers/query-entries.ts';

const catalogue = buildCatalogue();

/** [KFL1 (or KFL2), the KFL2 it becomes]. */
const TRANSLATIONS: [string, string][] = [
  // KFL.md table, row by row.
  ['http and dns', 'http && dns'],
  ['http or dns', 'http || dns'],
  ['not dns', '!dns'],
  ['response.status == 500', 'status_code == 500'],
  ['request.method == "GET"', 'method == "GET"'],
  ['request.path == "/api"', 'path == "/api"'],
  ['response.latency > 1000', 'elapsed_time > 1000000'],
  ['response.latency > 500ms', 'elapsed_time > 500000'],
  ['response.latency > 1s', 'elapsed_time > 1000000'],
  ['src.name == r"cata.*"', 'src.name.matches("cata.*")'],
  ['request.headers["X"] exists', '"x" in request.headers'],
  ['redis.command == "GET"', 'redis_type == "GET"'],
  ['kafka.topic == "t"', 'kafka_request_summary == "t"'],
  ['postgres', 'postgresql'],
  ['request.body.size > 0', 'request_body_size > 0'],
  ['protocol == "dns"', 'protocol == "dns"'], // compares case-insensitively, no rewrite
  ['dst.name == "a" and src.namespace == "b"', 'dst.name == "a" && src.namespace == "b"'],
  // The examples.
  ['http and response.status >= 500', 'http && status_code >= 500'],
  ['request.headers["Authorization"] exists', '"authorization" in request.headers'],
  // Variations.
  ['response.body.size < 10', 'response_body_size < 10'],
  ['response.latency >= 1.5s', 'elapsed_time >= 1500000'],
  ['response.latency < 250us', 'elapsed_time < 250'],
  ['response.latency > 1m', 'elapsed_time > 60000000'],
  ['response.latency > 0.5', 'elapsed_time > 500'],
  ['response.latency > 500ns', 'elapsed_time > 0.5'],
  ['response.latency > "250ms"', 'elapsed_time > 250000'],
  ['500ms < response.latency', '500000 < elapsed_time'],
  ['r"^front" == src.name', 'src.name.matches("^front")'],
  ["src.name != r'\\d+'", '!src.name.matches("\\\\d+")'],
  [
    'request.headers["host"].size() > 3 or src.name == r"a|b"',
    'request.headers["host"].size() > 3 || src.name.matches("a|b")',
  ],
  ['not response.status == 200', '!(status_code == 200)'],
  ['not (http or dns)', '!(http || dns)'],
  ['not not http', '!(!http)'],
  ['not http and not dns', '!http && !dns'],
  ['not request.headers["X-Id"] exists', '!("x-id" in request.headers)'],
  ['request.cookies["Session"] exists', '"Session" in request.cookies'], // only header keys fold
  [
    'request.headers["X"] exists and response.status >= 400',
    '"x" in request.headers && status_code >= 400',
  ],
  ['(request.headers["a"] exists)', '("a" in request.headers)'],
  ['request.method == "GET" and\n  request.path == "/x"', 'method == "GET" &&\n  path == "/x"'],
  // Strings, members and calls are never translated.
  ['path == "response.status and not"', 'path == "response.status and not"'],
  ['path.startsWith("/and")', 'path.startsWith("/and")'],
  ['dns_questions.exists(q, q == "or")', 'dns_questions.exists(q, q == "or")'],
  ['x.postgres', 'x.postgres'],
  ['status_code == 500 && method == "GET"', 'status_code == 500 && method == "GET"'],
];

test('translations: every older-syntax example becomes the KFL2 of KFL.md', () => {
  const failures: string[] = [];
  for (const [from, to] of TRANSLATIONS) {
    const got = translateToKfl2(from).kfl2;
    if (got !== to) failures.push(`${from}\n    want ${to}\n    got  ${got}`);
  }
  assert.deepEqual(failures, []);
});

test('the translation is returned with notes; pure KFL2 has none', () => {
  const f = compileKfl('http and response.status >= 500', { catalogue });
  assert.deepEqual(f.translation, {
    from: 'http and response.status >= 500',
    to: 'http && status_code >= 500',
    notes: ['`response.status` → `status_code`', '`and` → `&&`'],
  });
  assert.equal(f.kfl2, 'http && status_code >= 500');
  assert.deepEqual(f.fields, ['http', 'status_code']);
  assert.equal(compileKfl('http && status_code >= 500', { catalogue }).translation, undefined);
  assert.deepEqual(translateToKfl2('response.latency > 500ms').notes, [
    '`response.latency` (milliseconds, or a number with a unit) → `elapsed_time` (microseconds)',
  ]);
});

const e = Object.fromEntries(Object.entries(SAMPLES).map(([k, f]) => [k, f()]));

test('translated filters mean what KFL1 meant', () => {
  const rows: [string, string[]][] = [
    ['http and response.status >= 500', ['http503']],
    ['http and not response.status >= 500', ['http200']],
    ['response.latency > 2ms and http', ['http503']], // 2.5 ms
    ['response.latency > 3 and http', []],
    ['response.latency >= 0.3 and http', ['http503', 'http200']],
    ['src.name == r"front.*"', ['http503', 'dnsNxdomain', 'tcpConn']],
    ['src.name != r"^front" and http', ['http200']],
    ['request.headers["Authorization"] exists', ['http503']],
    ['request.method == "POST" or request.path == "/api/products"', ['http503', 'http200']],
    ['request.body.size > 0', ['http503']],
    [
      'protocol == "dns" or protocol == "HTTP"',
      ['http503', 'http200', 'dnsNxdomain', 'dnsAaaa', 'dnsUnanswered'],
    ],
    ['dst.name == "checkout-xyz" and src.namespace == "shop"', ['http503', 'tcpConn']],
  ];
  const failures: string[] = [];
  for (const [src, want] of rows) {
    const f = compileKfl(src, { catalogue });
    const got = Object.keys(e).filter((k) => f.matches(e[k]!));
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      failures.push(`${src} (${f.kfl2}): want ${want.join(',')} got ${got.join(',')}`);
    }
  }
  assert.deepEqual(failures, []);
});
