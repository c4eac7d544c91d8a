/**
 * TCP connections and UDP flows of a Pipeline: detection, the pinned dissector session, and the
 * entries (L7 and the L4 record) a flow emits. A flow reaches its pipeline only through FlowHost.
 */
import type { Endpoint, Entry, EntryError, EntryRecord, DirectionStats } from '../entry/model.ts';
import type { LimitCounters, Limits } from '../util/limits.ts';
import type { DecodedPacket } from './decode/types.ts';
import type { PipelineOptions } from './options.ts';
import type {
  CloseReason,
  ConnectionKey,
  Direction,
  TcpConnectionHandler,
  TcpStats,
} from './reassembly/types.ts';
import type { Detection, Dissector, Emitted, Session, SessionContext } from './dissectors/types.ts';
import type { PipelineSummary } from './summary.ts';
import { protocolOfKind } from './records.ts';

/** What a flow uses of the pipeline that owns it (Pipeline implements it). */
export interface FlowHost {
  readonly opts: Pick<
    PipelineOptions,
    'dissectors' | 'limits' | 'node' | 'worker' | 'captureSource' | 'l4All'
  >;
  readonly counters: LimitCounters;
  /** Run totals: flows count connections, gaps, violations, detaches and entries here. */
  readonly stats: PipelineSummary;
  /** Capture time of the latest packet (µs). */
  readonly lastTs: number;
  /** L7 entries that paired a request with its response. */
  matchedPairs: number;
  readonly sink: (e: Entry) => void;
  takeEntryId(): number;
  /** Dissectors to try: port-hinted ones first, then the rest in registry order. */
  candidatesFor(
    transport: 'tcp' | 'udp',
    serverPort: number,
    clientPort: number,
  ): readonly Dissector[];
  isHinted(d: Dissector, port: number): boolean;
}

const DETACHED: EntryError['code'] = 'KS_DISSECTOR_DETACHED';

/** Shared machinery of a TCP connection or UDP flow: detection, the pinned session, entries. */
abstract class FlowBase {
  readonly flowId: number;
  protected client: Endpoint;
  protected server: Endpoint;
  /** Dissector pinned to this flow, once detected. */
  protected dissector: Dissector | undefined;
  protected session: Session | undefined;
  /** Client/server swapped by a `match-reversed` detection. */
  protected reversed = false;
  /** Detection has given up (no dissector, or detached): bytes are only counted. */
  protected l4Only = false;
  protected violations = 0;
  protected lastViolation = '';
  protected error: EntryError | undefined;
  protected entryCount = 0;
  protected readonly l7 = new Set<string>();
  /** `tcp-<flowId>` / `udp-<flowId>`, made once per flow (every entry carries it). */
  private streamName: string | undefined;

  constructor(
    protected readonly p: FlowHost,
    flowId: number,
    client: Endpoint,
    server: Endpoint,
    protected readonly transport: 'tcp' | 'udp',
  ) {
    this.flowId = flowId;
    this.client = client;
    this.server = server;
  }

  /** The endpoints as first oriented (before a `match-reversed` detection swaps them). */
  get clientEndpoint(): Endpoint {
    return this.client;
  }
  get serverEndpoint(): Endpoint {
    return this.server;
  }

  protected candidates(): readonly Dissector[] {
    return this.p.candidatesFor(this.transport, this.server.port, this.client.port);
  }

  protected pin(d: Dissector, reversed: boolean): void {
    this.dissector = d;
    this.reversed = reversed;
    if (reversed) [this.client, this.server] = [this.server, this.client];
    this.l7.add(d.id);
    const ctx: SessionContext = {
      transport: this.transport,
      flowId: this.flowId,
      limits: this.p.opts.limits,
      counters: this.p.counters,
      emit: (e) => this.emitL7(e),
      violation: (m) => this.violation(m),
      handoff: (to, from) => {
        const next = this.p.opts.dissectors.find((x) => x.id === to);
        return next?.createSession(ctx, from);
      },
    };
    this.session = d.createSession(ctx);
  }

  protected dirFor(dir: Direction): Direction {
    return this.reversed ? ((dir ^ 1) as Direction) : dir;
  }

  /** Feeds a pinned session; a throwing session is a violation, never a crash. */
  protected feed(dir: Direction, data: Buffer, ts: number): void {
    try {
      this.session!.onData(this.dirFor(dir), data, ts);
    } catch (e) {
      this.violation(`dissector threw: ${(e as Error).message}`);
    }
  }

  protected feedGap(dir: Direction, bytes: number, ts: number): void {
    try {
      this.session!.onGap(this.dirFor(dir), bytes, ts);
    } catch (e) {
      this.violation(`dissector threw on gap: ${(e as Error).message}`);
    }
  }

  protected violation(message: string): void {
    this.violations++;
    this.p.stats.violations++;
    this.lastViolation = message;
    if (this.session && this.violations >= this.p.opts.limits.maxViolations)
      this.detach(this.p.lastTs);
  }

  /** Stop dissecting; pending requests are flushed; the flow stays as an L4 record. */
  protected detach(ts: number): void {
    const s = this.session;
    const id = this.dissector?.id ?? '?';
    this.session = undefined;
    this.l4Only = true;
    this.p.stats.detached++;
    this.error = {
      code: DETACHED,
      message: `${id} dissector detached after ${this.violations} violations; last: ${this.lastViolation}`,
    };
    if (s) {
      try {
        s.onEnd(ts);
      } catch {
        // A session that cannot even flush has nothing more to give.
      }
    }
  }

  /** `evictedBy`: the limit that closed the flow before its peer could answer. */
  protected endSession(ts: number, evictedBy?: keyof Limits): void {
    const s = this.session;
    this.session = undefined;
    if (!s) return;
    try {
      s.onEnd(ts, evictedBy);
    } catch (e) {
      this.violations++;
      this.p.stats.violations++;
      this.error ??= {
        code: 'KS_DISSECT_ERROR',
        message: `dissector failed at end: ${(e as Error).message}`,
      };
    }
  }

  private emitL7(e: Emitted): void {
    this.l7.add(e.record.kind);
    if ('response' in e.record && e.record.response !== undefined) this.p.matchedPairs++;
    this.push(e.record, e.ts, e.elapsed, e.requestSize, e.responseSize, e.error, e.protocol);
  }

  protected push(
    record: EntryRecord,
    ts: number,
    elapsed: number,
    requestSize: number,
    responseSize: number,
    error: EntryError | undefined,
    protocol: string = protocolOfKind(record.kind),
  ): void {
    const entry: Entry = {
      id: this.p.takeEntryId(),
      node_id: this.p.opts.node.name,
      worker: this.p.opts.worker,
      node: this.p.opts.node,
      timestamp: ts,
      elapsed_time: Math.max(0, Math.round(elapsed)),
      src: this.client,
      dst: this.server,
      transport: this.transport,
      protocol,
      flow_id: this.flowId,
      conn_id: this.transport === 'tcp' ? this.flowId : 0,
      stream: (this.streamName ??= `${this.transport}-${this.flowId}`),
      index: this.entryCount++,
      capture_source: this.p.opts.captureSource,
      record,
      requestSize,
      responseSize,
    };
    if (error) entry.error = error;
    this.p.stats.entries[protocol] = (this.p.stats.entries[protocol] ?? 0) + 1;
    this.p.sink(entry);
  }

  /** Whether this flow's L4 record is emitted: always with l4All, else when nothing else was. */
  protected wantsL4Record(): boolean {
    return this.p.opts.l4All || this.entryCount === 0 || this.error !== undefined;
  }
}

interface Pending {
  dir: Direction;
  /** Bytes (a copy, once they outlive the onData call) or a gap of `gap` bytes. */
  data?: Buffer;
  gap?: number;
  ts: number;
}

export class TcpFlow extends FlowBase implements TcpConnectionHandler {
  /** Arrival-ordered log replayed into the session once a dissector matches. */
  private pending: Pending[] = [];
  private detectBytes: [number, number] = [0, 0];
  private detectBuf: [Buffer[], Buffer[]] = [[], []];

  constructor(p: FlowHost, flowId: number, key: ConnectionKey) {
    super(
      p,
      flowId,
      { ip: key.clientIp, port: key.clientPort },
      { ip: key.serverIp, port: key.serverPort },
      'tcp',
    );
  }

  onData(dir: Direction, data: Buffer, ts: number): void {
    if (this.session) return this.feed(dir, data, ts);
    if (this.l4Only) return;
    // Detection reads the view; the bytes are copied only when they must outlive this call
    // (detection still waiting). A match replays the log at once, a give-up drops it.
    const item: Pending = { dir, data, ts };
    this.pending.push(item);
    const parts = this.detectBuf[dir];
    parts.push(data);
    this.detectBytes[dir] += data.length;
    this.detect(ts, false);
    if (!this.session && !this.l4Only) {
      const copy = Buffer.from(data);
      item.data = copy;
      parts[parts.length - 1] = copy;
    }
  }

  onGap(dir: Direction, bytes: number, ts: number): void {
    this.p.stats.gaps++;
    this.p.stats.gapBytes += bytes;
    if (this.session) return this.feedGap(dir, bytes, ts);
    if (this.l4Only) return;
    // Detection works on the bytes before the gap; a gap before anything is harmless.
    this.pending.push({ dir, gap: bytes, ts });
  }

  private detect(ts: number, ended: boolean): void {
    const limit = this.p.opts.limits.maxDetectBytes;
    const client = joinCapped(this.detectBuf[0], limit);
    const server = joinCapped(this.detectBuf[1], limit);
    let waiting = false;
    for (const d of this.candidates()) {
      let v: Detection;
      try {
        v = d.detect(client, server, {
          transport: 'tcp',
          portHint: this.p.isHinted(d, this.server.port),
          clientEnded: ended,
          serverEnded: ended,
        });
      } catch {
        v = 'no';
      }
      if (v === 'match' || v === 'match-reversed') {
        this.pin(d, v === 'match-reversed');
        this.replay();
        return;
      }
      if (v === 'need-more') waiting = true;
    }
    const full = this.detectBytes[0] >= limit || this.detectBytes[1] >= limit;
    if (!waiting || full || ended) {
      if (waiting && full) this.p.counters.hit('maxDetectBytes');
      this.giveUp();
    }
  }

  private replay(): void {
    const log = this.pending;
    this.pending = [];
    this.detectBuf = [[], []];
    for (const item of log) {
      if (!this.session) break; // detached during replay
      if (item.data) this.feed(item.dir, item.data, item.ts);
      else this.feedGap(item.dir, item.gap!, item.ts);
    }
  }

  private giveUp(): void {
    this.l4Only = true;
    this.pending = [];
    this.detectBuf = [[], []];
  }

  onClose(stats: TcpStats, reason: CloseReason, ts: number): void {
    if (!this.session && !this.l4Only && this.pending.length > 0) this.detect(ts, true);
    this.endSession(ts);
    this.p.stats.tcpConnections++;
    if (!this.wantsL4Record()) return;
    const [c, s] = this.reversed ? [stats.server, stats.client] : [stats.client, stats.server];
    const state =
      reason === 'fin' || reason === 'rst' ? 'closed' : stats.established ? 'open' : 'in_progress';
    this.push(
      {
        kind: 'tcp_conn',
        state,
        client: c,
        server: s,
        synSeen: stats.synSeen,
        handshakeRtt: stats.handshakeRtt,
        retransmissions: stats.retransmissions,
        outOfOrder: stats.outOfOrder,
        duplicateAcks: stats.duplicateAcks,
        zeroWindow: stats.zeroWindow,
        gapBytes: stats.gapBytes,
        finClient: this.reversed ? stats.finServer : stats.finClient,
        finServer: this.reversed ? stats.finClient : stats.finServer,
        rst: stats.rst,
        l7Detected: [...this.l7],
        endReason: reason,
        lastTs: stats.lastTs,
      },
      stats.firstTs,
      stats.lastTs - stats.firstTs,
      c.payloadBytes,
      s.payloadBytes,
      this.error,
    );
  }
}

/** Datagrams kept while UDP detection answers need-more. */
const UDP_DETECT_DATAGRAMS = 4;

export class UdpFlow extends FlowBase {
  readonly stats: [DirectionStats, DirectionStats] = [
    { packets: 0, bytes: 0, payloadBytes: 0 },
    { packets: 0, bytes: 0, payloadBytes: 0 },
  ];
  firstTs: number;
  lastTs: number;
  /** Only one side has spoken yet (the pipeline's set of unanswered flows holds it). */
  oneWay = true;
  private pending: Pending[] = [];
  private first: [Buffer | undefined, Buffer | undefined] = [undefined, undefined];
  /** The tuple as first oriented (direction 0 = from client), for the pipeline's flow table. */
  readonly clientIp: string;
  readonly clientPort: number;
  readonly serverIp: string;
  readonly serverPort: number;

  constructor(p: FlowHost, flowId: number, client: Endpoint, server: Endpoint, ts: number) {
    super(p, flowId, client, server, 'udp');
    this.clientIp = client.ip;
    this.clientPort = client.port;
    this.serverIp = server.ip;
    this.serverPort = server.port;
    this.firstTs = ts;
    this.lastTs = ts;
  }

  datagram(dir: Direction, d: DecodedPacket): void {
    const st = this.stats[dir];
    st.packets++;
    st.bytes += d.ipBytes;
    st.payloadBytes += d.payload.length;
    this.lastTs = d.ts;
    if (this.session) return this.feed(dir, d.payload, d.ts);
    if (this.l4Only) return;
    const copy = Buffer.from(d.payload);
    this.pending.push({ dir, data: copy, ts: d.ts });
    this.first[dir] ??= copy;
    let waiting = false;
    for (const ds of this.candidates()) {
      let v: Detection;
      try {
        v = ds.detect(this.first[0] ?? EMPTY, this.first[1] ?? EMPTY, {
          transport: 'udp',
          portHint: this.p.isHinted(ds, this.server.port),
          clientEnded: false,
          serverEnded: false,
        });
      } catch {
        v = 'no';
      }
      if (v === 'match' || v === 'match-reversed') {
        this.pin(ds, v === 'match-reversed');
        const log = this.pending;
        this.pending = [];
        this.first = [undefined, undefined];
        for (const item of log) if (this.session) this.feed(item.dir, item.data!, item.ts);
        return;
      }
      if (v === 'need-more') waiting = true;
    }
    if (!waiting || this.pending.length >= UDP_DETECT_DATAGRAMS) {
      this.l4Only = true;
      this.pending = [];
      this.first = [undefined, undefined];
    }
  }

  /** `evictedBy`: with reason 'limit', the limit that closed the flow. */
  close(reason: 'idle' | 'limit' | 'end_of_capture', ts: number, evictedBy?: keyof Limits): void {
    this.endSession(ts, evictedBy);
    this.p.stats.udpFlows++;
    if (!this.wantsL4Record()) return;
    const [c, s] = this.reversed ? [this.stats[1], this.stats[0]] : [this.stats[0], this.stats[1]];
    this.push(
      {
        kind: 'udp_flow',
        state: reason === 'end_of_capture' ? 'open' : 'closed',
        client: c,
        server: s,
        l7Detected: [...this.l7],
        endReason: reason,
        lastTs: this.lastTs,
      },
      this.firstTs,
      this.lastTs - this.firstTs,
      c.payloadBytes,
      s.payloadBytes,
      this.error,
    );
  }
}

const EMPTY = Buffer.alloc(0);

function joinCapped(parts: Buffer[], cap: number): Buffer {
  if (parts.length === 1 && parts[0]!.length <= cap) return parts[0]!;
  const all = parts.length === 0 ? EMPTY : Buffer.concat(parts);
  return all.length > cap ? all.subarray(0, cap) : all;
}
