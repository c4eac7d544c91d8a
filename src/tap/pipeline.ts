/**
 * The capture pipeline, the same for files and live capture:
 * packets → decode → TCP reassembly / UDP flows → protocol detection → dissector sessions →
 * Entries. Streams no dissector recognises become L4 records — never discarded.
 */
import type { Endpoint, Entry } from '../entry/model.ts';
import { LimitCounters } from '../util/limits.ts';
import { emptySummary, type PipelineSummary } from './summary.ts';
import type { Packet } from './capture/types.ts';
import { Decoder } from './decode/decoder.ts';
import type { DecodedPacket } from './decode/types.ts';
import { TcpAssembler } from './reassembly/assembler.ts';
import { OldestFirst } from './reassembly/oldest-first.ts';
import { TupleTable } from './reassembly/table.ts';
import type {
  ConnectionFactory,
  ConnectionKey,
  Direction,
  TcpConnectionHandler,
} from './reassembly/types.ts';
import type { Dissector } from './dissectors/types.ts';
import { TcpFlow, UdpFlow, type FlowHost } from './flows.ts';
import type { PipelineOptions } from './options.ts';

/** (Declared with the code that adds summaries up, in summary.ts; still importable from here.) */
export type { PipelineSummary };

/** Mixes one endpoint (address + port) into 32 well-spread bits. */
function endpointHash(ip: string, port: number): number {
  let h = port;
  for (let i = 0; i < ip.length; i++) h = Math.imul(h ^ ip.charCodeAt(i), 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}

/**
 * Symmetric (direction-independent) hash of a flow's endpoints. Ports are mixed, not summed:
 * Linux hands out ephemeral ports of one parity, so a plain sum would put every connection to
 * one server in the same shard.
 */
function flowHash(a: string, aPort: number, b: string, bPort: number): number {
  return (endpointHash(a, aPort) + endpointHash(b, bPort)) >>> 0;
}

/** How many packets between idle sweeps (capture time drives the timeouts). */
const SWEEP_EVERY_PACKETS = 4096;

export class Pipeline implements ConnectionFactory, FlowHost {
  readonly counters = new LimitCounters();
  readonly stats: PipelineSummary;
  /** Next entry id to hand out; ids advance by the shard count. */
  nextEntryId: number;
  /** Capture time of the latest packet (µs). */
  lastTs = 0;
  /** L7 entries that paired a request with its response (`kubeshark_matched_pairs_total`). */
  matchedPairs = 0;
  private nextFlowId: number;
  private readonly idStride: number;
  private readonly decoder: Decoder;
  private readonly tcp: TcpAssembler;
  /** UDP flows by tuple, and the same flows by last packet, least recent first. */
  private readonly udpTable = new TupleTable<UdpFlow>();
  private readonly udp = new OldestFirst<UdpFlow>();
  /** UDP flows that heard from one side only, oldest first (`limits.maxUnansweredFlows`). */
  private readonly udpOneWay = new OldestFirst<UdpFlow>();
  private readonly hints = new Map<string, Set<number>>();
  private readonly serverPorts = new Set<number>();
  private readonly byTransport: Record<'tcp' | 'udp', readonly Dissector[]>;
  private sincesweep = 0;
  private lastSweepTs = 0;
  /** tick(): packet count at the previous tick, and wall clock minus capture time then. */
  private tickPackets = -1;
  private tickOffset = 0;

  constructor(
    readonly opts: PipelineOptions,
    readonly sink: (e: Entry) => void,
  ) {
    this.stats = emptySummary();
    for (const d of opts.dissectors) {
      const ports = new Set([...d.defaultPorts, ...(opts.portMapping[d.id] ?? [])]);
      this.hints.set(d.id, ports);
      for (const port of ports) this.serverPorts.add(port);
    }
    this.byTransport = {
      tcp: opts.dissectors.filter((d) => d.transports.includes('tcp')),
      udp: opts.dissectors.filter((d) => d.transports.includes('udp')),
    };
    const shard = opts.shard ?? { index: 0, count: 1 };
    this.idStride = shard.count;
    this.nextEntryId = (opts.idBase ?? 0) + shard.index + 1;
    this.nextFlowId = shard.index + 1;
    this.decoder = new Decoder(opts.limits, this.counters);
    this.tcp = new TcpAssembler(this, opts.limits, this.counters);
  }

  takeEntryId(): number {
    const id = this.nextEntryId;
    this.nextEntryId += this.idStride;
    return id;
  }

  private takeFlowId(): number {
    const id = this.nextFlowId;
    this.nextFlowId += this.idStride;
    return id;
  }

  isServerPort(port: number): boolean {
    return this.serverPorts.has(port);
  }

  isHinted(d: Dissector, port: number): boolean {
    // serverPorts is the union of all hints: most ports (ephemeral ones) end here.
    if (!this.serverPorts.has(port)) return false;
    return this.hints.get(d.id)?.has(port) ?? false;
  }

  /** Dissectors to try: port-hinted ones first, then the rest in registry order. */
  candidatesFor(
    transport: 'tcp' | 'udp',
    serverPort: number,
    clientPort: number,
  ): readonly Dissector[] {
    const all = this.byTransport[transport];
    // Neither port is hinted for any dissector (the usual case for one of them): registry order.
    if (!this.serverPorts.has(serverPort) && !this.serverPorts.has(clientPort)) return all;
    const hinted = all.filter((d) => this.isHinted(d, serverPort) || this.isHinted(d, clientPort));
    if (hinted.length === 0 || hinted.length === all.length) return all;
    return [...hinted, ...all.filter((d) => !hinted.includes(d))];
  }

  open(key: ConnectionKey, _ts: number, _synSeen: boolean): TcpConnectionHandler {
    const flow = new TcpFlow(this, this.takeFlowId(), key);
    this.opts.onFlowStart?.('tcp', flow.clientEndpoint, flow.serverEndpoint);
    return flow;
  }

  packet(pkt: Packet): void {
    this.stats.packets++;
    this.stats.bytes += pkt.origLen;
    this.lastTs = pkt.ts;
    const d = this.decoder.decode(pkt);
    if (d && this.ownsFlow(d)) {
      if (d.transport === 'tcp') this.tcp.packet(d);
      else if (d.transport === 'udp') this.udpPacket(d);
    }
    if (++this.sincesweep >= SWEEP_EVERY_PACKETS || pkt.ts - this.lastSweepTs > 1e6)
      this.sweep(pkt.ts);
  }

  private ownsFlow(d: DecodedPacket): boolean {
    const shard = this.opts.shard;
    return !shard || flowHash(d.src, d.srcPort, d.dst, d.dstPort) % shard.count === shard.index;
  }

  private udpPacket(d: DecodedPacket): void {
    let flow = this.udpTable.get(d.src, d.srcPort, d.dst, d.dstPort);
    let dir: Direction = 0;
    if (flow && !(flow.clientPort === d.srcPort && flow.clientIp === d.src)) dir = 1;
    if (!flow) {
      // The sender is the client unless only its port is a known server port.
      const senderIsServer = this.isServerPort(d.srcPort) && !this.isServerPort(d.dstPort);
      const a: Endpoint = { ip: d.src, port: d.srcPort };
      const b: Endpoint = { ip: d.dst, port: d.dstPort };
      flow = new UdpFlow(
        this,
        this.takeFlowId(),
        senderIsServer ? b : a,
        senderIsServer ? a : b,
        d.ts,
      );
      dir = senderIsServer ? 1 : 0;
      this.opts.onFlowStart?.('udp', flow.clientEndpoint, flow.serverEndpoint);
      this.udpTable.add(flow);
      if (this.udpOneWay.size >= this.opts.limits.maxUnansweredFlows) {
        // A flood of queries nobody answers: the oldest of them goes, not a live flow.
        const oldest = this.udpOneWay.oldest()!;
        this.counters.hit('maxUnansweredFlows');
        this.forgetUdp(oldest);
        oldest.close('limit', d.ts, 'maxUnansweredFlows');
      }
      if (this.udp.size >= this.opts.limits.maxStreams) {
        const oldest = this.udp.oldest();
        if (oldest) {
          this.counters.hit('maxStreams');
          this.forgetUdp(oldest);
          oldest.close('limit', d.ts, 'maxStreams');
        }
      }
      this.udpOneWay.add(flow);
    }
    this.udp.add(flow); // (again: now the most recent)
    flow.datagram(dir, d);
    // Answered: both directions have spoken (datagram counts them).
    if (flow.oneWay && flow.stats[dir ^ 1]!.packets > 0) {
      flow.oneWay = false;
      this.udpOneWay.delete(flow);
    }
  }

  private forgetUdp(flow: UdpFlow): void {
    this.udp.delete(flow);
    this.udpTable.delete(flow);
    if (flow.oneWay) {
      flow.oneWay = false;
      this.udpOneWay.delete(flow);
    }
  }

  private sweep(ts: number): void {
    this.sincesweep = 0;
    this.lastSweepTs = ts;
    this.tcp.flushIdle(ts);
    const idle = this.opts.limits.idleTimeoutSec * 1e6;
    // Least recent first: the first one not idle ends the sweep.
    for (let flow = this.udp.oldest(); flow && ts - flow.lastTs > idle; flow = this.udp.oldest()) {
      this.forgetUdp(flow);
      flow.close('idle', ts);
    }
  }

  /**
   * Wall-clock tick for live capture (call it every second or so): capture time is advanced by
   * the wall time elapsed since packets last arrived, and the idle sweep runs at that time, so
   * connections that went quiet are flushed and their entries emitted although no packet comes
   * to drive the sweep. While packets are processed between ticks capture time stays the latest
   * packet's, so a consumer lagging behind a backlog does not flush connections whose packets
   * are still queued (only a stall with no packet processed for a whole idle timeout would).
   * `nowUs`: µs since the epoch.
   */
  tick(nowUs: number): void {
    if (this.stats.packets !== this.tickPackets) {
      this.tickPackets = this.stats.packets;
      this.tickOffset = nowUs - this.lastTs;
      return;
    }
    const ts = nowUs - this.tickOffset;
    if (ts > this.lastTs) this.sweep(ts);
  }

  /** TCP connections being tracked now (`kubeshark_live_tcp_streams`). */
  liveTcpStreams(): number {
    return this.tcp.stats().connectionsActive;
  }

  /** UDP flows being tracked now. */
  liveUdpFlows(): number {
    return this.udp.size;
  }

  /** End of input: flush every connection and flow. */
  end(): void {
    const ts = this.lastTs;
    this.tcp.flushAll(ts);
    for (const flow of this.udp) flow.close('end_of_capture', ts);
    this.udp.clear();
    this.udpOneWay.clear();
    this.udpTable.clear();
  }

  summary(): PipelineSummary {
    const ds = this.decoder.stats;
    return {
      ...this.stats,
      decoded: ds.decoded,
      skipped: { ...ds.skipped },
      limitsHit: this.counters.toJSON(),
    };
  }
}
