/**
 * KFL fields every entry has (network, identity, capture, L4 records, Kubernetes identity).
 * Protocol fields live with their dissectors (src/tap/dissectors/<proto>/fields.ts).
 * Names, types and semantics follow ../shared/KFL.md exactly.
 */
import { endpointName } from './endpoint-name.ts';
import type { FieldDef } from './fields.ts';
import type { Endpoint, Entry, TcpConnRecord, UdpFlowRecord } from './model.ts';

const tcpConn = (e: Entry): TcpConnRecord | undefined =>
  e.record.kind === 'tcp_conn' ? e.record : undefined;
const udpFlow = (e: Entry): UdpFlowRecord | undefined =>
  e.record.kind === 'udp_flow' ? e.record : undefined;

function podOrService(p: Endpoint): { name: string; namespace: string } | undefined {
  return p.pod ?? p.service;
}

/** Namespace of an endpoint: its own, else its pod's, else its service's (KFL `src.namespace`). */
export function endpointNamespace(p: Endpoint): string | undefined {
  return p.namespace ?? podOrService(p)?.namespace;
}
const uniq = (xs: (string | undefined)[]): string[] | undefined => {
  const out = [...new Set(xs.filter((x): x is string => !!x))];
  return out.length ? out : undefined;
};
const durationSec = (e: Entry): number => Math.max(e.elapsed_time, 1) / 1e6;

/** The two directions of an L4 record: KFL's name for each, and the record's side. */
const L4_DIRECTIONS = [
  { name: 'local', side: 'client' },
  { name: 'remote', side: 'server' },
] as const;
type L4Direction = (typeof L4_DIRECTIONS)[number];
/** What an L4 record counts each way: KFL suffixes of the total and of its rate per second. */
const L4_MEASURES = [
  {
    total: 'pkts',
    rate: 'pps',
    key: 'packets',
    doc: (d: L4Direction) => `packets sent by the ${d.side} (${d.name} side)`,
  },
  {
    total: 'bytes',
    rate: 'bps',
    key: 'bytes',
    doc: (d: L4Direction) => `IP bytes sent by the ${d.side}`,
  },
] as const;
type L4Record = TcpConnRecord | UdpFlowRecord;

/** `<prefix>_local_pkts`, `_local_bytes`, `_remote_pkts`, `_remote_bytes`: what each side sent. */
function l4Totals(prefix: string, record: (e: Entry) => L4Record | undefined): FieldDef[] {
  return L4_DIRECTIONS.flatMap((d) =>
    L4_MEASURES.map((m): FieldDef => ({
      name: `${prefix}_${d.name}_${m.total}`,
      type: 'int',
      doc: m.doc(d),
      get: (e) => record(e)?.[d.side][m.key],
    })),
  );
}

/** `<prefix>_local_pps`, `_local_bps`, `_remote_pps`, `_remote_bps`: the totals per second. */
function l4Rates(prefix: string, record: (e: Entry) => L4Record | undefined): FieldDef[] {
  return L4_DIRECTIONS.flatMap((d) =>
    L4_MEASURES.map((m): FieldDef => ({
      name: `${prefix}_${d.name}_${m.rate}`,
      type: 'int',
      doc: `${d.side} ${m.key} per second over the ${prefix} duration`,
      get: (e) => {
        const r = record(e);
        return r ? Math.round(r[d.side][m.key] / durationSec(e)) : undefined;
      },
    })),
  );
}

const CAPTURE_SOURCE_CODES: Record<string, number> = {
  af_packet: 0,
  ebpf: 1,
  ebpf_tls: 2,
  pcap_file: 3,
};

export const commonFields: readonly FieldDef[] = [
  // Network
  { name: 'src.ip', type: 'string', doc: 'client (initiator) IP address', get: (e) => e.src.ip },
  { name: 'dst.ip', type: 'string', doc: 'server IP address', get: (e) => e.dst.ip },
  { name: 'src.port', type: 'int', doc: 'client port', get: (e) => e.src.port },
  { name: 'dst.port', type: 'int', doc: 'server port', get: (e) => e.dst.port },
  {
    name: 'protocol',
    type: 'string',
    doc: 'protocol of the entry (`http`, `ws`, `dns`, `tcp`, `udp`…)',
    get: (e) => e.protocol,
  },
  // Identity
  { name: 'id', type: 'int', doc: 'entry id (unique per worker)', get: (e) => e.id },
  { name: 'node_id', type: 'string', doc: 'node that captured the entry', get: (e) => e.node_id },
  { name: 'worker', type: 'string', doc: 'worker that captured the entry', get: (e) => e.worker },
  {
    name: 'stream',
    type: 'string',
    doc: 'TCP connection / UDP flow the entry belongs to (`tcp-7`)',
    get: (e) => e.stream,
  },
  {
    name: 'index',
    type: 'int',
    doc: 'position of the entry within its stream',
    get: (e) => e.index,
  },
  {
    name: 'timestamp',
    type: 'timestamp',
    doc: 'request start (L7) or first packet (L4), UTC',
    get: (e) => e.timestamp,
  },
  {
    name: 'elapsed_time',
    type: 'int',
    doc: 'µs from first request byte to first response byte (L4: duration)',
    get: (e) => e.elapsed_time,
  },
  { name: 'conn_id', type: 'int', doc: 'TCP connection number (0 for UDP)', get: (e) => e.conn_id },
  { name: 'flow_id', type: 'int', doc: 'TCP connection or UDP flow number', get: (e) => e.flow_id },
  {
    name: 'has_pcap',
    type: 'bool',
    doc: 'raw packets of this entry are kept in the node pcap ring (live capture only)',
    get: () => undefined,
  },
  // Capture
  {
    name: 'capture_source',
    type: 'string',
    doc: '`af_packet`, `ebpf`, `ebpf_tls` or `pcap_file`',
    get: (e) => e.capture_source,
  },
  {
    name: 'capture_backend',
    type: 'string',
    doc: 'capture implementation (`pcap_file`, `tcpdump`…)',
    get: (e) => (e.capture_source === 'pcap_file' ? 'pcap_file' : undefined),
  },
  {
    name: 'capture_source_code',
    type: 'int',
    doc: 'numeric capture source (0 af_packet, 1 ebpf, 2 ebpf_tls, 3 pcap_file)',
    get: (e) => CAPTURE_SOURCE_CODES[e.capture_source],
  },
  {
    name: 'capture',
    type: 'map<string,dyn>',
    doc: 'capture details (source, backend)',
    get: (e) => ({ source: e.capture_source }),
  },
  {
    name: 'redacted',
    type: 'list<string>',
    doc: 'values replaced by `[REDACTED]` before storage (`request.headers.authorization`, `request.body.password`…)',
    get: (e) => e.redacted,
  },
  // Transport flags
  {
    name: 'tcp',
    type: 'bool',
    doc: 'carried over TCP',
    get: (e) => e.transport === 'tcp' || undefined,
  },
  {
    name: 'udp',
    type: 'bool',
    doc: 'carried over UDP',
    get: (e) => e.transport === 'udp' || undefined,
  },
  {
    name: 'conn',
    type: 'bool',
    doc: 'an L4 connection record',
    get: (e) => e.record.kind === 'tcp_conn' || undefined,
  },
  {
    name: 'flow',
    type: 'bool',
    doc: 'an L4 flow record',
    get: (e) => e.record.kind === 'udp_flow' || undefined,
  },
  {
    name: 'tcp_conn',
    type: 'bool',
    doc: 'a TCP connection record',
    get: (e) => e.record.kind === 'tcp_conn' || undefined,
  },
  {
    name: 'udp_conn',
    type: 'bool',
    doc: 'a UDP connection record (not produced: UDP is recorded as flows)',
    get: () => undefined,
  },
  {
    name: 'tcp_flow',
    type: 'bool',
    doc: 'a TCP flow record (not produced: TCP is recorded as connections)',
    get: () => undefined,
  },
  {
    name: 'udp_flow',
    type: 'bool',
    doc: 'a UDP flow record',
    get: (e) => e.record.kind === 'udp_flow' || undefined,
  },
  // TCP / UDP records
  {
    name: 'tcp_method',
    type: 'string',
    doc: 'how the L4 connection record ended (`fin`, `rst`, `idle`, `limit`, `end_of_capture`)',
    get: (e) => tcpConn(e)?.endReason,
  },
  {
    name: 'tcp_error_type',
    type: 'string',
    doc: 'error code of the record (e.g. a detached dissector)',
    get: (e) => (tcpConn(e) ? e.error?.code : undefined),
  },
  {
    name: 'tcp_error_message',
    type: 'string',
    doc: 'error message of the record',
    get: (e) => (tcpConn(e) ? e.error?.message : undefined),
  },
  {
    name: 'udp_length',
    type: 'int',
    doc: 'UDP payload bytes of the flow (both ways)',
    get: (e) => {
      const f = udpFlow(e);
      return f ? f.client.payloadBytes + f.server.payloadBytes : undefined;
    },
  },
  // L4 connection
  {
    name: 'conn_state',
    type: 'string',
    doc: '`open`, `in_progress` (handshake not complete) or `closed`',
    get: (e) => tcpConn(e)?.state,
  },
  {
    name: 'conn_l7_detected',
    type: 'list<string>',
    doc: 'L7 protocols detected on the connection',
    get: (e) => tcpConn(e)?.l7Detected,
  },
  ...l4Totals('conn', tcpConn),
  {
    name: 'conn_group_id',
    type: 'int',
    doc: 'connection group (= conn_id here)',
    get: (e) => (tcpConn(e) ? e.conn_id : undefined),
  },
  {
    name: 'conn_rtt',
    type: 'int',
    doc: 'TCP handshake round-trip time, µs (when the handshake was seen)',
    get: (e) => tcpConn(e)?.handshakeRtt,
  },
  {
    name: 'conn_retransmissions',
    type: 'int',
    doc: 'retransmitted segments',
    get: (e) => tcpConn(e)?.retransmissions,
  },
  {
    name: 'conn_out_of_order',
    type: 'int',
    doc: 'segments that arrived out of order',
    get: (e) => tcpConn(e)?.outOfOrder,
  },
  {
    name: 'conn_dup_acks',
    type: 'int',
    doc: 'duplicate ACKs',
    get: (e) => tcpConn(e)?.duplicateAcks,
  },
  {
    name: 'conn_zero_window',
    type: 'int',
    doc: 'zero-window advertisements',
    get: (e) => tcpConn(e)?.zeroWindow,
  },
  {
    name: 'conn_gap_bytes',
    type: 'int',
    doc: 'bytes missing from the capture (reported as gaps)',
    get: (e) => tcpConn(e)?.gapBytes,
  },
  { name: 'conn_rst', type: 'bool', doc: 'the connection was reset', get: (e) => tcpConn(e)?.rst },
  {
    name: 'conn_fin',
    type: 'bool',
    doc: 'a FIN was seen (either side)',
    get: (e) => {
      const c = tcpConn(e);
      return c ? c.finClient || c.finServer : undefined;
    },
  },
  {
    name: 'conn_syn_seen',
    type: 'bool',
    doc: 'the SYN was captured (false: first seen mid-stream)',
    get: (e) => tcpConn(e)?.synSeen,
  },
  // L4 flow
  { name: 'flow_state', type: 'string', doc: '`open` or `closed`', get: (e) => udpFlow(e)?.state },
  {
    name: 'flow_l7_detected',
    type: 'list<string>',
    doc: 'L7 protocols detected on the flow',
    get: (e) => udpFlow(e)?.l7Detected,
  },
  ...l4Totals('flow', udpFlow),
  ...l4Rates('flow', udpFlow),
  {
    name: 'flow_group_id',
    type: 'int',
    doc: 'flow group (= flow_id here)',
    get: (e) => (udpFlow(e) ? e.flow_id : undefined),
  },
  // Kubernetes / process identity (filled by enrichment; absent without it)
  {
    name: 'src.pod.name',
    type: 'string',
    doc: 'client pod (else service)',
    get: (e) => podOrService(e.src)?.name,
  },
  {
    name: 'src.pod.namespace',
    type: 'string',
    doc: 'client pod namespace (else service namespace)',
    get: (e) => podOrService(e.src)?.namespace,
  },
  {
    name: 'dst.pod.name',
    type: 'string',
    doc: 'server pod (else service)',
    get: (e) => podOrService(e.dst)?.name,
  },
  {
    name: 'dst.pod.namespace',
    type: 'string',
    doc: 'server pod namespace (else service namespace)',
    get: (e) => podOrService(e.dst)?.namespace,
  },
  {
    name: 'src.service.name',
    type: 'string',
    doc: 'client service',
    get: (e) => e.src.service?.name,
  },
  {
    name: 'src.service.namespace',
    type: 'string',
    doc: 'client service namespace',
    get: (e) => e.src.service?.namespace,
  },
  {
    name: 'dst.service.name',
    type: 'string',
    doc: 'server service',
    get: (e) => e.dst.service?.name,
  },
  {
    name: 'dst.service.namespace',
    type: 'string',
    doc: 'server service namespace',
    get: (e) => e.dst.service?.namespace,
  },
  {
    name: 'src.name',
    type: 'string',
    doc: 'client name: pod, else service, else DNS name, else process',
    get: (e) => endpointName(e.src),
  },
  {
    name: 'dst.name',
    type: 'string',
    doc: 'server name: pod, else service, else DNS name, else process',
    get: (e) => endpointName(e.dst),
  },
  {
    name: 'src.namespace',
    type: 'string',
    doc: 'client namespace',
    get: (e) => endpointNamespace(e.src),
  },
  {
    name: 'dst.namespace',
    type: 'string',
    doc: 'server namespace',
    get: (e) => endpointNamespace(e.dst),
  },
  { name: 'src.dns', type: 'string', doc: 'client DNS name', get: (e) => e.src.dns },
  { name: 'dst.dns', type: 'string', doc: 'server DNS name', get: (e) => e.dst.dns },
  {
    name: 'namespaces',
    type: 'list<string>',
    doc: 'namespaces of both sides',
    get: (e) => uniq([endpointNamespace(e.src), endpointNamespace(e.dst)]),
  },
  {
    name: 'pods',
    type: 'list<string>',
    doc: 'pods of both sides',
    get: (e) => uniq([e.src.pod?.name, e.dst.pod?.name]),
  },
  {
    name: 'services',
    type: 'list<string>',
    doc: 'services of both sides',
    get: (e) => uniq([e.src.service?.name, e.dst.service?.name]),
  },
  {
    name: 'local_labels',
    type: 'map<string,string>',
    doc: 'labels of the client workload',
    get: (e) => e.src.labels,
  },
  {
    name: 'remote_labels',
    type: 'map<string,string>',
    doc: 'labels of the server workload',
    get: (e) => e.dst.labels,
  },
  {
    name: 'local_annotations',
    type: 'map<string,string>',
    doc: 'annotations of the client workload',
    get: (e) => e.src.annotations,
  },
  {
    name: 'remote_annotations',
    type: 'map<string,string>',
    doc: 'annotations of the server workload',
    get: (e) => e.dst.annotations,
  },
  {
    name: 'node',
    type: 'map<string,dyn>',
    doc: 'capturing node (name, ip)',
    get: (e) => (e.node.name || e.node.ip ? e.node : undefined),
  },
  {
    name: 'node_name',
    type: 'string',
    doc: 'capturing node name',
    get: (e) => e.node.name || undefined,
  },
  { name: 'node_ip', type: 'string', doc: 'capturing node IP', get: (e) => e.node.ip || undefined },
  {
    name: 'local_node_name',
    type: 'string',
    doc: 'node of the client workload',
    get: (e) => e.src.node,
  },
  {
    name: 'remote_node_name',
    type: 'string',
    doc: 'node of the server workload',
    get: (e) => e.dst.node,
  },
  {
    name: 'local_process_name',
    type: 'string',
    doc: 'client process (local capture)',
    get: (e) => e.src.process?.name,
  },
  {
    name: 'remote_process_name',
    type: 'string',
    doc: 'server process (local capture)',
    get: (e) => e.dst.process?.name,
  },
  {
    name: 'dns_resolutions',
    type: 'list<string>',
    doc: 'DNS names resolved for the endpoints',
    get: (e) => uniq([e.src.dns, e.dst.dns]),
  },
  {
    name: 'local_resolution_status',
    type: 'string',
    doc: '`""` when the client was resolved, else why not',
    get: (e) => (endpointName(e.src) ? '' : (e.src.resolution ?? 'unresolved')),
  },
  {
    name: 'remote_resolution_status',
    type: 'string',
    doc: '`""` when the server was resolved, else why not',
    get: (e) => (endpointName(e.dst) ? '' : (e.dst.resolution ?? 'unresolved')),
  },
];
