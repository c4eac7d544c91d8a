import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteAccumulator } from './accumulator.ts';

test('join returns the data itself when nothing is pending', () => {
  const acc = new ByteAccumulator();
  const d = Buffer.from('abc');
  assert.equal(acc.join(d), d);
  acc.keep(d, 3);
  assert.equal(acc.length, 0);
});

test('keeps the unconsumed tail across calls, copied', () => {
  const acc = new ByteAccumulator();
  const d = Buffer.from('hello wor');
  const v = acc.join(d);
  acc.keep(v, 6);
  d.fill(0); // the caller's view is reused: the tail must have been copied
  const v2 = acc.join(Buffer.from('ld'));
  assert.equal(v2.toString(), 'world');
  acc.keep(v2, 2);
  assert.equal(acc.peek().toString(), 'rld');
  const v3 = acc.join(Buffer.from('!'));
  assert.equal(v3.toString(), 'rld!');
});

test('byte-by-byte growth keeps every byte in order', () => {
  const acc = new ByteAccumulator();
  const text = 'x'.repeat(1000) + 'END';
  let seen = '';
  for (const ch of text) {
    const v = acc.join(Buffer.from(ch));
    const end = v.indexOf('END');
    if (end >= 0) {
      seen = v.toString('latin1', 0, end + 3);
      acc.keep(v, end + 3);
    } else {
      acc.keep(v, 0);
    }
  }
  assert.equal(seen, text);
  assert.equal(acc.length, 0);
});

test('consuming part of the storage and appending compacts correctly', () => {
  const acc = new ByteAccumulator();
  let expected = '';
  for (let i = 0; i < 200; i++) {
    const piece = `<${i}>`;
    expected += piece;
    const v = acc.join(Buffer.from(piece));
    const drop = Math.min(v.length, i % 3);
    expected = expected.slice(drop);
    acc.keep(v, drop);
    assert.equal(acc.peek().toString(), expected);
  }
});
