import type { Limits, LimitCounters } from '../../util/limits.ts';
import type { Packet } from '../capture/types.ts';
import { formatIPv4, formatIPv6 } from './addr.ts';
import { FragmentReassembler } from './fragments.ts';
import { TCP_SYN, type DecodedPacket, type DecodeStats, type TcpHeader } from './types.ts';

/** LINKTYPE_* values understood by the decoder. */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  RAW_DLT12: 12,
  RAW_DLT14: 14,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const ETHERTYPE_QINQ_OLD = 0x9100;

const AF_INET = 2;
/** AF_INET6 differs per OS: Linux 10, NetBSD/OpenBSD 24, FreeBSD 28, Darwin 30. */
const AF_INET6 = new Set([10, 24, 28, 30]);

const PROTO_ICMP = 1;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_ICMPV6 = 58;
const IP6_HOPOPTS = 0;
const IP6_ROUTING = 43;
const IP6_FRAGMENT = 44;
const IP6_AH = 51;
const IP6_DSTOPTS = 60;

const TCP_OPT_END = 0;
const TCP_OPT_NOP = 1;
const TCP_OPT_WSCALE = 3;

/** What the IPv6 layer hands to the transport layer (IPv4 passes the fields directly). */
interface IpLayer {
  ts: number;
  ipVersion: 4 | 6;
  src: string;
  dst: string;
  ipBytes: number;
  vlan: number[] | undefined;
}

/**
 * Decodes frames down to the transport layer: link header (Ethernet with VLAN tags, Linux cooked
 * v1/v2, BSD NULL/LOOP, raw IP), IPv4/IPv6 (extension headers, fragment reassembly), then TCP,
 * UDP, ICMP/ICMPv6. Never throws: every read is length-checked, and a frame that yields no
 * packet returns undefined and is counted in `stats.skipped` under its reason:
 *   unknown-linktype, truncated-link, non-ip   link layer
 *   bad-ip-header, bad-ipv6-ext                IP header or extension header chain invalid
 *   ip-fragment                                a fragment held for reassembly (the datagram is
 *                                              decoded on the fragment that completes it)
 *   truncated-fragment                         a fragment cut by the snaplen (dropped)
 *   bad-/truncated-tcp-header, bad-/truncated-udp-header, bad-icmp-header
 * Stateful (IP fragments): use one Decoder per capture.
 */
export class Decoder {
  readonly stats: DecodeStats = {
    frames: 0,
    decoded: 0,
    skipped: {},
    fragmentsReassembled: 0,
    fragmentsDropped: 0,
    datagramsReassembled: 0,
  };
  private readonly frags: FragmentReassembler;

  constructor(limits: Readonly<Limits>, counters: LimitCounters) {
    this.frags = new FragmentReassembler(limits, counters, this.stats);
  }

  /** Incomplete IP datagrams currently held for reassembly. */
  get pendingFragments(): number {
    return this.frags.size;
  }

  decode(pkt: Packet): DecodedPacket | undefined {
    this.stats.frames++;
    if (this.frags.size > 0) this.frags.expire(pkt.ts);
    const d = pkt.data;
    switch (pkt.linkType) {
      case LinkType.ETHERNET:
        return this.ethertype(pkt, 12);
      case LinkType.LINUX_SLL:
        return this.ethertype(pkt, 14);
      case LinkType.LINUX_SLL2:
        // Protocol type first, then 18 more header bytes before the payload.
        if (d.length < 20) return this.skip('truncated-link');
        return this.etherPayload(pkt, u16(d, 0), 20, undefined);
      case LinkType.NULL: {
        if (d.length < 4) return this.skip('truncated-link');
        // The family is in the capturing host's byte order: a value above 16 bits is swapped.
        const le = d.readUInt32LE(0);
        return this.family(pkt, (le & 0xffff0000) !== 0 ? u32(d, 0) : le);
      }
      case LinkType.LOOP:
        if (d.length < 4) return this.skip('truncated-link');
        return this.family(pkt, u32(d, 0));
      case LinkType.RAW:
      case LinkType.RAW_DLT12:
      case LinkType.RAW_DLT14:
        return this.rawIp(pkt, 0);
      case LinkType.IPV4:
        return this.ipv4(pkt, 0, undefined);
      case LinkType.IPV6:
        return this.ipv6(pkt, 0, undefined);
      default:
        return this.skip('unknown-linktype');
    }
  }

  private skip(reason: string): undefined {
    this.stats.skipped[reason] = (this.stats.skipped[reason] ?? 0) + 1;
    return undefined;
  }

  /** An EtherType at `typeOff`, followed by the payload (Ethernet II, Linux SLL). */
  private ethertype(pkt: Packet, typeOff: number): DecodedPacket | undefined {
    if (pkt.data.length < typeOff + 2) return this.skip('truncated-link');
    return this.etherPayload(pkt, u16(pkt.data, typeOff), typeOff + 2, undefined);
  }

  /** Walks 802.1Q / 802.1ad tags (recording their VLAN ids) to the IP header. */
  private etherPayload(
    pkt: Packet,
    type: number,
    off: number,
    vlan: number[] | undefined,
  ): DecodedPacket | undefined {
    const d = pkt.data;
    while (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ || type === ETHERTYPE_QINQ_OLD) {
      if (d.length < off + 4) return this.skip('truncated-link');
      (vlan ??= []).push(u16(d, off) & 0x0fff);
      type = u16(d, off + 2);
      off += 4;
    }
    if (type === ETHERTYPE_IPV4) return this.ipv4(pkt, off, vlan);
    if (type === ETHERTYPE_IPV6) return this.ipv6(pkt, off, vlan);
    return this.skip('non-ip');
  }

  /** BSD loopback: an address family, then the IP packet. */
  private family(pkt: Packet, af: number): DecodedPacket | undefined {
    if (af === AF_INET) return this.ipv4(pkt, 4, undefined);
    if (AF_INET6.has(af)) return this.ipv6(pkt, 4, undefined);
    return this.skip('non-ip');
  }

  private rawIp(pkt: Packet, off: number): DecodedPacket | undefined {
    if (pkt.data.length <= off) return this.skip('bad-ip-header');
    const version = (pkt.data[off] as number) >> 4;
    if (version === 4) return this.ipv4(pkt, off, undefined);
    if (version === 6) return this.ipv6(pkt, off, undefined);
    return this.skip('bad-ip-header');
  }

  private ipv4(pkt: Packet, off: number, vlan: number[] | undefined): DecodedPacket | undefined {
    const d = pkt.data;
    const avail = d.length - off;
    if (avail < 20) return this.skip('bad-ip-header');
    const vihl = d[off] as number;
    const hl = (vihl & 0x0f) * 4;
    if (vihl >> 4 !== 4 || hl < 20 || avail < hl) return this.skip('bad-ip-header');
    let total = u16(d, off + 2);
    // Total length 0 is what segmentation offload leaves in captures: trust the frame.
    if (total === 0) total = avail;
    if (total < hl) return this.skip('bad-ip-header');
    const truncated = total > avail;
    // Ethernet pads short frames: bytes beyond the total length are not part of the packet.
    const capEnd = off + (truncated ? avail : total);
    const proto = d[off + 9] as number;
    const src = formatIPv4(d, off + 12);
    const dst = formatIPv4(d, off + 16);
    const frag = u16(d, off + 6);
    if ((frag & 0x3fff) === 0) {
      // The common case, without an intermediate IpLayer object (one allocation less per packet).
      return this.transport(
        pkt.ts,
        4,
        src,
        dst,
        total,
        vlan,
        proto,
        d,
        off + hl,
        capEnd,
        total - hl,
      );
    }
    // A fragment (more-fragments flag or a non-zero offset).
    if (truncated) return this.dropFragment();
    const key = `${src}>${dst}#${u16(d, off + 4)}/${proto}`;
    const more = (frag & 0x2000) !== 0;
    const r = this.frags.add(
      key,
      pkt.ts,
      (frag & 0x1fff) * 8,
      more,
      d.subarray(off + hl, capEnd),
      proto,
      hl,
    );
    if (r === undefined) return this.skip('ip-fragment');
    const ipBytes = r.headerLen + r.data.length;
    return this.transport(
      pkt.ts,
      4,
      src,
      dst,
      ipBytes,
      vlan,
      r.proto,
      r.data,
      0,
      r.data.length,
      r.data.length,
    );
  }

  /** A fragment the capture cut short cannot be reassembled. */
  private dropFragment(): undefined {
    this.stats.fragmentsDropped++;
    return this.skip('truncated-fragment');
  }

  private ipv6(pkt: Packet, off: number, vlan: number[] | undefined): DecodedPacket | undefined {
    const d = pkt.data;
    const avail = d.length - off;
    if (avail < 40 || (d[off] as number) >> 4 !== 6) return this.skip('bad-ip-header');
    let plen = u16(d, off + 4);
    // 0 means a jumbogram or segmentation offload: trust the frame.
    if (plen === 0) plen = avail - 40;
    const ip: IpLayer = {
      ts: pkt.ts,
      ipVersion: 6,
      src: formatIPv6(d, off + 8),
      dst: formatIPv6(d, off + 24),
      ipBytes: 40 + plen,
      vlan,
    };
    const claimedEnd = off + 40 + plen;
    return this.ipv6Chain(
      ip,
      d,
      off + 40,
      d[off + 6] as number,
      Math.min(claimedEnd, d.length),
      claimedEnd,
      off,
    );
  }

  /**
   * Follows IPv6 extension headers from `p` (next header `nh`) to the transport. `capEnd` is the
   * end of the captured bytes, `claimedEnd` the end the payload length claims. `ipStart` is the
   * offset of the IPv6 header, or -1 inside a reassembled datagram (no nested fragments).
   */
  private ipv6Chain(
    ip: IpLayer,
    d: Buffer,
    p: number,
    nh: number,
    capEnd: number,
    claimedEnd: number,
    ipStart: number,
  ): DecodedPacket | undefined {
    for (;;) {
      switch (nh) {
        case IP6_HOPOPTS:
        case IP6_ROUTING:
        case IP6_DSTOPTS:
        case IP6_AH: {
          if (p + 2 > capEnd) return this.skip('bad-ipv6-ext');
          const len =
            nh === IP6_AH ? ((d[p + 1] as number) + 2) * 4 : ((d[p + 1] as number) + 1) * 8;
          nh = d[p] as number;
          p += len;
          if (p > claimedEnd) return this.skip('bad-ipv6-ext');
          continue;
        }
        case IP6_FRAGMENT: {
          if (p + 8 > capEnd || ipStart < 0) return this.skip('bad-ipv6-ext');
          const fragNh = d[p] as number;
          const field = u16(d, p + 2);
          const offset = field & 0xfff8;
          const more = (field & 1) !== 0;
          if (offset === 0 && !more) {
            // An atomic fragment: a whole datagram that merely carries a fragment header.
            nh = fragNh;
            p += 8;
            continue;
          }
          if (claimedEnd > capEnd) return this.dropFragment();
          const key = `${ip.src}>${ip.dst}#${u32(d, p + 4)}`;
          const headerLen = p - ipStart;
          const r = this.frags.add(
            key,
            ip.ts,
            offset,
            more,
            d.subarray(p + 8, capEnd),
            fragNh,
            headerLen,
          );
          if (r === undefined) return this.skip('ip-fragment');
          ip.ipBytes = r.headerLen + r.data.length;
          // The fragmentable part may start with more extension headers (e.g. destination options).
          return this.ipv6Chain(ip, r.data, 0, r.proto, r.data.length, r.data.length, -1);
        }
        default:
          return this.transport(
            ip.ts,
            ip.ipVersion,
            ip.src,
            ip.dst,
            ip.ipBytes,
            ip.vlan,
            nh,
            d,
            p,
            capEnd,
            claimedEnd - p,
          );
      }
    }
  }

  /**
   * Decodes the transport header at `d[start]`. `capEnd` is where the captured bytes of the IP
   * packet end; `segLen` is the segment length the IP header claims.
   */
  private transport(
    ts: number,
    ipVersion: 4 | 6,
    src: string,
    dst: string,
    ipBytes: number,
    vlan: number[] | undefined,
    proto: number,
    d: Buffer,
    start: number,
    capEnd: number,
    segLen: number,
  ): DecodedPacket | undefined {
    const cap = capEnd - start;
    let transport: DecodedPacket['transport'] = 'other';
    let srcPort = 0;
    let dstPort = 0;
    let tcp: TcpHeader | undefined;
    let icmp: DecodedPacket['icmp'];
    let dataStart = start;
    let dataEnd = start + segLen;
    switch (proto) {
      case PROTO_TCP: {
        if (cap < 20) return this.skip(segLen < 20 ? 'bad-tcp-header' : 'truncated-tcp-header');
        const hl = ((d[start + 12] as number) >> 4) * 4;
        if (hl < 20 || hl > segLen) return this.skip('bad-tcp-header');
        if (cap < hl) return this.skip('truncated-tcp-header');
        transport = 'tcp';
        srcPort = u16(d, start);
        dstPort = u16(d, start + 2);
        const flags = d[start + 13] as number;
        tcp = {
          seq: u32(d, start + 4),
          ack: u32(d, start + 8),
          flags,
          window: u16(d, start + 14),
          wscale: (flags & TCP_SYN) !== 0 && hl > 20 ? windowScale(d, start + 20, start + hl) : -1,
        };
        dataStart = start + hl;
        break;
      }
      case PROTO_UDP: {
        if (cap < 8) return this.skip(segLen < 8 ? 'bad-udp-header' : 'truncated-udp-header');
        transport = 'udp';
        srcPort = u16(d, start);
        dstPort = u16(d, start + 2);
        // Trust the UDP length when it is consistent with the IP length.
        const ulen = u16(d, start + 4);
        if (ulen >= 8 && ulen <= segLen) dataEnd = start + ulen;
        dataStart = start + 8;
        break;
      }
      case PROTO_ICMP:
      case PROTO_ICMPV6: {
        // Type, code, checksum; the rest (identifier, sequence…) is left in the payload.
        if (cap < 4) return this.skip('bad-icmp-header');
        transport = proto === PROTO_ICMP ? 'icmp' : 'icmpv6';
        icmp = { type: d[start] as number, code: d[start + 1] as number };
        dataStart = start + 4;
        break;
      }
      default:
        break;
    }
    this.stats.decoded++;
    return {
      ts,
      ipVersion,
      src,
      dst,
      ipProto: proto,
      transport,
      ipBytes,
      srcPort,
      dstPort,
      tcp,
      icmp,
      payload: d.subarray(dataStart, Math.min(dataEnd, capEnd)),
      truncated: dataEnd > capEnd,
      vlan,
    };
  }
}

/** The window scale option among the TCP options in `d[o, end)`, or -1. */
function windowScale(d: Buffer, o: number, end: number): number {
  while (o < end) {
    const kind = d[o] as number;
    if (kind === TCP_OPT_END) break;
    if (kind === TCP_OPT_NOP) {
      o++;
      continue;
    }
    if (o + 1 >= end) break;
    const len = d[o + 1] as number;
    if (len < 2 || o + len > end) break;
    if (kind === TCP_OPT_WSCALE && len === 3) return d[o + 2] as number;
    o += len;
  }
  return -1;
}

/**
 * Big-endian reads at offsets whose bounds the caller has checked. Buffer's read methods would
 * validate the offset again on every call; these are plain byte arithmetic (per-packet path).
 */
function u16(d: Buffer, o: number): number {
  return (d[o]! << 8) | d[o + 1]!;
}

function u32(d: Buffer, o: number): number {
  return ((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) >>> 0;
}
