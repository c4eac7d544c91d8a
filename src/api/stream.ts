/**
 * The server side of `WS /api/stream` for one client, shared by the worker and the hub: a
 * bounded send queue. Entries are queued up to STREAM_MAX_QUEUED_MESSAGES / _BYTES and handed to
 * the socket only while its own buffer (`ws.bufferedAmount`) is under STREAM_MAX_SOCKET_BYTES;
 * past that, entries are dropped for this client (never buffered without bound), counted, and a
 * `dropped` message tells the client how many once its connection drains.
 *
 * `acceptStream` is the one handshake of `/api/stream` for every role: parameters checked with
 * the route table's schema and the filter compiled (a bad one: an `error` message and close code
 * STREAM_CLOSE_BAD_FILTER), `hello`, then the client's messages (filter, pause, resume) applied to
 * the role's session.
 */
import type { WebSocket } from 'ws';
import type { CompiledFilter } from '../query/index.ts';
import { version } from '../util/version.ts';
import { errorOf } from './errors.ts';
import { kflInfo, type KflCompiler } from './kfl.ts';
import { parseParams, streamQuery } from './params.ts';
import type { Role } from './routes.ts';
import type { EntryView, Params, StreamClientMessage, StreamMessage } from './types.ts';

/** Entry messages waiting for the socket, per client. */
export const STREAM_MAX_QUEUED_MESSAGES = 1024;
/** Bytes of entry messages waiting for the socket, per client. */
export const STREAM_MAX_QUEUED_BYTES = 8 * 1024 * 1024;
/** Bytes the socket may hold unsent (ws.bufferedAmount) before the queue stops feeding it. */
export const STREAM_MAX_SOCKET_BYTES = 1024 * 1024;
/** Largest message a stream client may send (a filter). */
export const STREAM_MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;
/** How often `status` messages are sent. */
export const STREAM_STATUS_INTERVAL_MS = 1000;
/** WebSocket close code for a filter that does not compile at connect time. */
export const STREAM_CLOSE_BAD_FILTER = 4400;

/** Counters of one stream client (tests and health). */
export interface PeerStats {
  queued: number;
  queuedBytes: number;
  socketBytes: number;
  sent: number;
  dropped: number;
  paused: boolean;
}

export class StreamPeer {
  paused = false;
  private readonly queue: string[] = [];
  private head = 0;
  private queuedBytes = 0;
  private sent = 0;
  private droppedTotal = 0;
  /** Drops not yet reported to the client. */
  private unreported = 0;
  private closed = false;
  private readonly afterSend = (): void => this.flush();

  constructor(
    readonly ws: WebSocket,
    /** Called with each drop count (the owner's `streamDropped` counter). */
    private readonly onDrop: (n: number) => void,
  ) {
    ws.on('close', () => {
      this.closed = true;
      this.queue.length = 0;
      this.head = 0;
      this.queuedBytes = 0;
    });
  }

  get dropped(): number {
    return this.droppedTotal;
  }

  /** An `entry` message (JSON text): queued, or dropped when this client is behind. */
  entry(text: string): void {
    if (this.closed || this.paused) return;
    const pending = this.queue.length - this.head;
    if (
      pending >= STREAM_MAX_QUEUED_MESSAGES ||
      (pending > 0 && this.queuedBytes + text.length > STREAM_MAX_QUEUED_BYTES)
    ) {
      this.drop(1);
      return;
    }
    this.queue.push(text);
    this.queuedBytes += text.length;
    this.flush();
  }

  /** Drops that happened upstream (the hub's workers dropping for the hub): reported alike. */
  drop(n: number): void {
    if (n <= 0) return;
    this.droppedTotal += n;
    this.unreported += n;
    this.onDrop(n);
  }

  /**
   * A control message (hello, error, status): sent at once, ahead of queued entries. `status`
   * is skipped while the client is behind (the next one carries the same news); the others are
   * rare answers to the client's own messages, skipped only far past the limit (a client that
   * floods filter changes without reading cannot grow the buffer either).
   */
  control(msg: StreamMessage): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    const limit = msg.type === 'status' ? STREAM_MAX_SOCKET_BYTES : 2 * STREAM_MAX_SOCKET_BYTES;
    if (this.ws.bufferedAmount >= limit) return;
    this.ws.send(JSON.stringify(msg));
  }

  private flush(): void {
    const ws = this.ws;
    if (this.closed || ws.readyState !== ws.OPEN) return;
    while (this.head < this.queue.length && ws.bufferedAmount < STREAM_MAX_SOCKET_BYTES) {
      const text = this.queue[this.head]!;
      this.queue[this.head++] = '';
      this.queuedBytes -= text.length;
      this.sent++;
      ws.send(text, this.afterSend);
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 1024) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    // Drained: say what was lost.
    if (
      this.unreported > 0 &&
      this.head === this.queue.length &&
      ws.bufferedAmount < STREAM_MAX_SOCKET_BYTES / 2
    ) {
      const msg: StreamMessage = {
        type: 'dropped',
        count: this.unreported,
        total: this.droppedTotal,
      };
      this.unreported = 0;
      ws.send(JSON.stringify(msg), this.afterSend);
    }
  }

  /** Nudges the queue (e.g. on a timer, in case the socket drained without a send callback). */
  poke(): void {
    this.flush();
  }

  stats(): PeerStats {
    return {
      queued: this.queue.length - this.head,
      queuedBytes: this.queuedBytes,
      socketBytes: this.ws.bufferedAmount,
      sent: this.sent,
      dropped: this.droppedTotal,
      paused: this.paused,
    };
  }
}

/** A client's message, or undefined when it is not one. */
export function parseClientMessage(data: unknown): StreamClientMessage | undefined {
  let m: unknown;
  try {
    m = JSON.parse(String(data));
  } catch {
    return undefined;
  }
  if (typeof m !== 'object' || m === null) return undefined;
  const t = (m as { type?: unknown }).type;
  if (t === 'pause' || t === 'resume') return { type: t };
  if (t === 'filter' && typeof (m as { q?: unknown }).q === 'string') {
    return { type: 'filter', q: (m as { q: string }).q };
  }
  return undefined;
}

/** What one stream client gets from its role: entries into the peer, following the client. */
export interface StreamSession {
  /** The client changed its filter (compiled and valid; `hello` follows). */
  setFilter(q: string, filter: CompiledFilter): void;
  /** The client paused (true) or resumed (false); the peer already stops queueing entries. */
  setPaused(paused: boolean): void;
  /** The client went away. */
  close(): void;
}

/** A role's side of `/api/stream`. */
export interface StreamProvider {
  readonly role: Role;
  readonly compiler: KflCompiler;
  /** Counts entries dropped for slow clients (the role's `streamDropped`). */
  onDrop(n: number): void;
  /** A client passed the handshake: start feeding `peer` (its `hello` is sent already). */
  open(peer: StreamPeer, q: { q: string; view: EntryView; filter: CompiledFilter }): StreamSession;
}

/** The `/api/stream` handshake and client protocol, for a WebSocket that just connected. */
export function acceptStream(ws: WebSocket, params: Params, provider: StreamProvider): void {
  let q: { q: string; view: EntryView };
  let filter: CompiledFilter;
  try {
    q = parseParams(streamQuery, params);
    filter = provider.compiler.compile(q.q);
  } catch (err) {
    const { body } = errorOf(err);
    ws.send(JSON.stringify({ type: 'error', error: body.error } satisfies StreamMessage));
    ws.close(STREAM_CLOSE_BAD_FILTER, body.error.code);
    return;
  }
  const peer = new StreamPeer(ws, (n) => provider.onDrop(n));
  const hello = (f: CompiledFilter): void =>
    peer.control({ type: 'hello', kfl: kflInfo(f), role: provider.role, version: version() });
  hello(filter);
  const session = provider.open(peer, { ...q, filter });
  ws.on('message', (data) => {
    const m = parseClientMessage(data);
    if (m === undefined) {
      peer.control({
        type: 'error',
        error: {
          code: 'KS_ERR_USAGE',
          message: 'unknown stream message (expected filter, pause or resume)',
        },
      });
      return;
    }
    if (m.type === 'pause' || m.type === 'resume') {
      peer.paused = m.type === 'pause';
      session.setPaused(peer.paused);
      return;
    }
    let f: CompiledFilter;
    try {
      f = provider.compiler.compile(m.q);
    } catch (err) {
      peer.control({ type: 'error', error: errorOf(err).body.error });
      return;
    }
    session.setFilter(m.q, f);
    hello(f);
  });
  ws.on('close', () => session.close());
}
