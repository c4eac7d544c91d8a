/**
 * Holds the unconsumed tail of a byte stream between `onData` calls, for incremental parsers.
 *
 *   const buf = acc.join(data);      // pending bytes + data (no copy when nothing is pending)
 *   const used = parse(buf);         // parse as much as possible
 *   acc.keep(buf, used);             // copy only the unconsumed tail
 *
 * `data` handed to a session is valid only during the call, so the tail is copied into storage
 * owned here. Storage grows geometrically and is compacted lazily, so a PDU trickling in byte by
 * byte costs amortised O(1) per byte.
 */
const EMPTY = Buffer.alloc(0);

export class ByteAccumulator {
  private store: Buffer = EMPTY;
  private start = 0;
  private end = 0;

  get length(): number {
    return this.end - this.start;
  }

  /** Pending bytes followed by `data`. Returns `data` itself when nothing is pending. */
  join(data: Buffer): Buffer {
    if (this.end === this.start) return data;
    this.append(data);
    return this.store.subarray(this.start, this.end);
  }

  /** Keeps `view.subarray(consumed)` (`view` must come from the last `join`) for the next call. */
  keep(view: Buffer, consumed: number): void {
    const rest = view.length - consumed;
    if (rest <= 0) {
      this.clear();
      return;
    }
    if (
      view.buffer === this.store.buffer &&
      view.byteOffset === this.store.byteOffset + this.start
    ) {
      this.start += consumed; // the view is our own storage: just advance
      return;
    }
    this.start = this.end = 0;
    this.append(view.subarray(consumed));
  }

  /** The pending bytes (a view into storage, valid until the next call). */
  peek(): Buffer {
    return this.store.subarray(this.start, this.end);
  }

  clear(): void {
    this.start = this.end = 0;
    if (this.store.length > 64 * 1024) this.store = EMPTY; // do not pin large buffers when idle
  }

  private append(data: Buffer): void {
    const len = this.end - this.start;
    const need = len + data.length;
    if (this.end + data.length > this.store.length) {
      if (need <= this.store.length && this.start > 0) {
        this.store.copy(this.store, 0, this.start, this.end);
      } else {
        const grown = Buffer.allocUnsafeSlow(Math.max(need, this.store.length * 2, 256));
        this.store.copy(grown, 0, this.start, this.end);
        this.store = grown;
      }
      this.start = 0;
      this.end = len;
    }
    data.copy(this.store, this.end);
    this.end += data.length;
  }
}
