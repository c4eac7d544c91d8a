/**
 * The hub's page merge and composite cursor against simulated workers (each paging its own list
 * with store-format cursors): for any lists, page sizes and order, paging returns every entry
 * exactly once, in the same sequence as one page holding everything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { afterEntry, decodeHubCursor, encodeHubCursor, type HubCursor } from '../api/cursor.ts';
import type { EntryOrder } from '../api/types.ts';
import { isoToMicros, mergePages, tsOf, type WorkerPage } from './merge.ts';

interface Item {
  id: number;
  ts: number;
  node: string;
}

/** A worker's page: its list in id order (newest: descending), after the cursor's id. */
function workerPage(
  name: string,
  list: Item[],
  order: EntryOrder,
  limit: number,
  cursor?: string,
): WorkerPage {
  const sorted = [...list].sort((a, b) => (order === 'newest' ? b.id - a.id : a.id - b.id));
  let rest = sorted;
  if (cursor !== undefined) {
    const m = /^([no]):(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
    assert.ok(m, `worker cursor ${cursor}`);
    assert.equal(m[1], order === 'newest' ? 'n' : 'o');
    const after = Number(m[2]);
    rest = sorted.filter((e) => (order === 'newest' ? e.id < after : e.id > after));
  }
  const entries = rest.slice(0, limit);
  return {
    name,
    entries,
    ...(rest.length > limit ? { cursor: afterEntry(order, entries[entries.length - 1]!.id) } : {}),
  };
}

function pageAll(
  workers: Record<string, Item[]>,
  order: EntryOrder,
  limits: number[],
): { items: Item[]; pages: number } {
  const names = Object.keys(workers).sort();
  let cursor: HubCursor = { order, workers: {} };
  const items: Item[] = [];
  let pages = 0;
  for (;;) {
    const limit = limits[pages % limits.length]!;
    pages++;
    const ps = names
      .filter((n) => cursor.workers[n] !== null)
      .map((n) => workerPage(n, workers[n]!, order, limit, cursor.workers[n] ?? undefined));
    const m = mergePages(ps, cursor, order, limit);
    assert.ok(m.entries.length <= limit);
    items.push(...(m.entries as Item[]));
    if (!m.next) break;
    assert.ok(m.entries.length > 0, 'a page with a next cursor is never empty');
    // Through the wire format, as a client would send it back.
    cursor = decodeHubCursor(encodeHubCursor(m.next), order);
    assert.ok(pages < 10_000);
  }
  return { items, pages };
}

const itemsArb = (node: string) =>
  fc
    .array(fc.integer({ min: 0, max: 50 }), { maxLength: 40 })
    .map((tss) => tss.map((t, i) => ({ id: i + 1, ts: 1_000_000 + t, node })));

test('paging through merged pages yields every entry once, as one big page would', () => {
  fc.assert(
    fc.property(
      itemsArb('a'),
      itemsArb('b'),
      itemsArb('c'),
      fc.constantFrom<EntryOrder>('newest', 'oldest'),
      fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 }),
      (a, b, c, order, limits) => {
        const workers = { a, b, c };
        const { items } = pageAll(workers, order, limits);
        const all = pageAll(workers, order, [1000]).items;
        assert.deepEqual(items, all);
        const keys = items.map((e) => `${e.node}:${e.id}`);
        assert.equal(new Set(keys).size, keys.length, 'no duplicates');
        assert.equal(keys.length, a.length + b.length + c.length, 'nothing lost');
        // Each worker's entries keep that worker's order.
        for (const n of ['a', 'b', 'c']) {
          const ids = items.filter((e) => e.node === n).map((e) => e.id);
          const sorted = [...ids].sort((x, y) => (order === 'newest' ? y - x : x - y));
          assert.deepEqual(ids, sorted);
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('with time-ordered workers the merged sequence is ordered by time', () => {
  const mk = (node: string, tss: number[]): Item[] => tss.map((ts, i) => ({ id: i + 1, ts, node }));
  const workers = { a: mk('a', [1, 4, 6, 9]), b: mk('b', [2, 3, 7, 8, 10]) };
  const newest = pageAll(workers, 'newest', [3]).items.map((e) => e.ts);
  assert.deepEqual(newest, [10, 9, 8, 7, 6, 4, 3, 2, 1]);
  const oldest = pageAll(workers, 'oldest', [2]).items.map((e) => e.ts);
  assert.deepEqual(oldest, [1, 2, 3, 4, 6, 7, 8, 9, 10]);
});

test('a worker that did not answer keeps its place in the cursor', () => {
  const prev: HubCursor = { order: 'newest', workers: { a: afterEntry('newest', 5) } };
  const more = afterEntry('newest', 3);
  const m = mergePages(
    [{ name: 'b', entries: [{ id: 3, ts: 1 }], cursor: more }],
    prev,
    'newest',
    10,
  );
  assert.deepEqual(m.next?.workers, { a: afterEntry('newest', 5), b: more });
  // Paging ends when every worker that answered is exhausted (no endless empty pages while one
  // stays down; those answers carry `unavailable`).
  const end = mergePages([{ name: 'b', entries: [{ id: 3, ts: 1 }] }], prev, 'newest', 10);
  assert.equal(end.next, undefined);
  const done = mergePages(
    [{ name: 'b', entries: [] }],
    { order: 'oldest', workers: {} },
    'oldest',
    10,
  );
  assert.equal(done.next, undefined);
});

test('cursors: wrong order and garbage are usage errors', () => {
  const c = encodeHubCursor({ order: 'newest', workers: { a: null } });
  assert.throws(() => decodeHubCursor(c, 'oldest'), { code: 'KS_ERR_USAGE' });
  assert.throws(() => decodeHubCursor('not-a-cursor', 'newest'), { code: 'KS_ERR_USAGE' });
  assert.throws(
    () =>
      decodeHubCursor(Buffer.from('{"v":1,"o":"n","w":{"a":3}}').toString('base64url'), 'newest'),
    {
      code: 'KS_ERR_USAGE',
    },
  );
});

test('timestamps of full views keep their microseconds', () => {
  assert.equal(
    isoToMicros('2026-03-14T22:00:00.123456Z'),
    Date.UTC(2026, 2, 14, 22) * 1000 + 123456,
  );
  assert.equal(tsOf({ timestamp: '1970-01-01T00:00:01.000001Z' }), 1_000_001);
  assert.equal(tsOf({ ts: 42 }), 42);
});
