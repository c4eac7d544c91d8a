/**
 * The error classes a call can carry in statistics (src/store/stats). Each protocol's record
 * view pushes its own (src/tap/dissectors/<id>/view.ts); the statistics add `no_response` and
 * `capture` from the entry's error.
 */

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
