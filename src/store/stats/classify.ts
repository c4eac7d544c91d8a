/**
 * What a call is, for statistics: its endpoint (method-like and path-like parts), its error
 * classes and its latency sample. One row per protocol in `PROTOCOL_STATS`, from the record views
 * (looked up by `Entry.protocol`, then by record kind); protocols without one still count through
 * `GENERIC_STATS`.
 */
import type { Entry } from '../../entry/model.ts';
import type { CallStats } from '../../tap/dissectors/types.ts';
import { L4_PROTOCOL, recordViews } from '../../tap/records.ts';

import { ERROR_CLASSES, type ErrorClass } from '../../entry/call-classes.ts';

export { ERROR_CLASSES, ERROR_CLASS_NAMES, type ErrorClass } from '../../entry/call-classes.ts';

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

/** How statistics see one protocol's calls (declared by its record view). */
export type ProtocolStatsSpec = CallStats;

/** Record kinds that are L4 records, not calls. */
export const L4_KINDS: ReadonlySet<string> = new Set(Object.keys(L4_PROTOCOL));

/** Protocols without a row: counted per protocol, latency when the entry has one. */
export const GENERIC_STATS: ProtocolStatsSpec = {
  endpoint: () => ({ method: '', path: '' }),
  classify() {},
  latency: (e) => (e.elapsed_time > 0 ? e.elapsed_time : undefined),
};

/**
 * The table: each record view's statistics (src/tap/dissectors/<id>/view.ts), by protocol id. A
 * protocol id that reuses another's record (gRPC, HTTP/2's) falls back to that record's kind.
 */
export const PROTOCOL_STATS: Readonly<Record<string, ProtocolStatsSpec>> = Object.fromEntries(
  recordViews.flatMap((v) => (v.stats ? [[v.kind, v.stats]] : [])),
);

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
