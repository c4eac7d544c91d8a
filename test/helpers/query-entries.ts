/**
 * Hand-built entries with known values for the KFL table tests (imported by *.test.ts only):
 * one of each record kind, with Kubernetes identity filled in (captures carry none).
 */
import type { Endpoint, Entry, EntryRecord } from '../../src/entry/model.ts';

/** 2026-03-14T22:00:00.123456Z in µs. */
export const T0 = Date.UTC(2026, 2, 14, 22, 0, 0, 123) * 1000 + 456;

const client: Endpoint = {
  ip: '10.0.0.5',
  port: 41000,
  pod: { name: 'frontend-abc', namespace: 'shop' },
  labels: { app: 'frontend', tier: 'web' },
  annotations: { 'sidecar.istio.io/inject': 'true' },
};
const server: Endpoint = {
  ip: '10.0.0.9',
  port: 8080,
  pod: { name: 'checkout-xyz', namespace: 'shop' },
  service: { name: 'checkout', namespace: 'shop' },
  labels: { app: 'checkout' },
};

function base(record: EntryRecord, o: Partial<Entry> = {}): Entry {
  const tcp = record.kind !== 'dns' && record.kind !== 'udp_flow';
  return {
    id: 1,
    node_id: 'node-1',
    worker: 'node-1',
    node: { name: 'node-1', ip: '10.0.0.1' },
    timestamp: T0,
    elapsed_time: 0,
    src: { ip: '192.168.1.10', port: 50000 },
    dst: { ip: '192.168.1.1', port: 80 },
    transport: tcp ? 'tcp' : 'udp',
    protocol: record.kind === 'tcp_conn' ? 'tcp' : record.kind === 'udp_flow' ? 'udp' : record.kind,
    flow_id: 7,
    conn_id: tcp ? 7 : 0,
    stream: tcp ? 'tcp-7' : 'udp-7',
    index: 0,
    capture_source: 'pcap_file',
    record,
    requestSize: 0,
    responseSize: 0,
    ...o,
  };
}

const body = (size: number, text?: string) => ({
  size,
  decodedSize: size,
  ...(text ? { text } : {}),
});

/** POST /api/checkout?x=1 → 503, 2.5 ms, frontend pod → checkout pod/service. */
export function http503(): Entry {
  return base(
    {
      kind: 'http',
      request: {
        method: 'POST',
        url: '/api/checkout?x=1',
        path: '/api/checkout',
        query: { x: '1' },
        httpVersion: 'HTTP/1.1',
        headers: {
          host: 'shop.example',
          'content-type': 'application/json',
          authorization: 'Bearer t0k3n',
        },
        headersList: [],
        cookies: { session: 'abc' },
        headersSize: 120,
        body: body(19, '{"card":"tok_visa"}'),
        ts: T0,
      },
      response: {
        statusCode: 503,
        statusText: 'Service Unavailable',
        httpVersion: 'HTTP/1.1',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        headersList: [],
        cookies: {},
        headersSize: 90,
        body: body(39),
        ts: T0 + 2500,
      },
    },
    { elapsed_time: 2500, src: client, dst: server, requestSize: 139, responseSize: 129 },
  );
}

/** GET /api/products → 200, 300 µs, one minute after http503, no Kubernetes identity. */
export function http200(): Entry {
  return base(
    {
      kind: 'http',
      request: {
        method: 'GET',
        url: '/api/products',
        path: '/api/products',
        query: {},
        httpVersion: 'HTTP/1.1',
        headers: { host: 'shop.example' },
        headersList: [],
        cookies: {},
        headersSize: 60,
        body: body(0),
        ts: T0 + 60e6,
      },
      response: {
        statusCode: 200,
        statusText: 'OK',
        httpVersion: 'HTTP/1.1',
        headers: { 'content-type': 'text/plain' },
        headersList: [],
        cookies: { theme: 'dark' },
        headersSize: 70,
        body: body(2, 'ok'),
        ts: T0 + 60e6 + 300,
      },
    },
    { id: 2, timestamp: T0 + 60e6, elapsed_time: 300 },
  );
}

const question = (name: string, type: string) => ({ name, type, class: 'IN' });
const dnsMsg = (o: {
  flags: number;
  rcode: number;
  questions: { name: string; type: string; class: string }[];
  answers?: string[];
  length: number;
  ts: number;
}) => ({
  id: 4242,
  opcode: 'QUERY',
  flags: o.flags,
  rcode: ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN'][o.rcode] ?? 'RCODE' + o.rcode,
  rcodeNumber: o.rcode,
  questions: o.questions,
  answers: (o.answers ?? []).map((data) => ({ ...o.questions[0]!, ttl: 30, data })),
  authorities: [],
  additionals: [],
  length: o.length,
  ts: o.ts,
});

/** A query for missing.shop.svc.cluster.local (A) answered NXDOMAIN, over UDP. */
export function dnsNxdomain(): Entry {
  const q = [question('missing.shop.svc.cluster.local', 'A')];
  return base(
    {
      kind: 'dns',
      transport: 'udp',
      request: dnsMsg({ flags: 0x0100, rcode: 0, questions: q, length: 48, ts: T0 }),
      response: dnsMsg({ flags: 0x8183, rcode: 3, questions: q, length: 48, ts: T0 + 700 }),
    },
    { id: 3, elapsed_time: 700, dst: { ip: '10.96.0.10', port: 53 }, src: client },
  );
}

/** api.demo.local AAAA → ::1 and fe80::1, over TCP. */
export function dnsAaaa(): Entry {
  const q = [question('api.demo.local', 'AAAA')];
  return base(
    {
      kind: 'dns',
      transport: 'tcp',
      request: dnsMsg({ flags: 0x0100, rcode: 0, questions: q, length: 32, ts: T0 }),
      response: dnsMsg({
        flags: 0x8180,
        rcode: 0,
        questions: q,
        answers: ['::1', 'fe80::1'],
        length: 76,
        ts: T0 + 400,
      }),
    },
    { id: 4, elapsed_time: 400, transport: 'tcp', stream: 'tcp-8', conn_id: 8, flow_id: 8 },
  );
}

/** An unanswered query (no response: status_code reads as its default 0). */
export function dnsUnanswered(): Entry {
  const q = [question('slow.example', 'A')];
  return base(
    {
      kind: 'dns',
      transport: 'udp',
      request: dnsMsg({ flags: 0x0100, rcode: 0, questions: q, length: 30, ts: T0 }),
      retransmissions: 2,
    },
    { id: 5 },
  );
}

/** A client text message on a WebSocket. */
export function wsClientText(): Entry {
  return base(
    {
      kind: 'ws',
      fromClient: true,
      opcode: 'text',
      frames: 1,
      masked: true,
      compressed: false,
      payloadLength: 26,
      payload: body(26, '{"subscribe":"order-status"}'),
      upgradePath: '/ws/notifications',
    },
    { id: 6 },
  );
}

/** A server pong. */
export function wsServerPong(): Entry {
  return base(
    {
      kind: 'ws',
      fromClient: false,
      opcode: 'pong',
      frames: 1,
      masked: false,
      compressed: false,
      payloadLength: 0,
      payload: body(0),
    },
    { id: 7 },
  );
}

const stats = (packets: number, bytes: number) => ({ packets, bytes, payloadBytes: bytes / 2 });

/** A closed TCP connection on which HTTP was detected. */
export function tcpConn(): Entry {
  return base(
    {
      kind: 'tcp_conn',
      state: 'closed',
      client: stats(10, 1200),
      server: stats(8, 4000),
      synSeen: true,
      handshakeRtt: 150,
      retransmissions: 1,
      outOfOrder: 0,
      duplicateAcks: 0,
      zeroWindow: 0,
      gapBytes: 0,
      finClient: true,
      finServer: true,
      rst: false,
      l7Detected: ['http'],
      endReason: 'fin',
      lastTs: T0 + 2e6,
    },
    { id: 8, elapsed_time: 2e6, src: client, dst: server },
  );
}

/** An open UDP flow nobody recognised. */
export function udpFlow(): Entry {
  return base(
    {
      kind: 'udp_flow',
      state: 'open',
      client: stats(4, 400),
      server: stats(0, 0),
      l7Detected: [],
      endReason: 'end_of_capture',
      lastTs: T0 + 1e6,
    },
    { id: 9, elapsed_time: 1e6, dst: { ip: '10.0.0.20', port: 9999 } },
  );
}

export const SAMPLES = {
  http503,
  http200,
  dnsNxdomain,
  dnsAaaa,
  dnsUnanswered,
  wsClientText,
  wsServerPong,
  tcpConn,
  udpFlow,
} as const;
export type SampleName = keyof typeof SAMPLES;
