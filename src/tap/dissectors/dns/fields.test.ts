import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Entry, EntryRecord } from '../../../entry/model.ts';
import type { DnsMessage } from './record.ts';
import { dnsFields, dnsStatusCode } from './fields.ts';

const msg = (over: Partial<DnsMessage>): DnsMessage => ({
  id: 1,
  opcode: 'QUERY',
  flags: 0x0100,
  rcode: 'NOERROR',
  rcodeNumber: 0,
  questions: [{ name: 'api.default.svc.cluster.local', type: 'A', class: 'IN' }],
  answers: [],
  authorities: [],
  additionals: [],
  length: 47,
  ts: 0,
  ...over,
});

const entry = (record: EntryRecord): Entry => ({
  id: 1,
  node_id: 'n',
  worker: 'w',
  node: { name: 'n', ip: '10.0.0.1' },
  timestamp: 0,
  elapsed_time: 0,
  src: { ip: '10.0.0.2', port: 40000 },
  dst: { ip: '10.0.0.10', port: 53 },
  transport: 'udp',
  protocol: record.kind,
  flow_id: 1,
  conn_id: 0,
  stream: 'udp-1',
  index: 0,
  capture_source: 'pcap_file',
  record,
  requestSize: 0,
  responseSize: 0,
});

const view = (e: Entry): Record<string, unknown> =>
  Object.fromEntries(dnsFields.map((f) => [f.name, f.get(e)]).filter(([, v]) => v !== undefined));

test("the catalogue is KFL.md's DNS group plus status_code", () => {
  assert.deepEqual(
    dnsFields.map((f) => `${f.name}:${f.type}`),
    [
      'dns:bool',
      'dns_questions:list<string>',
      'dns_answers:list<string>',
      'dns_question_types:list<string>',
      'dns_request:bool',
      'dns_response:bool',
      'dns_request_length:int',
      'dns_response_length:int',
      'dns_total_size:int',
      'status_code:int',
    ],
  );
  for (const f of dnsFields) assert.ok(f.doc.length > 0);
});

test('a paired entry: questions from the query, answers and RCODE from the response', () => {
  const e = entry({
    kind: 'dns',
    transport: 'udp',
    request: msg({}),
    response: msg({
      flags: 0x8180,
      questions: [{ name: 'API.default.svc.cluster.local', type: 'A', class: 'IN' }],
      answers: [
        {
          name: 'api.default.svc.cluster.local',
          type: 'CNAME',
          class: 'IN',
          ttl: 5,
          data: 'api-v2.default.svc.cluster.local',
        },
        {
          name: 'api-v2.default.svc.cluster.local',
          type: 'A',
          class: 'IN',
          ttl: 5,
          data: '10.96.0.12',
        },
      ],
      length: 120,
    }),
  });
  assert.deepEqual(view(e), {
    dns: true,
    dns_questions: ['api.default.svc.cluster.local'],
    dns_answers: ['api-v2.default.svc.cluster.local', '10.96.0.12'],
    dns_question_types: ['A'],
    dns_request: true,
    dns_response: true,
    dns_request_length: 47,
    dns_response_length: 120,
    dns_total_size: 167,
    status_code: 0,
  });
});

test('response only, query only, and entries of other protocols', () => {
  const nx = entry({
    kind: 'dns',
    transport: 'tcp',
    response: msg({ rcode: 'NXDOMAIN', rcodeNumber: 3, length: 60 }),
  });
  assert.deepEqual(view(nx), {
    dns: true,
    dns_questions: ['api.default.svc.cluster.local'],
    dns_answers: [],
    dns_question_types: ['A'],
    dns_response: true,
    dns_response_length: 60,
    dns_total_size: 60,
    status_code: 3,
  });
  const unanswered = entry({ kind: 'dns', transport: 'udp', request: msg({}) });
  assert.equal(dnsStatusCode(unanswered), undefined);
  assert.equal(view(unanswered).dns_total_size, 47);
  const l4 = entry({
    kind: 'udp_flow',
    state: 'closed',
    client: { packets: 1, bytes: 1, payloadBytes: 1 },
    server: { packets: 0, bytes: 0, payloadBytes: 0 },
    l7Detected: [],
    endReason: 'idle',
    lastTs: 0,
  });
  assert.deepEqual(view(l4), {});
});
