/**
 * Every buffer on the data path has a named limit. Config (`tap.limits.<name>`) can override each;
 * hitting one is counted in LimitCounters and reported in the summary — never a crash.
 */
export interface Limits {
  /** Bytes buffered out of order for one direction of one TCP connection. */
  maxBufferedBytesPerConnection: number;
  /** Bytes buffered out of order across all TCP connections. */
  maxBufferedBytesTotal: number;
  /** TCP connections + UDP flows tracked at once; the oldest idle is flushed beyond it. */
  maxStreams: number;
  /**
   * TCP connections tracked with no payload and no completed handshake (SYN floods, scans);
   * beyond it the oldest of them is closed, so a flood never evicts connections that carry data.
   */
  maxHalfOpenConnections: number;
  /**
   * UDP flows that heard from one side only (e.g. unanswered DNS queries, each from its own
   * port); beyond it the oldest of them is closed and its pending requests are emitted as
   * unanswered (KS_LIMIT_PENDING).
   */
  maxUnansweredFlows: number;
  /** Seconds without a packet after which a connection/flow is flushed (capture time). */
  idleTimeoutSec: number;
  /** IPv4/IPv6 fragment reassembly: bytes held across all incomplete datagrams. */
  maxFragmentBytes: number;
  /** Incomplete datagrams held at once. */
  maxFragmentDatagrams: number;
  /** Largest single PDU (HTTP head, DNS message, WS frame header + kept payload) parsed. */
  maxPduBytes: number;
  /** HTTP request/response head (start line + headers). */
  maxHeaderBytes: number;
  /** Body bytes kept (and decompressed output cap) per message; the rest is counted, not kept. */
  maxBodyBytes: number;
  /** Requests waiting for a response on one connection (pipelining). */
  maxPendingRequests: number;
  /** Violations after which a dissector is detached and the stream kept as L4 only. */
  maxViolations: number;
  /** Bytes of each direction kept while detection answers "need more". */
  maxDetectBytes: number;
}

export const defaultLimits: Readonly<Limits> = Object.freeze({
  maxBufferedBytesPerConnection: 4 * 1024 * 1024,
  maxBufferedBytesTotal: 256 * 1024 * 1024,
  maxStreams: 200_000,
  maxHalfOpenConnections: 20_000,
  maxUnansweredFlows: 20_000,
  idleTimeoutSec: 300,
  maxFragmentBytes: 16 * 1024 * 1024,
  maxFragmentDatagrams: 4096,
  maxPduBytes: 16 * 1024 * 1024,
  maxHeaderBytes: 64 * 1024,
  maxBodyBytes: 1024 * 1024,
  maxPendingRequests: 256,
  maxViolations: 3,
  maxDetectBytes: 4096,
});

export type LimitName = keyof Limits | 'maxDecompressedBytes';

/** Counts how often each limit was hit. One instance per pipeline run. */
export class LimitCounters {
  readonly hits = new Map<LimitName, number>();
  hit(name: LimitName, n = 1): void {
    this.hits.set(name, (this.hits.get(name) ?? 0) + n);
  }
  toJSON(): Record<string, number> {
    return Object.fromEntries(this.hits);
  }
}
