/**
 * Test-only: replays a classic pcap file through the DNS dissector without the project's
 * pipeline (written in parallel; DNS tests must not wait for it). A deliberately small reader:
 * pcap (µs/ns, either byte order), Ethernet (+802.1Q) / Linux SLL / raw IP, IPv4 (unfragmented)
 * and IPv6 (no extension headers), UDP and TCP, with naive in-order TCP reassembly. Flows and
 * detection mimic the pipeline's rules (`match-reversed` swaps the endpoints).
 */
import { readFileSync } from 'node:fs';
import type { Entry, EntryError } from '../../src/entry/model.ts';
import { LimitCounters, defaultLimits } from '../../src/util/limits.ts';
import type { Limits } from '../../src/util/limits.ts';
import type { Direction } from '../../src/tap/reassembly/types.ts';
import type { Dissector, Emitted, Session } from '../../src/tap/dissectors/types.ts';

export interface Pkt {
  /** 1-based frame number, as tshark's frame.number. */
  frame: number;
  /** µs since epoch. */
  ts: number;
  transport: 'udp' | 'tcp';
  src: string;
  dst: string;
  sport: number;
  dport: number;
  payload: Buffer;
  seq: number;
  syn: boolean;
  ack: boolean;
}

function ipv4(b: Buffer, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}
function ipv6(b: Buffer, o: number): string {
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(b.readUInt16BE(o + i).toString(16));
  return words.join(':');
}

function decodeIp(frame: number, ts: number, b: Buffer, o: number): Pkt | undefined {
  const version = (b[o] ?? 0) >> 4;
  let proto: number;
  let src: string;
  let dst: string;
  let l4: number;
  let end: number;
  if (version === 4) {
    const ihl = (b[o]! & 0xf) * 4;
    const frag = b.readUInt16BE(o + 6);
    if ((frag & 0x3fff) !== 0) return undefined; // fragments: not needed by the corpus DNS tests
    proto = b[o + 9]!;
    src = ipv4(b, o + 12);
    dst = ipv4(b, o + 16);
    l4 = o + ihl;
    end = Math.min(b.length, o + b.readUInt16BE(o + 2));
  } else if (version === 6) {
    proto = b[o + 6]!;
    src = ipv6(b, o + 8);
    dst = ipv6(b, o + 24);
    l4 = o + 40;
    end = Math.min(b.length, l4 + b.readUInt16BE(o + 4));
  } else return undefined;
  if (proto === 17 && l4 + 8 <= end) {
    const udpEnd = Math.min(end, l4 + b.readUInt16BE(l4 + 4));
    return {
      frame,
      ts,
      transport: 'udp',
      src,
      dst,
      sport: b.readUInt16BE(l4),
      dport: b.readUInt16BE(l4 + 2),
      payload: b.subarray(l4 + 8, udpEnd),
      seq: 0,
      syn: false,
      ack: false,
    };
  }
  if (proto === 6 && l4 + 20 <= end) {
    const off = (b[l4 + 12]! >> 4) * 4;
    return {
      frame,
      ts,
      transport: 'tcp',
      src,
      dst,
      sport: b.readUInt16BE(l4),
      dport: b.readUInt16BE(l4 + 2),
      payload: b.subarray(l4 + off, end),
      seq: b.readUInt32BE(l4 + 4),
      syn: (b[l4 + 13]! & 0x02) !== 0,
      ack: (b[l4 + 13]! & 0x10) !== 0,
    };
  }
  return undefined;
}

export function readPcap(path: string): Pkt[] {
  const f = readFileSync(path);
  const magic = f.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const nanos = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
  const u32 = (o: number): number => (le ? f.readUInt32LE(o) : f.readUInt32BE(o));
  const link = u32(20) & 0xffff;
  const out: Pkt[] = [];
  let o = 24;
  let frame = 0;
  while (o + 16 <= f.length) {
    const ts = u32(o) * 1e6 + (nanos ? Math.floor(u32(o + 4) / 1000) : u32(o + 4));
    const caplen = u32(o + 8);
    const b = f.subarray(o + 16, o + 16 + caplen);
    o += 16 + caplen;
    frame++;
    let ip: number;
    if (link === 1) {
      let type = b.readUInt16BE(12);
      ip = 14;
      while (type === 0x8100 || type === 0x88a8) {
        type = b.readUInt16BE(ip + 2);
        ip += 4;
      }
      if (type !== 0x0800 && type !== 0x86dd) continue;
    } else if (link === 113) ip = 16;
    else if (link === 101 || link === 12) ip = 0;
    else if (link === 0) ip = 4;
    else throw new Error(`link type ${link} not supported by the test reader`);
    const p = decodeIp(frame, ts, b, ip);
    if (p) out.push(p);
  }
  return out;
}

export interface HarnessResult {
  entries: Emitted[];
  violations: string[];
  counters: LimitCounters;
}

interface Chunk {
  dir: Direction;
  data: Buffer;
  ts: number;
}

/** Feeds the chunks of one flow through detection, then a session. */
function runFlow(
  d: Dissector,
  transport: 'udp' | 'tcp',
  portHint: boolean,
  chunks: Chunk[],
  limits: Limits,
  out: HarnessResult,
): void {
  const first: [Buffer[], Buffer[]] = [[], []];
  let reversed: boolean | undefined;
  let start = 0;
  for (; start < chunks.length && reversed === undefined; start++) {
    const c = chunks[start]!;
    if (transport === 'udp' && first[c.dir].length > 0) continue;
    first[c.dir].push(c.data);
    const v = d.detect(Buffer.concat(first[0]), Buffer.concat(first[1]), {
      transport,
      portHint,
      clientEnded: false,
      serverEnded: false,
    });
    if (v === 'no') return;
    if (v === 'match' || v === 'match-reversed') reversed = v === 'match-reversed';
  }
  if (reversed === undefined) return;
  let session: Session | undefined;
  let violations = 0;
  session = d.createSession({
    transport,
    flowId: 1,
    limits,
    counters: out.counters,
    emit: (e) => out.entries.push(e),
    handoff: () => undefined,
    violation: (m) => {
      out.violations.push(m);
      if (++violations >= limits.maxViolations && session) {
        const s = session;
        session = undefined;
        s.onEnd(0);
      }
    },
  });
  for (const c of chunks) {
    if (!session) return;
    session.onData(reversed ? ((c.dir ^ 1) as Direction) : c.dir, c.data, c.ts);
  }
  session?.onEnd(chunks.at(-1)?.ts ?? 0);
}

/** Naive in-order reassembly of one direction: drops retransmitted bytes, holds early segments. */
class Reorder {
  private next: number | undefined;
  private early = new Map<number, { data: Buffer; ts: number }>();
  constructor(private readonly emit: (data: Buffer, ts: number) => void) {}
  segment(p: Pkt): void {
    if (p.syn) {
      this.next = (p.seq + 1) >>> 0;
      return;
    }
    if (p.payload.length === 0) return;
    this.next ??= p.seq;
    this.early.set(p.seq, { data: Buffer.from(p.payload), ts: p.ts });
    this.drain();
  }
  private drain(): void {
    for (let progress = true; progress;) {
      progress = false;
      for (const [seq, s] of this.early) {
        const behind = ((this.next! - seq) | 0) as number;
        if (behind < 0) continue;
        this.early.delete(seq);
        if (behind < s.data.length) {
          this.emit(s.data.subarray(behind), s.ts);
          this.next = (seq + s.data.length) >>> 0;
        }
        progress = true;
      }
    }
  }
}

/**
 * Runs `d` over every UDP and TCP flow of `pkts`. `isServerPort` plays the pipeline's port
 * hints (and its choice of client when no SYN was seen).
 */
export function dissectPackets(
  d: Dissector,
  pkts: Pkt[],
  isServerPort: (port: number) => boolean,
  limits: Limits = defaultLimits,
): HarnessResult {
  const out: HarnessResult = { entries: [], violations: [], counters: new LimitCounters() };
  const flows = new Map<
    string,
    {
      transport: 'udp' | 'tcp';
      serverPort: number;
      client: string;
      chunks: Chunk[];
      reorder?: [Reorder, Reorder];
    }
  >();
  for (const p of pkts) {
    if (!d.transports.includes(p.transport)) continue;
    const a = `${p.src}|${p.sport}`;
    const b = `${p.dst}|${p.dport}`;
    const key = `${p.transport}|${[a, b].sort().join('|')}`;
    let f = flows.get(key);
    if (!f) {
      // The sender is the server when its SYN/ACK comes first, or (no handshake seen) when only
      // its port is a server port, or (neither is) when its port is the lower one (TCP only).
      const hinted = isServerPort(p.sport) !== isServerPort(p.dport);
      const senderIsServer = p.syn
        ? p.ack
        : hinted
          ? isServerPort(p.sport)
          : p.transport === 'tcp' && p.sport < p.dport;
      f = {
        transport: p.transport,
        serverPort: senderIsServer ? p.sport : p.dport,
        client: senderIsServer ? b : a,
        chunks: [],
      };
      flows.set(key, f);
    }
    const dir: Direction = a === f.client ? 0 : 1;
    if (p.transport === 'udp') {
      f.chunks.push({ dir, data: p.payload, ts: p.ts });
      continue;
    }
    const chunks = f.chunks;
    f.reorder ??= [
      new Reorder((data, ts) => chunks.push({ dir: 0, data, ts })),
      new Reorder((data, ts) => chunks.push({ dir: 1, data, ts })),
    ];
    f.reorder[dir].segment(p);
  }
  for (const f of flows.values())
    runFlow(d, f.transport, isServerPort(f.serverPort), f.chunks, limits, out);
  return out;
}

/** Counts comparable to tshark's `dns.flags.response` 0 / 1 occurrences. */
export function dnsCounts(entries: readonly (Emitted | Entry)[]): {
  queries: number;
  responses: number;
  errors: Record<string, number>;
} {
  let queries = 0;
  let responses = 0;
  const errors: Record<string, number> = {};
  for (const e of entries) {
    if (e.record.kind !== 'dns') continue;
    if (e.record.request) queries += 1 + (e.record.retransmissions ?? 0);
    if (e.record.response) responses++;
    const err: EntryError | undefined = e.error;
    if (err) errors[err.code] = (errors[err.code] ?? 0) + 1;
  }
  return { queries, responses, errors };
}
