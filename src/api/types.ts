/**
 * The Kubeshark HTTP/WebSocket API: one contract for the worker, the hub, the dashboard, the CLI
 * (tap's live table, export) and MCP. The worker serves it for its node; the hub serves the same
 * routes for the whole cluster (fan-out + merge) plus `/api/workers`; the front proxies `/api` to
 * the hub. docs/api.md documents every route; this file is the typed form of that page.
 *
 * Conventions:
 * - JSON everywhere; errors are `ApiErrorBody` with an HTTP status (400 bad input, 404 unknown
 *   id or route, 503 no worker reachable, 500 bug) and a stable `KS_ERR_…` code.
 * - Times: µs since the Unix epoch (numbers) in query parameters and bodies, as the Entry model;
 *   entries themselves are the KFL JSON view (docs/output.md), whose `timestamp` is ISO-8601 `Z`.
 * - `q` is always a KFL filter (KFL2, or KFL1 translated; the translation is echoed in `kfl`).
 * - An entry is identified by (`node`, `id`): ids are unique per worker only.
 */
import type { SerializedL4, L4GroupBy, L4Group } from '../store/stats/l4.ts';
import type { SerializedStats, StatsResult } from '../store/stats/accumulator.ts';
import type { StatsGroupBy } from '../store/stats/groups.ts';

export const API_VERSION = 1;

/** Route paths (relative to the server root). */
export const ROUTES = {
  health: '/api/health',
  /** Hub only: the workers it knows and their state. */
  workers: '/api/workers',
  /** The field catalogue (autocomplete, docs). */
  fields: '/api/fields',
  /** Compile a KFL filter without running it. */
  kfl: '/api/kfl',
  entries: '/api/entries',
  /** `/api/entries/:id?node=NAME` */
  entry: '/api/entries/',
  stats: '/api/stats',
  l4: '/api/l4',
  boundaries: '/api/boundaries',
  /** WebSocket: live entries matching `q`. */
  stream: '/api/stream',
} as const;

/** `GET /api/entries`: page size when `limit` is not given, and the largest accepted. */
export const ENTRIES_DEFAULT_LIMIT = 100;
export const ENTRIES_MAX_LIMIT = 1000;
/** `GET /api/entries/:id`: bodies longer than this are cut unless `maxPayload` says otherwise. */
export const DEFAULT_MAX_PAYLOAD = 65536;
/** `GET /api/l4`: groups answered (top talkers by bytes) when `limit` is not given. */
export const L4_DEFAULT_LIMIT = 100;

/** Query parameters of every route: strings as they arrive in the URL. */
export type Params = Record<string, string | undefined>;

// ---------------------------------------------------------------- typed query parameters

/** Every query below as the typed client passes it; on the wire each field is a parameter. */
export type EntryView = 'summary' | 'full';
export type EntryOrder = 'newest' | 'oldest';

/** A time window, µs since the epoch: start ≤ timestamp < end (ISO-8601 also accepted). */
export interface Window {
  start?: number;
  end?: number;
}

/** `GET /api/entries` */
export interface EntriesQuery extends Window {
  q?: string;
  limit?: number;
  cursor?: string;
  order?: EntryOrder;
  view?: EntryView;
  /** Also count every match (`total`): a full scan, slower on large stores. */
  count?: boolean;
}

/** `GET /api/entries/:id` */
export interface EntryQuery {
  /** The node holding the entry (required by the hub, checked by a worker). */
  node?: string;
  /** false: bodies and payloads left out (default true). */
  payload?: boolean;
  /** Bodies cut to this many bytes (default DEFAULT_MAX_PAYLOAD). */
  maxPayload?: number;
}

/** `GET /api/stats` */
export interface StatsQuery extends Window {
  q?: string;
  groupBy?: StatsGroupBy;
  /** Width of the time-series buckets (default 60; 0: no series). */
  bucketSec?: number;
  /** Which series to compute (default `all`); not used with `raw`. */
  series?: 'all' | 'total' | 'none';
  /** Add empty buckets so series have no holes (default false). */
  fill?: boolean;
}

/** `GET /api/l4` */
export interface L4Query extends Window {
  q?: string;
  by?: L4GroupBy;
  pairs?: boolean;
  /** Groups answered without `raw` (top talkers by bytes; default L4_DEFAULT_LIMIT). */
  limit?: number;
}

/** `WS /api/stream` */
export interface StreamQuery {
  q?: string;
  view?: EntryView;
}

// ---------------------------------------------------------------- errors

export interface ApiErrorBody {
  error: {
    code: string;
    message: string;
    /** KFL errors: 1-based position in the filter, and the caret lines to print under it. */
    line?: number;
    column?: number;
    detail?: string[];
  };
}

// ---------------------------------------------------------------- KFL

/** How a filter was understood: echoed with every filtered answer. */
export interface KflInfo {
  /** As given. */
  kfl: string;
  /** What ran (equal to `kfl` unless translated from KFL1 or macros expanded). */
  kfl2: string;
  /** Human note when `kfl` was translated from KFL1. */
  note?: string;
}

/** `GET /api/kfl?q=` → 200 `KflCheck` (ok or not: a bad filter is an answer here, not an error). */
export interface KflCheck extends Partial<KflInfo> {
  ok: boolean;
  error?: ApiErrorBody['error'];
}

/** `GET /api/fields` */
export interface FieldInfo {
  name: string;
  type: string;
  doc: string;
  /** Protocols (record kinds) the field applies to; absent: every entry. */
  kinds?: string[];
}
export interface FieldsResponse {
  fields: FieldInfo[];
  /** Macro names from `tap.customMacros` (usable like fields). */
  macros: Record<string, string>;
}

// ---------------------------------------------------------------- entries

/**
 * One row of a traffic list: what the dashboard list, the live terminal table and MCP's compact
 * format show. Made from an Entry by `summarize` (src/api/summary.ts) — one function for all.
 */
export interface EntrySummary {
  id: number;
  node: string;
  worker: string;
  /** µs since the epoch. */
  ts: number;
  protocol: string;
  /** `ip:port`, or the identity name (pod/service/process) when known. */
  src: EndpointSummary;
  dst: EndpointSummary;
  /** `GET /api/orders/1`, `A example.com`, `→ text 12B`… */
  summary: string;
  /** HTTP method, DNS query type…; absent when not applicable. */
  method?: string;
  /** HTTP path, DNS name. */
  path?: string;
  /** HTTP status code or DNS rcode (number); absent without a response. */
  status?: number;
  /** Status as shown: `200`, `NXDOMAIN`, `established`… */
  statusText: string;
  /** µs; absent where it has no meaning (a WebSocket message). */
  elapsed?: number;
  requestSize: number;
  responseSize: number;
  error?: { code: string; message: string };
  /** Set when any value of the entry was redacted before storage. */
  redacted?: boolean;
}

export interface EndpointSummary {
  ip: string;
  port: number;
  /** Best display name: pod, service, process, dns name; absent when unknown. */
  name?: string;
  namespace?: string;
}

/**
 * `GET /api/entries?q=&limit=&cursor=&order=newest|oldest&start=&end=&view=summary|full`
 * - `limit` default 100, max 1000; `order` default newest.
 * - `view=summary` (default): `EntrySummary[]`; `view=full`: KFL JSON views (docs/output.md).
 * - `cursor`: opaque, from the previous page (same q/order/window).
 */
export interface EntriesResponse<T = EntrySummary> {
  entries: T[];
  cursor?: string;
  kfl: KflInfo;
  /** With `count=1`: every matching entry in the window (all pages), not only this page's. */
  total?: number;
  /** Hub: workers that did not answer (the result is partial). */
  unavailable?: string[];
}

/** `GET /api/entries/:id?node=NAME&payload=true&maxPayload=65536` → the full KFL JSON view. */
export interface EntryResponse {
  entry: Record<string, unknown>;
  summary: EntrySummary;
  /** Bodies cut to `maxPayload` bytes (the stored entry is whole). */
  truncated?: boolean;
}

// ---------------------------------------------------------------- statistics

/**
 * `GET /api/stats?q=&start=&end=&groupBy=endpoint|service|namespace|node|protocol|service-edge|
 *  pod-edge|namespace-edge|node-edge&bucketSec=60&raw=1` — call statistics of the matching
 * entries (the `-edge` groupings: calls per protocol src → dst, for a service map). `raw=1` answers the mergeable form (what
 * the hub asks workers for); otherwise the computed result.
 */
export interface StatsResponse {
  kfl: KflInfo;
  groupBy: StatsGroupBy;
  result: StatsResult;
  unavailable?: string[];
}
export interface RawStatsResponse {
  kfl: KflInfo;
  stats: SerializedStats;
  unavailable?: string[];
}

/**
 * `GET /api/l4?q=&start=&end=&by=pod|namespace|node|service|ip&pairs=1&raw=1&limit=`
 * L4 connection/flow aggregation (TCP/UDP records) and top talkers.
 */
export interface L4Response {
  kfl: KflInfo;
  /** Mergeable form: every group with `raw=1`, else the top `limit` groups by bytes. */
  l4: SerializedL4;
  /** Without `raw=1`: the same top groups computed for display (RTT mean instead of sum). */
  top?: L4Group[];
  unavailable?: string[];
}
export type { L4Group, L4GroupBy, StatsGroupBy };

// ---------------------------------------------------------------- boundaries, health

/** `GET /api/boundaries`: what each node holds. */
export interface Boundaries {
  nodes: NodeBoundaries[];
  /** Over all nodes (µs since epoch); null when empty. */
  oldest: number | null;
  newest: number | null;
  entries: number;
  /** Hub: workers that did not answer. */
  unavailable?: string[];
}
export interface NodeBoundaries {
  node: string;
  oldest: number | null;
  newest: number | null;
  entries: number;
  bytes: number;
}

/** Live capture and processing counters of one worker (also its Prometheus metrics). */
export interface CaptureCounters {
  /** Interfaces or files being read. */
  sources: string[];
  receivedPackets: number;
  /** Dropped by the kernel, as reported by the capture process. */
  droppedPackets: number;
  /** Dropped by the interface / driver (when reported). */
  ifDroppedPackets: number;
  processedBytes: number;
  liveTcpStreams: number;
  matchedPairs: number;
  entries: number;
  /** Named limits hit (limit name → count). */
  limitsHit: Record<string, number>;
  /** Entries refused by the store (write backlog). */
  storeDropped: number;
  /** Live-stream messages dropped for slow consumers. */
  streamDropped: number;
  /** Entries dropped by pod targeting (`worker --kube`: no targeted pod, or another node's). */
  targetDropped?: number;
  /**
   * `worker --kube`: entries waiting now for an endpoint's identity (a pod the informer has not
   * heard of yet); of those that waited, kept once resolved, and dropped because it did not come
   * in time or there was no room (also counted in `targetDropped`).
   */
  targetHeld?: number;
  targetHeldKept?: number;
  targetHeldExpired?: number;
}

/** `GET /api/health` */
export interface Health {
  role: 'worker' | 'hub';
  version: string;
  apiVersion: number;
  /** Worker: its node; hub: absent. */
  node?: string;
  startedAt: number;
  ok: boolean;
  /** Worker: its counters; hub: summed over reachable workers. */
  capture?: CaptureCounters;
  /** Hub: its workers. */
  workers?: WorkerState[];
  /** Why `ok` is false: a capture source that failed, workers that are down. */
  problems?: string[];
}

/** One worker as the hub sees it (`GET /api/workers`, `Health.workers`). */
export interface WorkerState {
  name: string;
  url: string;
  up: boolean;
  /** Last error when down. */
  error?: string;
  /** µs since epoch of the last successful contact. */
  lastSeen?: number;
  version?: string;
  node?: string;
  capture?: CaptureCounters;
  /** Consecutive failed contacts (0 when up); the next retry waits longer each time. */
  failures?: number;
  /** µs since epoch of the next reconnection attempt, while down. */
  nextRetry?: number;
}

/** `GET /api/workers` (hub) */
export interface WorkersResponse {
  workers: WorkerState[];
}

// ---------------------------------------------------------------- live stream

/**
 * `WS /api/stream?q=KFL&view=summary|full`: the server sends `StreamMessage`s as JSON text
 * frames. The client may send `{ "type": "filter", "q": "..." }` to change the filter, and
 * `{ "type": "pause" }` / `{ "type": "resume" }`. A slow client is never buffered without bound:
 * past a named limit entries are dropped for that client and a `dropped` message says how many.
 */
export type StreamMessage =
  | { type: 'hello'; kfl: KflInfo; role: 'worker' | 'hub'; version: string }
  | { type: 'entry'; entry: EntrySummary | Record<string, unknown> }
  | { type: 'dropped'; count: number; total: number }
  | {
      type: 'status';
      entriesPerSec: number;
      workersUp: number;
      workersDown: string[];
      dropped: number;
    }
  | { type: 'error'; error: ApiErrorBody['error'] };

export type StreamClientMessage =
  { type: 'filter'; q: string } | { type: 'pause' } | { type: 'resume' };
