/**
 * The summary-row codec on real entries: every entry of every capture in the repository encodes
 * without falling back to opaque JSON, and decodes — full or lazy — to the same JSON text.
 */
import { entriesFromCapture } from '../tap/run.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { join } from 'node:path';
import type { Entry } from '../entry/model.ts';
import type { HttpRecord } from '../tap/dissectors/http/record.ts';
import { ByteReader, ByteWriter } from './bytes.ts';
import { decodeFull, decodeLazy, encodeRow, MISFIT } from './codec.ts';
import { Dict } from './dict.ts';
import { replayCaptures } from '../../test/helpers/dissector-captures.ts';

const root = new URL('../..', import.meta.url).pathname;

function captures(): string[] {
  return replayCaptures();
}

function entriesOf(file: string): Promise<Entry[]> {
  return entriesFromCapture(file, { l4All: true });
}

interface Encoded {
  row: Buffer;
  heavy: unknown[];
  dict: Dict;
}

function encode(e: Entry, dict = new Dict()): Encoded {
  const w = new ByteWriter(64);
  const heavy: unknown[] = [];
  encodeRow(e, w, dict, heavy);
  return {
    row: Buffer.from(w.buf.subarray(0, w.pos)),
    heavy: JSON.parse(JSON.stringify(heavy)) as unknown[],
    dict,
  };
}

test('every real entry round-trips through the row codec, full and lazy, to the same JSON', async () => {
  let n = 0;
  const kinds = new Set<string>();
  for (const file of captures()) {
    for (const e of await entriesOf(file)) {
      const { row, heavy, dict } = encode(e);
      const text = JSON.stringify(e);
      const full = decodeFull(new ByteReader(row), dict, e.id, e.timestamp, heavy);
      assert.equal(JSON.stringify(full), text, `${file} entry ${e.id} (full)`);
      const lazy = decodeLazy(new ByteReader(row), dict, e.id, e.timestamp, { full: () => full });
      assert.equal(JSON.stringify(lazy), text, `${file} entry ${e.id} (lazy)`);
      assert.deepEqual(lazy, JSON.parse(text));
      kinds.add(e.record.kind);
      n++;
    }
  }
  assert.ok(n > 100, `checked ${n} entries`);
  assert.deepEqual([...kinds].sort(), ['dns', 'http', 'tcp_conn', 'udp_flow', 'ws']);
});

test('a lazy entry reads summary fields without loading; heavy fields load once', async () => {
  const e = (await entriesOf(join(root, 'demo/shop.pcap'))).find(
    (x) => x.record.kind === 'http' && x.record.response !== undefined,
  )!;
  const { row, heavy, dict } = encode(e);
  let loads = 0;
  let cached: Entry | undefined;
  const lazy = decodeLazy(new ByteReader(row), dict, e.id, e.timestamp, {
    full: () => {
      if (cached === undefined) {
        loads++;
        cached = decodeFull(new ByteReader(row), dict, e.id, e.timestamp, heavy);
      }
      return cached;
    },
  });
  const r = lazy.record as HttpRecord;
  const orig = e.record as HttpRecord;
  assert.equal(r.response!.statusCode, orig.response!.statusCode);
  assert.equal(r.request!.path, orig.request!.path);
  assert.equal(r.response!.body.size, orig.response!.body.size);
  assert.equal(lazy.src.ip, e.src.ip);
  assert.deepEqual(Reflect.ownKeys(r.request!), Object.keys(orig.request!));
  assert.equal('headers' in r.request!, true);
  assert.equal(loads, 0, 'summary fields and key listing need no load');
  // Object.keys asks for each property's descriptor, whose value is the heavy one: loads.
  assert.deepEqual(r.request!.headers, orig.request!.headers);
  assert.deepEqual(r.response!.cookies, orig.response!.cookies);
  assert.equal(loads, 1, 'one load serves every heavy field');
  assert.throws(() => {
    (r.request as unknown as Record<string, unknown>).method = 'POST';
  }, TypeError);
  assert.throws(() => {
    (lazy as unknown as Record<string, unknown>).protocol = 'x';
  }, TypeError);
});

test('entries the schema does not describe are refused (stored opaque by the store)', async () => {
  const e = (await entriesOf(join(root, 'demo/shop.pcap')))[0]!;
  const extra = { ...e, tls: { sni: 'x' } } as unknown as Entry;
  assert.throws(
    () => encode(extra),
    (err) => err === MISFIT,
  );
  const odd = { ...e, record: { kind: 'grpc', method: 'x' } } as unknown as Entry;
  assert.throws(
    () => encode(odd),
    (err) => err === MISFIT,
  );
  const badType = { ...e, elapsed_time: '5' } as unknown as Entry;
  assert.throws(
    () => encode(badType),
    (err) => err === MISFIT,
  );
  // An optional key present with an undefined value is what JSON sees: absent.
  const undef = { ...e, error: undefined };
  const { row, heavy, dict } = encode(undef);
  const back = decodeFull(new ByteReader(row), dict, e.id, e.timestamp, heavy);
  assert.deepEqual(back, JSON.parse(JSON.stringify(undef)));
});

test('numbers of every shape survive the row encoding', async () => {
  const e = (await entriesOf(join(root, 'demo/shop.pcap'))).find(
    (x) => x.record.kind === 'tcp_conn',
  )!;
  for (const v of [0, 1, 127, 128, 2 ** 31, 2 ** 52 - 1, 2 ** 53, -1, -0.5, 1.25, 1e300, -0]) {
    const x = structuredClone(e);
    x.elapsed_time = v;
    x.requestSize = v;
    if (x.record.kind === 'tcp_conn') x.record.lastTs = x.timestamp + v;
    const { row, heavy, dict } = encode(x);
    const back = decodeFull(new ByteReader(row), dict, x.id, x.timestamp, heavy);
    assert.ok(Object.is(back.elapsed_time, v), `elapsed ${v}`);
    assert.ok(Object.is(back.requestSize, v));
    assert.equal(back.record.kind === 'tcp_conn' && back.record.lastTs, x.timestamp + v);
  }
});

test('long strings: rows whose objects need multi-byte length prefixes', async () => {
  const e = (await entriesOf(join(root, 'demo/shop.pcap'))).find(
    (x) => x.record.kind === 'http' && x.record.response !== undefined,
  )!;
  for (const n of [100, 200, 20_000, 300_000]) {
    const x = structuredClone(e);
    const r = x.record as HttpRecord;
    r.request!.url = `/p/${'x'.repeat(n)}?q=1`;
    r.request!.path = `/p/${'x'.repeat(n)}`;
    x.src.name = `é${'y'.repeat(n)}`;
    const { row, heavy, dict } = encode(x);
    const text = JSON.stringify(x);
    assert.equal(
      JSON.stringify(decodeFull(new ByteReader(row), dict, x.id, x.timestamp, heavy)),
      text,
    );
    const lazy = decodeLazy(new ByteReader(row), dict, x.id, x.timestamp, {
      full: () => decodeFull(new ByteReader(row), dict, x.id, x.timestamp, heavy),
    });
    assert.equal((lazy.record as HttpRecord).request!.path, r.request!.path);
    assert.equal(JSON.stringify(lazy), text, `url of ${n}`);
  }
});
