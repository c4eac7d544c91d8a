import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LimitCounters, defaultLimits } from './limits.ts';

test('limit counters count hits per name', () => {
  const c = new LimitCounters();
  c.hit('maxBodyBytes');
  c.hit('maxBodyBytes', 2);
  assert.deepEqual(c.toJSON(), { maxBodyBytes: 3 });
  assert.ok(Object.isFrozen(defaultLimits));
});
