/**
 * Test helpers for the statistics tests: hand-built entries of each kind (only the fields the
 * statistics read are meaningful) and real entries from a capture through the real pipeline.
 */
import { entriesFromCapture } from '../../src/tap/run.ts';
import type { DirectionStats, Endpoint, Entry, EntryError } from '../../src/entry/model.ts';
import type { DnsMessage } from '../../src/tap/dissectors/dns/record.ts';
import type { HttpRequest, HttpResponse } from '../../src/tap/dissectors/http/record.ts';

/** 2026-01-01T00:00:00Z in µs. */
export const T0 = Date.UTC(2026, 0, 1) * 1000;

let nextId = 1;

interface Base {
  ts?: number;
  elapsed?: number;
  src?: Partial<Endpoint>;
  dst?: Partial<Endpoint>;
  node?: string;
  error?: EntryError;
  requestSize?: number;
  responseSize?: number;
}

function base(b: Base, protocol: string, transport: 'tcp' | 'udp'): Omit<Entry, 'record'> {
  const id = nextId++;
  const e: Omit<Entry, 'record'> = {
    id,
    node_id: b.node ?? 'node-a',
    worker: 'w',
    node: { name: b.node ?? 'node-a', ip: '10.1.0.1' },
    timestamp: b.ts ?? T0,
    elapsed_time: b.elapsed ?? 0,
    src: { ip: '10.0.0.1', port: 40000 + (id % 20000), ...b.src },
    dst: { ip: '10.0.0.2', port: protocol === 'dns' ? 53 : 80, ...b.dst },
    transport,
    protocol,
    flow_id: id,
    conn_id: transport === 'tcp' ? id : 0,
    stream: `${transport}-${id}`,
    index: 0,
    capture_source: 'pcap_file',
    requestSize: b.requestSize ?? 100,
    responseSize: b.responseSize ?? 200,
  };
  if (b.error) e.error = b.error;
  return e;
}

function httpReq(method: string, path: string, headers: Record<string, string> = {}): HttpRequest {
  return {
    method,
    url: path,
    path: path.split('?')[0]!,
    query: {},
    httpVersion: 'HTTP/1.1',
    headers,
    headersList: [],
    cookies: {},
    headersSize: 0,
    body: { size: 0 },
    ts: 0,
  };
}

function httpRes(
  statusCode: number,
  headers: Record<string, string> = {},
  trailers?: Record<string, string>,
): HttpResponse {
  const r: HttpResponse = {
    statusCode,
    statusText: '',
    httpVersion: 'HTTP/1.1',
    headers,
    headersList: [],
    cookies: {},
    headersSize: 0,
    body: { size: 0 },
    ts: 0,
  };
  if (trailers) r.trailers = trailers;
  return r;
}

export interface HttpOpts extends Base {
  method?: string;
  path?: string;
  /** Response status; `null`: no response (unanswered, with KS_NO_RESPONSE unless `error`). */
  status?: number | null;
  /** No request (a response seen without its request). */
  noRequest?: boolean;
  reqHeaders?: Record<string, string>;
  resHeaders?: Record<string, string>;
  trailers?: Record<string, string>;
  /** Default `HTTP/2` for gRPC content types (gRPC runs over HTTP/2 only), else `HTTP/1.1`. */
  version?: string;
}

export function http(o: HttpOpts = {}): Entry {
  const rec: Entry['record'] = { kind: 'http' };
  if (!o.noRequest) rec.request = httpReq(o.method ?? 'GET', o.path ?? '/', o.reqHeaders);
  const status = o.status === undefined ? 200 : o.status;
  if (status !== null) rec.response = httpRes(status, o.resHeaders, o.trailers);
  const grpc = o.reqHeaders?.['content-type']?.startsWith('application/grpc') === true;
  const version = o.version ?? (grpc ? 'HTTP/2' : 'HTTP/1.1');
  if (rec.request) rec.request.httpVersion = version;
  if (rec.response) rec.response.httpVersion = version;
  const b: Base = { elapsed: status === null ? 0 : 1000, ...o };
  if (status === null && o.error === undefined)
    b.error = { code: 'KS_NO_RESPONSE', message: 'no response' };
  if (status === null) b.responseSize = 0;
  return { ...base(b, 'http', 'tcp'), record: rec };
}

function dnsMsg(name: string, type: string, rcodeNumber: number): DnsMessage {
  return {
    id: 1,
    opcode: 'QUERY',
    flags: 0,
    rcode: rcodeNumber === 0 ? 'NOERROR' : rcodeNumber === 3 ? 'NXDOMAIN' : `RCODE${rcodeNumber}`,
    rcodeNumber,
    questions: [{ name, type, class: 'IN' }],
    answers: [],
    authorities: [],
    additionals: [],
    length: 40,
    ts: 0,
  };
}

export interface DnsOpts extends Base {
  name?: string;
  qtype?: string;
  /** RCODE; `null`: no response. */
  rcode?: number | null;
}

export function dns(o: DnsOpts = {}): Entry {
  const name = o.name ?? 'example.com';
  const qtype = o.qtype ?? 'A';
  const rec: Entry['record'] = { kind: 'dns', transport: 'udp', request: dnsMsg(name, qtype, 0) };
  const rc = o.rcode === undefined ? 0 : o.rcode;
  if (rc !== null) rec.response = dnsMsg(name, qtype, rc);
  const b: Base = { elapsed: rc === null ? 0 : 500, ...o };
  if (rc === null && o.error === undefined)
    b.error = { code: 'KS_NO_RESPONSE', message: 'no response to the query' };
  return { ...base(b, 'dns', 'udp'), record: rec };
}

export function ws(o: Base & { upgradePath?: string; fromClient?: boolean } = {}): Entry {
  const rec: Entry['record'] = {
    kind: 'ws',
    fromClient: o.fromClient ?? true,
    opcode: 'text',
    frames: 1,
    masked: true,
    compressed: false,
    payloadLength: 10,
    payload: { size: 10 },
  };
  if (o.upgradePath !== undefined) rec.upgradePath = o.upgradePath;
  return { ...base(o, 'ws', 'tcp'), record: rec };
}

function dir(packets: number, bytes: number): DirectionStats {
  return { packets, bytes, payloadBytes: Math.max(0, bytes - 40 * packets) };
}

export interface L4Opts extends Base {
  client?: [packets: number, bytes: number];
  server?: [packets: number, bytes: number];
  retransmissions?: number;
  rst?: boolean;
  rtt?: number;
  l7?: string[];
}

export function tcpConn(o: L4Opts = {}): Entry {
  const [cp, cb] = o.client ?? [10, 1000];
  const [sp, sb] = o.server ?? [8, 4000];
  const rec: Entry['record'] = {
    kind: 'tcp_conn',
    state: 'closed',
    client: dir(cp, cb),
    server: dir(sp, sb),
    synSeen: true,
    retransmissions: o.retransmissions ?? 0,
    outOfOrder: 0,
    duplicateAcks: 0,
    zeroWindow: 0,
    gapBytes: 0,
    finClient: !o.rst,
    finServer: !o.rst,
    rst: o.rst ?? false,
    l7Detected: o.l7 ?? [],
    endReason: o.rst ? 'rst' : 'fin',
    lastTs: (o.ts ?? T0) + 1000,
  };
  if (o.rtt !== undefined) rec.handshakeRtt = o.rtt;
  return { ...base(o, 'tcp', 'tcp'), record: rec };
}

export function udpFlow(o: L4Opts = {}): Entry {
  const [cp, cb] = o.client ?? [1, 60];
  const [sp, sb] = o.server ?? [1, 120];
  const rec: Entry['record'] = {
    kind: 'udp_flow',
    state: 'open',
    client: dir(cp, cb),
    server: dir(sp, sb),
    l7Detected: o.l7 ?? [],
    endReason: 'end_of_capture',
    lastTs: (o.ts ?? T0) + 1000,
  };
  return { ...base({ dst: { port: 53 }, ...o }, 'udp', 'udp'), record: rec };
}

/** A Kubernetes-enriched endpoint. */
export function pod(
  ip: string,
  name: string,
  namespace: string,
  service?: string,
  port = 0,
): Partial<Endpoint> {
  const ep: Partial<Endpoint> = { ip, name, namespace, pod: { name, namespace } };
  if (port) ep.port = port;
  if (service) ep.service = { name: service, namespace };
  return ep;
}

/** Every entry of a capture through the real pipeline (L4 records for every connection/flow). */
export function entriesOf(file: string, node = 'n'): Promise<Entry[]> {
  return entriesFromCapture(file, { l4All: true, node: { name: node, ip: '' } });
}
