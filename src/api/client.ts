/**
 * The typed API client: one method per route of src/api/types.ts, and the live stream. The hub
 * (towards its workers), the CLI's live table and MCP use it; it needs only `fetch` and a
 * WebSocket (the browser's, or the `ws` package, loaded on first use in Node), so it also runs
 * in the dashboard. Error answers become `ApiError` (a KsError with the server's code, status and
 * KFL caret); an unreachable or slow server becomes KS_ERR_UNAVAILABLE.
 */
import { KsError } from '../util/errors.ts';
import { ApiError, isApiErrorBody } from './errors.ts';
import { toSearch } from './params.ts';
import {
  ROUTES,
  type Boundaries,
  type EntriesQuery,
  type EntriesResponse,
  type EntryQuery,
  type EntryResponse,
  type EntrySummary,
  type FieldsResponse,
  type Health,
  type KflCheck,
  type L4Query,
  type L4Response,
  type RawStatsResponse,
  type StatsQuery,
  type StatsResponse,
  type StreamClientMessage,
  type StreamMessage,
  type StreamQuery,
  type WorkersResponse,
} from './types.ts';

/** Default time a request may take before it fails with KS_ERR_UNAVAILABLE. */
export const CLIENT_TIMEOUT_MS = 30_000;

/** The parts of the WHATWG WebSocket the client uses (the browser's and `ws` both have them). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', fn: () => void): void;
  addEventListener(type: 'message', fn: (ev: { data: unknown }) => void): void;
  addEventListener(type: 'close', fn: (ev: { code: number; reason: string }) => void): void;
  addEventListener(type: 'error', fn: (ev: unknown) => void): void;
}
export type WebSocketCtor = new (url: string) => WebSocketLike;

export interface ApiClientOptions {
  /** Per-request timeout (default CLIENT_TIMEOUT_MS). */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** WebSocket implementation (default: the global one, else the `ws` package). */
  WebSocket?: WebSocketCtor;
}

export interface RequestOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface StreamCallbacks {
  /** The connection opened (the `hello` message follows). */
  onOpen?: () => void;
  /** The connection closed (by either side, or it could not be opened: code 1006). */
  onClose?: (code: number, reason: string) => void;
  /**
   * Gets `entry` messages as their JSON text, unparsed (instead of `onMessage`): for relays like
   * the hub, which forward them as they are.
   */
  onEntryText?: (text: string) => void;
}

/** A live stream: change its filter, pause, resume, close. */
export interface StreamHandle {
  setFilter(q: string): void;
  pause(): void;
  resume(): void;
  close(): void;
  /** Resolves when the connection is closed, with its close code. */
  readonly closed: Promise<{ code: number; reason: string }>;
}

const OPEN = 1;
/** How every server writes an `entry` message's text (the relay fast path relies on it). */
export const ENTRY_PREFIX = '{"type":"entry",';

function query(params: object): string {
  const text = toSearch(params).toString();
  return text ? `?${text}` : '';
}

async function loadWs(): Promise<WebSocketCtor> {
  const g = (globalThis as { WebSocket?: WebSocketCtor }).WebSocket;
  if (g) return g;
  const m = await import('ws');
  return m.WebSocket as unknown as WebSocketCtor;
}

export class ApiClient {
  readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;
  private readonly wsCtor: WebSocketCtor | undefined;

  constructor(baseUrl: string, opts: ApiClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? CLIENT_TIMEOUT_MS;
    this.fetchFn = opts.fetch ?? ((...a) => fetch(...a));
    this.wsCtor = opts.WebSocket;
  }

  /** GET `path` with `params`; the JSON answer, or ApiError / KS_ERR_UNAVAILABLE. */
  async request<T>(path: string, params: object = {}, opts: RequestOptions = {}): Promise<T> {
    const url = this.baseUrl + path + query(params);
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    let res: Response;
    let text: string;
    try {
      res = await this.fetchFn(url, { signal, headers: { accept: 'application/json' } });
      text = await res.text();
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      const why = timeout.aborted ? `no answer within ${timeoutMs} ms` : describeCause(err);
      throw new KsError('KS_ERR_UNAVAILABLE', `cannot reach ${this.baseUrl}: ${why}`, {
        cause: err,
      });
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new KsError(
        'KS_ERR_UNAVAILABLE',
        `${this.baseUrl} answered ${res.status} with something other than JSON (is it a Kubeshark API?)`,
      );
    }
    if (!res.ok) {
      if (isApiErrorBody(body)) throw new ApiError(res.status, body.error);
      throw new KsError('KS_ERR_UNAVAILABLE', `${this.baseUrl} answered ${res.status}`);
    }
    return body as T;
  }

  entries(q?: EntriesQuery & { view?: 'summary' }, o?: RequestOptions): Promise<EntriesResponse>;
  entries(
    q: EntriesQuery & { view: 'full' },
    o?: RequestOptions,
  ): Promise<EntriesResponse<Record<string, unknown>>>;
  entries(q: EntriesQuery = {}, o?: RequestOptions): Promise<EntriesResponse<unknown>> {
    return this.request(ROUTES.entries, q, o);
  }

  /** Every matching entry, page after page (`limit` is the page size). */
  async *allEntries(q: EntriesQuery & { view?: 'summary' } = {}): AsyncGenerator<EntrySummary> {
    let cursor = q.cursor;
    for (;;) {
      const page = await this.entries({ ...q, cursor });
      yield* page.entries;
      if (page.cursor === undefined) return;
      cursor = page.cursor;
    }
  }

  entry(id: number, q: EntryQuery = {}, o?: RequestOptions): Promise<EntryResponse> {
    return this.request(ROUTES.entry + encodeURIComponent(String(id)), q, o);
  }

  /** Computed statistics. */
  stats(q: StatsQuery = {}, o?: RequestOptions): Promise<StatsResponse> {
    return this.request(ROUTES.stats, q, o);
  }

  /** Mergeable statistics (sketches): what the hub asks its workers for. */
  rawStats(
    q: Omit<StatsQuery, 'series' | 'fill'> = {},
    o?: RequestOptions,
  ): Promise<RawStatsResponse> {
    return this.request(ROUTES.stats, { ...q, raw: true }, o);
  }

  l4(q: L4Query = {}, o?: RequestOptions): Promise<L4Response> {
    return this.request(ROUTES.l4, q, o);
  }

  /** Every L4 group, mergeable. */
  rawL4(q: Omit<L4Query, 'limit'> = {}, o?: RequestOptions): Promise<L4Response> {
    return this.request(ROUTES.l4, { ...q, raw: true }, o);
  }

  boundaries(o?: RequestOptions): Promise<Boundaries> {
    return this.request(ROUTES.boundaries, {}, o);
  }

  health(o?: RequestOptions): Promise<Health> {
    return this.request(ROUTES.health, {}, o);
  }

  fields(o?: RequestOptions): Promise<FieldsResponse> {
    return this.request(ROUTES.fields, {}, o);
  }

  kfl(q: string, o?: RequestOptions): Promise<KflCheck> {
    return this.request(ROUTES.kfl, { q }, o);
  }

  /** Hub only. */
  workers(o?: RequestOptions): Promise<WorkersResponse> {
    return this.request(ROUTES.workers, {}, o);
  }

  /** URL of the live stream. */
  streamUrl(q: StreamQuery = {}): string {
    return this.baseUrl.replace(/^http/, 'ws') + ROUTES.stream + query(q);
  }

  /**
   * Opens the live stream. `onMessage` gets every server message (with its JSON text, which a
   * relay can forward as is). Messages sent before the connection opens are sent when it does.
   */
  stream(
    q: StreamQuery | string,
    onMessage: (m: StreamMessage, text: string) => void,
    cb: StreamCallbacks = {},
  ): StreamHandle {
    const sq: StreamQuery = typeof q === 'string' ? { q } : q;
    const url = this.streamUrl(sq);
    let ws: WebSocketLike | undefined;
    let closing = false;
    const pending: StreamClientMessage[] = [];
    let resolveClosed!: (v: { code: number; reason: string }) => void;
    const closed = new Promise<{ code: number; reason: string }>((r) => (resolveClosed = r));
    const finish = (code: number, reason: string): void => {
      resolveClosed({ code, reason });
      cb.onClose?.(code, reason);
    };
    const sendMsg = (m: StreamClientMessage): void => {
      if (ws && ws.readyState === OPEN) ws.send(JSON.stringify(m));
      else if (!closing) pending.push(m);
    };
    const open = (Ctor: WebSocketCtor): void => {
      if (closing) return finish(1000, 'closed before opening');
      let sock: WebSocketLike;
      try {
        sock = new Ctor(url);
      } catch (err) {
        return finish(1006, describeCause(err));
      }
      ws = sock;
      let done = false;
      sock.addEventListener('open', () => {
        for (const m of pending.splice(0)) sock.send(JSON.stringify(m));
        cb.onOpen?.();
      });
      sock.addEventListener('message', (ev) => {
        const text = typeof ev.data === 'string' ? ev.data : String(ev.data);
        if (cb.onEntryText && text.startsWith(ENTRY_PREFIX)) return cb.onEntryText(text);
        let m: StreamMessage;
        try {
          m = JSON.parse(text) as StreamMessage;
        } catch {
          return;
        }
        onMessage(m, text);
      });
      sock.addEventListener('error', () => {
        // A 'close' event follows; nothing to do here but keep the error from being thrown.
      });
      sock.addEventListener('close', (ev) => {
        if (done) return;
        done = true;
        finish(ev.code, ev.reason);
      });
    };
    if (this.wsCtor) open(this.wsCtor);
    else loadWs().then(open, (err: unknown) => finish(1006, `no WebSocket: ${describeCause(err)}`));
    return {
      setFilter: (filter: string) => sendMsg({ type: 'filter', q: filter }),
      pause: () => sendMsg({ type: 'pause' }),
      resume: () => sendMsg({ type: 'resume' }),
      close: () => {
        closing = true;
        ws?.close(1000, 'client closed');
      },
      closed,
    };
  }
}

function describeCause(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  if (cause?.code) return cause.code;
  if (cause?.message) return cause.message;
  return err instanceof Error ? err.message : String(err);
}
