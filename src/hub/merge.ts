/**
 * Merging the workers' pages into one page of the hub: a k-way merge by time (newest first:
 * latest timestamp first; oldest first: earliest first; ties by worker name, then id), and the
 * composite cursor that resumes every worker exactly after the last of its entries the page used.
 * Each worker's own sequence is its storage order (ids), so across workers entries come merged by
 * time, and paging returns every entry exactly once.
 */
import { afterEntry, type HubCursor } from '../api/cursor.ts';
import type { EntryOrder } from '../api/types.ts';

/** One worker's answer for this page. */
export interface WorkerPage {
  name: string;
  /** Summary or full views, in that worker's order. */
  entries: unknown[];
  /** Present when the worker has more after its last entry. */
  cursor?: string;
}

/** µs timestamp of a summary (`ts`) or a full view (`timestamp`, RFC 3339 with µs). */
export function tsOf(v: unknown): number {
  const o = v as { ts?: unknown; timestamp?: unknown };
  if (typeof o.ts === 'number') return o.ts;
  if (typeof o.timestamp === 'number') return o.timestamp;
  if (typeof o.timestamp === 'string') return isoToMicros(o.timestamp);
  return 0;
}

export function idOf(v: unknown): number {
  const id = (v as { id?: unknown }).id;
  return typeof id === 'number' ? id : 0;
}

/** `2026-03-14T22:00:00.123456Z` → µs since the epoch (sub-ms digits kept). */
export function isoToMicros(s: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)$/.exec(s);
  if (!m) return Date.parse(s) * 1000 || 0;
  const sec = Date.parse(m[1]! + m[3]!);
  const frac = Number((m[2] ?? '').slice(0, 6).padEnd(6, '0'));
  return sec * 1000 + frac;
}

export interface MergedPage {
  entries: unknown[];
  /** The next cursor (per worker), or undefined when every reachable worker is exhausted. */
  next: HubCursor | undefined;
}

/**
 * Merges `pages` (from the workers that answered) into at most `limit` entries. `prev` is the
 * cursor this page started from: workers that did not answer keep their positions in it, so a
 * later page picks them up.
 */
export function mergePages(
  pages: readonly WorkerPage[],
  prev: HubCursor,
  order: EntryOrder,
  limit: number,
): MergedPage {
  const newest = order === 'newest';
  const heads = pages.map(() => 0);
  const ts = pages.map((p) => p.entries.map(tsOf));
  const out: unknown[] = [];
  while (out.length < limit) {
    let best = -1;
    for (let i = 0; i < pages.length; i++) {
      const h = heads[i]!;
      if (h >= pages[i]!.entries.length) continue;
      if (best < 0) {
        best = i;
        continue;
      }
      const a = ts[i]![h]!;
      const b = ts[best]![heads[best]!]!;
      if (newest ? a > b : a < b) best = i;
      // Equal times: the earlier worker in name order wins (pages are sorted by name).
    }
    if (best < 0) break;
    out.push(pages[best]!.entries[heads[best]!]);
    heads[best]!++;
  }
  const workers: Record<string, string | null> = { ...prev.workers };
  let more = false;
  pages.forEach((p, i) => {
    const used = heads[i]!;
    if (used === p.entries.length) workers[p.name] = p.cursor ?? null;
    else if (used > 0) workers[p.name] = afterEntry(order, idOf(p.entries[used - 1]));
    // used === 0 with entries left: the worker stays where it was.
    if (workers[p.name] !== null) more = true;
  });
  return { entries: out, next: more ? { order, workers } : undefined };
}
