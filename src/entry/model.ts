/**
 * The canonical Entry: one per L7 call and one per L4 connection/flow record. Shared by the
 * store, query, dashboard, MCP and CLI. Fields are added, never renamed or removed.
 * Times are µs since the Unix epoch (UTC) as numbers (exact up to year 2255).
 */

export interface EntryError {
  /** Stable code, e.g. `KS_DISSECT_MALFORMED`, `KS_NO_RESPONSE`, `KS_LIMIT_BODY`. */
  code: string;
  message: string;
}

export interface Endpoint {
  ip: string;
  port: number;
  /** Filled by enrichment (Kubernetes, /proc) — absent when unknown. */
  name?: string;
  namespace?: string;
  pod?: { name: string; namespace: string };
  service?: { name: string; namespace: string };
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  process?: { name: string; pid?: number };
  /** Container (64-hex id from the process's cgroup) of a local process, when in one. */
  containerId?: string;
  /** The node the workload runs on (Kubernetes). */
  node?: string;
  dns?: string;
  /** Why the endpoint has no identity (`not_found`, `not_synced`, `expired`…), when a resolver says. */
  resolution?: string;
}

export type CaptureSource = 'af_packet' | 'ebpf' | 'ebpf_tls' | 'pcap_file';

// ---------------------------------------------------------------- bodies

export interface Body {
  /** Bytes on the wire for this body (after de-chunking, before decompression). */
  size: number;
  /** Content-Encoding that was decoded (`gzip`, `deflate`, `br`), if any. */
  encoding?: string;
  /** Size after decoding (equals `size` without Content-Encoding). */
  decodedSize?: number;
  /** Kept (decoded) bytes: utf-8 text when printable, else base64. */
  text?: string;
  base64?: string;
  /** True when only the first `maxBodyBytes` were kept (or a decompression bomb was cut). */
  truncated?: boolean;
}

// ---------------------------------------------------------------- L4

export interface DirectionStats {
  packets: number;
  /** Bytes of IP packets (headers included), as tshark's conversation statistics. */
  bytes: number;
  /** Payload bytes. */
  payloadBytes: number;
}

export interface TcpConnRecord {
  kind: 'tcp_conn';
  /** `in_progress` (handshake not complete), `open` (no FIN/RST by the end), `closed`. */
  state: 'open' | 'in_progress' | 'closed';
  client: DirectionStats;
  server: DirectionStats;
  /** SYN seen (false when the connection was first seen mid-stream). */
  synSeen: boolean;
  /** SYN → SYN/ACK → ACK round-trip in µs, when the handshake was seen. */
  handshakeRtt?: number;
  retransmissions: number;
  outOfOrder: number;
  duplicateAcks: number;
  zeroWindow: number;
  /** Bytes missing in the stream (reported to dissectors as gaps), both directions. */
  gapBytes: number;
  finClient: boolean;
  finServer: boolean;
  rst: boolean;
  /** Dissector ids that were detected on this connection. */
  l7Detected: string[];
  /** Connection ended because of idle timeout / stream limit / end of capture. */
  endReason: 'fin' | 'rst' | 'idle' | 'limit' | 'end_of_capture';
  /** Last packet time (µs). */
  lastTs: number;
}

export interface UdpFlowRecord {
  kind: 'udp_flow';
  state: 'open' | 'closed';
  client: DirectionStats;
  server: DirectionStats;
  l7Detected: string[];
  endReason: 'idle' | 'limit' | 'end_of_capture';
  lastTs: number;
}

/**
 * The L7 record types, one per protocol, by kind. Each dissector adds its own from its folder
 * (src/tap/dissectors/<id>/record.ts) by declaration merging, so the union below is closed (a
 * switch on `kind` narrows) without this file naming any protocol:
 * `declare module '../../../entry/model.ts' { interface L7Records { http: HttpRecord } }`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface L7Records {}

export type L7Record = L7Records[keyof L7Records];
export type L4Record = TcpConnRecord | UdpFlowRecord;
export type EntryRecord = L7Record | L4Record;

export interface Entry {
  /** Unique per worker/run, increasing in emission order. */
  id: number;
  node_id: string;
  worker: string;
  node: { name: string; ip: string };
  /** µs since epoch: request start (L7) or first packet (L4). */
  timestamp: number;
  /** µs: first request byte → first response byte (L7); duration (L4). */
  elapsed_time: number;
  /** Client (initiator) and server. */
  src: Endpoint;
  dst: Endpoint;
  transport: 'tcp' | 'udp';
  /** `http`, `ws`, `dns`, `tcp`, `udp`… (the dissector id, or the transport for L4 records). */
  protocol: string;
  /** Every TCP connection and UDP flow gets a number; all its entries carry it. */
  flow_id: number;
  /** = flow_id for TCP entries, 0 for UDP. */
  conn_id: number;
  /** `tcp-<flow_id>` / `udp-<flow_id>`. */
  stream: string;
  /** Position of this entry among its stream's entries. */
  index: number;
  capture_source: CaptureSource;
  record: EntryRecord;
  /** Bytes of the request / response PDUs (L7) or payload bytes each way (L4). */
  requestSize: number;
  responseSize: number;
  error?: EntryError;
  /**
   * What was replaced by `[REDACTED]` before storage (src/redact), as paths of the JSON view:
   * `request.headers.authorization`, `request.cookies.session`, `request.body.user.password`…
   * Absent when nothing was.
   */
  redacted?: string[];
}
