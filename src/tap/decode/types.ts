/** A packet decoded down to its transport layer. Produced by decode/, consumed by the pipeline. */
export interface TcpHeader {
  seq: number; // uint32
  ack: number; // uint32
  /** Flag bits: FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20, ECE 0x40, CWR 0x80. */
  flags: number;
  window: number;
  /** Window scale option when present on SYN (else -1). */
  wscale: number;
}

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

export interface DecodedPacket {
  ts: number;
  ipVersion: 4 | 6;
  /** Printable addresses: dotted quad / RFC 5952 compressed IPv6. */
  src: string;
  dst: string;
  /** IP protocol number of the transport (after IPv6 extension headers). */
  ipProto: number;
  transport: 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'other';
  /** Total bytes of the IP packet (header + payload) as on the wire. */
  ipBytes: number;
  srcPort: number;
  dstPort: number;
  tcp?: TcpHeader;
  icmp?: { type: number; code: number };
  /** Transport payload (TCP/UDP data), a view into the frame or a reassembled datagram. */
  payload: Buffer;
  /** True when the capture cut the payload short (snaplen): fewer bytes than the headers claim. */
  truncated: boolean;
  /** VLAN ids from outer to inner, when present. */
  vlan?: number[];
}

export interface DecodeStats {
  frames: number;
  decoded: number;
  /** Frames we could not decode, by reason (`unknown-linktype`, `bad-ip-header`, `non-ip`…). */
  skipped: Record<string, number>;
  /** Fragments that went into a reassembled datagram. */
  fragmentsReassembled: number;
  /** Fragments discarded: expired, evicted by a limit, or unusable (truncated, out of range). */
  fragmentsDropped: number;
  /** Datagrams completed by reassembly (each one decoded once, on its last fragment). */
  datagramsReassembled: number;
}
