/**
 * Test helpers: build link, IP and transport headers byte by byte (checksums are left zero: the
 * decoder does not verify them), and read fixture captures.
 */
import { readFileSync } from 'node:fs';
import { readChunks } from './capture-files.ts';
import type { Packet } from '../../src/tap/capture/types.ts';

/** The packets of a capture file in src/tap/decode/testdata/. */
export function fixturePackets(name: string): Packet[] {
  const file = new URL(`../../src/tap/decode/testdata/${name}`, import.meta.url);
  const r = readChunks(readFileSync(file), [], name);
  if (r.error) throw r.error;
  return r.packets;
}

export function pkt(linkType: number, data: Buffer, ts = 1_700_000_000_000_000): Packet {
  return { ts, linkType, data, origLen: data.length, ifIndex: 0 };
}

/** 16 bytes of an IPv6 address in text form (full or with one `::`). */
export function ip6(text: string): Buffer {
  const [head = '', tail] = text.split('::');
  const groups = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t];
  const b = Buffer.alloc(16);
  all.forEach((g, i) => b.writeUInt16BE(g, 2 * i));
  return b;
}

function ip4(text: string): Buffer {
  return Buffer.from(text.split('.').map(Number));
}

export interface Ipv4Options {
  src?: string;
  dst?: string;
  proto: number;
  payload: Buffer;
  id?: number;
  /** More-fragments flag. */
  more?: boolean;
  /** Fragment offset in bytes (a multiple of 8). */
  fragOffset?: number;
  /** Overrides the total length field. */
  totalLength?: number;
  /** IP options (a multiple of 4 bytes). */
  options?: Buffer;
}

export function ipv4(o: Ipv4Options): Buffer {
  const opts = o.options ?? Buffer.alloc(0);
  const h = Buffer.alloc(20);
  h[0] = 0x40 | ((20 + opts.length) / 4);
  h.writeUInt16BE(o.totalLength ?? 20 + opts.length + o.payload.length, 2);
  h.writeUInt16BE(o.id ?? 0x1234, 4);
  h.writeUInt16BE((o.more ? 0x2000 : 0) | ((o.fragOffset ?? 0) / 8), 6);
  h[8] = 64;
  h[9] = o.proto;
  ip4(o.src ?? '10.0.0.1').copy(h, 12);
  ip4(o.dst ?? '10.0.0.2').copy(h, 16);
  return Buffer.concat([h, opts, o.payload]);
}

export interface Ipv6Options {
  src?: string;
  dst?: string;
  /** Next header of the fixed header. */
  nh: number;
  /** Extension headers and transport, as they follow the fixed header. */
  payload: Buffer;
  payloadLength?: number;
}

export function ipv6(o: Ipv6Options): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(o.payloadLength ?? o.payload.length, 4);
  h[6] = o.nh;
  h[7] = 64;
  ip6(o.src ?? 'fd00::1').copy(h, 8);
  ip6(o.dst ?? 'fd00::2').copy(h, 24);
  return Buffer.concat([h, o.payload]);
}

/** An IPv6 extension header (hop-by-hop, routing, destination options): `8·n` bytes in all. */
export function ext6(nh: number, octets = 8): Buffer {
  const b = Buffer.alloc(octets);
  b[0] = nh;
  b[1] = octets / 8 - 1;
  return b;
}

/** An IPv6 fragment header. */
export function frag6(nh: number, offset: number, more: boolean, id: number): Buffer {
  const b = Buffer.alloc(8);
  b[0] = nh;
  b.writeUInt16BE(offset | (more ? 1 : 0), 2);
  b.writeUInt32BE(id, 4);
  return b;
}

export function udp(sport: number, dport: number, payload: Buffer, length?: number): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(length ?? 8 + payload.length, 4);
  return Buffer.concat([h, payload]);
}

export interface TcpOptions {
  seq?: number;
  ack?: number;
  flags?: number;
  window?: number;
  /** Raw options (padded by the caller to a multiple of 4). */
  options?: Buffer;
  payload?: Buffer;
  /** Overrides the data offset (in 32-bit words). */
  dataOffset?: number;
}

export function tcp(sport: number, dport: number, o: TcpOptions = {}): Buffer {
  const opts = o.options ?? Buffer.alloc(0);
  const h = Buffer.alloc(20);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt32BE(o.seq ?? 1000, 4);
  h.writeUInt32BE(o.ack ?? 0, 8);
  h[12] = (o.dataOffset ?? (20 + opts.length) / 4) << 4;
  h[13] = o.flags ?? 0x18;
  h.writeUInt16BE(o.window ?? 65535, 14);
  return Buffer.concat([h, opts, o.payload ?? Buffer.alloc(0)]);
}

/** An Ethernet II frame; `tags` are [TPID, VLAN id] from outer to inner. */
export function ether(type: number, payload: Buffer, tags: Array<[number, number]> = []): Buffer {
  const parts: Buffer[] = [Buffer.from('020000000002020000000001', 'hex')];
  for (const [tpid, vid] of tags) {
    const t = Buffer.alloc(4);
    t.writeUInt16BE(tpid, 0);
    t.writeUInt16BE(vid, 2);
    parts.push(t);
  }
  const et = Buffer.alloc(2);
  et.writeUInt16BE(type);
  parts.push(et, payload);
  return Buffer.concat(parts);
}
