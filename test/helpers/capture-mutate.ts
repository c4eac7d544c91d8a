/**
 * Test helper for fuzzing: where the length fields of a pcap or pcapng file are (record and
 * block lengths, and inside each packet the IP, TCP and UDP length fields), and byte-level
 * mutations of a capture (bit flips, byte sets, length fields, truncation, duplicated or removed
 * chunks).
 */
import { locateIp } from './pcap-rewrite.ts';

/** Where the captured bytes of each packet are in the file: [start, end). */
export type PacketRange = [number, number];

export interface LengthField {
  at: number;
  /** Bytes; 0.5 is the high nibble of the byte at `at` (IPv4 IHL is the low one: see `low`). */
  size: 1 | 2 | 4 | 0.5;
  le: boolean;
  /** For nibbles: the low nibble. */
  low?: boolean;
  what: string;
}

/** Length fields inside a frame that starts at `off` in the file. */
function packetFields(buf: Buffer, off: number, len: number, linkType: number): LengthField[] {
  const data = buf.subarray(off, off + len);
  const ip = locateIp(linkType, data);
  if (!ip) return [];
  const out: LengthField[] = [];
  if (ip.ipVersion === 4) {
    out.push({ at: off + ip.ipOff + 2, size: 2, le: false, what: 'ipv4 total length' });
    out.push({ at: off + ip.ipOff, size: 0.5, le: false, low: true, what: 'ipv4 ihl' });
    out.push({ at: off + ip.ipOff + 6, size: 2, le: false, what: 'ipv4 flags/fragment offset' });
  } else {
    out.push({ at: off + ip.ipOff + 4, size: 2, le: false, what: 'ipv6 payload length' });
  }
  if (ip.proto === 6 && ip.l4Off + 13 <= ip.end) {
    out.push({ at: off + ip.l4Off + 12, size: 0.5, le: false, what: 'tcp data offset' });
    out.push({ at: off + ip.l4Off + 4, size: 4, le: false, what: 'tcp seq' });
    out.push({ at: off + ip.l4Off + 13, size: 1, le: false, what: 'tcp flags' });
  }
  if (ip.proto === 17 && ip.l4Off + 6 <= ip.end) {
    out.push({ at: off + ip.l4Off + 4, size: 2, le: false, what: 'udp length' });
  }
  // The first bytes of the payload are where dissectors read their own lengths (DNS over TCP,
  // WebSocket frame headers, HTTP chunk sizes): treat a few of them as length fields too.
  const hl = ip.proto === 6 ? ((data[ip.l4Off + 12] ?? 0) >> 4) * 4 : ip.proto === 17 ? 8 : 0;
  const p = ip.l4Off + hl;
  if (hl > 0 && p + 2 <= ip.end)
    out.push({ at: off + p, size: 2, le: false, what: 'payload[0..2)' });
  if (hl > 0 && p + 4 <= ip.end)
    out.push({ at: off + p + 2, size: 2, le: false, what: 'payload[2..4)' });
  return out;
}

export interface Layout {
  /** Every length field (empty for a file that is neither pcap nor pcapng). */
  fields: LengthField[];
  /** The captured bytes of every packet. */
  packets: PacketRange[];
}

/** Where the length fields and packets of a classic pcap or pcapng file are. */
export function layout(buf: Buffer): Layout {
  const packets: PacketRange[] = [];
  const fields = layoutInto(buf, packets);
  return { fields, packets };
}

function layoutInto(buf: Buffer, packets: PacketRange[]): LengthField[] {
  if (buf.length < 24) return [];
  const magicBE = buf.readUInt32BE(0);
  const out: LengthField[] = [];
  if (magicBE === 0x0a0d0d0a) {
    let le = true;
    const linkTypes: number[] = [];
    let off = 0;
    while (off + 12 <= buf.length) {
      const type = le ? buf.readUInt32LE(off) : buf.readUInt32BE(off);
      if (type === 0x0a0d0d0a) {
        le = buf.readUInt32LE(off + 8) === 0x1a2b3c4d;
        linkTypes.length = 0;
      }
      const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
      const total = u32(off + 4);
      if (total < 12 || off + total > buf.length) break;
      out.push({ at: off + 4, size: 4, le, what: 'block total length' });
      out.push({ at: off + total - 4, size: 4, le, what: 'block trailing length' });
      if (type === 1) linkTypes.push(le ? buf.readUInt16LE(off + 8) : buf.readUInt16BE(off + 8));
      if (type === 6 && total >= 32) {
        out.push({ at: off + 20, size: 4, le, what: 'epb captured length' });
        out.push({ at: off + 24, size: 4, le, what: 'epb original length' });
        const cap = u32(off + 20);
        const lt = linkTypes[u32(off + 8)];
        if (off + 28 + cap <= off + total) packets.push([off + 28, off + 28 + cap]);
        if (lt !== undefined && off + 28 + cap <= off + total)
          out.push(...packetFields(buf, off + 28, cap, lt));
      }
      off += total;
    }
    return out;
  }
  const le = buf.readUInt32LE(0) === 0xa1b2c3d4 || buf.readUInt32LE(0) === 0xa1b23c4d;
  if (!le && magicBE !== 0xa1b2c3d4 && magicBE !== 0xa1b23c4d) return [];
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  out.push({ at: 16, size: 4, le, what: 'snaplen' });
  out.push({ at: 20, size: 4, le, what: 'link type' });
  const linkType = u32(20) & 0xffff;
  let off = 24;
  while (off + 16 <= buf.length) {
    const cap = u32(off + 8);
    out.push({ at: off + 8, size: 4, le, what: 'record captured length' });
    out.push({ at: off + 12, size: 4, le, what: 'record original length' });
    if (off + 16 + cap > buf.length) break;
    packets.push([off + 16, off + 16 + cap]);
    out.push(...packetFields(buf, off + 16, cap, linkType));
    off += 16 + cap;
  }
  return out;
}

export type Mutation =
  | { k: 'flip'; at: number; bit: number }
  | { k: 'set'; at: number; v: number }
  | { k: 'len'; field: number; v: number }
  /** A byte inside the `packet`-th packet's data (framing stays valid). */
  | { k: 'pset'; packet: number; at: number; v: number }
  | { k: 'cut'; at: number }
  | { k: 'dup'; from: number; len: number; to: number }
  | { k: 'del'; from: number; len: number };

function writeField(b: Buffer, f: LengthField, v: number): void {
  if (f.at + Math.ceil(f.size) > b.length) return;
  if (f.size === 0.5) {
    const old = b[f.at] as number;
    b[f.at] = f.low ? (old & 0xf0) | (v & 0x0f) : (old & 0x0f) | ((v & 0x0f) << 4);
  } else if (f.size === 1) b[f.at] = v & 0xff;
  else if (f.size === 2) {
    if (f.le) b.writeUInt16LE(v & 0xffff, f.at);
    else b.writeUInt16BE(v & 0xffff, f.at);
  } else if (f.le) b.writeUInt32LE(v >>> 0, f.at);
  else b.writeUInt32BE(v >>> 0, f.at);
}

/**
 * Applies the mutations in order. Offsets are taken modulo the current length, so any number is
 * valid; in-place mutations come first in a sensible plan, as structural ones shift offsets.
 */
export function mutate(orig: Buffer, { fields, packets }: Layout, muts: Mutation[]): Buffer {
  let b = Buffer.from(orig);
  for (const m of muts) {
    if (b.length === 0) break;
    const at = (n: number) => n % b.length;
    switch (m.k) {
      case 'flip':
        b[at(m.at)] = (b[at(m.at)] as number) ^ (1 << (m.bit & 7));
        break;
      case 'set':
        b[at(m.at)] = m.v & 0xff;
        break;
      case 'len': {
        const f = fields[m.field % Math.max(1, fields.length)];
        if (f) writeField(b, f, m.v);
        break;
      }
      case 'pset': {
        const r = packets[m.packet % Math.max(1, packets.length)];
        if (r && r[1] > r[0] && r[1] <= b.length) b[r[0] + (m.at % (r[1] - r[0]))] = m.v & 0xff;
        break;
      }
      case 'cut':
        b = b.subarray(0, at(m.at));
        break;
      case 'dup': {
        const from = at(m.from);
        const chunk = b.subarray(from, Math.min(b.length, from + m.len));
        const to = m.to % (b.length + 1);
        b = Buffer.concat([b.subarray(0, to), chunk, b.subarray(to)]);
        break;
      }
      case 'del': {
        const from = at(m.from);
        b = Buffer.concat([b.subarray(0, from), b.subarray(Math.min(b.length, from + m.len))]);
        break;
      }
    }
  }
  return b;
}
