/**
 * What a call is, for statistics: its endpoint (method-like and path-like parts), its error
 * classes and its latency sample. One row per protocol in `PROTOCOL_STATS`; a new protocol adds a
 * row (looked up by `Entry.protocol`, then by record kind), and protocols without one still count
 * through `GENERIC_STATS`.
 */
import type { Entry, HttpRecord } from '../../entry/model.ts';
import { normalizeDnsName, normalizePath } from './normalize.ts';

/**
 * Error classes. `failure` classes make a call count in the error rate (`err%`); the others are
 * reported on their own.
 */
export const ERROR_CLASSES = {
  /** HTTP status 400–499 (client errors). Not a failure of the callee. */
  http_4xx: { failure: false, doc: 'HTTP status 400–499' },
  /** HTTP status ≥ 500. */
  http_5xx: { failure: true, doc: 'HTTP status ≥ 500' },
  /** gRPC status ≠ 0 (from the `grpc-status` trailer, or the header of a trailers-only reply). */
  grpc: { failure: true, doc: 'gRPC status ≠ 0' },
  /** DNS RCODE ≠ 0 (NXDOMAIN, SERVFAIL, REFUSED…). */
  dns: { failure: true, doc: 'DNS RCODE ≠ 0' },
  /** Database error replies (MySQL ERR, PostgreSQL ErrorResponse, MongoDB ok: 0…). */
  db: { failure: true, doc: 'database error reply' },
  /** The request was seen, its response never was (`KS_NO_RESPONSE`, `KS_LIMIT_PENDING`). */
  no_response: { failure: true, doc: 'no response seen' },
  /**
   * The entry carries another dissection error (capture gap, truncation, malformed PDU, body
   * decoding): a data-quality signal, not a failure of the call.
   */
  capture: { failure: false, doc: 'capture or dissection problem' },
} as const satisfies Record<string, { failure: boolean; doc: string }>;

export type ErrorClass = keyof typeof ERROR_CLASSES;
export const ERROR_CLASS_NAMES = Object.keys(ERROR_CLASSES) as ErrorClass[];

/** Entry error codes meaning "request without response". */
export const NO_RESPONSE_CODES: ReadonlySet<string> = new Set([
  'KS_NO_RESPONSE',
  'KS_LIMIT_PENDING',
]);

export interface EndpointParts {
  /** Method-like part: HTTP method, DNS query type… ('' when none). */
  method: string;
  /** Path-like part: HTTP path template, DNS name, WebSocket upgrade path… ('' when none). */
  path: string;
}

export interface ProtocolStatsSpec {
  endpoint(e: Entry): EndpointParts;
  /** Appends this call's protocol-level error classes (status codes) to `out`. */
  classify(e: Entry, out: ErrorClass[]): void;
  /** Latency sample in µs, or undefined when the call has none (unanswered, one-way message). */
  latency(e: Entry): number | undefined;
}

/** Record kinds that are L4 records, not calls. */
export const L4_KINDS: ReadonlySet<string> = new Set(['tcp_conn', 'udp_flow']);

/**
 * gRPC status of an HTTP exchange whose content type is `application/grpc…`: the `grpc-status`
 * trailer, or the header of a trailers-only reply. Undefined when not gRPC or not present.
 */
function grpcStatusOf(r: HttpRecord): number | undefined {
  const res = r.response;
  if (res === undefined) return undefined;
  // gRPC runs over HTTP/2 only. Checking the version first keeps HTTP/1 calls from reading
  // headers, which the store keeps out of its summary rows (a disk read per call).
  const version = r.request?.httpVersion ?? res.httpVersion;
  if (version.startsWith('HTTP/1') || version.startsWith('HTTP/0')) return undefined;
  const ct = r.request?.headers['content-type'] ?? res.headers['content-type'] ?? '';
  if (!ct.toLowerCase().startsWith('application/grpc')) return undefined;
  const raw = res.trailers?.['grpc-status'] ?? res.headers['grpc-status'];
  if (raw === undefined) return undefined;
  const n = Number.parseInt(raw, 10);
  return Number.isNaN(n) ? undefined : n;
}

export const HTTP_STATS: ProtocolStatsSpec = {
  endpoint(e) {
    const r = e.record as HttpRecord;
    if (r.request === undefined) return { method: '', path: '(no request)' };
    return { method: r.request.method, path: normalizePath(r.request.path) };
  },
  classify(e, out) {
    const r = e.record as HttpRecord;
    const code = r.response?.statusCode;
    if (code !== undefined) {
      if (code >= 500) out.push('http_5xx');
      else if (code >= 400) out.push('http_4xx');
    }
    const g = grpcStatusOf(r);
    if (g !== undefined && g !== 0) out.push('grpc');
  },
  latency(e) {
    const r = e.record as HttpRecord;
    return r.request !== undefined && r.response !== undefined ? e.elapsed_time : undefined;
  },
};

export const DNS_STATS: ProtocolStatsSpec = {
  endpoint(e) {
    if (e.record.kind !== 'dns') return { method: '', path: '' };
    const q = (e.record.request ?? e.record.response)?.questions[0];
    return q === undefined
      ? { method: '', path: '(no question)' }
      : { method: q.type, path: normalizeDnsName(q.name) };
  },
  classify(e, out) {
    if (e.record.kind !== 'dns') return;
    const rc = e.record.response?.rcodeNumber;
    if (rc !== undefined && rc !== 0) out.push('dns');
  },
  latency(e) {
    if (e.record.kind !== 'dns') return undefined;
    return e.record.request !== undefined && e.record.response !== undefined
      ? e.elapsed_time
      : undefined;
  },
};

/** WebSocket messages count as calls on their upgrade path; they have no latency. */
export const WS_STATS: ProtocolStatsSpec = {
  endpoint(e) {
    if (e.record.kind !== 'ws') return { method: '', path: '' };
    const p = e.record.upgradePath;
    return { method: '', path: p === undefined ? '(unknown)' : normalizePath(p) };
  },
  classify() {},
  latency: () => undefined,
};

/** Protocols without a row: counted per protocol, latency when the entry has one. */
export const GENERIC_STATS: ProtocolStatsSpec = {
  endpoint: () => ({ method: '', path: '' }),
  classify() {},
  latency: (e) => (e.elapsed_time > 0 ? e.elapsed_time : undefined),
};

/**
 * The table. gRPC over HTTP/2 arrives as `http` records (its status comes from the
 * `grpc-status` trailer, classified above); a `grpc` protocol id falls back to the `http` record
 * kind. Database protocols add rows that push `db` for error replies, e.g.
 * `mysql: { endpoint: e => ({ method: cmd, path: '' }), classify: (e, out) => { if (!ok) out.push('db') }, … }`.
 */
export const PROTOCOL_STATS: Readonly<Record<string, ProtocolStatsSpec>> = {
  http: HTTP_STATS,
  dns: DNS_STATS,
  ws: WS_STATS,
};

export function specFor(
  e: Entry,
  table: Readonly<Record<string, ProtocolStatsSpec>>,
): ProtocolStatsSpec {
  return table[e.protocol] ?? table[e.record.kind] ?? GENERIC_STATS;
}

/** One entry seen as a call. */
export interface Call {
  ts: number;
  classes: ErrorClass[];
  failed: boolean;
  latency: number | undefined;
  requestBytes: number;
  responseBytes: number;
}

/**
 * Classifies one L7 entry. Unanswered requests get `no_response` and never a latency sample;
 * other entry errors get `capture`; then the protocol's own classes.
 */
export function toCall(e: Entry, spec: ProtocolStatsSpec): Call {
  const classes: ErrorClass[] = [];
  let latency: number | undefined;
  if (e.error !== undefined && NO_RESPONSE_CODES.has(e.error.code)) {
    classes.push('no_response');
  } else {
    if (e.error !== undefined) classes.push('capture');
    latency = spec.latency(e);
  }
  spec.classify(e, classes);
  let failed = false;
  for (const c of classes) if (ERROR_CLASSES[c].failure) failed = true;
  return {
    ts: e.timestamp,
    classes,
    failed,
    latency,
    requestBytes: e.requestSize,
    responseBytes: e.responseSize,
  };
}
