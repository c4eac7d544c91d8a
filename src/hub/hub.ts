/**
 * The hub role: the route table's handlers (src/api/routes.ts) for every worker at once.
 * Queries fan out to the workers in parallel (each with a timeout) and merge: entries by time
 * with a per-worker cursor,
 * statistics from the workers' mergeable sketches (`raw=1`, merged exactly, then computed), L4
 * aggregations, boundaries per node. Workers that do not answer are listed in `unavailable` (a
 * partial answer, never a hang); only when none answers is the answer 503. Workers come from a
 * list (URLs, or in-process Worker handles); each is probed and reconnected with backoff.
 */
import { l4Answer, statsResultOptions } from '../api/answers.ts';
import { decodeHubCursor, encodeHubCursor, type HubCursor } from '../api/cursor.ts';
import { isUnavailable } from '../api/errors.ts';
import { KflCompiler, kflInfo } from '../api/kfl.ts';
import type {
  ParsedEntriesQuery,
  ParsedEntryQuery,
  ParsedL4Query,
  ParsedStatsQuery,
} from '../api/params.ts';
import { API_ROUTES, type ApiHandlers, type QueryOf } from '../api/routes.ts';
import { accessPolicyOf, inClusterEnv, type AccessPolicy } from '../api/origin.ts';
import { RoleServer, createApiServer, nodeApi, type NodeApi } from '../api/server.ts';
import { STREAM_STATUS_INTERVAL_MS, type PeerStats, type StreamProvider } from '../api/stream.ts';
import {
  API_VERSION,
  type Boundaries,
  type CaptureCounters,
  type EntriesResponse,
  type EntryResponse,
  type Health,
  type L4Response,
  type RawStatsResponse,
  type StatsResponse,
  type WorkerState,
} from '../api/types.ts';
import { defaultConfig, type ConfigTree } from '../config/load.ts';
import { StatsAccumulator } from '../store/stats/accumulator.ts';
import { L4Aggregation } from '../store/stats/l4.ts';
import { KsError } from '../util/errors.ts';
import { version } from '../util/version.ts';
import type { Worker } from '../worker/worker.ts';
import {
  HUB_BACKOFF_INITIAL_MS,
  HUB_BACKOFF_MAX_MS,
  HUB_HEALTH_INTERVAL_MS,
  HUB_REQUEST_TIMEOUT_MS,
  WorkerLink,
  httpBackend,
  localBackend,
  type LinkTiming,
} from './link.ts';
import { handleMcpHttp } from '../mcp/server.ts';
import { mergePages, type WorkerPage } from './merge.ts';
import { HubStreamClient } from './stream.ts';

/** A worker the hub knows: by URL, or an in-process Worker (no HTTP hop). */
export type HubWorkerSpec = { name: string; url: string } | { name: string; worker: Worker };

export interface HubOptions {
  workers: HubWorkerSpec[];
  /** The resolved config (macros for KFL); default: defaults. */
  config?: ConfigTree;
  /** Hosts and proxies the gate accepts (default: `accessPolicyOf(config)`, src/api/origin.ts). */
  access?: AccessPolicy;
  /** Per worker request (default HUB_REQUEST_TIMEOUT_MS). */
  requestTimeoutMs?: number;
  /** Health probe period while up (default HUB_HEALTH_INTERVAL_MS). */
  healthIntervalMs?: number;
  /** Reconnection backoff (default HUB_BACKOFF_INITIAL_MS doubling to HUB_BACKOFF_MAX_MS). */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
}

export interface Hub {
  readonly api: NodeApi;
  /** Resolves when every worker has been probed once (up or not). */
  readonly ready: Promise<void>;
  listen(port?: number, host?: string): Promise<number>;
  workers(): WorkerState[];
  /**
   * Makes the worker set exactly `specs` (discovery): links whose name and address are unchanged
   * are kept (with their state and open streams), others are added or removed. A removed worker
   * is no longer queried, leaves /api/workers, and its upstream in every live stream is closed.
   */
  setWorkers(specs: readonly HubWorkerSpec[]): void;
  /** Adds a worker, or replaces one of the same name whose address differs. */
  addWorker(spec: HubWorkerSpec): void;
  /** Removes a worker by name; false when there was none. */
  removeWorker(name: string): boolean;
  /** Per WebSocket stream client: queue, socket buffer, drops, upstreams open. */
  streamClients(): (PeerStats & { upstreams: number })[];
  close(): Promise<void>;
}

type Outcome<T> =
  { link: WorkerLink; ok: true; value: T } | { link: WorkerLink; ok: false; error: unknown };

export function createHub(opts: HubOptions): Hub {
  return new HubImpl(opts);
}

class HubImpl implements Hub {
  readonly api: NodeApi;
  readonly ready: Promise<void>;
  private links: WorkerLink[];
  /** What each link was made from (to tell an unchanged worker from a moved one). */
  private readonly specs = new WeakMap<WorkerLink, HubWorkerSpec>();
  private closed = false;
  private readonly compiler: KflCompiler;
  private readonly timing: LinkTiming;
  private readonly startedAt = Date.now() * 1000;
  private readonly clients = new Set<HubStreamClient>();
  private streamDropped = 0;
  private readonly access: AccessPolicy;
  private readonly server = new RoleServer('hub', () => createApiServer(this.api, this.access));
  private readonly statusTimer: NodeJS.Timeout;

  constructor(opts: HubOptions) {
    const names = new Set<string>();
    for (const w of opts.workers) {
      if (!w.name) throw new KsError('KS_ERR_USAGE', 'a hub worker needs a name');
      if (names.has(w.name))
        throw new KsError('KS_ERR_USAGE', `two hub workers are named ${w.name}`);
      names.add(w.name);
    }
    this.timing = {
      requestTimeoutMs: opts.requestTimeoutMs ?? HUB_REQUEST_TIMEOUT_MS,
      healthIntervalMs: opts.healthIntervalMs ?? HUB_HEALTH_INTERVAL_MS,
      backoffInitialMs: opts.backoffInitialMs ?? HUB_BACKOFF_INITIAL_MS,
      backoffMaxMs: opts.backoffMaxMs ?? HUB_BACKOFF_MAX_MS,
    };
    // Sorted by name: ties in merged pages go to the earlier name, deterministically.
    this.links = [...opts.workers].sort((a, b) => byName(a.name, b.name)).map((w) => this.link(w));
    const config = opts.config ?? defaultConfig();
    this.access = opts.access ?? accessPolicyOf(config, { inCluster: inClusterEnv() });
    this.compiler = KflCompiler.fromConfig(config);
    this.api = nodeApi({
      role: 'hub',
      handlers: this.handlers(),
      stream: this.streamProvider(),
      // `/api/mcp`: the MCP tools over Streamable HTTP (src/mcp), calling this API in process.
      raw: { mcp: (req, res) => handleMcpHttp(this.api, req, res) },
    });
    for (const l of this.links) l.start();
    this.ready = Promise.all(this.links.map((l) => l.firstProbe)).then(() => undefined);
    this.statusTimer = setInterval(() => this.status(), STREAM_STATUS_INTERVAL_MS);
    this.statusTimer.unref();
  }

  private link(w: HubWorkerSpec): WorkerLink {
    const l =
      'worker' in w
        ? new WorkerLink(w.name, 'in-process', localBackend(w.worker), this.timing)
        : new WorkerLink(w.name, w.url.replace(/\/+$/, ''), httpBackend(w.url), this.timing);
    this.specs.set(l, w);
    return l;
  }

  // ---------------------------------------------------------------- worker set

  setWorkers(specs: readonly HubWorkerSpec[]): void {
    const want = new Map<string, HubWorkerSpec>();
    for (const w of specs) {
      if (!w.name) throw new KsError('KS_ERR_USAGE', 'a hub worker needs a name');
      if (want.has(w.name))
        throw new KsError('KS_ERR_USAGE', `two hub workers are named ${w.name}`);
      want.set(w.name, w);
    }
    for (const l of [...this.links]) if (!want.has(l.name)) this.removeWorker(l.name);
    for (const w of want.values()) this.addWorker(w);
  }

  addWorker(spec: HubWorkerSpec): void {
    if (!spec.name) throw new KsError('KS_ERR_USAGE', 'a hub worker needs a name');
    const old = this.links.find((l) => l.name === spec.name);
    if (old) {
      const was = this.specs.get(old);
      const same =
        'worker' in spec
          ? was !== undefined && 'worker' in was && was.worker === spec.worker
          : old.url === spec.url.replace(/\/+$/, '');
      if (same) return;
      this.removeWorker(spec.name);
    }
    if (this.closed) return;
    const link = this.link(spec);
    // A new array: fan-outs in flight keep iterating the set they started with.
    this.links = [...this.links, link].sort((a, b) => byName(a.name, b.name));
    link.start();
    for (const c of this.clients) c.addLink(link);
  }

  removeWorker(name: string): boolean {
    const link = this.links.find((l) => l.name === name);
    if (!link) return false;
    this.links = this.links.filter((l) => l !== link);
    for (const c of this.clients) c.removeLink(link);
    link.close();
    return true;
  }

  // ---------------------------------------------------------------- fan-out

  /**
   * Asks `links` in parallel (`params` per link); unreachable workers become outcomes, other
   * errors (a 4xx answer: the request is wrong) are thrown. None answering is a 503.
   */
  private async fan<T>(
    links: readonly WorkerLink[],
    path: string,
    params: (l: WorkerLink) => object,
  ): Promise<Outcome<T>[]> {
    const outcomes = await Promise.all(
      links.map((link) =>
        link.get<T>(path, params(link)).then(
          (value): Outcome<T> => ({ link, ok: true, value }),
          (error: unknown): Outcome<T> => ({ link, ok: false, error }),
        ),
      ),
    );
    for (const o of outcomes) if (!o.ok && !isUnavailable(o.error)) throw o.error;
    if (links.length > 0 && outcomes.every((o) => !o.ok)) {
      const why = outcomes.map((o) => `${o.link.name}: ${o.ok ? '' : errText(o.error)}`);
      throw new KsError('KS_ERR_UNAVAILABLE', `no worker answered (${why.join('; ')})`);
    }
    return outcomes;
  }

  /** The route table's handlers for the whole cluster: fan-out to the workers, merge. */
  private handlers(): ApiHandlers {
    return {
      health: () => this.health(),
      workers: () => ({ workers: this.workers() }),
      fields: () => this.compiler.fields(),
      kfl: (q) => this.compiler.check(q.q),
      entries: (q) => this.entries(q),
      entry: (q) => this.entry(q),
      stats: (q) => this.stats(q),
      l4: (q) => this.l4(q),
      boundaries: () => this.boundaries(),
    };
  }

  private async entries(p: ParsedEntriesQuery): Promise<EntriesResponse<unknown>> {
    const f = this.compiler.compile(p.q);
    const prev: HubCursor = p.cursor
      ? decodeHubCursor(p.cursor, p.order)
      : { order: p.order, workers: {} };
    const targets = this.links.filter((l) => prev.workers[l.name] !== null);
    const outcomes = await this.fan<EntriesResponse<unknown>>(targets, ENTRIES, (l) => ({
      q: p.q,
      limit: p.limit,
      order: p.order,
      view: p.view,
      start: p.start,
      end: p.end,
      cursor: prev.workers[l.name] ?? undefined,
      count: p.count && p.cursor === undefined ? true : undefined,
    }));
    const pages: WorkerPage[] = [];
    const unavailable: string[] = [];
    let total = 0;
    for (const o of outcomes) {
      if (!o.ok) {
        unavailable.push(o.link.name);
        continue;
      }
      pages.push({ name: o.link.name, entries: o.value.entries, cursor: o.value.cursor });
      total += o.value.total ?? 0;
    }
    const merged = mergePages(pages, prev, p.order, p.limit);
    const res: EntriesResponse<unknown> = { entries: merged.entries, kfl: kflInfo(f) };
    if (merged.next) res.cursor = encodeHubCursor(merged.next);
    if (p.count) res.total = p.cursor === undefined ? total : await this.count(p);
    if (unavailable.length > 0) res.unavailable = unavailable;
    return res;
  }

  /** The total of a paged query (counted from the start of the window, on every worker). */
  private async count(p: ParsedEntriesQuery): Promise<number> {
    const outcomes = await this.fan<EntriesResponse<unknown>>(this.links, ENTRIES, () => ({
      q: p.q,
      limit: 1,
      start: p.start,
      end: p.end,
      count: true,
    }));
    return outcomes.reduce((n, o) => n + (o.ok ? (o.value.total ?? 0) : 0), 0);
  }

  private async entry(q: QueryOf<'entry'>): Promise<EntryResponse> {
    const { id, ...p }: { id: number } & ParsedEntryQuery = q;
    let link: WorkerLink | undefined;
    if (p.node === undefined) {
      if (this.links.length !== 1) {
        throw new KsError(
          'KS_ERR_USAGE',
          'parameter `node` is required: entry ids are unique per node only',
        );
      }
      link = this.links[0];
    } else {
      link = this.links.find((l) => l.node === p.node) ?? this.links.find((l) => l.name === p.node);
    }
    if (link === undefined) {
      const unknown = this.links.filter((l) => l.node === undefined).map((l) => l.name);
      if (unknown.length > 0) {
        throw new KsError(
          'KS_ERR_UNAVAILABLE',
          `no reachable worker serves node ${p.node} (not reached yet: ${unknown.join(', ')})`,
        );
      }
      throw new KsError('KS_ERR_NOT_FOUND', `no worker serves node ${p.node}`);
    }
    return link.get<EntryResponse>(`${ENTRIES}/${id}`, { ...p, node: link.node ?? p.node });
  }

  private async stats(p: ParsedStatsQuery): Promise<StatsResponse | RawStatsResponse> {
    const f = this.compiler.compile(p.q);
    const outcomes = await this.fan<RawStatsResponse>(this.links, API_ROUTES.stats.path, () => ({
      q: p.q,
      groupBy: p.groupBy,
      bucketSec: p.bucketSec,
      start: p.start,
      end: p.end,
      raw: true,
    }));
    const acc = new StatsAccumulator({ groupBy: p.groupBy, bucketSec: p.bucketSec });
    const unavailable: string[] = [];
    for (const o of outcomes) {
      if (o.ok) acc.merge(o.value.stats);
      else unavailable.push(o.link.name);
    }
    const res: StatsResponse | RawStatsResponse = p.raw
      ? { kfl: kflInfo(f), stats: acc.toJSON() }
      : { kfl: kflInfo(f), groupBy: p.groupBy, result: acc.result(statsResultOptions(p)) };
    if (unavailable.length > 0) res.unavailable = unavailable;
    return res;
  }

  private async l4(p: ParsedL4Query): Promise<L4Response> {
    const f = this.compiler.compile(p.q);
    const outcomes = await this.fan<L4Response>(this.links, API_ROUTES.l4.path, () => ({
      q: p.q,
      by: p.by,
      pairs: p.pairs,
      start: p.start,
      end: p.end,
      raw: true,
    }));
    const agg = new L4Aggregation({ by: p.by, pairs: p.pairs });
    const unavailable: string[] = [];
    for (const o of outcomes) {
      if (o.ok) agg.merge(o.value.l4);
      else unavailable.push(o.link.name);
    }
    const res = l4Answer(agg, kflInfo(f), p.raw, p.limit);
    if (unavailable.length > 0) res.unavailable = unavailable;
    return res;
  }

  private async boundaries(): Promise<Boundaries> {
    const outcomes = await this.fan<Boundaries>(this.links, API_ROUTES.boundaries.path, () => ({}));
    const res: Boundaries = { nodes: [], oldest: null, newest: null, entries: 0 };
    const unavailable: string[] = [];
    for (const o of outcomes) {
      if (!o.ok) {
        unavailable.push(o.link.name);
        continue;
      }
      for (const n of o.value.nodes) {
        res.nodes.push(n);
        res.entries += n.entries;
        if (n.oldest !== null)
          res.oldest = res.oldest === null ? n.oldest : Math.min(res.oldest, n.oldest);
        if (n.newest !== null)
          res.newest = res.newest === null ? n.newest : Math.max(res.newest, n.newest);
      }
    }
    if (unavailable.length > 0) res.unavailable = unavailable;
    return res;
  }

  // ---------------------------------------------------------------- state

  workers(): WorkerState[] {
    return this.links.map((l) => l.state());
  }

  private health(): Health {
    const workers = this.workers();
    const down = workers.filter((w) => !w.up);
    const h: Health = {
      role: 'hub',
      version: version(),
      apiVersion: API_VERSION,
      startedAt: this.startedAt,
      ok: down.length === 0,
      capture: sumCounters(
        workers.flatMap((w) => (w.capture ? [w.capture] : [])),
        this.streamDropped,
      ),
      workers,
    };
    if (down.length > 0)
      h.problems = down.map((w) => `worker ${w.name} is down: ${w.error ?? 'unknown'}`);
    return h;
  }

  // ---------------------------------------------------------------- live stream

  /** `/api/stream`: per client, one upstream per worker (src/hub/stream.ts). */
  private streamProvider(): StreamProvider {
    return {
      role: 'hub',
      compiler: this.compiler,
      onDrop: (n) => void (this.streamDropped += n),
      open: (peer, q) => {
        const c = new HubStreamClient(peer, q.q, q.view, this.links, this.timing, (gone) =>
          this.clients.delete(gone),
        );
        this.clients.add(c);
        return c;
      },
    };
  }

  private status(): void {
    if (this.clients.size === 0) return;
    const up = this.links.filter((l) => l.up).length;
    const down = this.links.filter((l) => !l.up).map((l) => l.name);
    for (const c of this.clients) c.status(up, down);
  }

  streamClients(): (PeerStats & { upstreams: number })[] {
    return [...this.clients].map((c) => ({ ...c.stats(), upstreams: c.connectedUpstreams() }));
  }

  // ---------------------------------------------------------------- serving

  async listen(port = 0, host?: string): Promise<number> {
    return this.server.listen(port, host);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.statusTimer);
    for (const c of this.clients) c.close();
    this.clients.clear();
    for (const l of this.links) l.close();
    await this.server.close();
  }
}

/** Counters of the reachable workers, added up (sources listed once each). */
function sumCounters(list: readonly CaptureCounters[], hubStreamDropped: number): CaptureCounters {
  const sum: CaptureCounters = {
    sources: [],
    receivedPackets: 0,
    droppedPackets: 0,
    ifDroppedPackets: 0,
    processedBytes: 0,
    liveTcpStreams: 0,
    matchedPairs: 0,
    entries: 0,
    limitsHit: {},
    storeDropped: 0,
    streamDropped: hubStreamDropped,
  };
  for (const c of list) {
    sum.sources.push(...c.sources);
    sum.receivedPackets += c.receivedPackets;
    sum.droppedPackets += c.droppedPackets;
    sum.ifDroppedPackets += c.ifDroppedPackets;
    sum.processedBytes += c.processedBytes;
    sum.liveTcpStreams += c.liveTcpStreams;
    sum.matchedPairs += c.matchedPairs;
    sum.entries += c.entries;
    sum.storeDropped += c.storeDropped;
    sum.streamDropped += c.streamDropped;
    if (c.targetDropped !== undefined)
      sum.targetDropped = (sum.targetDropped ?? 0) + c.targetDropped;
    if (c.storeLost !== undefined) sum.storeLost = (sum.storeLost ?? 0) + c.storeLost;
    for (const [k, v] of Object.entries(c.limitsHit))
      sum.limitsHit[k] = (sum.limitsHit[k] ?? 0) + v;
  }
  return sum;
}

/** `/api/entries`: what the hub asks the workers for (`/api/entries/:id` below it). */
const ENTRIES = API_ROUTES.entries.path;

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
