import type { EntryError, L7Record } from '../../entry/model.ts';
import type { FieldDef } from '../../entry/fields.ts';
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
  /** The connection/flow ended (or was detached): emit pending requests (flagged unanswered). */
  onEnd(ts: number): void;
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
  createSession(ctx: SessionContext): Session;
}
