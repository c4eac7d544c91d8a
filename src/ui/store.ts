/**
 * The live table's data outside React: the runner pushes rows and status from the stream; the
 * component subscribes. Notifications are coalesced so a burst of entries costs one render.
 */
import type { EntrySummary } from '../api/types.ts';

/** Rows kept for display: more than any terminal shows; older rows are forgotten. */
export const MAX_LIVE_ROWS = 500;
/** Renders at most this often while entries arrive (ms). */
export const RENDER_INTERVAL_MS = 50;

export interface LiveStatus {
  workersUp: number;
  workersDown: string[];
  entriesPerSec: number;
  /** Entries the server dropped for this client (slow consumer), in total. */
  dropped: number;
  paused: boolean;
  /** The KFL filter in effect ('' = everything). */
  filter: string;
  /** The dashboard URL. */
  url: string;
  /** One-line notice (e.g. "stream disconnected, retrying"); absent when all is well. */
  notice?: string;
}

export interface LiveSnapshot {
  rows: readonly EntrySummary[];
  status: LiveStatus;
  /** Rows received since start (including those no longer kept). */
  received: number;
}

export class LiveStore {
  private rows: EntrySummary[] = [];
  /** Rows added since the last snapshot: merged (and trimmed) once per snapshot, not per row. */
  private pending: EntrySummary[] = [];
  private dirty = false;
  private status: LiveStatus;
  private received = 0;
  private snap: LiveSnapshot;
  private readonly listeners = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;

  constructor(status: LiveStatus) {
    this.status = status;
    this.snap = { rows: this.rows, status, received: 0 };
  }

  add(rows: EntrySummary | readonly EntrySummary[]): void {
    const list = Array.isArray(rows) ? rows : [rows as EntrySummary];
    if (list.length === 0) return;
    for (const r of list) this.pending.push(r);
    if (this.pending.length > MAX_LIVE_ROWS) this.pending = this.pending.slice(-MAX_LIVE_ROWS);
    this.received += list.length;
    this.changed(false);
  }

  clear(): void {
    this.rows = [];
    this.pending = [];
    this.changed(true);
  }

  setStatus(patch: Partial<LiveStatus>): void {
    this.status = { ...this.status, ...patch };
    this.changed(true);
  }

  /** For useSyncExternalStore: stable until something changed. */
  readonly snapshot = (): LiveSnapshot => {
    if (this.dirty) {
      this.dirty = false;
      if (this.pending.length > 0) {
        // A new array each time: a paused table keeps showing the one it holds.
        this.rows = this.rows.concat(this.pending);
        if (this.rows.length > MAX_LIVE_ROWS) this.rows = this.rows.slice(-MAX_LIVE_ROWS);
        this.pending = [];
      }
      this.snap = { rows: this.rows, status: this.status, received: this.received };
    }
    return this.snap;
  };

  readonly subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  /** Stops pending notifications (on unmount). */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.listeners.clear();
  }

  private changed(now: boolean): void {
    this.dirty = true;
    if (now) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.notify();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.notify();
    }, RENDER_INTERVAL_MS);
  }

  private notify(): void {
    for (const fn of this.listeners) fn();
  }
}
