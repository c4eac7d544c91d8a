/**
 * Entries waiting for their Kubernetes identity. An informer hears of a new pod a moment after
 * the pod starts (its watch event trails the kubelet), so the first calls of a pod that calls at
 * once carry an address the identity table does not know yet, and pod targeting would drop them.
 * Such entries wait here instead — bounded in time (HOLD_UNRESOLVED_MS) and in count
 * (HOLD_UNRESOLVED_MAX) — and are decided again each time the identity table changes: kept
 * (stored with their names), dropped as untargeted once their addresses are known, or dropped
 * when they waited too long or there was no room. Every outcome is counted.
 */
import type { Entry } from '../entry/model.ts';

/** Longest an entry waits for its endpoints' identity (ms). */
export const HOLD_UNRESOLVED_MS = 2000;
/** Most entries waiting at once; past it the oldest is dropped (counted). */
export const HOLD_UNRESOLVED_MAX = 4096;
/** How often waiting entries are looked at (a table change decides them again; age expires). */
export const HOLD_RECHECK_MS = 25;

export interface HoldHooks {
  /** Targeting's verdict now (true: keep). */
  keep: (e: Entry) => boolean;
  /** An endpoint is unknown to the identity table, so the verdict may still change. */
  unresolved: (e: Entry) => boolean;
  /** Changes whenever the identity table does. */
  version: () => number;
}

export interface HoldStats {
  /** Waiting now. */
  waiting: number;
  /** Ever held; of them: kept once resolved, dropped as untargeted once resolved, dropped for
   * age, dropped for room. */
  held: number;
  released: number;
  resolvedDropped: number;
  expired: number;
  overflow: number;
}

interface Waiting {
  e: Entry;
  /** When it stops waiting (ms). */
  until: number;
}

export class HeldEntries {
  private q: Waiting[] = [];
  private head = 0;
  private seen: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly st = {
    held: 0,
    released: 0,
    resolvedDropped: 0,
    expired: 0,
    overflow: 0,
  };

  constructor(
    private readonly hooks: HoldHooks,
    /** A held entry that is now kept: the rest of ingest (enrich, redact, store). */
    private readonly admit: (e: Entry) => void,
    /** A held entry dropped (untargeted, too old, no room): counted by the caller too. */
    private readonly drop: (e: Entry) => void,
    private readonly o: { maxMs?: number; max?: number; now?: () => number } = {},
  ) {
    this.seen = hooks.version();
  }

  private get size(): number {
    return this.q.length - this.head;
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  /** Removes the oldest waiting entry (the queue is compacted in `recheck`). */
  private takeOldest(): Entry {
    const w = this.q[this.head]!;
    this.q[this.head++] = undefined as unknown as Waiting;
    return w.e;
  }

  /** Takes `e` (dropped by targeting) when its verdict may still change; false: drop it now. */
  offer(e: Entry): boolean {
    if (!this.hooks.unresolved(e)) return false;
    if (this.size >= (this.o.max ?? HOLD_UNRESOLVED_MAX)) {
      this.st.overflow++;
      this.drop(this.takeOldest());
    }
    this.q.push({ e, until: this.now() + (this.o.maxMs ?? HOLD_UNRESOLVED_MS) });
    this.st.held++;
    if (!this.timer) {
      this.timer = setInterval(() => this.recheck(), HOLD_RECHECK_MS);
      this.timer.unref();
    }
    return true;
  }

  /** Decides again after a table change, then lets out what waited too long. */
  recheck(): void {
    const v = this.hooks.version();
    if (v !== this.seen) {
      this.seen = v;
      const rest: Waiting[] = [];
      for (let i = this.head; i < this.q.length; i++) {
        const w = this.q[i]!;
        if (this.hooks.keep(w.e)) {
          this.st.released++;
          this.admit(w.e);
        } else if (!this.hooks.unresolved(w.e)) {
          this.st.resolvedDropped++;
          this.drop(w.e);
        } else rest.push(w);
      }
      this.q = rest;
      this.head = 0;
    }
    const now = this.now();
    while (this.head < this.q.length && this.q[this.head]!.until <= now) {
      this.st.expired++;
      this.drop(this.takeOldest());
    }
    if (this.head > 1024 && this.head * 2 > this.q.length) {
      this.q = this.q.slice(this.head);
      this.head = 0;
    }
    if (this.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Decides once more, then drops whatever still waits (as expired). */
  close(): void {
    this.seen = Number.NaN; // forces a last decision
    this.recheck();
    for (let i = this.head; i < this.q.length; i++) {
      this.st.expired++;
      this.drop(this.q[i]!.e);
    }
    this.q = [];
    this.head = 0;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  stats(): HoldStats {
    return { waiting: this.size, ...this.st };
  }
}
