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

// ---------------------------------------------------------------- HTTP/1.x

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

export interface HttpRequest {
  method: string;
  /** Request-target as sent (path + query, or absolute-form). */
  url: string;
  path: string;
  /** Parsed query string; repeated keys joined with ",". */
  query: Record<string, string>;
  httpVersion: string; // "HTTP/1.1"
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** Headers as sent, in order, original case. */
  headersList: [string, string][];
  cookies: Record<string, string>;
  headersSize: number;
  body: Body;
  trailers?: Record<string, string>;
  /** Capture time of the first byte of this request. */
  ts: number;
}

export interface HttpResponse {
  statusCode: number;
  statusText: string;
  httpVersion: string;
  headers: Record<string, string>;
  headersList: [string, string][];
  cookies: Record<string, string>;
  headersSize: number;
  body: Body;
  trailers?: Record<string, string>;
  /** Interim 1xx responses seen before this final one. */
  informational?: { statusCode: number; statusText: string; ts: number }[];
  ts: number;
}

export interface HttpRecord {
  kind: 'http';
  request?: HttpRequest;
  response?: HttpResponse;
}

// ---------------------------------------------------------------- WebSocket

export type WsOpcode = 'continuation' | 'text' | 'binary' | 'close' | 'ping' | 'pong' | string;

export interface WsRecord {
  kind: 'ws';
  /** Client→server message (`ws_request`) or server→client (`ws_response`). */
  fromClient: boolean;
  opcode: WsOpcode;
  /** Frames that made this message (fragmentation). */
  frames: number;
  masked: boolean;
  /** permessage-deflate (RSV1) was set and the payload was inflated. */
  compressed: boolean;
  /** Payload length on the wire (sum over frames, after unmasking, before inflation). */
  payloadLength: number;
  payload: Body;
  /** Close frames: status code and reason. */
  closeCode?: number;
  closeReason?: string;
  /** The path of the HTTP Upgrade request that opened this WebSocket. */
  upgradePath?: string;
}

// ---------------------------------------------------------------- DNS

export interface DnsQuestion {
  name: string;
  type: string;
  class: string;
}

export interface DnsAnswer {
  name: string;
  type: string;
  class: string;
  ttl: number;
  /** Presentation form of the record data (address, name, text…). */
  data: string;
}

export interface DnsMessage {
  id: number;
  opcode: string;
  flags: number;
  /** RCODE name (`NOERROR`, `NXDOMAIN`…) and number. */
  rcode: string;
  rcodeNumber: number;
  questions: DnsQuestion[];
  answers: DnsAnswer[];
  authorities: DnsAnswer[];
  additionals: DnsAnswer[];
  /** Bytes of the DNS message (without the TCP length prefix). */
  length: number;
  ts: number;
}

export interface DnsRecord {
  kind: 'dns';
  transport: 'udp' | 'tcp';
  request?: DnsMessage;
  response?: DnsMessage;
  /** Copies of the query (same ID and question) sent again before the response; absent when 0. */
  retransmissions?: number;
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

export type L7Record = HttpRecord | WsRecord | DnsRecord;
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
