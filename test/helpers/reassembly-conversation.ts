/**
 * Test helpers for the assembler: builds DecodedPacket sequences for one conversation with
 * sequence numbers relative to each side's ISN, and records what the handler receives.
 */
import type { DecodedPacket } from '../../src/tap/decode/types.ts';
import { TCP_ACK } from '../../src/tap/decode/types.ts';
import { LimitCounters, defaultLimits, type Limits } from '../../src/util/limits.ts';
import { TcpAssembler } from '../../src/tap/reassembly/assembler.ts';
import type {
  CloseReason,
  ConnectionFactory,
  ConnectionKey,
  Direction,
  TcpConnectionHandler,
  TcpStats,
} from '../../src/tap/reassembly/types.ts';

/** What one connection's handler received. Gaps appear in `out` as `<gap N>` markers. */
export class RecordedConn implements TcpConnectionHandler {
  readonly out: [string, string] = ['', ''];
  /** Raw events per direction, for position checks: a Buffer copy or a gap size. */
  readonly events: [(Buffer | number)[], (Buffer | number)[]] = [[], []];
  readonly closes: { stats: TcpStats; reason: CloseReason; ts: number }[] = [];
  /** The exact Buffer objects passed to onData (to check that in-order data is not copied). */
  readonly views: Buffer[] = [];

  constructor(
    readonly key: ConnectionKey,
    readonly synSeen: boolean,
    readonly ts: number,
  ) {}

  onData(dir: Direction, data: Buffer, _ts: number): void {
    this.out[dir] += data.toString('latin1');
    this.events[dir].push(Buffer.from(data));
    this.views.push(data);
  }
  onGap(dir: Direction, bytes: number, _ts: number): void {
    this.out[dir] += `<gap ${bytes}>`;
    this.events[dir].push(bytes);
  }
  onClose(stats: TcpStats, reason: CloseReason, ts: number): void {
    this.closes.push({ stats: structuredClone(stats), reason, ts });
  }
}

export class Recorder implements ConnectionFactory {
  readonly conns: RecordedConn[] = [];
  constructor(private readonly serverPorts: ReadonlySet<number> = new Set()) {}
  open(key: ConnectionKey, ts: number, synSeen: boolean): TcpConnectionHandler {
    const c = new RecordedConn(key, synSeen, ts);
    this.conns.push(c);
    return c;
  }
  isServerPort(port: number): boolean {
    return this.serverPorts.has(port);
  }
}

export interface Setup {
  asm: TcpAssembler;
  rec: Recorder;
  counters: LimitCounters;
}

export function setup(limits: Partial<Limits> = {}, serverPorts: number[] = []): Setup {
  const rec = new Recorder(new Set(serverPorts));
  const counters = new LimitCounters();
  const asm = new TcpAssembler(rec, { ...defaultLimits, ...limits }, counters);
  return { asm, rec, counters };
}

export interface PacketOpts {
  /** Relative to the peer's ISN; defaults to 1 (the peer's SYN acknowledged) when ACK is set. */
  ack?: number;
  win?: number;
  ts?: number;
}

/**
 * One conversation between a client and a server. `c()`/`s()` build a packet from that side
 * with `rel` counted from the sender's ISN (the SYN is at 0, the first data byte at 1).
 */
export class Conv {
  /** Capture time of the next packet (µs); each packet advances it by `step`. */
  ts = 1_000_000;
  step = 1000;

  constructor(
    readonly cIp = '10.0.0.1',
    readonly cPort = 40000,
    readonly sIp = '10.0.0.2',
    readonly sPort = 80,
    readonly isnC = 1000,
    readonly isnS = 5000,
  ) {}

  c(rel: number, flags: number, data: string | Buffer = '', o: PacketOpts = {}): DecodedPacket {
    return this.pkt(true, rel, flags, data, o);
  }

  s(rel: number, flags: number, data: string | Buffer = '', o: PacketOpts = {}): DecodedPacket {
    return this.pkt(false, rel, flags, data, o);
  }

  private pkt(
    fromClient: boolean,
    rel: number,
    flags: number,
    data: string | Buffer,
    o: PacketOpts,
  ): DecodedPacket {
    const payload = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    const isn = fromClient ? this.isnC : this.isnS;
    const peerIsn = fromClient ? this.isnS : this.isnC;
    const ts = o.ts ?? this.ts;
    this.ts = ts + this.step;
    return {
      ts,
      ipVersion: 4,
      src: fromClient ? this.cIp : this.sIp,
      dst: fromClient ? this.sIp : this.cIp,
      ipProto: 6,
      transport: 'tcp',
      ipBytes: 40 + payload.length,
      srcPort: fromClient ? this.cPort : this.sPort,
      dstPort: fromClient ? this.sPort : this.cPort,
      tcp: {
        seq: (isn + rel) >>> 0,
        ack: (flags & TCP_ACK) !== 0 ? (peerIsn + (o.ack ?? 1)) >>> 0 : 0,
        flags,
        window: o.win ?? 65535,
        wscale: -1,
      },
      payload,
      truncated: false,
    };
  }
}
