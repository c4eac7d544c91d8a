/**
 * KFL table tests: expression × entry → bool. Each row lists exactly the sample entries
 * (test/helpers/query-entries.ts) the filter matches; it must match none of the others.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { FieldDef } from '../entry/fields.ts';
import type { Entry } from '../entry/model.ts';
import { buildCatalogue } from '../tap/dissectors/registry.ts';
import { compileKfl } from './compile.ts';
import { KflError } from './errors.ts';
import { SAMPLES, type SampleName } from '../../test/helpers/query-entries.ts';
import { needsShared, shared } from '../../test/helpers/shared.ts';

const catalogue = buildCatalogue();
/** `now()` for these tests: 2026-03-14T22:03:00Z (3 minutes after T0). */
const now = new Date(Date.UTC(2026, 2, 14, 22, 3, 0));
const names = Object.keys(SAMPLES) as SampleName[];
const entries = Object.fromEntries(names.map((n) => [n, SAMPLES[n]()])) as Record<
  SampleName,
  Entry
>;

type Row = [expression: string, matches: SampleName[]];
const ALL = names;
const HTTP: SampleName[] = ['http503', 'http200'];
const DNS: SampleName[] = ['dnsNxdomain', 'dnsAaaa', 'dnsUnanswered'];
const WS: SampleName[] = ['wsClientText', 'wsServerPong'];
const not = (...xs: SampleName[]): SampleName[] => ALL.filter((n) => !xs.includes(n));

const ROWS: Row[] = [
  // Empty filter: everything.
  ['', ALL],
  ['   // just a comment', ALL],
  // Protocol flags and transport.
  ['http', HTTP],
  ['dns', DNS],
  ['ws', WS],
  ['tcp', ['http503', 'http200', 'dnsAaaa', 'wsClientText', 'wsServerPong', 'tcpConn']],
  ['udp', ['dnsNxdomain', 'dnsUnanswered', 'udpFlow']],
  ['conn', ['tcpConn']],
  ['tcp_conn', ['tcpConn']],
  ['flow', ['udpFlow']],
  ['udp_flow', ['udpFlow']],
  ['udp_conn || tcp_flow', []],
  ['!dns', not(...DNS)],
  ['http || dns', [...HTTP, ...DNS]],
  ['dns && udp', ['dnsNxdomain', 'dnsUnanswered']],
  // KFL.md: `protocol == "dns"` compares case-insensitively.
  ['protocol == "dns"', DNS],
  ['protocol == "DNS"', DNS],
  ['"Dns" == protocol', DNS],
  ['protocol != "HTTP"', not(...HTTP)],
  ['protocol in ["DNS", "Http"]', [...HTTP, ...DNS]],
  ['protocol == "tcp"', ['tcpConn']],
  // HTTP.
  ['http && status_code >= 500', ['http503']],
  ['status_code >= 500', ['http503']],
  ['status_code == 200', ['http200']],
  ['status_code / 100 == 5', ['http503']],
  ['status_code % 100 == 3', ['http503', 'dnsNxdomain']],
  ['(status_code >= 500 ? "error" : "ok") == "error"', ['http503']],
  ['method == "POST"', ['http503']],
  ['method in ["GET", "HEAD"]', ['http200']],
  ['path == "/api/checkout"', ['http503']],
  ['url == "/api/checkout?x=1"', ['http503']],
  ['url.contains("x=1")', ['http503']],
  ['path.startsWith("/api")', HTTP],
  ['path.endsWith("products")', ['http200']],
  ['path.matches("^/api/[a-z]+$")', HTTP],
  ['path.matches("check")', ['http503']],
  ['matches(path, "^/api/p")', ['http200']],
  ['size(path) == 13', HTTP],
  ['path.size() > 13', []],
  ['http_version == "HTTP/1.1"', HTTP],
  ['query_string["x"] == "1"', ['http503']],
  ['"x" in query_string', ['http503']],
  ['request.headers["host"] == "shop.example"', HTTP],
  ['"authorization" in request.headers', ['http503']],
  ['"Authorization" in request.headers', []], // header keys are lower-case
  ['request.headers.host == "shop.example"', HTTP],
  ['has(request.headers.authorization)', ['http503']],
  ['response.headers["content-type"].contains("json")', ['http503']],
  ['map_get(request.headers, "x-request-id", "none") == "none"', ALL],
  ['map_get(request.headers, "host", "") == "shop.example"', HTTP],
  ['request.cookies["session"] == "abc"', ['http503']],
  ['"theme" in response.cookies', ['http200']],
  ['request_body_size > 0', ['http503']],
  ['request_body_size + response_body_size == 58', ['http503']],
  ['request_headers_size == 120 && response_headers_size == 90', ['http503']],
  ['response_body_size == 2', ['http200']],
  // Time: elapsed_time is µs; timestamp compares with timestamps; now() is fixed.
  ['elapsed_time > 1000', ['http503', 'tcpConn', 'udpFlow']],
  ['http && elapsed_time < 1000', ['http200']],
  ['timestamp > timestamp("2026-03-14T22:00:30Z")', ['http200']],
  ['timestamp < timestamp("2026-03-14T22:00:00.124Z")', not('http200')],
  // Timestamps have millisecond resolution: .123456 reads as .123.
  ['timestamp == timestamp("2026-03-14T22:00:00.123Z")', not('http200')],
  ['timestamp > now() - duration("2m")', ['http200']],
  ['timestamp > now() - duration("5m")', ALL],
  ['now() - timestamp > duration("2m30s")', not('http200')],
  ['timestamp.getHours() == 22', ALL],
  // Network and identity.
  ['src.ip == "10.0.0.5"', ['http503', 'dnsNxdomain', 'tcpConn']],
  ['dst.port == 8080', ['http503', 'tcpConn']],
  ['dst.port == 53 && dns', ['dnsNxdomain']],
  ['src.port > 45000', not('http503', 'dnsNxdomain', 'tcpConn')],
  ['src.ip.startsWith("192.168.")', not('http503', 'dnsNxdomain', 'tcpConn')],
  ['id == 1', ['http503']],
  ['id > 5', ['wsClientText', 'wsServerPong', 'tcpConn', 'udpFlow']],
  ['node_id == "node-1" && worker == "node-1"', ALL],
  ['stream == "tcp-8"', ['dnsAaaa']],
  ['index == 0', ALL],
  ['conn_id == 0', ['dnsNxdomain', 'dnsUnanswered', 'udpFlow']],
  ['flow_id == 8', ['dnsAaaa']],
  ['has_pcap', []],
  // Capture.
  ['capture_source == "pcap_file"', ALL],
  ['capture_source_code == 3', ALL],
  ['capture_backend == "pcap_file"', ALL],
  ['capture.source == "pcap_file"', ALL],
  ['capture["source"] == "af_packet"', []],
  // Kubernetes (filled by enrichment; defaults otherwise).
  ['src.pod.name == "frontend-abc"', ['http503', 'dnsNxdomain', 'tcpConn']],
  ['src.pod.namespace == "shop"', ['http503', 'dnsNxdomain', 'tcpConn']],
  ['dst.pod.name == "checkout-xyz"', ['http503', 'tcpConn']],
  ['dst.service.name == "checkout" && dst.service.namespace == "shop"', ['http503', 'tcpConn']],
  ['src.service.name == ""', ALL],
  ['src.name == "frontend-abc"', ['http503', 'dnsNxdomain', 'tcpConn']],
  ['dst.name == "checkout-xyz"', ['http503', 'tcpConn']],
  ['src.namespace == "shop"', ['http503', 'dnsNxdomain', 'tcpConn']],
  ['dst.namespace != "shop"', not('http503', 'tcpConn')],
  ['"shop" in namespaces', ['http503', 'dnsNxdomain', 'tcpConn']],
  ['"checkout-xyz" in pods', ['http503', 'tcpConn']],
  ['"checkout" in services', ['http503', 'tcpConn']],
  ['local_labels["app"] == "frontend"', ['http503', 'dnsNxdomain', 'tcpConn']],
  ['remote_labels["app"] == "checkout"', ['http503', 'tcpConn']],
  ['"sidecar.istio.io/inject" in local_annotations', ['http503', 'dnsNxdomain', 'tcpConn']],
  ['size(remote_annotations) == 0', ALL],
  ['node.name == "node-1" && node["ip"] == "10.0.0.1"', ALL],
  ['node_name == "node-1" && node_ip == "10.0.0.1"', ALL],
  ['local_resolution_status == ""', ['http503', 'dnsNxdomain', 'tcpConn']],
  ['remote_resolution_status == "unresolved"', not('http503', 'tcpConn')],
  // DNS: status_code is the RCODE.
  ['dns && status_code == 3', ['dnsNxdomain']],
  ['dns && status_code != 0', ['dnsNxdomain']],
  ['"missing.shop.svc.cluster.local" in dns_questions', ['dnsNxdomain']],
  ['dns_questions.exists(q, q.endsWith(".local"))', ['dnsNxdomain', 'dnsAaaa']],
  ['"AAAA" in dns_question_types', ['dnsAaaa']],
  ['"::1" in dns_answers', ['dnsAaaa']],
  ['size(dns_answers) == 2', ['dnsAaaa']],
  ['dns_answers.all(a, a.contains(":"))', ALL], // vacuously true on []
  ['dns_request && !dns_response', ['dnsUnanswered']],
  ['dns_response', ['dnsNxdomain', 'dnsAaaa']],
  ['dns_request_length == 32 && dns_response_length == 76', ['dnsAaaa']],
  ['dns_total_size == 96', ['dnsNxdomain']],
  ['dns_total_size == 30', ['dnsUnanswered']],
  // WebSocket.
  ['ws && ws_request', ['wsClientText']],
  ['ws_response', ['wsServerPong']],
  ['ws_opcode == "pong"', ['wsServerPong']],
  ['ws_request_payload_data.contains("subscribe")', ['wsClientText']],
  ['ws_request_payload_length == 26', ['wsClientText']],
  ['ws_response_payload_length == 0', ALL],
  // L4 records.
  ['conn_state == "closed"', ['tcpConn']],
  ['"http" in conn_l7_detected', ['tcpConn']],
  ['conn_local_pkts == 10 && conn_remote_pkts == 8', ['tcpConn']],
  ['conn_local_bytes + conn_remote_bytes > 5000', ['tcpConn']],
  ['conn_group_id == 7', ['tcpConn']],
  ['tcp_method == "fin"', ['tcpConn']],
  ['flow_state == "open"', ['udpFlow']],
  ['size(flow_l7_detected) == 0', ALL],
  ['flow_local_pkts == 4 && flow_remote_pkts == 0', ['udpFlow']],
  ['flow_local_pps == 4', ['udpFlow']],
  ['udp_length == 200', ['udpFlow']],
  // Defaults for missing values: "", 0, false, [], {}.
  ['method == ""', not(...HTTP)],
  ['status_code == 0', not('http503', 'http200', 'dnsNxdomain')],
  ['ws_request == false', not('wsClientText')],
  ['dns_questions == []', not('dnsNxdomain', 'dnsAaaa', 'dnsUnanswered')],
  ['request.headers == {}', not(...HTTP)],
  ['size(query_string) == 0', not('http503')],
  ['conn_state == "" && flow_state == ""', not('tcpConn', 'udpFlow')],
  // Operators, literals and mixed numbers.
  ['status_code > 499.5', ['http503']],
  ['elapsed_time >= 2500 && elapsed_time <= 2500', ['http503']],
  ['-elapsed_time < -2000', ['http503', 'tcpConn', 'udpFlow']],
  ['1 == 1', ALL],
  ['false', []],
];

test('table: each filter matches exactly the listed sample entries', () => {
  const failures: string[] = [];
  for (const [expr, want] of ROWS) {
    const f = compileKfl(expr, { catalogue, now });
    const got = names.filter((n) => f.matches(entries[n]));
    if (JSON.stringify(got) !== JSON.stringify(names.filter((n) => want.includes(n)))) {
      failures.push(
        `${expr}\n    want ${want.join(', ') || '(none)'}\n    got  ${got.join(', ') || '(none)'}`,
      );
    }
  }
  assert.deepEqual(failures, []);
});

test('counters: evaluated, matched; a runtime error is a counted no-match', () => {
  const f = compileKfl('request.headers["x-request-id"] == "1" || dns', { catalogue });
  for (const n of names) f.matches(entries[n]);
  // DNS entries match (the error on the left of || is absorbed by CEL); the others error.
  assert.deepEqual(f.counters, { evaluated: 9, matched: 3, runtimeErrors: 6 });
  assert.match(f.firstRuntimeError ?? '', /x-request-id/);
  f.resetCounters();
  assert.deepEqual(f.counters, { evaluated: 0, matched: 0, runtimeErrors: 0 });
  assert.equal(f.firstRuntimeError, undefined);
});

test('fields lists the KFL names read, in order; kfl2 is the compiled expression', () => {
  const f = compileKfl('src.pod.name == "a" && request.headers["x"] == "b" && src.pod.name != ""', {
    catalogue,
  });
  assert.deepEqual(f.fields, ['src.pod.name', 'request.headers']);
  assert.equal(f.kfl2, 'src.pod.name == "a" && request.headers["x"] == "b" && src.pod.name != ""');
  assert.equal(f.translation, undefined);
  const empty = compileKfl('  ', { catalogue });
  assert.deepEqual([empty.kfl2, empty.fields], ['', []]);
});

test('strings are never rewritten: names and keywords inside literals stay as written', () => {
  const f = compileKfl('path != "src.ip and response.status" && method != "not"', { catalogue });
  assert.equal(f.kfl2, 'path != "src.ip and response.status" && method != "not"');
  assert.equal(f.matches(entries.http503), true);
});

/** A CEL literal for a field's value, for the generated round-trip test. */
function literal(def: FieldDef, v: unknown): string | undefined {
  switch (def.type) {
    case 'string':
      return JSON.stringify(v ?? '');
    case 'int':
      return String(typeof v === 'number' ? Math.trunc(v) : 0);
    case 'bool':
      return String(v === true);
    case 'timestamp':
      return `timestamp("${new Date(Math.floor(((v as number | undefined) ?? 0) / 1000)).toISOString()}")`;
    default:
      return undefined;
  }
}

test('every catalogue field is declared with its type and reads its value (or the default)', () => {
  const failures: string[] = [];
  for (const def of catalogue) {
    for (const n of names) {
      const e = entries[n];
      const v = def.get(e);
      let expr: string;
      const lit = literal(def, v);
      if (lit !== undefined) {
        expr = `${def.name} == ${lit}`;
      } else if (def.type === 'list<string>') {
        const xs = (v as string[] | undefined) ?? [];
        expr = `size(${def.name}) == ${xs.length}${xs.map((x) => ` && ${JSON.stringify(x)} in ${def.name}`).join('')}`;
      } else if (def.type === 'bytes') {
        expr = `size(${def.name}) == ${(v as Uint8Array | undefined)?.length ?? 0}`;
      } else {
        const m = (v as Record<string, unknown> | undefined) ?? {};
        expr = `size(${def.name}) == ${Object.keys(m).length}${Object.entries(m)
          .map(([k, x]) => ` && ${def.name}[${JSON.stringify(k)}] == ${JSON.stringify(x)}`)
          .join('')}`;
      }
      try {
        const f = compileKfl(expr, { catalogue });
        if (!f.matches(e)) failures.push(`${n}: ${expr} (${f.firstRuntimeError ?? 'false'})`);
      } catch (err) {
        failures.push(`${n}: ${expr}: ${(err as Error).message}`);
      }
    }
  }
  assert.deepEqual(failures, []);
});

test(
  'every protocol flag of KFL.md is declared, or rejected with the reason',
  needsShared(),
  () => {
    const row = readFileSync(shared('KFL.md'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith('| Protocol flags'));
    const flags = [
      ...(row ?? '')
        .split('|')[2]!
        .split('.')[0]!
        .matchAll(/`([a-z0-9_]+)`/g),
    ].map((m) => m[1]!);
    assert.ok(flags.length > 20);
    const declared = new Set(catalogue.map((f) => f.name));
    for (const flag of flags) {
      if (declared.has(flag)) {
        assert.equal(typeof compileKfl(flag, { catalogue }).matches(entries.http503), 'boolean');
        continue;
      }
      assert.throws(
        () => compileKfl(flag, { catalogue }),
        (e: unknown) =>
          e instanceof KflError &&
          e.code === 'KS_ERR_KFL_UNKNOWN_FIELD' &&
          /(this build|did you mean)/.test(e.message),
        flag,
      );
    }
  },
);

test('a new dissector field appears in KFL without editing src/query', () => {
  const extra: FieldDef = {
    name: 'src.pod.uid',
    type: 'string',
    doc: 'test-only field',
    get: (e) => (e.src.pod ? `uid-${e.src.pod.name}` : undefined),
  };
  const f = compileKfl('src.pod.uid == "uid-frontend-abc"', { catalogue: [...catalogue, extra] });
  assert.equal(f.matches(entries.http503), true);
  assert.equal(f.matches(entries.http200), false);
});
