import type { DirectionStats } from '../../entry/model.ts';

/** 0: bytes sent by the client (initiator); 1: bytes sent by the server. */
export type Direction = 0 | 1;
export const FROM_CLIENT: Direction = 0;
export const FROM_SERVER: Direction = 1;

export interface ConnectionKey {
  clientIp: string;
  clientPort: number;
  serverIp: string;
  serverPort: number;
}

export interface TcpStats {
  client: DirectionStats;
  server: DirectionStats;
  synSeen: boolean;
  handshakeRtt?: number;
  /** Handshake completed (SYN, SYN/ACK, ACK) or data flowed both ways. */
  established: boolean;
  retransmissions: number;
  outOfOrder: number;
  duplicateAcks: number;
  zeroWindow: number;
  gapBytes: number;
  /** Keep-alive probes (seq = next - 1, 0 or 1 byte): neither data nor retransmissions. */
  keepAlives?: number;
  finClient: boolean;
  finServer: boolean;
  rst: boolean;
  firstTs: number;
  lastTs: number;
}

export type CloseReason = 'fin' | 'rst' | 'idle' | 'limit' | 'end_of_capture';

/**
 * Receives one TCP connection's ordered bytes. `data` is a view valid only during the call.
 * Gaps are explicit: `onGap(dir, n)` means n bytes are missing at this point of that direction.
 */
export interface TcpConnectionHandler {
  onData(dir: Direction, data: Buffer, ts: number): void;
  onGap(dir: Direction, bytes: number, ts: number): void;
  /** Called once: the connection is over (or flushed). Stats are final. */
  onClose(stats: TcpStats, reason: CloseReason, ts: number): void;
}

export interface ConnectionFactory {
  /** A new connection was seen (the factory numbers it). */
  open(key: ConnectionKey, ts: number, synSeen: boolean): TcpConnectionHandler;
  /**
   * When no SYN was seen: is this port a server port? (port mapping / dissector default ports).
   * Used to decide which side is the client; falls back to "lower port is the server".
   */
  isServerPort(port: number): boolean;
}

/** Counters of one TcpAssembler (a snapshot: `stats()` returns a fresh object). */
export interface TcpAssemblerStats {
  /** TCP packets given to `packet()`. */
  packets: number;
  /** Packets dropped without effect: non-TCP, or bare ACK/FIN/RST on a tuple that just closed. */
  ignoredPackets: number;
  connectionsOpened: number;
  connectionsClosed: number;
  /** Connections tracked now. */
  connectionsActive: number;
  closedBy: Record<CloseReason, number>;
  /** Payload bytes handed to `onData`. */
  bytesDelivered: number;
  /** Bytes reported missing through `onGap`, and how many `onGap` calls. */
  gapBytes: number;
  gaps: number;
  /** Out-of-order bytes held (copied) waiting for a hole to fill: now and the peak. */
  bufferedBytes: number;
  bufferedBytesPeak: number;
  /** How often each reassembly limit was hit (also counted in LimitCounters). */
  limitHits: {
    maxStreams: number;
    maxHalfOpenConnections: number;
    maxBufferedBytesPerConnection: number;
    maxBufferedBytesTotal: number;
  };
}
