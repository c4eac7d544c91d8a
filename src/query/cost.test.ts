/**
 * KFL compile cost is bounded (issue 12): a filter longer than MAX_FILTER_LENGTH is refused
 * before it is read, "did you mean" skips names no field is near, and filters nested thousands
 * deep are syntax errors, not stack overflows. (A 10,000-character unknown field took 250 ms per
 * request; a 1 MB filter through /api/mcp held the process for 17 s.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCatalogue } from '../tap/dissectors/registry.ts';
import { MAX_FILTER_LENGTH, compileKfl } from './compile.ts';
import { KflError } from './errors.ts';
import { closest } from './suggest.ts';

const catalogue = buildCatalogue();

/** The error compiling `src` throws, and the best of three times (ms). */
function refused(src: string): { e: KflError; ms: number } {
  let ms = Infinity;
  let err: unknown;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    try {
      compileKfl(src, { catalogue });
    } catch (e) {
      err = e;
    }
    ms = Math.min(ms, performance.now() - t0);
  }
  assert.ok(err instanceof KflError, `expected a KflError, got ${String(err)}`);
  return { e: err, ms };
}

compileKfl('status_code == 200', { catalogue }); // warm-up: the environment is built once

test('a 1 MB filter is refused in milliseconds, with the limit in the message', () => {
  const { e, ms } = refused(`${'a'.repeat(1 << 20)} == 1`);
  assert.equal(e.code, 'KS_ERR_KFL_TOO_LONG');
  assert.match(e.message, new RegExp(`filter of ${(1 << 20) + 5} characters .* limit of 16384`));
  assert.ok(ms < 200, `${ms.toFixed(1)} ms`);
  // The error shows only the start of the filter.
  assert.ok(e.caret().length < 200);
});

test('a filter of exactly MAX_FILTER_LENGTH compiles', () => {
  const src = `http${' '.repeat(MAX_FILTER_LENGTH - 4)}`;
  assert.equal(src.length, MAX_FILTER_LENGTH);
  assert.equal(compileKfl(src, { catalogue }).kfl2, 'http');
  assert.equal(refused(`${src} `).e.code, 'KS_ERR_KFL_TOO_LONG');
});

test('a 10,000-character unknown field is an error in < 50 ms (no "did you mean" for it)', () => {
  const { e, ms } = refused(`${'a'.repeat(10_000)} == 1`);
  assert.equal(e.code, 'KS_ERR_KFL_UNKNOWN_FIELD');
  assert.equal(e.hint, undefined);
  assert.ok(ms < 50, `${ms.toFixed(1)} ms`);
});

test('filters nested thousands deep are syntax errors, not stack overflows', () => {
  for (const src of [
    `${'!'.repeat(MAX_FILTER_LENGTH - 4)}http`,
    `${'not '.repeat(4000)}http`,
    `${'1 + '.repeat(3000)}1 == 2`,
    `${'x.'.repeat(5000)}y == 1`,
  ]) {
    assert.equal(refused(src).e.code, 'KS_ERR_KFL_SYNTAX', src.slice(0, 20));
  }
});

test('"did you mean" still finds typos, and skips what no field is near', () => {
  const c = [
    { name: 'status_code', suggest: 'status_code' },
    { name: 'src.pod.name', suggest: 'src.pod.name' },
  ];
  assert.equal(closest('stauts_code', c), 'status_code');
  assert.equal(closest('src.pod', c), 'src.pod.name');
  assert.equal(closest('status_code_with_a_long_tail_xx', c), 'status_code');
  assert.equal(closest('x'.repeat(300), c), undefined);
});
