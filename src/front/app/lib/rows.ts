/**
 * The live list's rows: a fixed-capacity ring, oldest first. Pushing is O(1) whatever the rate;
 * past the capacity the oldest row is overwritten and counted in `dropped`, which the list shows.
 * Mutable on purpose: the stream appends as messages arrive and React renders once per frame.
 */
export class RowRing<T> {
  readonly capacity: number;
  private readonly buf: (T | undefined)[];
  private head = 0;
  private count = 0;
  /** Rows pushed out by newer ones since the last `clear()`. */
  dropped = 0;
  /** Rows pushed since the last `clear()` (kept + dropped). */
  pushed = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be ≥ 1');
    this.capacity = capacity;
    this.buf = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(row: T): void {
    this.pushed++;
    if (this.count < this.capacity) {
      this.buf[(this.head + this.count) % this.capacity] = row;
      this.count++;
      return;
    }
    this.buf[this.head] = row;
    this.head = (this.head + 1) % this.capacity;
    this.dropped++;
  }

  /** The i-th oldest row (0 ≤ i < size). */
  at(i: number): T | undefined {
    if (i < 0 || i >= this.count) return undefined;
    return this.buf[(this.head + i) % this.capacity];
  }

  /** The i-th newest row (0 = the newest). */
  fromNewest(i: number): T | undefined {
    return this.at(this.count - 1 - i);
  }

  clear(): void {
    this.buf.fill(undefined);
    this.head = 0;
    this.count = 0;
    this.dropped = 0;
    this.pushed = 0;
  }

  /** Oldest first (tests and small exports; not for the render path). */
  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.at(i) as T);
    return out;
  }
}
