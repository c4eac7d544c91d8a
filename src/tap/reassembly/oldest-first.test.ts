import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OldestFirst } from './oldest-first.ts';

test('oldest first: add moves to newest, delete, oldest, iteration — against a plain array', () => {
  const items = Array.from({ length: 50 }, (_, i) => ({ i }));
  const q = new OldestFirst<{ i: number }>();
  let model: { i: number }[] = [];
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  // Enough operations to compact many times (every ~1024 stale places).
  for (let step = 0; step < 200_000; step++) {
    const x = items[rand(items.length)]!;
    const op = rand(10);
    if (op < 6) {
      q.add(x);
      model = model.filter((y) => y !== x);
      model.push(x);
    } else if (op < 9) {
      q.delete(x);
      model = model.filter((y) => y !== x);
    } else {
      const o = q.oldest();
      assert.equal(o, model[0]);
      if (o) {
        q.delete(o);
        model.shift();
      }
    }
    assert.equal(q.size, model.length);
    if (step % 997 === 0) assert.deepEqual([...q], model);
  }
  q.clear();
  assert.equal(q.size, 0);
  assert.equal(q.oldest(), undefined);
  assert.deepEqual([...q], []);
});

test('oldest first: evicting the oldest of many, one at a time, stays cheap', () => {
  const q = new OldestFirst<object>();
  const t0 = performance.now();
  for (let i = 0; i < 20_000; i++) q.add({});
  for (let i = 0; i < 200_000; i++) {
    q.delete(q.oldest()!);
    q.add({});
  }
  assert.equal(q.size, 20_000);
  // Linear in the operations (a Set's values().next() took seconds here).
  assert.ok(performance.now() - t0 < 1000);
});
