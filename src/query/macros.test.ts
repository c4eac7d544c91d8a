/** Macros (`tap.customMacros`): whole-token, recursive, KFL1 inside, errors at the use site. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCatalogue } from '../tap/dissectors/registry.ts';
import { compileKfl } from './compile.ts';
import { http200, http503, dnsNxdomain } from '../../test/helpers/query-entries.ts';

const catalogue = buildCatalogue();
const macros = {
  errors: 'http && status_code >= 500',
  slow: 'elapsed_time > 1000',
  bad_and_slow: 'errors && slow',
  checkout: 'dst.service.name == "checkout"',
  legacy: 'http and response.status >= 500',
  web: 'http',
};

const rows: [
  src: string,
  kfl2: string,
  matches: { http503: boolean; http200: boolean; dns: boolean },
][] = [
  ['errors', '(http && status_code >= 500)', { http503: true, http200: false, dns: false }],
  [
    'bad_and_slow',
    '((http && status_code >= 500) && (elapsed_time > 1000))',
    { http503: true, http200: false, dns: false },
  ],
  ['!errors', '!(http && status_code >= 500)', { http503: false, http200: true, dns: true }],
  [
    'web && !checkout',
    'http && !(dst.service.name == "checkout")',
    { http503: false, http200: true, dns: false },
  ],
  // Whole tokens only: not inside strings, not as a member, not as part of a longer name.
  [
    'path != "errors" && web',
    'path != "errors" && http',
    { http503: true, http200: true, dns: false },
  ],
  [
    'request.headers.errors == "x" || dns',
    'request.headers.errors == "x" || dns',
    { http503: false, http200: false, dns: true },
  ],
  // KFL1 inside a macro is translated too.
  ['legacy', '(http && status_code >= 500)', { http503: true, http200: false, dns: false }],
];

test('macros expand to parenthesised expressions, recursively, whole tokens only', () => {
  const e = { http503: http503(), http200: http200(), dns: dnsNxdomain() };
  for (const [src, kfl2, want] of rows) {
    const f = compileKfl(src, { catalogue, macros });
    assert.equal(f.kfl2, kfl2, src);
    const got = {
      http503: f.matches(e.http503),
      http200: f.matches(e.http200),
      dns: f.matches(e.dns),
    };
    assert.deepEqual(got, want, src);
  }
});

test('expanded macros are reported; KFL1 in a macro shows as a translation', () => {
  const f = compileKfl('bad_and_slow', { catalogue, macros });
  assert.deepEqual([...f.macros].sort(), ['bad_and_slow', 'errors', 'slow']);
  assert.equal(f.translation, undefined);
  const l = compileKfl('legacy', { catalogue, macros });
  assert.equal(l.translation?.from, 'legacy');
  assert.equal(l.translation?.to, '(http && status_code >= 500)');
});

test('macros do not apply without configuration', () => {
  assert.throws(() => compileKfl('errors', { catalogue }), /unknown field `errors`/);
});
