import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TupleTable, tupleKey, type Tuple } from './table.ts';

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
