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
 *
 * This file imports nothing: it is the contract the browser compiles against. The store's
 * statistics types are checked against the wire types below in src/api/contract.ts.
 */

export const API_VERSION = 1;

/** Route paths (relative to the server root); src/api/routes.ts is the table built on them. */
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
  /** Hub only: MCP over Streamable HTTP (POST). */
  mcp: '/api/mcp',
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
  /**
   * How `status` is coloured, decided by the protocol's dissector: `ok`, `redirect`, `client`
   * (HTTP 4xx, DNS NXDOMAIN), `server` (HTTP 5xx, other DNS errors), `none`; absent with `status`.
   */
  statusClass?: 'ok' | 'redirect' | 'client' | 'server' | 'none';
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

// ---------------------------------------------------------------- statistics on the wire

/**
 * `groupBy` of `GET /api/stats`: per endpoint, service, namespace, node or protocol, or calls per
 * `protocol src -> dst` pair (the service map's edges) with the ends grouped by service, pod,
 * namespace or node.
 */
export type StatsGroupBy =
  | 'endpoint'
  | 'service'
  | 'namespace'
  | 'node'
  | 'protocol'
  | 'service-edge'
  | 'pod-edge'
  | 'namespace-edge'
  | 'node-edge';

/** `by` of `GET /api/l4`. */
export type L4GroupBy = 'pod' | 'namespace' | 'node' | 'service' | 'ip';

/**
 * Error classes of calls. `http_4xx` and `capture` are reported on their own; the others make a
 * call count as failed (`errorRate`).
 */
export type ErrorClass =
  'http_4xx' | 'http_5xx' | 'grpc' | 'dns' | 'db' | 'no_response' | 'capture';

/** The parts a statistics group key was made of, so tools can show them as columns. */
export interface GroupLabels {
  protocol?: string;
  method?: string;
  path?: string;
  /** Service (or pod, or ip:port) name. */
  name?: string;
  namespace?: string;
  /** `service`, `pod` or `address`: what `name` is (service grouping). */
  kind?: 'service' | 'pod' | 'address';
  node?: string;
  /** Edge groupings: the two ends' keys (`namespace` is the destination's). */
  src?: string;
  dst?: string;
  srcNamespace?: string;
}

/** A latency sketch (DDSketch, or the exact values while few), mergeable bin by bin. */
export interface SerializedSketch {
  /** Values recorded, zeros included. */
  n: number;
  sum: number;
  min: number;
  max: number;
  values?: number[];
  zero?: number;
  key?: number;
  bins?: number[];
}

export interface SerializedCounters {
  calls: number;
  /** Calls with at least one failure class. */
  failed: number;
  /** Calls per error class (classes with 0 omitted). */
  errors: Partial<Record<ErrorClass, number>>;
  requestBytes: number;
  responseBytes: number;
  /** First / last call start (µs); 0 when no calls. */
  first: number;
  last: number;
  /** Absent when the group has no latency sample. */
  latency?: SerializedSketch;
}

export interface SerializedBucket extends SerializedCounters {
  /** Bucket start, µs since the epoch (a multiple of bucketSec, so nodes' buckets line up). */
  start: number;
}

/** One group: with series its totals are the sum of its buckets; without, `counters`. */
export interface SerializedGroup {
  key: string;
  labels: GroupLabels;
  counters?: SerializedCounters;
  buckets: SerializedBucket[];
}

/** `raw=1` statistics: what workers answer the hub, merged exactly. */
export interface SerializedStats {
  format: 'kubeshark-stats';
  version: 1;
  groupBy: StatsGroupBy;
  bucketSec: number;
  relativeAccuracy: number;
  maxGroups: number;
  /** Entries seen that are not calls (L4 records). */
  ignored: number;
  /** Sorted by key. */
  groups: SerializedGroup[];
}

export interface LatencyStats {
  /** Calls with a latency sample. */
  samples: number;
  /** µs; within ±relativeAccuracy of the exact quantile. */
  p50: number;
  p95: number;
  p99: number;
  /** µs, exact. */
  min: number;
  max: number;
  mean: number;
}

export interface CallStats {
  calls: number;
  /** Calls per second over the window (the bucket, for series). */
  ratePerSec: number;
  /** Calls with a failure class; `errorRate` = failed / calls. */
  failed: number;
  errorRate: number;
  /** Calls per error class, every class present. */
  errors: Record<ErrorClass, number>;
  /** errors / calls per class (`http_5xx`: status ≥ 500, `http_4xx`: 400–499). */
  errorRates: Record<ErrorClass, number>;
  latency: LatencyStats | null;
  bytes: { request: number; response: number; total: number };
  /** First / last call start, µs since the epoch; null without calls. */
  first: number | null;
  last: number | null;
}

export interface BucketStats extends CallStats {
  /** µs since the epoch. */
  start: number;
}

export interface GroupStats extends CallStats {
  key: string;
  labels: GroupLabels;
  /** Sorted by start; empty when series are disabled. */
  series: BucketStats[];
}

/** Computed statistics (`GET /api/stats` without `raw`). */
export interface StatsResult {
  groupBy: StatsGroupBy;
  bucketSec: number;
  relativeAccuracy: number;
  /** The window rates are computed over (µs); start/end null when nothing was counted. */
  window: { start: number | null; end: number | null; seconds: number };
  /** Entries seen that are not calls (L4 records). */
  ignored: number;
  /** Every call, all groups merged; its series are the overall series. */
  total: GroupStats;
  /** Sorted by calls (descending), then key. */
  groups: GroupStats[];
}

export interface DirectionTotals {
  packets: number;
  /** IP bytes, headers included. */
  bytes: number;
  payloadBytes: number;
}

/** One L4 group (a pod, namespace, node, service or IP; or a client → server pair). */
export interface L4Group {
  key: string;
  /** TCP connections and UDP flows (records) touching the group. */
  connections: number;
  flows: number;
  /** From the group's side. */
  sent: DirectionTotals;
  received: DirectionTotals;
  retransmissions: number;
  /** Connections that ended with a RST. */
  resets: number;
  /** TCP handshake round trips (µs) of the connections that had one. */
  rtt: { samples: number; min: number; max: number; mean: number } | null;
  /** Records per detected L7 protocol (`http`, `dns`…). */
  l7: Record<string, number>;
}

export interface L4Totals {
  connections: number;
  flows: number;
  /** Client → server (initiator → responder), over every record once. */
  clientToServer: DirectionTotals;
  serverToClient: DirectionTotals;
  retransmissions: number;
  resets: number;
  /** Entries seen that were not L4 records. */
  ignored: number;
}

/** The mergeable L4 aggregation. */
export interface SerializedL4 {
  format: 'kubeshark-l4';
  version: 1;
  by: L4GroupBy;
  pairs: boolean;
  totals: L4Totals;
  /** rtt carries its sum instead of its mean, so it merges exactly. */
  groups: (Omit<L4Group, 'rtt'> & {
    rtt: { samples: number; min: number; max: number; sum: number };
  })[];
}

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
  /**
   * Entries lost when the store was reopened: a damaged tail cut off, corrupt records skipped
   * (at least that many; also logged when it happens).
   */
  storeLost?: number;
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
  /** Worker: its ingest stages, in the order an entry goes through them (absent on the hub). */
  ingest?: IngestStageCounters[];
}

/**
 * One stage of a worker's ingest (pod targeting, enrichment, redaction, store, publish…). Every
 * entry that came in was passed on, dropped, failed (the stage threw; the entry then went on or
 * was dropped as `onError` says) or is held by the stage now:
 * `in = passed + dropped + errors + (held ?? 0)`.
 */
export interface IngestStageCounters {
  name: string;
  in: number;
  passed: number;
  dropped: number;
  errors: number;
  /** What happens to an entry when the stage throws: it goes on (`keep`) or not (`drop`). */
  onError: 'keep' | 'drop';
  /** Entries the stage holds now, to be decided later (pod targeting's wait for an identity). */
  held?: number;
  /** Time spent in the stage (µs), estimated from a random sample of the entries. */
  timeUs: number;
  /** The stage's named limits (e.g. `holdMs`, `holdMax`). */
  limits?: Record<string, number>;
  /** Figures of its own (e.g. the store's `matchedPairs`, the hold's outcomes). */
  stats?: Record<string, number>;
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
