/**
 * The ingest stages: run in their order, each counted (in, passed, dropped, errors, held, time);
 * a throw keeps or drops the entry as the stage says; the worker's stages (target, enrich,
 * redact, store, publish) show in its health and its metrics.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { IngestStageCounters } from '../api/types.ts';
import type { Entry } from '../entry/model.ts';
import { entriesFromCapture } from '../tap/run.ts';
import {
  Ingest,
  hookStage,
  targetStage,
  type IngestStage,
  type StageControl,
  type StageResult,
} from './ingest.ts';
import { createMetricsRegistry, METRIC_NAMES } from './metrics.ts';
import { createWorker } from './worker.ts';

const root = new URL('../..', import.meta.url).pathname;
const entry = (id: number, ip = '10.0.0.1'): Entry =>
  ({ id, src: { ip, port: 1 }, dst: { ip: '10.0.0.2', port: 80 } }) as unknown as Entry;

/** A stage that records what it saw in `log` and answers `answer(e)`. */
function recorder(
  name: string,
  log: string[],
  answer: (e: Entry) => StageResult = () => 'pass',
  onError: 'keep' | 'drop' = 'keep',
): IngestStage {
  return {
    name,
    onError,
    run: (e) => {
      log.push(`${name}:${e.id}`);
      return answer(e);
    },
  };
}

const byName = (cs: IngestStageCounters[], name: string): IngestStageCounters =>
  cs.find((c) => c.name === name)!;

test('Ingest: stages run in their order; a drop stops the entry; every stage counted', () => {
  const log: string[] = [];
  const ing = new Ingest([
    recorder('a', log),
    recorder('b', log, (e) => (e.id % 2 === 0 ? 'drop' : 'pass')),
    recorder('c', log),
  ]);
  assert.equal(ing.push(entry(1)), true);
  assert.equal(ing.push(entry(2)), false);
  assert.equal(ing.push(entry(3)), true);
  assert.deepEqual(log, ['a:1', 'b:1', 'c:1', 'a:2', 'b:2', 'a:3', 'b:3', 'c:3']);
  const cs = ing.counters();
  assert.deepEqual(
    cs.map((c) => c.name),
    ['a', 'b', 'c'],
  );
  assert.deepEqual(
    cs.map(({ name, in: n, passed, dropped, errors }) => ({ name, n, passed, dropped, errors })),
    [
      { name: 'a', n: 3, passed: 3, dropped: 0, errors: 0 },
      { name: 'b', n: 3, passed: 2, dropped: 1, errors: 0 },
      { name: 'c', n: 2, passed: 2, dropped: 0, errors: 0 },
    ],
  );
  assert.ok(cs.every((c) => c.onError === 'keep' && c.timeUs >= 0));
  assert.throws(() => new Ingest([recorder('a', log), recorder('a', log)]), /two stages named a/);
});

test('Ingest: a throw keeps the entry in a keep stage and drops it in a drop stage, counted', () => {
  const stored: number[] = [];
  const ing = new Ingest([
    hookStage(
      'enrich',
      (e) => {
        if (e.id === 1) throw new Error('resolver down');
      },
      'keep',
    ),
    hookStage(
      'redact',
      (e) => {
        if (e.id === 2) throw new Error('cannot redact');
      },
      'drop',
    ),
    hookStage('store', (e) => stored.push(e.id), 'drop'),
  ]);
  for (const id of [1, 2, 3]) ing.push(entry(id));
  assert.deepEqual(stored, [1, 3], 'enrich failed: stored; redact failed: never stored');
  const cs = ing.counters();
  assert.deepEqual(
    cs.map(({ in: n, passed, dropped, errors }) => [n, passed, dropped, errors]),
    [
      [3, 2, 0, 1],
      [3, 2, 0, 1],
      [2, 2, 0, 0],
    ],
  );
});

test('Ingest: a stage that holds lets entries go later, on to the next stage or dropped', () => {
  const log: string[] = [];
  let ctl!: StageControl;
  const waiting: Entry[] = [];
  const hold: IngestStage = {
    name: 'hold',
    onError: 'keep',
    limits: { max: 2 },
    bind: (c) => (ctl = c),
    run: (e) => {
      waiting.push(e);
      return 'hold';
    },
    held: () => waiting.length,
  };
  const ing = new Ingest([hold, recorder('next', log)]);
  for (const id of [1, 2, 3]) assert.equal(ing.push(entry(id)), false);
  let h = byName(ing.counters(), 'hold');
  assert.deepEqual([h.in, h.passed, h.dropped, h.held], [3, 0, 0, 3]);
  assert.deepEqual(h.limits, { max: 2 });
  ctl.pass(waiting.shift()!);
  ctl.drop(waiting.shift()!);
  assert.deepEqual(log, ['next:1']);
  h = byName(ing.counters(), 'hold');
  assert.deepEqual([h.in, h.passed, h.dropped, h.held], [3, 1, 1, 1]);
  assert.equal(byName(ing.counters(), 'next').in, 1);
});

test('Ingest: time is estimated from a sample and reaches every stage', () => {
  const busy = (us: number) => () => {
    const end = performance.now() + us / 1000;
    while (performance.now() < end);
  };
  const ing = new Ingest(
    [hookStage('slow', busy(200), 'keep'), hookStage('fast', () => undefined, 'keep')],
    4,
  );
  for (let i = 0; i < 400; i++) ing.push(entry(i));
  const [slow, fast] = ing.counters();
  // At least 400 × 200 µs = 80 ms spent (more on a busy machine); each of the ~100 timed entries
  // stands for the entries since the previous one, so the estimate covers all 400.
  assert.ok(slow!.timeUs > 60_000 && slow!.timeUs < 2_000_000, `slow: ${slow!.timeUs} µs`);
  assert.ok(fast!.timeUs < slow!.timeUs / 10, `fast: ${fast!.timeUs} µs`);
});

test('targetStage: kept, dropped, held then kept (renumbered) or given up, with its limits', () => {
  const known = new Map<string, boolean>();
  let version = 0;
  let next = 100;
  const passed: number[] = [];
  const target = targetStage({
    keep: (e) => known.get(e.src.ip) === true,
    hold: { unresolved: (e) => !known.has(e.src.ip), version: () => version },
    renumber: (e) => ({ ...e, id: next++ }),
    holdMax: 1,
  });
  const ing = new Ingest([target, hookStage('store', (e) => passed.push(e.id), 'drop')]);
  known.set('10.0.0.1', true);
  known.set('10.0.0.2', false);
  ing.push(entry(1, '10.0.0.1')); // targeted
  ing.push(entry(2, '10.0.0.2')); // not targeted
  ing.push(entry(3, '10.0.0.9')); // unknown yet: held
  ing.push(entry(4, '10.0.0.8')); // held; no room: 3 dropped
  let t = byName(ing.counters(), 'target');
  assert.deepEqual([t.in, t.passed, t.dropped, t.held], [4, 1, 2, 1]);
  assert.deepEqual(t.limits, { holdMs: 2000, holdMax: 1 });
  assert.equal(t.stats!.heldOverflow, 1);
  known.set('10.0.0.8', true);
  version++;
  ing.close(); // decides again: 4 is kept, numbered after what came meanwhile
  assert.deepEqual(passed, [1, 100]);
  t = byName(ing.counters(), 'target');
  assert.deepEqual([t.in, t.passed, t.dropped, t.held], [4, 2, 2, 0]);
  assert.equal(t.stats!.heldKept, 1);
  assert.deepEqual(target.holdStats(), {
    waiting: 0,
    held: 2,
    released: 1,
    resolvedDropped: 0,
    expired: 0,
    overflow: 1,
  });
  // Without a hold: no limits, no held figure.
  const plain = new Ingest([targetStage({ keep: () => false, renumber: (e) => e })]);
  plain.push(entry(1));
  const p = plain.counters()[0]!;
  assert.deepEqual([p.in, p.dropped, p.held, p.limits], [1, 1, undefined, undefined]);
});

test('worker: target → enrich → redact → store → publish, counted in health and metrics', async () => {
  const shop = await entriesFromCapture(join(root, 'demo/shop.pcap'));
  const order: string[] = [];
  const worker = await createWorker({
    node: 'n1',
    // DNS is not targeted; one HTTP path fails targeting (kept), one enrichment fails (kept),
    // one redaction fails (never stored).
    filter: (e) => {
      order.push('target');
      if (e.record.kind === 'http' && e.record.request?.path === '/api/cart') throw new Error('x');
      return e.protocol !== 'dns';
    },
    enrich: (e) => {
      order.push('enrich');
      if (e.record.kind === 'ws' && e.index === 1) throw new Error('resolver down');
    },
    redact: (e) => {
      order.push('redact');
      if (e.record.kind === 'http' && e.record.request?.path === '/api/products')
        throw new Error('cannot redact');
    },
  });
  try {
    const seen: string[] = [];
    worker.subscribe('', 'summary', (text) => seen.push(text));
    const ids = shop.map((e) => worker.ingest(e));
    const isProducts = (e: Entry) =>
      e.record.kind === 'http' && e.record.request?.path === '/api/products';
    const dns = shop.filter((e) => e.protocol === 'dns').length;
    const products = shop.filter(isProducts).length;
    const cart = shop.filter(
      (e) => e.record.kind === 'http' && e.record.request?.path === '/api/cart',
    ).length;
    const ws0 = shop.filter((e) => e.record.kind === 'ws' && e.index === 1).length;
    assert.ok(dns > 0 && products > 0 && cart > 0 && ws0 > 0, `${dns} ${products} ${cart} ${ws0}`);
    const stored = shop.length - dns - products;
    // The capture's first three entries are DNS (dropped by targeting), then HTTP.
    assert.deepEqual(order.slice(0, 6), [
      'target',
      'target',
      'target',
      'target',
      'enrich',
      'redact',
    ]);
    // Stored entries have increasing ids; dropped ones answer 0.
    shop.forEach((e, i) => {
      const dropped = e.protocol === 'dns' || isProducts(e);
      assert.equal(ids[i]! === 0, dropped, `entry ${i}`);
    });
    const kept = ids.filter((id) => id > 0);
    assert.ok(kept.every((id, i) => i === 0 || id > kept[i - 1]!));
    assert.equal(seen.length, stored, 'published what was stored');

    const h = await worker.api.call('/api/health', {});
    const health = h as Awaited<ReturnType<typeof worker.health>>;
    const c = health.capture!;
    assert.deepEqual(
      c.ingest!.map((s) => s.name),
      ['target', 'enrich', 'redact', 'store', 'publish'],
    );
    const row = (name: string) => {
      const s = byName(c.ingest!, name);
      return [s.in, s.passed, s.dropped, s.errors, s.onError];
    };
    assert.deepEqual(row('target'), [shop.length, shop.length - dns - cart, dns, cart, 'keep']);
    assert.deepEqual(row('enrich'), [shop.length - dns, shop.length - dns - ws0, 0, ws0, 'keep']);
    assert.deepEqual(row('redact'), [shop.length - dns, stored, 0, products, 'drop']);
    assert.deepEqual(row('store'), [stored, stored, 0, 0, 'drop']);
    assert.deepEqual(row('publish'), [stored, stored, 0, 0, 'keep']);
    assert.equal(byName(c.ingest!, 'store').stats!.matchedPairs, c.matchedPairs);
    // The existing counters, from the stages.
    assert.equal(c.entries, stored);
    assert.equal(c.targetDropped, dns);
    assert.equal(health.ok, false);
    assert.deepEqual(health.problems, [
      `ingest stage target failed ${cart} times (the entries were kept)`,
      `ingest stage enrich failed ${ws0} times (the entries were kept)`,
      `ingest stage redact failed ${products} times (the entries were dropped)`,
    ]);

    const text = await createMetricsRegistry(() => worker.counters()).metrics();
    const sample = (stage: string, outcome: string): number => {
      const line = text
        .split('\n')
        .find((l) =>
          l.startsWith(
            `${METRIC_NAMES.ingestStageEntries}{stage="${stage}",outcome="${outcome}"} `,
          ),
        );
      assert.ok(line, `${stage} ${outcome}`);
      return Number(line.split(' ')[1]);
    };
    assert.equal(sample('redact', 'error'), products);
    assert.equal(sample('target', 'dropped'), dns);
    assert.equal(sample('store', 'passed'), stored);
    assert.match(text, /kubeshark_ingest_stage_seconds_total\{stage="store"\} /);
    assert.match(text, /kubeshark_target_dropped_entries_total \d/);
  } finally {
    await worker.close();
  }
});

test('worker without hooks: store and publish only; ids as given; stages in GET /api/health', async () => {
  const shop = await entriesFromCapture(join(root, 'demo/shop.pcap'));
  const worker = await createWorker({ node: 'n2' });
  try {
    const ids = shop.map((e) => worker.ingest(e));
    assert.deepEqual(
      ids,
      shop.map((_, i) => i + 1),
    );
    const c = worker.counters();
    assert.deepEqual(
      c.ingest!.map((s) => [s.name, s.in, s.passed]),
      [
        ['store', shop.length, shop.length],
        ['publish', shop.length, shop.length],
      ],
    );
    assert.equal(c.targetDropped, undefined);
    // Over HTTP: GET /api/health carries the stages.
    const port = await worker.listen(0, '127.0.0.1');
    const h = (await (await fetch(`http://127.0.0.1:${port}/api/health`)).json()) as {
      ok: boolean;
      capture: { ingest: IngestStageCounters[] };
    };
    assert.equal(h.ok, true);
    assert.deepEqual(
      h.capture.ingest.map((s) => [s.name, s.in, s.passed, s.dropped, s.errors, s.onError]),
      [
        ['store', shop.length, shop.length, 0, 0, 'drop'],
        ['publish', shop.length, shop.length, 0, 0, 'keep'],
      ],
    );
  } finally {
    await worker.close();
  }
});
