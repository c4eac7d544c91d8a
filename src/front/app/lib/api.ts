/**
 * The hub's HTTP API as typed calls (src/api/types.ts is the contract). Same origin only: the
 * front server proxies `/api` to the hub, and the dashboard never talks to anything else.
 */
import type {
  ApiErrorBody,
  Boundaries,
  EntriesResponse,
  EntryResponse,
  EntrySummary,
  FieldsResponse,
  Health,
  KflCheck,
  L4Response,
  StatsResponse,
  WorkerState,
} from '../../../api/types.ts';
import { DETAIL_MAX_PAYLOAD, HISTORY_MAX, HISTORY_PAGE } from './limits.ts';

/** An error answer of the API, with its stable code and (for KFL) position. */
export class ApiError extends Error {
  readonly status: number;
  readonly body: ApiErrorBody['error'];
  constructor(status: number, body: ApiErrorBody['error']) {
    super(body.message);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }
}

/** The error body of any failure: the API's own, or a network error. */
export function errorBody(err: unknown): ApiErrorBody['error'] {
  if (err instanceof ApiError) return err.body;
  return { code: 'KS_ERR_NETWORK', message: err instanceof Error ? err.message : String(err) };
}

type Query = Record<string, string | number | boolean | undefined>;

export function apiUrl(path: string, query: Query = {}): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s === '' ? path : `${path}?${s}`;
}

export async function getJson<T>(
  path: string,
  query: Query = {},
  signal?: AbortSignal,
): Promise<T> {
  const res = await fetch(apiUrl(path, query), { signal, headers: { accept: 'application/json' } });
  const text = await res.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    throw new ApiError(res.status, {
      code: 'KS_ERR_API',
      message: `${path}: HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`,
    });
  }
  if (!res.ok) {
    const err = (body as Partial<ApiErrorBody> | undefined)?.error;
    throw new ApiError(
      res.status,
      err ?? { code: 'KS_ERR_API', message: `${path}: HTTP ${res.status}` },
    );
  }
  return body as T;
}

export const api = {
  health: (signal?: AbortSignal) => getJson<Health>('/api/health', {}, signal),
  workers: (signal?: AbortSignal) =>
    getJson<WorkerState[] | { workers: WorkerState[] }>('/api/workers', {}, signal),
  fields: (signal?: AbortSignal) => getJson<FieldsResponse>('/api/fields', {}, signal),
  kfl: (q: string, signal?: AbortSignal) => getJson<KflCheck>('/api/kfl', { q }, signal),
  boundaries: (signal?: AbortSignal) => getJson<Boundaries>('/api/boundaries', {}, signal),
  entries: (query: Query, signal?: AbortSignal) =>
    getJson<EntriesResponse>('/api/entries', query, signal),
  entry: (node: string, id: number, signal?: AbortSignal) =>
    getJson<EntryResponse>(
      `/api/entries/${encodeURIComponent(String(id))}`,
      { node, payload: true, maxPayload: DETAIL_MAX_PAYLOAD },
      signal,
    ),
  stats: (query: Query, signal?: AbortSignal) =>
    getJson<StatsResponse>('/api/stats', query, signal),
  l4: (query: Query, signal?: AbortSignal) => getJson<L4Response>('/api/l4', query, signal),
};

/**
 * The newest `max` entries matching `q`, oldest first (the list's order of arrival), paging
 * with the API's cursor.
 */
export async function loadHistory(
  q: string,
  signal: AbortSignal,
  max = HISTORY_MAX,
): Promise<{ entries: EntrySummary[]; more: boolean; unavailable: string[] }> {
  const out: EntrySummary[] = [];
  const unavailable = new Set<string>();
  let cursor: string | undefined;
  for (;;) {
    const page = await api.entries(
      { q, limit: Math.min(HISTORY_PAGE, max - out.length), order: 'newest', cursor },
      signal,
    );
    for (const e of page.entries) out.push(e);
    for (const u of page.unavailable ?? []) unavailable.add(u);
    cursor = page.cursor;
    if (cursor === undefined || page.entries.length === 0) break;
    if (out.length >= max) break;
  }
  out.reverse();
  return { entries: out, more: cursor !== undefined, unavailable: [...unavailable] };
}
