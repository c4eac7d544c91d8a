import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TupleHasher, TupleTable, tupleKey, type Tuple } from './table.ts';

const t = (clientIp: string, clientPort: number, serverIp: string, serverPort: number): Tuple => ({
  clientIp,
  clientPort,
  serverIp,
  serverPort,
});

test('tuple table: both directions, shared port pairs, delete by identity', () => {
  const tab = new TupleTable<Tuple>();
  const a = t('10.0.0.1', 40000, '10.0.0.2', 80);
  const b = t('10.0.0.3', 40000, '10.0.0.2', 80); // same port pair, other client
  const c = t('10.0.0.2', 80, '10.0.0.1', 40000); // same endpoints, roles swapped: same tuple as a
  const v6 = t('fe80::1', 7000, 'fe80::2', 7000); // equal ports
  tab.add(a);
  tab.add(b);
  tab.add(v6);
  assert.equal(tab.size, 3);
  assert.equal(tab.get('10.0.0.1', 40000, '10.0.0.2', 80), a);
  assert.equal(tab.get('10.0.0.2', 80, '10.0.0.1', 40000), a);
  assert.equal(tab.get('10.0.0.2', 80, '10.0.0.3', 40000), b);
  assert.equal(tab.get('10.0.0.4', 40000, '10.0.0.2', 80), undefined);
  assert.equal(tab.get('10.0.0.1', 40001, '10.0.0.2', 80), undefined);
  assert.equal(tab.get('fe80::2', 7000, 'fe80::1', 7000), v6);
  assert.equal(tab.get('fe80::1', 7000, 'fe80::1', 7000), undefined);
  tab.delete(c); // not the stored object: no-op
  assert.equal(tab.size, 3);
  tab.delete(a);
  assert.equal(tab.get('10.0.0.1', 40000, '10.0.0.2', 80), undefined);
  assert.equal(tab.get('10.0.0.3', 40000, '10.0.0.2', 80), b);
  tab.delete(b);
  tab.delete(b);
  tab.delete(v6);
  assert.equal(tab.size, 0);
});

test('tupleKey: same for both directions, unambiguous for IPv6', () => {
  assert.equal(
    tupleKey('10.0.0.1', 40000, '10.0.0.2', 80),
    tupleKey('10.0.0.2', 80, '10.0.0.1', 40000),
  );
  assert.equal(tupleKey('b', 7, 'a', 7), tupleKey('a', 7, 'b', 7));
  assert.notEqual(tupleKey('::1', 80, '::2', 90), tupleKey('::1:8', 0, '::2', 90));
});

test('tuple table: tuples crowded on a few port pairs still get buckets of a few at most', () => {
  const tab = new TupleTable<Tuple>();
  for (let n = 0; n < 100_000; n++) {
    tab.add(
      t(`10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`, 40000 + (n % 4), '10.96.0.10', 443),
    );
  }
  assert.equal(tab.size, 100_000);
  assert.ok(tab.longestBucket() <= 3, `longest bucket ${tab.longestBucket()}`);
  assert.ok(tab.get('10.96.0.10', 443, '10.0.1.2', 40002));
  assert.equal(tab.get('10.96.0.10', 443, '10.0.1.2', 40003), undefined);
});

test('tuple hash: the same both ways, keyed (another key, other hashes), ports and lengths count', () => {
  const a = new TupleHasher(1, 2);
  const b = new TupleHasher(3, 4);
  const h = a.hash('10.0.0.1', 40000, '10.0.0.2', 80);
  assert.equal(a.hash('10.0.0.2', 80, '10.0.0.1', 40000), h);
  assert.equal(a.hash('fe80::2', 7, 'fe80::1', 7), a.hash('fe80::1', 7, 'fe80::2', 7));
  assert.ok(h >= 0 && h < 2 ** 30);
  let same = 0;
  for (let n = 0; n < 1000; n++) {
    const ip = `10.0.${n >> 8}.${n & 255}`;
    if (a.hash(ip, 40000, '10.0.0.2', 80) === b.hash(ip, 40000, '10.0.0.2', 80)) same++;
  }
  assert.equal(same, 0);
  assert.notEqual(
    a.hash('10.0.0.1', 40000, '10.0.0.2', 80),
    a.hash('10.0.0.1', 40001, '10.0.0.2', 80),
  );
  // Where one address ends and the other begins is part of the message.
  assert.notEqual(a.hash('1.2.3.45', 1, '6.7.8.9', 2), a.hash('1.2.3.4', 1, '56.7.8.9', 2));
});
