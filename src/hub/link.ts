/**
 * The hub's view of one worker: how to reach it (HTTP, or an in-process Worker without the HTTP
 * hop), whether it is up, and when to try again. A failed contact marks the worker down and
 * schedules the next probe with exponential backoff (with jitter); while it is down and the retry
 * is not due, requests fail at once (partial answers, never a hang). A successful contact marks
 * it up and emits `up`, which reconnects live streams.
 */
import { EventEmitter } from 'node:events';
import { ApiClient, type StreamHandle } from '../api/client.ts';
import { isUnavailable } from '../api/errors.ts';
import { toSearch, paramsOf } from '../api/params.ts';
import {
  ROUTES,
  type CaptureCounters,
  type Health,
  type KflInfo,
  type StreamMessage,
  type StreamQuery,
  type WorkerState,
} from '../api/types.ts';
import { KsError } from '../util/errors.ts';
import { version } from '../util/version.ts';
import type { Worker } from '../worker/worker.ts';

/** Default time one worker may take to answer one request. */
export const HUB_REQUEST_TIMEOUT_MS = 10_000;
/** Health probe period while a worker is up. */
export const HUB_HEALTH_INTERVAL_MS = 2_000;
/** First retry delay after a failure; doubled per consecutive failure up to the maximum. */
export const HUB_BACKOFF_INITIAL_MS = 250;
export const HUB_BACKOFF_MAX_MS = 10_000;

export interface LinkTiming {
  requestTimeoutMs: number;
  healthIntervalMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
}

/** Callbacks of one upstream live stream. */
export interface UpstreamCallbacks {
  onEntryText(text: string): void;
  onMessage(m: StreamMessage): void;
  onOpen(): void;
  onClose(code: number, reason: string): void;
}

export interface UpstreamHandle {
  setFilter(q: string): void;
  pause(): void;
  resume(): void;
  close(): void;
}

/** How the hub reaches a worker. */
export interface Backend {
  get<T>(path: string, params: object, timeoutMs: number): Promise<T>;
  stream(q: StreamQuery, cb: UpstreamCallbacks): UpstreamHandle;
}

export function httpBackend(url: string): Backend {
  const client = new ApiClient(url);
  return {
    get: (path, params, timeoutMs) => client.request(path, params, { timeoutMs }),
    stream(q, cb) {
      const h: StreamHandle = client.stream(q, (m) => cb.onMessage(m), {
        onOpen: cb.onOpen,
        onClose: cb.onClose,
        onEntryText: cb.onEntryText,
      });
      return h;
    },
  };
}

/** A worker in this process: its API called directly, its stream subscribed directly. */
export function localBackend(worker: Worker): Backend {
  return {
    async get<T>(path: string, params: object): Promise<T> {
      return (await worker.api.call(path, paramsOf(toSearch(params)))) as T;
    },
    stream(q, cb) {
      const sub = worker.subscribe(q.q ?? '', q.view ?? 'summary', (text) => cb.onEntryText(text));
      let kfl: KflInfo = sub.kfl;
      queueMicrotask(() => {
        cb.onOpen();
        cb.onMessage({ type: 'hello', kfl, role: 'worker', version: version() });
      });
      let closed = false;
      return {
        setFilter(filter: string) {
          try {
            kfl = sub.setFilter(filter);
            cb.onMessage({ type: 'hello', kfl, role: 'worker', version: version() });
          } catch (err) {
            cb.onMessage({
              type: 'error',
              error: {
                code: 'KS_ERR_USAGE',
                message: err instanceof Error ? err.message : String(err),
              },
            });
          }
        },
        pause: () => sub.pause(),
        resume: () => sub.resume(),
        close() {
          if (closed) return;
          closed = true;
          sub.close();
          cb.onClose(1000, 'closed');
        },
      };
    },
  };
}

export function backoffDelay(failures: number, t: LinkTiming): number {
  const base = Math.min(t.backoffMaxMs, t.backoffInitialMs * 2 ** Math.max(0, failures - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

export class WorkerLink extends EventEmitter<{ up: []; down: [string] }> {
  up = false;
  private error: string | undefined = 'not contacted yet';
  private lastSeen: number | undefined;
  private health: Health | undefined;
  private failures = 0;
  /** ms (Date.now) before which requests fail at once (while down). */
  private retryAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private probing = false;
  private closed = false;
  /** Resolves after the first probe, whatever its outcome. */
  readonly firstProbe: Promise<void>;
  private resolveFirst!: () => void;

  constructor(
    readonly name: string,
    readonly url: string,
    readonly backend: Backend,
    private readonly t: LinkTiming,
  ) {
    super();
    this.firstProbe = new Promise((r) => (this.resolveFirst = r));
  }

  start(): void {
    void this.probe();
  }

  /** The node this worker serves (from its health), when known. */
  get node(): string | undefined {
    return this.health?.node;
  }

  get capture(): CaptureCounters | undefined {
    return this.up ? this.health?.capture : undefined;
  }

  /** Whether a request may be tried now (up, or down with its retry due). */
  get available(): boolean {
    return this.up || Date.now() >= this.retryAt;
  }

  state(): WorkerState {
    const s: WorkerState = { name: this.name, url: this.url, up: this.up, failures: this.failures };
    if (!this.up && this.error) s.error = this.error;
    if (this.lastSeen !== undefined) s.lastSeen = this.lastSeen;
    if (this.health) {
      s.version = this.health.version;
      if (this.health.node) s.node = this.health.node;
      if (this.up && this.health.capture) s.capture = this.health.capture;
    }
    if (!this.up && this.retryAt > 0) s.nextRetry = this.retryAt * 1000;
    return s;
  }

  /** One request; a failure to reach the worker marks it down (and is rethrown). */
  async get<T>(path: string, params: object): Promise<T> {
    if (this.closed) throw new KsError('KS_ERR_UNAVAILABLE', `worker ${this.name}: hub closing`);
    if (!this.available) {
      throw new KsError(
        'KS_ERR_UNAVAILABLE',
        `worker ${this.name} is down: ${this.error ?? 'unknown'}`,
      );
    }
    try {
      const v = await this.backend.get<T>(path, params, this.t.requestTimeoutMs);
      this.markUp();
      return v;
    } catch (err) {
      if (isUnavailable(err)) this.markDown(err);
      throw err;
    }
  }

  /** Probes now (e.g. a stream to it just closed). */
  probeSoon(): void {
    if (this.closed) return;
    this.schedule(0);
  }

  private async probe(): Promise<void> {
    if (this.probing || this.closed) return;
    this.probing = true;
    try {
      const h = await this.backend.get<Health>(ROUTES.health, {}, this.t.requestTimeoutMs);
      this.health = h;
      this.markUp();
    } catch (err) {
      this.markDown(err);
    } finally {
      this.probing = false;
      this.resolveFirst();
      if (!this.closed && this.up) this.schedule(this.t.healthIntervalMs);
    }
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.probe();
    }, ms);
    this.timer.unref();
  }

  private markUp(): void {
    this.lastSeen = Date.now() * 1000;
    this.failures = 0;
    this.retryAt = 0;
    this.error = undefined;
    if (!this.up) {
      this.up = true;
      if (!this.probing) this.schedule(this.t.healthIntervalMs);
      this.emit('up');
    }
  }

  private markDown(err: unknown): void {
    if (this.closed) return;
    const was = this.up;
    this.up = false;
    this.failures++;
    this.error = err instanceof Error ? err.message : String(err);
    const delay = backoffDelay(this.failures, this.t);
    this.retryAt = Date.now() + delay;
    this.schedule(delay);
    if (was) this.emit('down', this.error);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.removeAllListeners();
    this.resolveFirst();
  }
}
