import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isoMicros } from './time.ts';

test('isoMicros formats µs timestamps as RFC 3339 UTC with microseconds', () => {
  assert.equal(isoMicros(0), '1970-01-01T00:00:00.000000Z');
  assert.equal(isoMicros(1773525600123456), '2026-03-14T22:00:00.123456Z');
  assert.equal(isoMicros(1773525600000001), '2026-03-14T22:00:00.000001Z');
  assert.equal(isoMicros(1773525601999999), '2026-03-14T22:00:01.999999Z');
  // cache across seconds, backwards too
  assert.equal(isoMicros(1773525600500000), '2026-03-14T22:00:00.500000Z');
  assert.equal(isoMicros(-1), '1969-12-31T23:59:59.999999Z');
});

test('isoMicros never throws on timestamps a date cannot hold', () => {
  assert.equal(isoMicros(2 ** 64), '+275760-09-13T00:00:00.000000Z');
  assert.equal(isoMicros(Number.NaN), '1970-01-01T00:00:00.000000Z');
  assert.match(isoMicros(-(2 ** 64)), /^-271821-04-20T00:00:00\.000000Z$/);
});
