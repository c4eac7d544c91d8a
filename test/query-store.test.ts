/**
 * KFL through the store: the selection src/query derives from a filter (index hints, and the
 * filter itself unless the hints decide alone) selects exactly the entries the filter matches,
 * on the real store's index columns, over every replayed test capture.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { compileKfl, indexHints, selectionOf } from '../src/query/index.ts';
import { buildCatalogue } from '../src/tap/dissectors/registry.ts';
import { entriesFromCapture } from '../src/tap/run.ts';
import { replayCaptures } from './helpers/dissector-captures.ts';
import { EntryStore } from '../src/store/store.ts';
import type { Entry } from '../src/entry/model.ts';
import { l4Of, statsOf } from '../src/store/aggregate.ts';
import { accumulateStats, aggregateL4 } from '../src/store/stats/index.ts';

const catalogue = buildCatalogue();

async function replayed(): Promise<Entry[]> {
  const entries: Entry[] = [];
  let id = 0;
  for (const f of replayCaptures()) {
    for (const e of await entriesFromCapture(f, { l4All: true })) {
      e.id = ++id;
      entries.push(e);
    }
  }
  return entries;
}

test('store selections equal the filter, and exact hints skip it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ks-query-store-'));
  try {
    const entries = await replayed();
    const store = await EntryStore.open(dir);
    for (const e of entries) store.append(e);
    await store.flush();
    const cases: [string, boolean][] = [
      ['', false],
      ['http', true],
      ['dns', true],
      ['(http || dns)', true],
      ['conn', true],
      ['flow', true],
      ['http && status_code >= 500', true],
      ['http && status_code >= 400 && status_code < 500', true],
      ['status_code >= 300', true],
      ['dns && status_code == 3', true],
      ['(http || ws) && status_code == 101', true],
      ['http && status_code < 400', false],
      ['dns && status_code == 0', false],
      ['http && method == "POST"', false],
      ['ws', true],
      ['tcp && dst.port == 80', false],
    ];
    let nonEmpty = 0;
    for (const [kfl, exact] of cases) {
      const f = compileKfl(kfl, { catalogue });
      assert.equal(indexHints(f).exact === true, exact, `${kfl}: exact`);
      const sel = selectionOf(f);
      assert.equal(sel.filter === undefined, exact || kfl === '', `${kfl}: filter skipped`);
      const want = entries.filter((e) => f.matches(e)).length;
      assert.equal(await store.count(sel), want, kfl);
      const page = await store.page({ ...sel, limit: 5, order: 'oldest' });
      assert.deepEqual(
        page.entries.map((e) => e.id),
        entries
          .filter((e) => f.matches(e))
          .slice(0, 5)
          .map((e) => e.id),
        `${kfl}: first page`,
      );
      if (want > 0) nonEmpty++;
    }
    assert.ok(nonEmpty >= 12, `only ${nonEmpty} filters matched anything`);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stats and L4 for a filter and window, from the store, equal those of the entries', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ks-query-stats-'));
  try {
    const entries = await replayed();
    // Spread the entries over a known window so a time range cuts the set.
    const t0 = 1_700_000_000_000_000;
    entries.forEach((e, i) => (e.timestamp = t0 + i * 1_000_000));
    const store = await EntryStore.open(dir);
    for (const e of entries) store.append(e);
    await store.flush();
    const start = t0 + Math.floor(entries.length / 4) * 1_000_000;
    const end = t0 + Math.floor((entries.length * 3) / 4) * 1_000_000;
    const inWindow = (e: Entry) => e.timestamp >= start && e.timestamp < end;
    for (const kfl of ['', 'http', 'http && method == "GET"', 'dns || ws']) {
      const f = compileKfl(kfl, { catalogue });
      const want = entries.filter((e) => inWindow(e) && f.matches(e));
      for (const groupBy of ['endpoint', 'namespace', 'protocol'] as const) {
        const got = await statsOf(store, { ...selectionOf(f), start, end }, { groupBy });
        assert.deepEqual(
          got.toJSON(),
          accumulateStats(want, { groupBy }).toJSON(),
          `${kfl} ${groupBy}`,
        );
      }
      const l4 = await l4Of(store, { ...selectionOf(f), start, end }, { by: 'ip' });
      const l4Want = aggregateL4(
        want.filter((e) => e.protocol === 'tcp' || e.protocol === 'udp'),
        {
          by: 'ip',
        },
      );
      assert.deepEqual(l4.toJSON(), l4Want.toJSON(), `${kfl} l4`);
    }
    const all = await statsOf(store, {}, { groupBy: 'protocol' });
    assert.ok(all.calls >= 100, `calls ${all.calls}`);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
