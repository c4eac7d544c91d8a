/**
 * Test helper: read a classic pcap file into records, rewrite its TCP segments (split each into
 * several, coalesce adjacent ones, move IPv4 to IPv6) and write it back. Link headers (Ethernet
 * with VLAN tags, Linux cooked v1/v2, NULL/LOOP, raw IP) are kept byte for byte; IP lengths and
 * the IPv4 header, TCP and UDP checksums are recomputed so tshark reads the result as valid.
 * Ethernet trailers (padding after the IP datagram) are dropped from rewritten frames.
 * pcapng input is not handled (every capture these tests rewrite is classic pcap).
 */

export interface PcapRecord {
  sec: number;
  /** µs, or ns in a nanosecond file. */
  frac: number;
  data: Buffer;
  origLen: number;
}

export interface PcapFile {
  le: boolean;
  /** The 24-byte file header, written back unchanged. */
  header: Buffer;
  linkType: number;
  records: PcapRecord[];
}

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;

export function parsePcap(buf: Buffer): PcapFile {
  if (buf.length < 24) throw new Error('not a pcap file: too short');
  const be = buf.readUInt32BE(0);
  const le = buf.readUInt32LE(0);
  let isLe: boolean;
  if (be === MAGIC_US || be === MAGIC_NS) isLe = false;
  else if (le === MAGIC_US || le === MAGIC_NS) isLe = true;
  else throw new Error(`not a classic pcap file (magic 0x${be.toString(16)})`);
  const u32 = (o: number) => (isLe ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const linkType = u32(20) & 0xffff;
  const records: PcapRecord[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const caplen = u32(off + 8);
    if (off + 16 + caplen > buf.length) throw new Error(`pcap record at ${off} is truncated`);
    records.push({
      sec: u32(off),
      frac: u32(off + 4),
      origLen: u32(off + 12),
      data: Buffer.from(buf.subarray(off + 16, off + 16 + caplen)),
    });
    off += 16 + caplen;
  }
  if (off !== buf.length) throw new Error(`pcap file has ${buf.length - off} trailing bytes`);
  return { le: isLe, header: Buffer.from(buf.subarray(0, 24)), linkType, records };
}

export function serializePcap(f: PcapFile): Buffer {
  const parts: Buffer[] = [f.header];
  for (const r of f.records) {
    const h = Buffer.alloc(16);
    const w = (v: number, o: number) => (f.le ? h.writeUInt32LE(v, o) : h.writeUInt32BE(v, o));
    w(r.sec, 0);
    w(r.frac, 4);
    w(r.data.length, 8);
    w(r.origLen, 12);
    parts.push(h, r.data);
  }
  return Buffer.concat(parts);
}

/** Byte offsets of the IP datagram inside a frame, or undefined for anything else. */
export interface IpLocation {
  ipVersion: 4 | 6;
  /** Offset of the IP header; the link header is `data[0, ipOff)`. */
  ipOff: number;
  /** Offset of the transport header. */
  l4Off: number;
  /** End of the IP datagram in the frame (trailers follow). */
  end: number;
  /** IP protocol of the transport (after IPv6 extension headers). */
  proto: number;
}

export interface TcpLocation extends IpLocation {
  payloadOff: number;
  seq: number;
  flags: number;
  /** `src:port>dst:port`, direction-sensitive. */
  key: string;
}

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const PSH = 0x08;

function ipStart(linkType: number, d: Buffer): number | undefined {
  const version = (off: number) => (d.length > off ? (d[off] as number) >> 4 : -1);
  const byEthertype = (type: number, off: number): number | undefined =>
    type === 0x0800 || type === 0x86dd ? off : undefined;
  switch (linkType) {
    case 1: {
      if (d.length < 14) return undefined;
      let off = 12;
      let type = d.readUInt16BE(off);
      while ((type === 0x8100 || type === 0x88a8 || type === 0x9100) && d.length >= off + 6) {
        off += 4;
        type = d.readUInt16BE(off);
      }
      return byEthertype(type, off + 2);
    }
    case 113:
      return d.length >= 16 ? byEthertype(d.readUInt16BE(14), 16) : undefined;
    case 276:
      return d.length >= 20 ? byEthertype(d.readUInt16BE(0), 20) : undefined;
    case 0:
    case 108:
      return d.length >= 4 && (version(4) === 4 || version(4) === 6) ? 4 : undefined;
    case 12:
    case 14:
    case 101:
    case 228:
    case 229:
      return version(0) === 4 || version(0) === 6 ? 0 : undefined;
    default:
      return undefined;
  }
}

/** Locates an unfragmented IPv4 or IPv6 datagram in a frame. */
export function locateIp(linkType: number, d: Buffer): IpLocation | undefined {
  const ipOff = ipStart(linkType, d);
  if (ipOff === undefined || d.length < ipOff + 20) return undefined;
  const v = (d[ipOff] as number) >> 4;
  if (v === 4) {
    const ihl = ((d[ipOff] as number) & 0x0f) * 4;
    const total = d.readUInt16BE(ipOff + 2);
    if (ihl < 20 || total < ihl || ipOff + total > d.length) return undefined;
    if ((d.readUInt16BE(ipOff + 6) & 0x3fff) !== 0) return undefined; // a fragment
    return {
      ipVersion: 4,
      ipOff,
      l4Off: ipOff + ihl,
      end: ipOff + total,
      proto: d[ipOff + 9] as number,
    };
  }
  if (v === 6) {
    if (d.length < ipOff + 40) return undefined;
    const end = ipOff + 40 + d.readUInt16BE(ipOff + 4);
    if (end > d.length) return undefined;
    let nh = d[ipOff + 6] as number;
    let p = ipOff + 40;
    // Hop-by-hop, routing, destination options; a fragment header ends the walk.
    while (nh === 0 || nh === 43 || nh === 60) {
      if (p + 8 > end) return undefined;
      const next = d[p] as number;
      p += ((d[p + 1] as number) + 1) * 8;
      nh = next;
    }
    if (nh === 44 || p > end) return undefined;
    return { ipVersion: 6, ipOff, l4Off: p, end, proto: nh };
  }
  return undefined;
}

function addrText(d: Buffer, loc: IpLocation, which: 'src' | 'dst'): string {
  if (loc.ipVersion === 4) {
    const o = loc.ipOff + (which === 'src' ? 12 : 16);
    return [...d.subarray(o, o + 4)].join('.');
  }
  const o = loc.ipOff + (which === 'src' ? 8 : 24);
  return d.subarray(o, o + 16).toString('hex');
}

/** Locates a complete (not snaplen-cut) TCP segment in a frame. */
export function locateTcp(linkType: number, d: Buffer): TcpLocation | undefined {
  const ip = locateIp(linkType, d);
  if (!ip || ip.proto !== 6 || ip.l4Off + 20 > ip.end) return undefined;
  const hl = ((d[ip.l4Off + 12] as number) >> 4) * 4;
  if (hl < 20 || ip.l4Off + hl > ip.end) return undefined;
  const sport = d.readUInt16BE(ip.l4Off);
  const dport = d.readUInt16BE(ip.l4Off + 2);
  return {
    ...ip,
    payloadOff: ip.l4Off + hl,
    seq: d.readUInt32BE(ip.l4Off + 4),
    flags: d[ip.l4Off + 13] as number,
    key: `${addrText(d, ip, 'src')}:${sport}>${addrText(d, ip, 'dst')}:${dport}`,
  };
}

function sum16(b: Buffer, acc = 0): number {
  for (let i = 0; i + 1 < b.length; i += 2) acc += b.readUInt16BE(i);
  if (b.length % 2 === 1) acc += (b[b.length - 1] as number) << 8;
  return acc;
}

function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return ~acc & 0xffff;
}

/** Recomputes the IP length fields and the IPv4 header, TCP and UDP checksums in place. */
export function fixLengthsAndChecksums(d: Buffer, loc: IpLocation): void {
  const ipLen = loc.end - loc.ipOff;
  let pseudo: number;
  if (loc.ipVersion === 4) {
    d.writeUInt16BE(ipLen, loc.ipOff + 2);
    d.writeUInt16BE(0, loc.ipOff + 10);
    d.writeUInt16BE(fold(sum16(d.subarray(loc.ipOff, loc.l4Off))), loc.ipOff + 10);
    pseudo = sum16(d.subarray(loc.ipOff + 12, loc.ipOff + 20)) + loc.proto + (loc.end - loc.l4Off);
  } else {
    d.writeUInt16BE(ipLen - 40, loc.ipOff + 4);
    const l4Len = loc.end - loc.l4Off;
    pseudo =
      sum16(d.subarray(loc.ipOff + 8, loc.ipOff + 40)) +
      Math.floor(l4Len / 0x10000) +
      (l4Len & 0xffff) +
      loc.proto;
  }
  const seg = d.subarray(loc.l4Off, loc.end);
  const at = loc.proto === 6 ? 16 : loc.proto === 17 ? 6 : -1;
  if (at < 0 || seg.length < at + 2) return;
  seg.writeUInt16BE(0, at);
  let c = fold(sum16(seg, pseudo));
  if (loc.proto === 17 && c === 0) c = 0xffff;
  seg.writeUInt16BE(c, at);
}

/** A copy of a TCP frame with another payload, sequence number and flags. */
export function withPayload(
  d: Buffer,
  loc: TcpLocation,
  payload: Buffer,
  seq: number,
  flags: number,
): Buffer {
  const out = Buffer.concat([d.subarray(0, loc.payloadOff), payload]);
  out.writeUInt32BE(seq >>> 0, loc.l4Off + 4);
  out[loc.l4Off + 13] = flags;
  fixLengthsAndChecksums(out, { ...loc, end: out.length });
  return out;
}

/** A TCP segment whose payload a rewrite may split or merge. */
function rewritable(r: PcapRecord, loc: TcpLocation | undefined): loc is TcpLocation {
  return (
    loc !== undefined &&
    r.data.length === r.origLen &&
    (loc.flags & (SYN | RST)) === 0 &&
    loc.end > loc.payloadOff
  );
}

/** Payload lengths of the segments `splitTcp` may cut, in capture order. */
export function splittableSegments(f: PcapFile): number[] {
  const out: number[] = [];
  for (const r of f.records) {
    const loc = locateTcp(f.linkType, r.data);
    if (rewritable(r, loc) && loc.end - loc.payloadOff >= 2) out.push(loc.end - loc.payloadOff);
  }
  return out;
}

/**
 * Splits the payload of every splittable TCP segment at the cut points `cutsFor(i, len)` gives
 * for the i-th one (offsets in (0, len); others are ignored). The pieces keep the frame's
 * timestamp and headers; sequence numbers advance; FIN and PSH stay on the last piece only.
 */
export function splitTcp(f: PcapFile, cutsFor: (i: number, len: number) => number[]): PcapFile {
  const records: PcapRecord[] = [];
  let i = 0;
  for (const r of f.records) {
    const loc = locateTcp(f.linkType, r.data);
    if (!rewritable(r, loc) || loc.end - loc.payloadOff < 2) {
      records.push(r);
      continue;
    }
    const payload = r.data.subarray(loc.payloadOff, loc.end);
    const cuts = [...new Set(cutsFor(i++, payload.length))]
      .filter((c) => Number.isInteger(c) && c > 0 && c < payload.length)
      .sort((a, b) => a - b);
    const bounds = [0, ...cuts, payload.length];
    for (let k = 0; k + 1 < bounds.length; k++) {
      const from = bounds[k] as number;
      const to = bounds[k + 1] as number;
      const last = k + 2 === bounds.length;
      const flags = last ? loc.flags : loc.flags & ~(FIN | PSH);
      const data = withPayload(r.data, loc, payload.subarray(from, to), loc.seq + from, flags);
      records.push({ sec: r.sec, frac: r.frac, data, origLen: data.length });
    }
  }
  return { ...f, records };
}

/** Largest payload a coalesced segment may carry (the IPv4 total length is 16 bits). */
export const MAX_COALESCED = 60_000;

/** The connection of a TCP location, the same for both directions. */
function connKey(loc: TcpLocation): string {
  const [a = '', b = ''] = loc.key.split('>');
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/**
 * Coalesces runs of frames that carry consecutive payload of the same TCP direction. Between
 * them the capture may hold only bare ACKs (no payload, no SYN/FIN/RST) of the same connection;
 * anything else ends the run, so the order of packets across connections never changes. At each
 * boundary `merge(b)` (b counts the boundaries seen) decides. The merged frame takes the place
 * and timestamp of the run's last segment (its bytes are complete only then), keeps the first
 * frame's link/IP/TCP header and sequence number, and the last one's ACK, window and flags. The
 * bare ACKs inside the run come before it.
 */
export function coalesceTcp(f: PcapFile, merge: (boundary: number) => boolean): PcapFile {
  const records: PcapRecord[] = [];
  interface Run {
    first: PcapRecord;
    loc: TcpLocation;
    last: PcapRecord;
    lastLoc: TcpLocation;
    parts: Buffer[];
    len: number;
    /** Bare ACKs between the first and the last merged segment. */
    before: PcapRecord[];
    /** Bare ACKs after the last merged segment (emitted after it unless another merge). */
    held: PcapRecord[];
  }
  let run: Run | undefined;
  let boundary = 0;
  const flush = () => {
    if (!run) return;
    records.push(...run.before);
    if (run.parts.length === 1) records.push(run.first);
    else {
      const payload = Buffer.concat(run.parts);
      const base = Buffer.from(run.first.data.subarray(0, run.loc.payloadOff));
      // ACK number and window from the last segment.
      run.last.data.copy(base, run.loc.l4Off + 8, run.lastLoc.l4Off + 8, run.lastLoc.l4Off + 12);
      run.last.data.copy(base, run.loc.l4Off + 14, run.lastLoc.l4Off + 14, run.lastLoc.l4Off + 16);
      const loc = { ...run.loc, end: base.length };
      const data = withPayload(base, loc, payload, run.loc.seq, run.lastLoc.flags | PSH);
      records.push({ sec: run.last.sec, frac: run.last.frac, data, origLen: data.length });
    }
    records.push(...run.held);
    run = undefined;
  };
  for (const r of f.records) {
    const loc = locateTcp(f.linkType, r.data);
    if (
      run &&
      loc &&
      loc.end === loc.payloadOff &&
      (loc.flags & (SYN | FIN | RST)) === 0 &&
      connKey(loc) === connKey(run.loc)
    ) {
      run.held.push(r);
      continue;
    }
    if (!rewritable(r, loc)) {
      flush();
      records.push(r);
      continue;
    }
    const payload = r.data.subarray(loc.payloadOff, loc.end);
    if (
      run &&
      (run.lastLoc.flags & FIN) === 0 &&
      run.loc.key === loc.key &&
      loc.seq === (run.loc.seq + run.len) >>> 0 &&
      run.len + payload.length <= MAX_COALESCED &&
      merge(boundary++)
    ) {
      run.parts.push(payload);
      run.len += payload.length;
      run.last = r;
      run.lastLoc = loc;
      run.before.push(...run.held);
      run.held = [];
      continue;
    }
    flush();
    run = {
      first: r,
      loc,
      last: r,
      lastLoc: loc,
      parts: [payload],
      len: payload.length,
      before: [],
      held: [],
    };
  }
  flush();
  return { ...f, records };
}

/** How many boundaries `coalesceTcp` would ask about if every answer were "merge". */
export function coalescableBoundaries(f: PcapFile): number {
  let n = 0;
  coalesceTcp(f, () => {
    n++;
    return true;
  });
  return n;
}

/** fd00::a.b.c.d for an IPv4 address. */
function mapped(v4: Buffer): Buffer {
  const b = Buffer.alloc(16);
  b[0] = 0xfd;
  v4.copy(b, 12);
  return b;
}

/**
 * The same capture over IPv6: each Ethernet frame carrying an unfragmented IPv4 TCP or UDP
 * datagram becomes an IPv6 one (addresses fd00::a.b.c.d, hop limit = TTL, no extension headers).
 * Other frames and link types are kept.
 */
export function toIpv6(f: PcapFile): PcapFile {
  if (f.linkType !== 1) return f;
  const records = f.records.map((r) => {
    const loc = locateIp(1, r.data);
    if (!loc || loc.ipVersion !== 4 || (loc.proto !== 6 && loc.proto !== 17)) return r;
    if (r.data.length !== r.origLen) return r;
    const d = r.data;
    const h = Buffer.alloc(40);
    h.writeUInt32BE(0x60000000, 0);
    h[6] = loc.proto;
    h[7] = d[loc.ipOff + 8] as number;
    mapped(d.subarray(loc.ipOff + 12, loc.ipOff + 16)).copy(h, 8);
    mapped(d.subarray(loc.ipOff + 16, loc.ipOff + 20)).copy(h, 24);
    const link = Buffer.from(d.subarray(0, loc.ipOff));
    link.writeUInt16BE(0x86dd, loc.ipOff - 2);
    const data = Buffer.concat([link, h, d.subarray(loc.l4Off, loc.end)]);
    fixLengthsAndChecksums(data, {
      ipVersion: 6,
      ipOff: loc.ipOff,
      l4Off: loc.ipOff + 40,
      end: data.length,
      proto: loc.proto,
    });
    return { ...r, data, origLen: data.length };
  });
  return { ...f, records };
}
