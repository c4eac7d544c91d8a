import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_RELATIVE_ACCURACY, EXACT_SAMPLES, LatencySketch } from './sketch.ts';

/** The exact quantile DDSketch estimates: rank ⌊q·(n−1)⌋ of the sorted values. */
function exact(sorted: number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

const QS = [0, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999, 1];

function withinAccuracy(est: number, want: number, alpha: number): boolean {
  // α relative error, plus a hair for floating point in log/exp.
  return Math.abs(est - want) <= alpha * want * (1 + 1e-9) + 1e-9;
}

test('quantiles are within the relative accuracy of the exact ones (random data)', () => {
  // Latencies from 0 to an hour in µs, integer as elapsed_time is; zeros included.
  const latency = fc.oneof(
    fc.constant(0),
    fc.integer({ min: 1, max: 1000 }),
    fc.integer({ min: 1, max: 3_600_000_000 }),
  );
  fc.assert(
    fc.property(
      fc.array(latency, { minLength: 1, maxLength: 2000 }),
      fc.constantFrom(0.01, 0.02, 0.05),
      (values, alpha) => {
        const s = new LatencySketch(alpha);
        for (const v of values) s.add(v);
        const sorted = [...values].sort((a, b) => a - b);
        for (const q of QS) {
          const est = s.quantile(q)!;
          const want = exact(sorted, q);
          if (!withinAccuracy(est, want, alpha))
            throw new Error(`q=${q}: ${est} vs exact ${want} (α=${alpha}, n=${values.length})`);
        }
        assert.equal(s.count, values.length);
        assert.equal(s.min, sorted[0]);
        assert.equal(s.max, sorted.at(-1));
        assert.equal(
          s.sum,
          values.reduce((a, b) => a + b, 0),
        );
      },
    ),
    { numRuns: 300 },
  );
});

test('quantiles within accuracy on a large skewed (log-normal) sample', () => {
  // Deterministic PRNG so the run is reproducible.
  let seed = 12345;
  const rnd = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) + 0.5) / 2 ** 32;
  const values: number[] = [];
  for (let i = 0; i < 200_000; i++) {
    const z = Math.sqrt(-2 * Math.log(rnd())) * Math.cos(2 * Math.PI * rnd());
    values.push(Math.round(Math.exp(Math.log(20_000) + 1.2 * z)));
  }
  const s = new LatencySketch();
  for (const v of values) s.add(v);
  const sorted = [...values].sort((a, b) => a - b);
  for (const q of QS) {
    const est = s.quantile(q)!;
    assert.ok(withinAccuracy(est, exact(sorted, q), DEFAULT_RELATIVE_ACCURACY), `q=${q}`);
  }
  // Serialised size stays small: a few hundred bins whatever the count.
  const json = JSON.stringify(s.toJSON());
  assert.ok(json.length < 2500, `serialised sketch is ${json.length} bytes`);
});

test('merge equals one sketch fed both halves; JSON round-trip is lossless', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 10_000_000 }), { maxLength: 500 }),
      fc.array(fc.integer({ min: 0, max: 10_000_000 }), { maxLength: 500 }),
      (a, b) => {
        const sa = new LatencySketch();
        const sb = new LatencySketch();
        const all = new LatencySketch();
        for (const v of a) {
          sa.add(v);
          all.add(v);
        }
        for (const v of b) {
          sb.add(v);
          all.add(v);
        }
        const viaJson = LatencySketch.fromJSON(
          JSON.parse(JSON.stringify(sa.toJSON())) as ReturnType<LatencySketch['toJSON']>,
          DEFAULT_RELATIVE_ACCURACY,
        );
        viaJson.merge(LatencySketch.fromJSON(sb.toJSON(), DEFAULT_RELATIVE_ACCURACY));
        sa.merge(sb);
        assert.deepEqual(sa.toJSON(), all.toJSON());
        assert.deepEqual(viaJson.toJSON(), all.toJSON());
        for (const q of QS) {
          assert.equal(sa.quantile(q), all.quantile(q));
          assert.equal(viaJson.quantile(q), all.quantile(q));
        }
      },
    ),
    { numRuns: 200 },
  );
});

test('exact up to EXACT_SAMPLES values, a DDSketch past that; merging across the threshold', () => {
  const s = new LatencySketch();
  for (let i = EXACT_SAMPLES; i >= 1; i--) s.add(i * 1000);
  assert.ok(s.exact);
  assert.equal(s.quantile(0.5), 32_000); // rank ⌊0.5·63⌋ = 31 → exact
  assert.deepEqual(s.toJSON().values?.slice(0, 3), [1000, 2000, 3000]);
  s.add(65_000);
  assert.ok(!s.exact);
  const j = s.toJSON();
  assert.equal(j.values, undefined);
  assert.equal(j.n, EXACT_SAMPLES + 1);
  near(s.quantile(0.5)!, 33_000);

  // 40 + 30 values: two exact sketches merge into a DDSketch equal to one fed all 70.
  const a = new LatencySketch();
  const b = new LatencySketch();
  const all = new LatencySketch();
  for (let i = 0; i < 70; i++) {
    (i < 40 ? a : b).add(i * 37 + 1);
    all.add(i * 37 + 1);
  }
  assert.ok(a.exact && b.exact && !all.exact);
  a.merge(b);
  assert.deepEqual(a.toJSON(), all.toJSON());
});

function near(est: number, want: number): void {
  assert.ok(withinAccuracy(est, want, DEFAULT_RELATIVE_ACCURACY), `${est} vs ${want}`);
}

test('empty sketch, zeros, bad input', () => {
  const s = new LatencySketch();
  assert.equal(s.quantile(0.5), null);
  assert.equal(s.mean, null);
  assert.deepEqual(LatencySketch.fromJSON(s.toJSON(), 0.01).toJSON(), s.toJSON());
  s.add(0);
  s.add(-5); // clamped to 0
  s.add(Number.NaN);
  assert.equal(s.quantile(0.99), 0);
  assert.deepEqual(s.toJSON(), { n: 3, sum: 0, min: 0, max: 0, values: [0, 0, 0] });
  for (let i = 0; i < EXACT_SAMPLES; i++) s.add(0);
  assert.equal(s.toJSON().zero, EXACT_SAMPLES + 3);
  assert.equal(s.quantile(0.99), 0);
  const big = new LatencySketch();
  for (let i = 1; i <= 100; i++) big.add(i);
  const j = big.toJSON();
  assert.throws(() => LatencySketch.fromJSON({ ...j, n: 101 }, 0.01), /add up/);
  assert.throws(() => LatencySketch.fromJSON({ ...j, bins: [1.5] }, 0.01), /bins/);
  assert.throws(() => LatencySketch.fromJSON({ ...j, n: 10 }, 0.01), /too few/);
  const small = { n: 2, sum: 3, min: 1, max: 2, values: [1, 2] };
  assert.equal(LatencySketch.fromJSON(small, 0.01).quantile(1), 2);
  assert.throws(() => LatencySketch.fromJSON({ ...small, n: 3 }, 0.01), /values/);
  assert.throws(() => LatencySketch.fromJSON({ ...small, max: 5 }, 0.01), /min\/max/);
  assert.throws(() => new LatencySketch(0.01).merge(new LatencySketch(0.02)), /accuracy/);
});

test('serialised DDSketch form: run-length bins from the first key', () => {
  const s = new LatencySketch();
  for (let i = 0; i < 30; i++) for (const v of [1000, 1000, 1300, 5000]) s.add(v);
  const j = s.toJSON();
  assert.equal(j.n, 120);
  assert.equal(j.sum, 30 * 8300);
  assert.deepEqual([j.min, j.max], [1000, 5000]);
  const bins = j.bins ?? [];
  // 1000 sixty times in the first bin, then empty runs (negative) between the other two.
  assert.equal(bins[0], 60);
  assert.equal(
    bins.filter((b) => b > 0).reduce((x, y) => x + y, 0),
    120,
  );
  assert.ok(bins.some((b) => b < 0));
  assert.deepEqual(LatencySketch.fromJSON(j, DEFAULT_RELATIVE_ACCURACY).toJSON(), j);
});
