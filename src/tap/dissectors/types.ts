import type { ErrorClass } from '../../entry/call-classes.ts';
import type { Body, Entry, EntryError, EntryRecord, L7Record } from '../../entry/model.ts';
import type { FieldDef } from '../../entry/fields.ts';
import type { Field } from '../../entry/row-schema.ts';
import type { Detail } from '../../entry/view.ts';
import type { LimitCounters, Limits } from '../../util/limits.ts';
import type { Direction } from '../reassembly/types.ts';

/**
 * Detection verdict. `match-reversed`: the bytes show the endpoints were guessed the wrong way
 * round (connection first seen mid-stream) — the pipeline swaps client and server.
 * Detection never throws; with too few bytes it answers `need-more`.
 */
export type Detection = 'match' | 'match-reversed' | 'no' | 'need-more';

export interface DetectContext {
  transport: 'tcp' | 'udp';
  /** The server port is mapped to this dissector (`tap.portMapping` or its default ports). */
  portHint: boolean;
  /** Both directions: set when this side has ended (no more bytes will come for detection). */
  clientEnded: boolean;
  serverEnded: boolean;
}

/** What a session emits: the pipeline adds ids, endpoints, node and capture info. */
export interface Emitted {
  record: L7Record;
  /**
   * The entry's protocol id when it is not the record's kind (a protocol that reuses another's
   * record, as gRPC will reuse HTTP/2's). Default: `record.kind`.
   */
  protocol?: string;
  /** µs: request start (or the message time for one-way messages). */
  ts: number;
  /** µs: first request byte → first response byte; 0 when not applicable. */
  elapsed: number;
  requestSize: number;
  responseSize: number;
  error?: EntryError;
}

export interface SessionContext {
  transport: 'tcp' | 'udp';
  flowId: number;
  limits: Readonly<Limits>;
  counters: LimitCounters;
  emit(e: Emitted): void;
  /**
   * Hands the rest of this connection (or a stream inside it) to another dissector, e.g. HTTP to
   * WebSocket after `101 Switching Protocols`. Returns that dissector's session, which the caller
   * feeds from now on; undefined when that dissector is not enabled (the bytes are then opaque).
   */
  handoff(to: string, from: Handoff): Session | undefined;
  /** A protocol violation. After `limits.maxViolations` the pipeline detaches the session
   * (calling onEnd first) and keeps the stream as an L4 record with the last message. */
  violation(message: string): void;
}

/**
 * Per-connection (TCP) or per-flow (UDP) state. For UDP each onData call is one datagram.
 * `data` is a view valid only during the call: copy what you keep.
 */
export interface Session {
  onData(dir: Direction, data: Buffer, ts: number): void;
  /** `bytes` are missing at this point of `dir`: resynchronise or report, never pretend. */
  onGap(dir: Direction, bytes: number, ts: number): void;
  /**
   * The connection/flow ended (or was detached): emit pending requests (flagged unanswered).
   * `evictedBy`: the limit that closed it early (`maxUnansweredFlows`, `maxStreams`): its
   * pending requests were cut off by that limit rather than left unanswered by the peer.
   */
  onEnd(ts: number, evictedBy?: keyof Limits): void;
}

/** What a session tells the dissector it hands a connection to (`SessionContext.handoff`). */
export interface Handoff {
  /** Dissector id handing over. */
  from: string;
  /** Request target of the upgrade (path and query), when the connection came from HTTP. */
  target?: string;
  /** A header of the upgrade's request / response, by case-insensitive name. */
  requestHeader?(name: string): string | undefined;
  responseHeader?(name: string): string | undefined;
}

/** Colour class of a call's status, shared by the terminal, the dashboard and the CLI table. */
export type StatusClass = 'ok' | 'redirect' | 'client' | 'server' | 'none';

/** A request or response as the JSON view shows it (entry/view.ts `Detail`). */
export type RecordDetail = Detail;

/** What the redaction stage lends a record view (src/redact implements it). */
export interface RedactKit {
  /** Replaces values of secret headers in a lower-case map; `at`: `request.headers`. */
  headerMap(map: Record<string, string> | undefined, at: string): void;
  /** The same in an ordered `[name, value]` list. */
  headerList(list: [string, string][] | undefined, at: string): void;
  /** Whether this header name is secret (its cookie map is then redacted whole). */
  secretHeader(name: string): boolean;
  /** Replaces every value of a map (cookies of a secret cookie header). */
  allValues(map: Record<string, string> | undefined, at: string): void;
  /**
   * A request's secret query parameters (URL and map), URL user info and secrets by shape in the
   * URL, the path and the query values, in place.
   */
  url(req: { url: string; query: Record<string, string>; path?: string }): void;
  /**
   * A kept body: JSON (by type, or by shape when untyped), a URL-encoded form or a multipart
   * body by field name; then any body (binary too) by shape.
   */
  body(body: Body, contentType: string | undefined, at: string): void;
  /** A text that may be JSON (a WebSocket message): secret fields replaced. */
  jsonText(body: Body, at: string): void;
  /**
   * Any message of no known type (a WebSocket message, after `jsonText`): secrets by shape and
   * `name=value`, `"name": value`, `<name>` with a secret name; binary (base64) kept bytes too.
   */
  text(body: Body, at: string): void;
}

/** How statistics see a call of this kind (src/store/stats). */
export interface CallStats {
  /** Method-like and path-like parts of the call's endpoint ('' when none). */
  endpoint(e: Entry): { method: string; path: string };
  /** Appends this call's protocol-level error classes (status codes) to `out`. */
  classify(e: Entry, out: ErrorClass[]): void;
  /** Latency sample in µs, or undefined when the call has none (unanswered, one-way message). */
  latency(e: Entry): number | undefined;
}

/**
 * Everything outside the engine needs to know about one record kind: how it is stored, shown,
 * summarised, coloured, cut and redacted. Lookups go by `Entry.protocol`, then by
 * `record.kind` (src/tap/records.ts), so no module outside a dissector's folder switches on it.
 */
export interface RecordView<R extends EntryRecord = EntryRecord> {
  /** `record.kind`. */
  kind: string;
  /** Its compact row (src/store): `code` is written to disk, never changed. */
  store: { code: number; fields: readonly Field[] };
  /** The summary column: `GET /path`, `A example.com`, `→ text 12B`. */
  summary(r: R, e: Entry): string;
  /** The status column ('' when none). */
  statusText(r: R, e: Entry): string;
  /** The numeric status (HTTP status, DNS RCODE): index column, API `status`; undefined: none. */
  status(r: R): number | undefined;
  /** Colour of a numeric status from `status`. */
  statusClass(status: number): StatusClass;
  /** Method-like and path-like parts for lists (API `method`/`path`), undefined when none. */
  listed(r: R): { method?: string; path?: string };
  /** Whether `elapsed_time` is a latency worth showing (false: one-way messages). */
  timed: boolean;
  /** The request/response groups of the JSON view. */
  details(r: R): { request?: RecordDetail; response?: RecordDetail };
  /** A copy whose bodies went through `cut` (API payload limits); absent: no bodies. */
  cutBodies?(r: R, cut: (b: Body) => Body): R;
  /** Secrets replaced in place before storage; absent: nothing to redact. */
  redact?(r: R, kit: RedactKit): void;
  /** Statistics; absent: counted per protocol, latency when the entry has one. */
  stats?: CallStats;
}

export interface Dissector {
  /** Protocol id, also the KFL protocol flag (`http`, `ws`, `dns`…). */
  id: string;
  transports: readonly ('tcp' | 'udp')[];
  /** Ports that hint this protocol (merged with `tap.portMapping.<id>`). */
  defaultPorts: readonly number[];
  /** KFL fields this dissector's entries carry (besides the common ones). */
  fields: readonly FieldDef[];
  /**
   * `client`/`server`: the first bytes of each direction (for UDP: the first datagram of each).
   * Must check lengths before reading and never throw.
   */
  detect(client: Buffer, server: Buffer, ctx: DetectContext): Detection;
  /** `from`: set when another dissector hands the connection over (`SessionContext.handoff`). */
  createSession(ctx: SessionContext, from?: Handoff): Session;
  /** How its records are stored and shown (made with `recordView`). */
  view: RecordView;
  /** Run unless `tap.enabledDissectors` says otherwise (the config default lists these). */
  enabledByDefault: boolean;
}

/**
 * A record view typed for its own record. The lookups (src/tap/records.ts) find a view by the
 * record's kind, so each function only ever receives records of that kind.
 */
export function recordView<R extends EntryRecord>(v: RecordView<R>): RecordView {
  return v as unknown as RecordView;
}
