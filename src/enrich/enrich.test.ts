/**
 * enrichEntry on real entries (a golden capture through the pipeline): KFL identity fields,
 * nothing overwritten, key order kept for the store, one lookup per endpoint of a flow.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Entry } from '../entry/model.ts';
import { compileKfl } from '../query/index.ts';
import { ByteReader, ByteWriter } from '../store/bytes.ts';
import { decodeFull, encodeRow } from '../store/codec.ts';
import { Dict } from '../store/dict.ts';
import { buildCatalogue } from '../tap/dissectors/registry.ts';
import { entriesFromCapture } from '../tap/run.ts';
import { enrichEntry } from './enrich.ts';
import type { Identity, Resolver } from './types.ts';

const KEEPALIVE = join(
  new URL('../tap/dissectors/http/testdata/', import.meta.url).pathname,
  'keepalive.pcap',
);
const catalogue = buildCatalogue();
const CID = 'c0ffee'.repeat(10) + 'abcd';

/** A resolver answering from a fixed table, counting calls (a real Resolver, not a mock). */
function tableResolver(table: Record<string, Identity>): Resolver & { calls: number } {
  return {
    calls: 0,
    lookup(ip, port, transport) {
      this.calls++;
      return table[`${transport} ${ip}:${port}`];
    },
  };
}

const kfl = (q: string, e: Entry): boolean => compileKfl(q, { catalogue }).matches(e);

/** The store's row codec: JSON text after a round trip must equal the JSON text before. */
function roundTrip(e: Entry): string {
  const w = new ByteWriter(64);
  const heavy: unknown[] = [];
  const dict = new Dict();
  encodeRow(e, w, dict, heavy);
  const back = decodeFull(
    new ByteReader(Buffer.from(w.buf.subarray(0, w.pos))),
    dict,
    e.id,
    e.timestamp,
    JSON.parse(JSON.stringify(heavy)) as unknown[],
  );
  return JSON.stringify(back);
}

test('process identity fills src/dst, KFL names and resolution status, and round-trips', async () => {
  const entries = await entriesFromCapture(KEEPALIVE);
  assert.ok(entries.length >= 3);
  const first = entries[0]!;
  const before = kfl('local_resolution_status == "unresolved"', first);
  assert.ok(before, 'unresolved before enrichment');
  const r = tableResolver({
    [`tcp ${first.src.ip}:${first.src.port}`]: {
      process: { name: 'curl', pid: 4242 },
      containerId: CID,
    },
    [`tcp ${first.dst.ip}:${first.dst.port}`]: { process: { name: 'node', pid: 7 } },
  });
  for (const e of entries) enrichEntry(e, r);
  // One connection: its entries share their Endpoint objects, looked up once each.
  assert.equal(new Set(entries.map((e) => e.src)).size, 1);
  assert.equal(r.calls, 2);
  for (const e of entries) {
    assert.deepEqual(e.src.process, { name: 'curl', pid: 4242 });
    assert.equal(e.src.containerId, CID);
    assert.deepEqual(e.dst.process, { name: 'node', pid: 7 });
    assert.ok(kfl('local_process_name == "curl" && remote_process_name == "node"', e));
    assert.ok(kfl('src.name == "curl" && dst.name == "node"', e));
    assert.ok(kfl('local_resolution_status == "" && remote_resolution_status == ""', e));
    assert.deepEqual(Object.keys(e.src), ['ip', 'port', 'process', 'containerId']);
    assert.equal(roundTrip(e), JSON.stringify(e));
  }
});

test('what is already set stays; keys keep the store order when added in the middle', async () => {
  const [e] = await entriesFromCapture(KEEPALIVE);
  assert.ok(e);
  // As a cluster resolver would have left it: a pod and a DNS name.
  e.dst.pod = { name: 'shop-7d9f', namespace: 'prod' };
  e.dst.dns = 'shop.prod.svc';
  const r = tableResolver({
    [`tcp ${e.dst.ip}:${e.dst.port}`]: {
      pod: { name: 'other', namespace: 'x' },
      labels: { app: 'shop' },
      process: { name: 'node', pid: 7 },
      containerId: CID,
    },
  });
  enrichEntry(e, r);
  assert.deepEqual(e.dst.pod, { name: 'shop-7d9f', namespace: 'prod' });
  assert.deepEqual(e.dst.labels, { app: 'shop' });
  assert.deepEqual(e.dst.process, { name: 'node', pid: 7 });
  assert.deepEqual(Object.keys(e.dst), [
    'ip',
    'port',
    'pod',
    'labels',
    'process',
    'containerId',
    'dns',
  ]);
  assert.ok(kfl('dst.name == "shop-7d9f" && remote_process_name == "node"', e));
  assert.equal(roundTrip(e), JSON.stringify(e));
  // The identity's objects were copied: changing the resolver's answer later changes nothing.
  const id = r.lookup(e.dst.ip, e.dst.port, 'tcp', 0)!;
  id.labels!.app = 'changed';
  assert.equal(e.dst.labels?.app, 'shop');
});

test('an unresolved endpoint is asked again; a resolved one is not; emitted entries stay', async () => {
  const entries = await entriesFromCapture(KEEPALIVE);
  const table: Record<string, Identity> = {};
  const r = tableResolver(table);
  const original = entries[0]!.src;
  enrichEntry(entries[0]!, r);
  assert.equal(r.calls, 2);
  assert.ok(kfl('local_resolution_status == "unresolved"', entries[0]!));
  table[`tcp ${original.ip}:${original.port}`] = { process: { name: 'curl' } };
  enrichEntry(entries[1]!, r);
  assert.equal(r.calls, 4);
  enrichEntry(entries[2]!, r);
  assert.equal(r.calls, 5, 'src was answered: only dst is asked again');
  assert.deepEqual(entries[1]!.src.process, { name: 'curl' });
  assert.equal(entries[2]!.src, entries[1]!.src, 'the flow shares the enriched copy');
  // The entry emitted before is not changed behind its back (nor is the pipeline's object).
  assert.equal(entries[0]!.src, original);
  assert.equal(original.process, undefined);
  assert.ok(kfl('local_resolution_status == "unresolved"', entries[0]!));
  // Enriching an entry again asks nothing.
  enrichEntry(entries[1]!, r);
  assert.equal(r.calls, 6, 'only the still-unknown dst');
});
