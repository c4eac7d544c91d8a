/**
 * A small informer: LIST a resource, then WATCH it from the list's resourceVersion, forever.
 *
 * Written here rather than taken from @kubernetes/client-node's ListWatch/makeInformer because
 * those stop for good on any error that is not a 410 (no reconnection, no backoff), restart a
 * watch that the server ended without any delay, have no bound on LIST calls, and give no event
 * time. This one: the first LIST is a `resync` (the consumer diffs it: objects it knew that are
 * absent are gone), ADDED/MODIFIED/DELETED are applied as they come, BOOKMARK only moves the
 * resourceVersion, a 410 Gone (HTTP status or an in-stream ERROR event) means the history we
 * resume from is lost: LIST again and resync, which removes objects deleted while we were not
 * watching. Failures reconnect with capped exponential backoff (with jitter); every LIST takes a
 * token from one process-wide bucket (KUBE_LIST_QPS) so a flapping API server is not hammered.
 *
 * One watch per resource (path + selectors) per process and KubeConfig: `watchResource` shares
 * an informer between subscribers; a late subscriber gets the current objects as a resync.
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { KsError } from '../util/errors.ts';

/** LIST calls per second over the whole process (token bucket refill rate). */
export const KUBE_LIST_QPS = 5;
/** LIST calls that may go at once before the rate applies (token bucket size). */
export const KUBE_LIST_BURST = 10;
/** First reconnection delay after a failure; doubled per consecutive failure up to the maximum. */
export const INFORMER_BACKOFF_INITIAL_MS = 250;
export const INFORMER_BACKOFF_MAX_MS = 30_000;
/**
 * Server-side watch timeout (seconds), randomised in [min, 2·min) as client-go does so that a
 * fleet of workers does not reconnect in step; a client-side deadline a little later catches
 * connections that died silently.
 */
export const INFORMER_WATCH_TIMEOUT_S = 300;
/** Extra time past the server-side timeout before the client gives up on a watch. */
export const INFORMER_WATCH_GRACE_MS = 30_000;
/** A watch that ends sooner than this without delivering anything counts as a failure. */
export const INFORMER_MIN_WATCH_MS = 1_000;
/** Largest LIST body / watch line accepted (bytes). */
export const INFORMER_MAX_BODY_BYTES = 256 * 1024 * 1024;

/** The parts of an object the informer reads. */
export interface WatchedObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; uid?: string };
}

/** What a consumer does with the stream of a resource; times are µs since the epoch. */
export interface InformerHandlers<T extends WatchedObject> {
  /** A full LIST (first sync, after a 410, or the current objects for a late subscriber). */
  resync(items: readonly T[], tsUs: number): void;
  upsert(obj: T, tsUs: number): void;
  remove(obj: T, tsUs: number): void;
}

export interface InformerOptions {
  /** The collection path, e.g. `/api/v1/pods`, `/api/v1/namespaces/ns/pods`. */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Server-side watch timeout (default INFORMER_WATCH_TIMEOUT_S, randomised). */
  watchTimeoutS?: number;
  /** The LIST rate limit (default: the process-wide `kubeListLimiter`). */
  limiter?: TokenBucket;
  /** Problems (reconnections, errors). */
  log?: (line: string) => void;
  /**
   * Applied to every object as it arrives, before it is cached or handed on (client-go's
   * SetTransform): keep only what the consumers read, so the cache of a large cluster stays
   * small. Informers are shared by path, selectors and this function's name.
   */
  transform?: (o: WatchedObject) => WatchedObject;
}

export interface InformerStats {
  path: string;
  resourceVersion: string;
  synced: boolean;
  objects: number;
  lists: number;
  watches: number;
  events: number;
  bookmarks: number;
  /** 410 Gone answers (history lost: relisted). */
  expired: number;
  failures: number;
  lastError?: string;
}

/** Objects per LIST page (`limit`; the API server's continue token fetches the next). */
export const INFORMER_LIST_PAGE = 500;

/** A token bucket: `take()` waits until a call is allowed (`qps` per second, `burst` at once). */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly qps: number,
    readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Takes a token (possibly going into debt); returns how long (ms) the caller must wait. */
  reserve(): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.qps);
    this.last = t;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }

  async take(signal?: AbortSignal): Promise<void> {
    const ms = this.reserve();
    if (ms > 0) await sleep(ms, signal);
  }
}

/** The process-wide LIST limiter (every informer of the process shares it). */
export const kubeListLimiter = new TokenBucket(KUBE_LIST_QPS, KUBE_LIST_BURST);

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done);
  });
}

/** An error answer of the API server (a Status object or a bare HTTP status). */
export class KubeApiError extends KsError {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super('KS_ERR_KUBE_API', message);
  }
}

/** Opens `GET path?query` against the current cluster of `kc` (auth and TLS from it). */
export async function kubeGet(
  kc: KubeConfig,
  path: string,
  query: Record<string, string | undefined>,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KsError('KS_ERR_KUBECONFIG', 'the kubeconfig has no current cluster');
  const url = new URL(cluster.server.replace(/\/+$/, '') + path);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
  const opts: https.RequestOptions = { method: 'GET', headers: { Accept: 'application/json' } };
  await kc.applyToHTTPSOptions(opts);
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { ...opts, signal }, resolve);
    req.on('error', reject);
    req.end();
  });
}

async function readBody(res: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of res as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > INFORMER_MAX_BODY_BYTES) {
      res.destroy();
      throw new KsError('KS_ERR_KUBE_API', `answer larger than ${INFORMER_MAX_BODY_BYTES} bytes`);
    }
    parts.push(c);
  }
  return Buffer.concat(parts).toString('utf8');
}

/** The error of a non-200 answer, from its Status body when there is one. */
async function apiError(res: IncomingMessage, what: string): Promise<KubeApiError> {
  const code = res.statusCode ?? 0;
  let msg = res.statusMessage ?? '';
  try {
    const s = JSON.parse(await readBody(res)) as { message?: string };
    if (s.message) msg = s.message;
  } catch {
    // Not a Status object: the HTTP reason is all there is.
  }
  return new KubeApiError(code, `${what}: HTTP ${code} ${msg}`.trim());
}

type Outcome = 'ended' | 'expired';

const keyOf = (o: WatchedObject): string | undefined => {
  const name = o.metadata?.name;
  if (!name) return undefined;
  return `${o.metadata?.namespace ?? ''}/${name}`;
};

/** One LIST+WATCH loop for one resource, fanned out to its subscribers. */
export class Informer<T extends WatchedObject = WatchedObject> {
  private readonly subs = new Set<InformerHandlers<T>>();
  private readonly objects = new Map<string, T>();
  private rv = '';
  private isSynced = false;
  private stopped = false;
  private readonly abort = new AbortController();
  private current: IncomingMessage | undefined;
  private failures = 0;
  private lastError: string | undefined;
  private readonly counters = { lists: 0, watches: 0, events: 0, bookmarks: 0, expired: 0 };
  /** Resolves after the first successful LIST (rejects only if stopped before it). */
  readonly synced: Promise<void>;
  private resolveSynced!: () => void;
  private rejectSynced!: (e: Error) => void;
  private readonly loop: Promise<void>;

  constructor(
    private readonly kc: KubeConfig,
    private readonly opts: InformerOptions,
  ) {
    this.synced = new Promise((resolve, reject) => {
      this.resolveSynced = resolve;
      this.rejectSynced = reject;
    });
    this.synced.catch(() => undefined);
    this.loop = this.run();
  }

  get path(): string {
    return this.opts.path;
  }

  get resourceVersion(): string {
    return this.rv;
  }

  /** The objects as last seen (a copy of the list). */
  list(): T[] {
    return [...this.objects.values()];
  }

  /** Adds a subscriber; once synced it gets the current objects at once, as a resync. */
  subscribe(h: InformerHandlers<T>): () => void {
    this.subs.add(h);
    if (this.isSynced) h.resync(this.list(), Date.now() * 1000);
    return () => this.subs.delete(h);
  }

  get subscribers(): number {
    return this.subs.size;
  }

  stats(): InformerStats {
    const s: InformerStats = {
      path: this.opts.path,
      resourceVersion: this.rv,
      synced: this.isSynced,
      objects: this.objects.size,
      ...this.counters,
      failures: this.failures,
    };
    if (this.lastError !== undefined) s.lastError = this.lastError;
    return s;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    this.current?.destroy();
    if (!this.isSynced)
      this.rejectSynced(new KsError('KS_ERR_KUBE_API', `${this.opts.path}: stopped before sync`));
    await this.loop;
  }

  // ---------------------------------------------------------------- the loop

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (this.rv === '') await this.relist();
        if (this.stopped) break;
        const began = Date.now();
        const before = this.counters.events + this.counters.bookmarks;
        const outcome = await this.watch();
        if (outcome === 'expired') {
          this.counters.expired++;
          this.opts.log?.(`kube: ${this.opts.path}: watch history expired (410), relisting`);
          this.rv = '';
          continue;
        }
        const quiet = this.counters.events + this.counters.bookmarks === before;
        if (quiet && Date.now() - began < INFORMER_MIN_WATCH_MS && !this.stopped) {
          throw new KsError('KS_ERR_KUBE_API', `${this.opts.path}: watch ended at once`);
        }
        this.failures = 0;
      } catch (err) {
        if (this.stopped) break;
        if (err instanceof KubeApiError && err.statusCode === 410) {
          this.counters.expired++;
          this.rv = '';
          continue;
        }
        this.failures++;
        this.lastError = err instanceof Error ? err.message : String(err);
        const delay = this.backoff();
        this.opts.log?.(
          `kube: ${this.opts.path}: ${this.lastError} (retry ${this.failures} in ${delay} ms)`,
        );
        await sleep(delay, this.abort.signal);
      }
    }
  }

  private backoff(): number {
    const first = this.opts.backoffInitialMs ?? INFORMER_BACKOFF_INITIAL_MS;
    const max = this.opts.backoffMaxMs ?? INFORMER_BACKOFF_MAX_MS;
    const base = Math.min(max, first * 2 ** Math.max(0, this.failures - 1));
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  private async relist(): Promise<void> {
    await (this.opts.limiter ?? kubeListLimiter).take(this.abort.signal);
    if (this.stopped) return;
    // Paged (limit/continue, as client-go's reflector): one page of raw JSON at a time, each
    // object transformed before the next page is read, so a large cluster's first LIST never
    // holds every full object at once.
    const t = this.opts.transform;
    const items: T[] = [];
    let rv = '';
    let cont: string | undefined;
    do {
      const res = await kubeGet(
        this.kc,
        this.opts.path,
        {
          labelSelector: this.opts.labelSelector,
          fieldSelector: this.opts.fieldSelector,
          limit: String(INFORMER_LIST_PAGE),
          continue: cont,
        },
        this.abort.signal,
      );
      if (res.statusCode !== 200) throw await apiError(res, `list ${this.opts.path}`);
      const page = JSON.parse(await readBody(res)) as {
        metadata?: { resourceVersion?: string; continue?: string };
        items?: T[] | null;
      };
      for (const o of page.items ?? []) items.push(t ? (t(o) as T) : o);
      rv = page.metadata?.resourceVersion ?? rv;
      cont = page.metadata?.continue || undefined;
    } while (cont && !this.stopped);
    if (this.stopped) return;
    this.counters.lists++;
    this.objects.clear();
    for (const o of items) {
      const k = keyOf(o);
      if (k !== undefined) this.objects.set(k, o);
    }
    this.rv = rv;
    const ts = Date.now() * 1000;
    for (const s of [...this.subs]) s.resync(items, ts);
    this.failures = 0;
    if (!this.isSynced) {
      this.isSynced = true;
      this.resolveSynced();
    }
  }

  /** One watch connection, until it ends ('ended'), history is lost ('expired'), or it fails. */
  private async watch(): Promise<Outcome> {
    const min = this.opts.watchTimeoutS ?? INFORMER_WATCH_TIMEOUT_S;
    const timeoutS = Math.round(min * (1 + Math.random()));
    const res = await kubeGet(
      this.kc,
      this.opts.path,
      {
        watch: '1',
        resourceVersion: this.rv,
        allowWatchBookmarks: 'true',
        timeoutSeconds: String(timeoutS),
        labelSelector: this.opts.labelSelector,
        fieldSelector: this.opts.fieldSelector,
      },
      this.abort.signal,
    );
    if (res.statusCode === 410) {
      res.resume();
      return 'expired';
    }
    if (res.statusCode !== 200) throw await apiError(res, `watch ${this.opts.path}`);
    this.counters.watches++;
    this.current = res;
    const deadline = setTimeout(() => res.destroy(), timeoutS * 1000 + INFORMER_WATCH_GRACE_MS);
    try {
      return await new Promise<Outcome>((resolve, reject) => {
        let buf = '';
        let outcome: Outcome = 'ended';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (line === '') continue;
            try {
              if (this.event(line) === 'expired') {
                outcome = 'expired';
                res.destroy();
                return;
              }
            } catch (err) {
              res.destroy();
              reject(err instanceof Error ? err : new Error(String(err)));
              return;
            }
          }
          if (buf.length > INFORMER_MAX_BODY_BYTES) {
            res.destroy();
            reject(new KsError('KS_ERR_KUBE_API', `${this.opts.path}: watch line too long`));
          }
        });
        res.on('end', () => resolve(outcome));
        res.on('close', () => resolve(outcome));
        res.on('error', (err) => (outcome === 'expired' ? resolve(outcome) : reject(err)));
      });
    } finally {
      clearTimeout(deadline);
      this.current = undefined;
    }
  }

  /** Applies one watch line; 'expired' on a 410 ERROR event. */
  private event(line: string): Outcome | undefined {
    const ev = JSON.parse(line) as {
      type?: string;
      object?: T & { code?: number; message?: string };
    };
    const raw = ev.object;
    if (!raw) return undefined;
    const t = this.opts.transform;
    const obj =
      t && (ev.type === 'ADDED' || ev.type === 'MODIFIED' || ev.type === 'DELETED')
        ? (t(raw) as typeof raw)
        : raw;
    const ts = Date.now() * 1000;
    switch (ev.type) {
      case 'ADDED':
      case 'MODIFIED': {
        const k = keyOf(obj);
        if (k !== undefined) this.objects.set(k, obj);
        for (const s of [...this.subs]) s.upsert(obj, ts);
        break;
      }
      case 'DELETED': {
        const k = keyOf(obj);
        if (k !== undefined) this.objects.delete(k);
        for (const s of [...this.subs]) s.remove(obj, ts);
        break;
      }
      case 'BOOKMARK':
        this.counters.bookmarks++;
        break;
      case 'ERROR':
        if (obj.code === 410) return 'expired';
        throw new KubeApiError(obj.code ?? 500, `watch ${this.opts.path}: ${obj.message ?? ''}`);
      default:
        return undefined;
    }
    if (ev.type !== 'BOOKMARK') this.counters.events++;
    const rv = obj.metadata?.resourceVersion;
    if (rv) this.rv = rv;
    return undefined;
  }
}

/** A subscription to a shared informer. */
export interface InformerSubscription {
  readonly informer: Informer;
  /** Resolves once the resource has been listed (the handlers got their first resync). */
  readonly synced: Promise<void>;
  /** Unsubscribes; the watch stops when its last subscriber leaves. */
  stop(): Promise<void>;
}

const shared = new WeakMap<KubeConfig, Map<string, Informer>>();

/**
 * Subscribes `handlers` to the one informer of this process for `opts.path` + selectors on `kc`
 * (started on first use). Handlers must not throw (an exception would end the watch connection
 * and reconnect): they are plain table updates.
 */
export function watchResource<T extends WatchedObject>(
  kc: KubeConfig,
  opts: InformerOptions,
  handlers: InformerHandlers<T>,
): InformerSubscription {
  let byKey = shared.get(kc);
  if (!byKey) {
    byKey = new Map();
    shared.set(kc, byKey);
  }
  const key = `${opts.path}?l=${opts.labelSelector ?? ''}&f=${opts.fieldSelector ?? ''}&t=${opts.transform?.name ?? ''}`;
  let inf = byKey.get(key);
  if (!inf) {
    inf = new Informer(kc, opts);
    byKey.set(key, inf);
  }
  const informer = inf;
  const map = byKey;
  const unsubscribe = informer.subscribe(handlers as unknown as InformerHandlers<WatchedObject>);
  let done = false;
  return {
    informer,
    synced: informer.synced,
    async stop() {
      if (done) return;
      done = true;
      unsubscribe();
      if (informer.subscribers === 0) {
        if (map.get(key) === informer) map.delete(key);
        await informer.stop();
      }
    },
  };
}
