import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from './seq.ts';

const MAX = 0xffffffff;
const HALF = 0x80000000;

test('seqDiff: signed distance across the wrap', () => {
  const cases: [number, number, number][] = [
    [0, 0, 0],
    [10, 3, 7],
    [3, 10, -7],
    [0, MAX, 1],
    [MAX, 0, -1],
    [5, MAX - 4, 10],
    [MAX - 4, 5, -10],
    [HALF - 1, 0, HALF - 1],
    [0, HALF - 1, -(HALF - 1)],
    // Exactly 2^31 apart: no defined order, reported as -2^31 both ways.
    [HALF, 0, -HALF],
    [0, HALF, -HALF],
    [MAX, MAX - 1, 1],
  ];
  for (const [a, b, want] of cases) assert.equal(seqDiff(a, b), want, `seqDiff(${a}, ${b})`);
});

test('seqAdd: wraps to uint32', () => {
  const cases: [number, number, number][] = [
    [0, 0, 0],
    [MAX, 1, 0],
    [MAX - 9, 20, 10],
    [5, -10, MAX - 4],
    [0, -1, MAX],
    [123, 2 ** 32, 123],
    [MAX, 2 ** 40 + 2, 1],
  ];
  for (const [s, n, want] of cases) assert.equal(seqAdd(s, n), want, `seqAdd(${s}, ${n})`);
});

test('comparisons around 2^32 and 2^31', () => {
  const cases: [number, number, 'lt' | 'eq' | 'gt'][] = [
    [1, 2, 'lt'],
    [2, 1, 'gt'],
    [7, 7, 'eq'],
    [MAX, 0, 'lt'],
    [0, MAX, 'gt'],
    [MAX - 10, 10, 'lt'],
    [10, MAX - 10, 'gt'],
    [0, HALF - 1, 'lt'],
    [HALF - 1, 0, 'gt'],
    [HALF + 1, 0, 'lt'], // more than half the space ahead means behind
    [MAX, MAX, 'eq'],
  ];
  for (const [a, b, rel] of cases) {
    const m = `${a} vs ${b}`;
    assert.equal(seqLt(a, b), rel === 'lt', `lt ${m}`);
    assert.equal(seqLe(a, b), rel !== 'gt', `le ${m}`);
    assert.equal(seqGt(a, b), rel === 'gt', `gt ${m}`);
    assert.equal(seqGe(a, b), rel !== 'lt', `ge ${m}`);
  }
});

test('seqAdd and seqDiff are inverse for |n| < 2^31', () => {
  for (const base of [0, 1, HALF - 1, HALF, MAX - 1, MAX]) {
    for (const n of [0, 1, -1, 1000, -1000, HALF - 1, -(HALF - 1)]) {
      assert.equal(seqDiff(seqAdd(base, n), base), n, `base ${base} n ${n}`);
    }
  }
});
