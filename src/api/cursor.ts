/**
 * Paging cursors. A worker's cursor is the store's (`EntryStore.page`): the position after one
 * entry id in one order, so the hub can make "after this entry" for any entry it has seen. The
 * hub's cursor holds one worker cursor per worker (undefined: not started; null: exhausted).
 * Both are opaque to clients.
 */
import { encodeCursor } from '../store/store.ts';
import { KsError } from '../util/errors.ts';
import type { EntryOrder } from './types.ts';

/** The cursor that resumes after entry `id` (the store's own encoding). */
export function afterEntry(order: EntryOrder, id: number): string {
  return encodeCursor(order, id);
}

export interface HubCursor {
  order: EntryOrder;
  /** Worker name → its cursor; null when that worker has nothing more. */
  workers: Record<string, string | null>;
}

export function encodeHubCursor(c: HubCursor): string {
  return Buffer.from(
    JSON.stringify({ v: 1, o: c.order === 'newest' ? 'n' : 'o', w: c.workers }),
  ).toString('base64url');
}

export function decodeHubCursor(s: string, order: EntryOrder): HubCursor {
  let j: unknown;
  try {
    j = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  } catch {
    throw new KsError('KS_ERR_USAGE', 'parameter `cursor`: not a cursor of this hub');
  }
  const o = j as { v?: unknown; o?: unknown; w?: unknown };
  if (o?.v !== 1 || (o.o !== 'n' && o.o !== 'o') || typeof o.w !== 'object' || o.w === null) {
    throw new KsError('KS_ERR_USAGE', 'parameter `cursor`: not a cursor of this hub');
  }
  if ((o.o === 'n') !== (order === 'newest')) {
    throw new KsError('KS_ERR_USAGE', 'parameter `cursor`: made for the other order');
  }
  const workers: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(o.w as Record<string, unknown>)) {
    if (v !== null && typeof v !== 'string') {
      throw new KsError('KS_ERR_USAGE', 'parameter `cursor`: not a cursor of this hub');
    }
    workers[k] = v;
  }
  return { order, workers };
}
