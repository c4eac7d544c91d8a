/**
 * Latency quantiles: a thin wrapper over DDSketch (@datadog/sketches-js) with a portable JSON form.
 *
 * DDSketch maps a value v > 0 to the bin ⌈log_γ v⌉ with γ = (1 + α) / (1 − α); any quantile it
 * answers is within relative error α of the exact one, and two sketches with the same α merge
 * exactly by adding bin counts (so a hub merging nodes gets the same answer as one node seeing
 * everything).
 *
 * Up to EXACT_SAMPLES values are kept as they are (quantiles then exact) and only the first
 * value past that moves them into a DDSketch. Most time-series buckets of most endpoints hold a
 * handful of calls, and a DDSketch costs ~50 µs and a few KiB to create and grow; the raw form
 * is cheaper and exact. Whether a sketch is raw depends only on its count, and a DDSketch's bins
 * do not depend on the order values arrive in, so merge(a, b) still equals one sketch fed both.
 *
 * The library's own `toProto` needs `protobufjs`, which it does not declare as a dependency (it
 * is not installed here), and `fromProto` drops min/max/sum — so the sketch is serialised here,
 * from the store's public fields, losslessly.
 */
import { DDSketch } from '@datadog/sketches-js';

/** α: quantiles are within ±1 % of the exact value. */
export const DEFAULT_RELATIVE_ACCURACY = 0.01;
/** Values kept exactly before they go into a DDSketch. */
export const EXACT_SAMPLES = 64;

/**
 * A sketch as JSON. Exact form: `values` (sorted). Sketch form: `bins`, the positive-value bins
 * from key `key` on, where a positive number is the count of one bin and a negative number −k
 * stands for k empty bins (run-length), and `zero`, the values recorded as 0.
 */
export interface SerializedSketch {
  /** Values recorded, zeros included. */
  n: number;
  sum: number;
  min: number;
  max: number;
  values?: number[];
  zero?: number;
  key?: number;
  bins?: number[];
}

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

export class LatencySketch {
  readonly relativeAccuracy: number;
  /** Exact values while there are at most EXACT_SAMPLES; null once `dd` holds them. */
  private raw: number[] | null = [];
  private sorted = true;
  private dd: DDSketch | null = null;
  private n = 0;
  private total = 0;
  private lo = Infinity;
  private hi = -Infinity;

  constructor(relativeAccuracy = DEFAULT_RELATIVE_ACCURACY) {
    if (!(relativeAccuracy > 0 && relativeAccuracy < 1))
      throw new Error(`relative accuracy must be in (0, 1), got ${relativeAccuracy}`);
    this.relativeAccuracy = relativeAccuracy;
  }

  get count(): number {
    return this.n;
  }
  get sum(): number {
    return this.total;
  }
  get min(): number | null {
    return this.n === 0 ? null : this.lo;
  }
  get max(): number | null {
    return this.n === 0 ? null : this.hi;
  }
  get mean(): number | null {
    return this.n === 0 ? null : this.total / this.n;
  }
  /** True while quantiles are exact. */
  get exact(): boolean {
    return this.raw !== null;
  }

  /** Records one value (µs). Negative or non-finite values are recorded as 0. */
  add(value: number): void {
    const v = Number.isFinite(value) && value > 0 ? value : 0;
    this.n++;
    this.total += v;
    if (v < this.lo) this.lo = v;
    if (v > this.hi) this.hi = v;
    if (this.raw !== null) {
      if (this.raw.length < EXACT_SAMPLES) {
        if (this.sorted && this.raw.length > 0 && v < this.raw[this.raw.length - 1]!)
          this.sorted = false;
        this.raw.push(v);
        return;
      }
      this.toSketch();
    }
    this.dd!.accept(v);
  }

  private toSketch(): DDSketch {
    if (this.dd === null) {
      const dd = new DDSketch({ relativeAccuracy: this.relativeAccuracy });
      for (const v of this.raw ?? []) dd.accept(v);
      this.dd = dd;
      this.raw = null;
    }
    return this.dd;
  }

  private values(): number[] {
    const r = this.raw!;
    if (!this.sorted) {
      r.sort((a, b) => a - b);
      this.sorted = true;
    }
    return r;
  }

  /**
   * The value at quantile q ∈ [0, 1] — rank ⌊q·(n−1)⌋ of the sorted values, exactly while
   * exact, else within ±α — or null when empty.
   */
  quantile(q: number): number | null {
    if (this.n === 0 || !(q >= 0 && q <= 1)) return null;
    if (this.raw !== null) return this.values()[Math.floor(q * (this.n - 1))]!;
    const v = this.dd!.getValueAtQuantile(q);
    // A bin's representative value can stray outside the observed range; clamping keeps it
    // within α of the exact quantile (which lies in the range).
    return Math.min(Math.max(v, this.lo), this.hi);
  }

  merge(other: LatencySketch): void {
    if (other.relativeAccuracy !== this.relativeAccuracy)
      throw new Error(
        `cannot merge sketches of relative accuracy ${other.relativeAccuracy} and ${this.relativeAccuracy}`,
      );
    if (other.n === 0) return;
    if (this.raw !== null && other.raw !== null && this.n + other.n <= EXACT_SAMPLES) {
      for (const v of other.raw) this.raw.push(v);
      this.sorted = false;
    } else {
      const dd = this.toSketch();
      if (other.raw !== null) for (const v of other.raw) dd.accept(v);
      else dd.merge(other.dd!);
    }
    this.n += other.n;
    this.total += other.total;
    if (other.lo < this.lo) this.lo = other.lo;
    if (other.hi > this.hi) this.hi = other.hi;
  }

  toJSON(): SerializedSketch {
    const empty = this.n === 0;
    const j: SerializedSketch = {
      n: this.n,
      sum: this.total,
      min: empty ? 0 : this.lo,
      max: empty ? 0 : this.hi,
    };
    if (this.raw !== null) {
      j.values = [...this.values()];
      return j;
    }
    const dd = this.dd!;
    const st = dd.store;
    const bins: number[] = [];
    let key = 0;
    if (st.count > 0) {
      let lo = st.minKey - st.offset;
      let hi = st.maxKey - st.offset;
      while (lo <= hi && (st.bins[lo] ?? 0) === 0) lo++;
      while (hi >= lo && (st.bins[hi] ?? 0) === 0) hi--;
      key = lo + st.offset;
      let zeros = 0;
      for (let i = lo; i <= hi; i++) {
        const c = st.bins[i] ?? 0;
        if (c === 0) {
          zeros++;
          continue;
        }
        if (zeros > 0) bins.push(-zeros);
        zeros = 0;
        bins.push(c);
      }
    }
    j.zero = dd.zeroCount;
    j.key = key;
    j.bins = bins;
    return j;
  }

  /** Rebuilds a sketch from `toJSON()` output; throws on malformed input. */
  static fromJSON(j: SerializedSketch, relativeAccuracy: number): LatencySketch {
    const out = new LatencySketch(relativeAccuracy);
    if (
      typeof j !== 'object' ||
      j === null ||
      !isCount(j.n) ||
      ![j.sum, j.min, j.max].every((x) => typeof x === 'number' && Number.isFinite(x))
    )
      throw new Error('malformed sketch');
    if (j.values !== undefined) {
      if (
        !Array.isArray(j.values) ||
        j.values.length !== j.n ||
        j.n > EXACT_SAMPLES ||
        !j.values.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0)
      )
        throw new Error('malformed sketch values');
      for (const v of j.values) out.add(v);
    } else {
      if (!isCount(j.zero) || !Number.isSafeInteger(j.key) || !Array.isArray(j.bins))
        throw new Error('malformed sketch');
      if (j.n <= EXACT_SAMPLES) throw new Error('malformed sketch: too few values for bins');
      const dd = new DDSketch({ relativeAccuracy });
      let key = j.key!;
      let binned = 0;
      for (const c of j.bins) {
        if (!Number.isSafeInteger(c) || c === 0) throw new Error('malformed sketch bins');
        if (c < 0) {
          key -= c;
          continue;
        }
        dd.store.add(key, c);
        binned += c;
        key++;
      }
      if (binned + j.zero! !== j.n) throw new Error('malformed sketch: counts do not add up');
      dd.zeroCount = j.zero!;
      dd.count = j.n;
      dd.sum = j.sum;
      dd.min = j.min;
      dd.max = j.max;
      out.raw = null;
      out.dd = dd;
      out.n = j.n;
      out.total = j.sum;
    }
    if (j.values !== undefined && j.n > 0 && (out.lo !== j.min || out.hi !== j.max))
      throw new Error('malformed sketch: min/max do not match the values');
    // The sum as recorded (adding the values again in another order could round differently).
    out.total = j.sum;
    if (j.n > 0) {
      out.lo = j.min;
      out.hi = j.max;
    }
    return out;
  }
}
