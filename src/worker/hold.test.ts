/** HeldEntries: entries waiting for an identity are decided again on table changes, bounded. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Entry } from '../entry/model.ts';
import { HeldEntries } from './hold.ts';

const entry = (ip: string): Entry => ({ src: { ip, port: 1 } }) as unknown as Entry;

function setup(o: { max?: number; maxMs?: number } = {}) {
  const known = new Map<string, boolean>(); // ip → targeted
  let version = 0;
  let now = 1000;
  const admitted: string[] = [];
  const dropped: string[] = [];
  const held = new HeldEntries(
    {
      keep: (e) => known.get(e.src.ip) === true,
      unresolved: (e) => !known.has(e.src.ip),
      version: () => version,
    },
    (e) => admitted.push(e.src.ip),
    (e) => dropped.push(e.src.ip),
    { ...o, now: () => now },
  );
  const learn = (ip: string, targeted: boolean) => {
    known.set(ip, targeted);
    version++;
  };
  return { held, learn, admitted, dropped, tick: (ms: number) => (now += ms) };
}

test('held: kept once its pod is known and targeted, dropped once known and not, or too old', () => {
  const h = setup({ maxMs: 500 });
  try {
    h.learn('10.0.0.9', false);
    assert.equal(h.held.offer(entry('10.0.0.9')), false, 'known: decided at once');
    for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) assert.ok(h.held.offer(entry(ip)));
    h.held.recheck();
    assert.deepEqual([h.admitted, h.dropped], [[], []], 'nothing changed: all still wait');
    h.learn('10.0.0.1', true);
    h.learn('10.0.0.2', false);
    h.held.recheck();
    assert.deepEqual(h.admitted, ['10.0.0.1']);
    assert.deepEqual(h.dropped, ['10.0.0.2']);
    h.tick(500);
    h.held.recheck();
    assert.deepEqual(h.dropped, ['10.0.0.2', '10.0.0.3']);
    assert.deepEqual(h.held.stats(), {
      waiting: 0,
      held: 3,
      released: 1,
      resolvedDropped: 1,
      expired: 1,
      overflow: 0,
    });
  } finally {
    h.held.close();
  }
});

test('held: bounded in count (the oldest goes); close decides once more and drops the rest', () => {
  const h = setup({ max: 2 });
  for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) h.held.offer(entry(ip));
  assert.deepEqual(h.dropped, ['10.0.0.1']);
  h.learn('10.0.0.3', true);
  h.held.close();
  assert.deepEqual(h.admitted, ['10.0.0.3']);
  assert.deepEqual(h.dropped, ['10.0.0.1', '10.0.0.2']);
  const s = h.held.stats();
  assert.deepEqual([s.waiting, s.overflow, s.expired, s.released], [0, 1, 1, 1]);
});
