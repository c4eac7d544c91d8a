/**
 * Flood captures, written from raw packets (no network, no servers): the cases of "a flood does
 * not blind capture" (issue 12), for the timing and memory tests and for measuring by hand.
 *
 *   syn-crowded  half-open connections (one SYN each) from many addresses but only a few source
 *                ports, all to one server port: every connection shares a handful of port pairs.
 *   syn-spread   the same number of half-open connections with spread source ports.
 *   dns          DNS queries that are never answered, each from its own source port (a resolver
 *                retrying from fresh sockets, or a spoofed flood) — one UDP flow per query.
 *   dns-one-flow the same queries from one socket: one flow, many pending queries.
 *
 * Usage: node --import tsx scripts/capture/flood.ts <case> <count> <out.pcap>
 */
import { writeFileSync } from 'node:fs';

const ETH = 14;
const IP4 = 20;
const TCP = 20;
const UDP = 8;
/** Capture time of the first packet (µs) and the rate the packets are spread at. */
const START_US = 1_700_000_000_000_000;
const PACKETS_PER_SECOND = 4000;

const SERVER = [10, 96, 0, 10];
const SERVER_MAC = Buffer.from([0x02, 0, 0, 0, 0, 1]);
const CLIENT_MAC = Buffer.from([0x02, 0, 0, 0, 0, 2]);

/** Ones' complement sum folded to 16 bits (IPv4 header / pseudo-header checksums). */
function checksum(b: Buffer, from: number, to: number, initial = 0): number {
  let sum = initial;
  for (let i = from; i + 1 < to; i += 2) sum += b.readUInt16BE(i);
  if ((to - from) % 2 === 1) sum += b[to - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Client address number n (10.x.y.z, never .0/.255), so 16M distinct clients are possible. */
function clientIp(n: number): number[] {
  return [10, 1 + ((n >>> 16) % 250), (n >>> 8) & 0xff, 1 + ((n & 0xff) % 254)];
}

/** An Ethernet + IPv4 frame carrying `l4` (its checksum field at `l4ChecksumAt` is filled). */
function frame(
  proto: 6 | 17,
  src: number[],
  dst: number[],
  l4: Buffer,
  l4ChecksumAt: number,
): Buffer {
  const f = Buffer.alloc(ETH + IP4 + l4.length);
  SERVER_MAC.copy(f, 0);
  CLIENT_MAC.copy(f, 6);
  f.writeUInt16BE(0x0800, 12);
  const ip = ETH;
  f[ip] = 0x45;
  f.writeUInt16BE(IP4 + l4.length, ip + 2);
  f[ip + 6] = 0x40; // DF
  f[ip + 8] = 64;
  f[ip + 9] = proto;
  f.set(src, ip + 12);
  f.set(dst, ip + 16);
  f.writeUInt16BE(checksum(f, ip, ip + IP4), ip + 10);
  l4.copy(f, ip + IP4);
  // Pseudo-header: addresses, protocol, length.
  let pseudo = proto + l4.length;
  for (let i = 0; i < 8; i += 2) pseudo += f.readUInt16BE(ip + 12 + i);
  const l4At = ip + IP4;
  let sum = checksum(f, l4At, f.length, pseudo);
  if (proto === 17 && sum === 0) sum = 0xffff;
  f.writeUInt16BE(sum, l4At + l4ChecksumAt);
  return f;
}

function synFrame(src: number[], sport: number, dst: number[], dport: number, isn: number) {
  const t = Buffer.alloc(TCP);
  t.writeUInt16BE(sport, 0);
  t.writeUInt16BE(dport, 2);
  t.writeUInt32BE(isn >>> 0, 4);
  t[12] = (TCP / 4) << 4;
  t[13] = 0x02; // SYN
  t.writeUInt16BE(64240, 14);
  return frame(6, src, dst, t, 16);
}

/** A DNS query for an A record of `name` (RD set). */
function dnsQuery(id: number, name: string): Buffer {
  const labels = name
    .split('.')
    .map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id & 0xffff, 0);
  head.writeUInt16BE(0x0100, 2); // RD
  head.writeUInt16BE(1, 4); // QDCOUNT
  const tail = Buffer.from([0, 0, 1, 0, 1]); // root, type A, class IN
  return Buffer.concat([head, ...labels, tail]);
}

function udpFrame(src: number[], sport: number, dst: number[], dport: number, payload: Buffer) {
  const u = Buffer.alloc(UDP + payload.length);
  u.writeUInt16BE(sport, 0);
  u.writeUInt16BE(dport, 2);
  u.writeUInt16BE(u.length, 4);
  payload.copy(u, UDP);
  return frame(17, src, dst, u, 6);
}

/** A captured frame: capture time (µs) and the Ethernet frame. */
export interface FloodFrame {
  ts: number;
  data: Buffer;
}

/** Capture time of frame i: one every 1/PACKETS_PER_SECOND s. */
const tsOf = (i: number): number => START_US + Math.floor((i * 1e6) / PACKETS_PER_SECOND);

/** A little-endian microsecond pcap of Ethernet frames. */
export function pcap(frames: Iterable<FloodFrame>): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(262144, 16);
  head.writeUInt32LE(1, 20);
  const parts: Buffer[] = [head];
  for (const { ts, data } of frames) {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(Math.floor(ts / 1e6), 0);
    h.writeUInt32LE(ts % 1e6, 4);
    h.writeUInt32LE(data.length, 8);
    h.writeUInt32LE(data.length, 12);
    parts.push(h, data);
  }
  return Buffer.concat(parts);
}

/** Source ports the crowded SYN flood is sent from. */
export const CROWDED_SOURCE_PORTS = 4;

/**
 * `connections` half-open TCP connections (one SYN each) to 10.96.0.10:443, from distinct client
 * addresses. `crowded`: only CROWDED_SOURCE_PORTS source ports (so every connection shares one
 * of a few port pairs); else a different source port for each (the usual case).
 */
export function* synFlood(connections: number, crowded: boolean): Generator<FloodFrame> {
  for (let n = 0; n < connections; n++) {
    const sport = crowded ? 40000 + (n % CROWDED_SOURCE_PORTS) : 1024 + (n % 64000);
    yield {
      ts: tsOf(n),
      data: synFrame(clientIp(n), sport, SERVER, 443, Math.imul(n, 2654435761)),
    };
  }
}

/**
 * `queries` DNS queries to 10.96.0.10:53 that are never answered. `oneFlow`: all from one socket
 * (one UDP flow, distinct IDs and names); else each from its own source port and address.
 */
export function* unansweredDns(queries: number, oneFlow = false): Generator<FloodFrame> {
  for (let n = 0; n < queries; n++) {
    const src = oneFlow ? clientIp(0) : clientIp(n);
    const sport = oneFlow ? 53000 : 1024 + (n % 64000);
    yield {
      ts: tsOf(n),
      data: udpFrame(src, sport, SERVER, 53, dnsQuery(n, `q${n}.flood.example.com`)),
    };
  }
}

const CASES: Record<string, (count: number) => Iterable<FloodFrame>> = {
  'syn-crowded': (n) => synFlood(n, true),
  'syn-spread': (n) => synFlood(n, false),
  dns: (n) => unansweredDns(n),
  'dns-one-flow': (n) => unansweredDns(n, true),
};

if (import.meta.url === `file://${process.argv[1]}`) {
  const [name, count, out] = process.argv.slice(2);
  const make = name === undefined ? undefined : CASES[name];
  const n = Number(count);
  if (!make || !Number.isInteger(n) || n < 1 || !out) {
    console.error(
      `usage: flood.ts <${Object.keys(CASES).join('|')}> <count> <out.pcap>  (e.g. syn-crowded 200000 /tmp/c.pcap)`,
    );
    process.exit(2);
  }
  writeFileSync(out, pcap(make(n)));
  console.error(`wrote ${out}`);
}
