/**
 * Members in the order they were last added, oldest first, with the oldest found in amortised
 * O(1): for what is evicted or expired oldest first (UDP flows by last packet, half-open
 * connections, unanswered UDP flows).
 *
 * A plain Set kept in insertion order (delete + add to move a member to the end) is not enough:
 * `values().next()` skips the holes that deletions leave at the front of its table until the next
 * rehash, so evicting the oldest of 20,000 members one at a time scanned thousands of holes per
 * eviction (a SYN flood past the half-open limit ran 2.5x slower; UDP flows past maxStreams 1.8x).
 * Here each member maps to the sequence number of its latest place in an array read from a
 * moving head; places a member has since left are skipped, and the array is compacted once at
 * least half of it is stale, so each place is skipped or copied a bounded number of times.
 */
export class OldestFirst<T extends object> {
  /** Member → sequence number of its current place. */
  private readonly place = new Map<T, number>();
  private order: T[] = [];
  private seqs: number[] = [];
  private head = 0;
  private nextSeq = 0;

  get size(): number {
    return this.place.size;
  }

  has(x: T): boolean {
    return this.place.has(x);
  }

  /** Adds `x` as the newest member (moving it there when it is a member already). */
  add(x: T): void {
    const seq = this.nextSeq++;
    this.place.set(x, seq);
    this.order.push(x);
    this.seqs.push(seq);
    this.compactIfStale();
  }

  delete(x: T): void {
    if (this.place.delete(x)) this.compactIfStale();
  }

  /** The oldest member, or undefined when empty. */
  oldest(): T | undefined {
    while (this.head < this.order.length) {
      const x = this.order[this.head]!;
      if (this.place.get(x) === this.seqs[this.head]) return x;
      this.head++;
    }
    return undefined;
  }

  /** Members, oldest first (do not add or delete while iterating). */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.head; i < this.order.length; i++) {
      const x = this.order[i]!;
      if (this.place.get(x) === this.seqs[i]) yield x;
    }
  }

  clear(): void {
    this.place.clear();
    this.order = [];
    this.seqs = [];
    this.head = 0;
  }

  /** Drops stale places once they are at least half of the array (and not few). */
  private compactIfStale(): void {
    if (this.order.length < 2 * this.place.size + 1024) return;
    const order: T[] = [];
    const seqs: number[] = [];
    for (let i = this.head; i < this.order.length; i++) {
      const x = this.order[i]!;
      const seq = this.seqs[i]!;
      if (this.place.get(x) === seq) {
        order.push(x);
        seqs.push(seq);
      }
    }
    this.order = order;
    this.seqs = seqs;
    this.head = 0;
  }
}
