/** A captured frame as read from a capture file or a live capture process. */
export interface Packet {
  /** Capture time, µs since the Unix epoch (ns-resolution files are rounded down to µs). */
  ts: number;
  /** LINKTYPE_* value (1 Ethernet, 113 SLL, 276 SLL2, 0 NULL, 108 LOOP, 101/228/229 raw…). */
  linkType: number;
  /** Captured bytes (may be shorter than origLen when the snaplen cut it). A view: copy to keep. */
  data: Buffer;
  origLen: number;
  /** pcapng interface id (0 for pcap). */
  ifIndex: number;
}

export interface CaptureInfo {
  format: 'pcap' | 'pcapng';
  /** Link type of the first interface. */
  linkType: number;
  snaplen: number;
  nanosecond: boolean;
}

/**
 * Where raw packets go besides dissection (the pump tees every packet to it, before the
 * pipeline sees it): the raw capture ring of snapshots and PCAP export plugs in here. A sink
 * must not keep `data` beyond the call without copying it (it is a view of a reused buffer).
 */
export interface PacketSink {
  packet(pkt: Packet): void;
}

/**
 * A source of packets. File and live sources are interchangeable; everything downstream is the
 * same. `packets()` yields batches in capture order. A damaged input yields every packet before
 * the damage and then throws a KsError (KS_ERR_CAPTURE_TRUNCATED / _CORRUPT / _FORMAT / _EMPTY).
 */
export interface PacketSource {
  readonly name: string;
  packets(): AsyncIterable<Packet[]>;
  /** Known after the header was read. */
  info(): CaptureInfo | undefined;
}
