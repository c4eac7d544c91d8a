/**
 * The dashboard's pure logic (src/front/app/lib), run in Node: KFL clause building checked by the
 * real KFL compiler over the real field catalogue, completion, the row ring, body rendering
 * (JSON, XML, protobuf, hex), the service-map graph and URL state.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KflCompiler } from '../src/api/kfl.ts';
import type { EntrySummary, StatsResponse } from '../src/api/types.ts';
import {
  decodeProtobuf,
  grpcFrames,
  hexDump,
  prettyJson,
  prettyXml,
  protoText,
  renderBody,
} from '../src/front/app/lib/body.ts';
import {
  catalogue,
  endClause,
  endpointClause,
  parseEndKey,
  summaryClause,
  viewClause,
} from '../src/front/app/lib/filters.ts';
import {
  autoBucket,
  fmtClock,
  fmtDuration,
  fmtIso,
  parseIsoUs,
  statusClass,
} from '../src/front/app/lib/format.ts';
import { buildGraph, edgePath } from '../src/front/app/lib/graph.ts';
import {
  appendClause,
  applySuggestion,
  clauseFor,
  conjuncts,
  kflString,
  suggest,
  wordAt,
} from '../src/front/app/lib/kfl.ts';
import { RowRing } from '../src/front/app/lib/rows.ts';
import { formatUrlState, parseUrlState } from '../src/front/app/lib/url.ts';
import { buildCatalogue } from '../src/tap/dissectors/registry.ts';

const compiler = new KflCompiler(buildCatalogue(), { failed: 'http && status_code >= 500' });
const fields = compiler.fields();
const cat = catalogue(fields.fields);

/** Every clause the dashboard writes must compile as written. */
function compiles(q: string | undefined): string {
  assert.ok(q !== undefined, 'a clause was expected');
  const c = compiler.check(q);
  assert.ok(c.ok, `${q}: ${c.error?.message}`);
  return q;
}

const http: EntrySummary = {
  id: 4,
  node: 'vm',
  worker: 'vm',
  ts: 1795276320113472,
  protocol: 'http',
  src: { ip: '127.0.0.1', port: 60196 },
  dst: { ip: '10.0.0.9', port: 80, name: 'cart', namespace: 'shop' },
  summary: 'GET /api/products',
  method: 'GET',
  path: '/api/products',
  status: 404,
  statusClass: 'client',
  statusText: '404',
  elapsed: 2883,
  requestSize: 100,
  responseSize: 370,
};
const dns: EntrySummary = {
  ...http,
  protocol: 'dns',
  summary: 'A missing.demo.local',
  method: 'A',
  path: 'missing.demo.local',
  status: 3,
  statusClass: 'client',
  statusText: 'NXDOMAIN',
};

test('literals: strings are CEL-escaped, ints bare', () => {
  assert.equal(kflString('a"b\\c\nd'), '"a\\"b\\\\c\\nd"');
  compiles(`path == ${kflString('a"b\\c\nd\u0001é')}`);
  assert.equal(clauseFor({ name: 'status_code', type: 'int' }, 404), 'status_code == 404');
  assert.equal(clauseFor({ name: 'status_code', type: 'int' }, 'x'), undefined);
  assert.equal(clauseFor({ name: 'http', type: 'bool' }, true), 'http');
  assert.equal(
    clauseFor({ name: 'dns_answers', type: 'list<string>' }, '1.2.3.4'),
    '"1.2.3.4" in dns_answers',
  );
  assert.equal(
    clauseFor({ name: 'request.headers', type: 'map<string,string>' }, 'gzip', 'accept-encoding'),
    'request.headers["accept-encoding"] == "gzip"',
  );
  assert.equal(
    clauseFor({ name: 'request.headers', type: 'map<string,string>' }, 'gzip'),
    undefined,
  );
});

test('click-to-filter on list values uses each protocol’s KFL field', () => {
  assert.equal(compiles(summaryClause(cat, http, 'protocol')), 'protocol == "http"');
  assert.equal(compiles(summaryClause(cat, http, 'method')), 'method == "GET"');
  assert.equal(compiles(summaryClause(cat, http, 'path')), 'path == "/api/products"');
  assert.equal(compiles(summaryClause(cat, http, 'status')), 'status_code == 404');
  assert.equal(compiles(summaryClause(cat, dns, 'method')), '"A" in dns_question_types');
  assert.equal(compiles(summaryClause(cat, dns, 'path')), '"missing.demo.local" in dns_questions');
  assert.equal(compiles(summaryClause(cat, dns, 'status')), 'status_code == 3');
  assert.equal(compiles(endpointClause(cat, 'src', http.src, 'ip')), 'src.ip == "127.0.0.1"');
  assert.equal(compiles(endpointClause(cat, 'src', http.src, 'port')), 'src.port == 60196');
  assert.equal(compiles(endpointClause(cat, 'dst', http.dst, 'name')), 'dst.name == "cart"');
  assert.equal(endpointClause(cat, 'src', http.src, 'name'), undefined);
  // A field the catalogue lacks is never clickable.
  assert.equal(summaryClause(catalogue([]), http, 'method'), undefined);
});

test('click-to-filter on the JSON view: fields, list elements and map entries', () => {
  assert.equal(
    compiles(viewClause(cat, ['src', 'ip'], '127.0.0.1', false)),
    'src.ip == "127.0.0.1"',
  );
  assert.equal(compiles(viewClause(cat, ['elapsed_time'], 2883, false)), 'elapsed_time == 2883');
  assert.equal(compiles(viewClause(cat, ['http'], true, false)), 'http');
  assert.equal(
    compiles(viewClause(cat, ['request', 'headers', 'host'], 'shop.demo.local', false)),
    'request.headers["host"] == "shop.demo.local"',
  );
  assert.equal(
    compiles(viewClause(cat, ['query_string', 'sort'], 'price', false)),
    'query_string["sort"] == "price"',
  );
  assert.equal(compiles(viewClause(cat, ['dns_answers'], '::1', true)), '"::1" in dns_answers');
  assert.equal(viewClause(cat, ['dns_answers'], '::1', false), undefined);
  assert.equal(viewClause(cat, ['request', 'method'], 'GET', false), undefined);
  assert.equal(viewClause(cat, ['src'], { ip: 'x' }, false), undefined);
});

test('appendClause keeps precedence and does not repeat a clause', () => {
  assert.equal(appendClause('', 'http'), 'http');
  assert.equal(appendClause('  http ', 'status_code == 200'), 'http && status_code == 200');
  assert.equal(
    appendClause('dns || http', 'status_code == 200'),
    '(dns || http) && status_code == 200',
  );
  assert.equal(appendClause('(dns || http)', 'http'), '(dns || http) && http');
  assert.equal(appendClause('path == "a || b"', 'http'), 'path == "a || b" && http');
  assert.equal(appendClause('http ? true : false', 'dns'), '(http ? true : false) && dns');
  assert.equal(
    appendClause('http && method == "GET"', 'method == "GET"'),
    'http && method == "GET"',
  );
  assert.deepEqual(conjuncts('a && (b && c) && "x && y"'), ['a', '(b && c)', '"x && y"']);
  for (const q of ['dns || http', 'http ? true : false', 'path == "a || b"'])
    compiles(appendClause(q, 'status_code == 200'));
});

test('completion: the name at the cursor, prefix matches first, macros and flags', () => {
  assert.deepEqual(wordAt('http && status_c', 16), { start: 8, end: 16, text: 'status_c' });
  assert.deepEqual(wordAt('src.po == 1', 6), { start: 0, end: 6, text: 'src.po' });
  assert.equal(wordAt('path == "stat', 13), undefined, 'inside a string');
  assert.equal(wordAt('status_code == 20', 17), undefined, 'in a number');
  assert.equal(wordAt('x && ', 5), undefined);
  const s = suggest('status_c', fields.fields, fields.macros, 5);
  assert.equal(s[0]?.insert, 'status_code');
  assert.equal(s[0]?.type, 'int');
  const sp = suggest('src.p', fields.fields, fields.macros, 10).map((x) => x.insert);
  assert.ok(sp.includes('src.port') && sp.includes('src.pod.name'), sp.join());
  assert.equal(suggest('fail', fields.fields, fields.macros, 5)[0]?.kind, 'macro');
  assert.equal(suggest('htt', fields.fields, fields.macros, 5)[0]?.insert, 'http');
  assert.equal(suggest('htt', fields.fields, fields.macros, 5)[0]?.kind, 'flag');
  assert.ok(
    suggest('headers', fields.fields, fields.macros, 5).some((x) => x.insert === 'request.headers'),
  );
  assert.equal(suggest('zzzz', fields.fields, fields.macros, 5).length, 0);
  assert.deepEqual(applySuggestion('http && status_c == 1', 8, 16, 'status_code'), {
    text: 'http && status_code == 1',
    cursor: 19,
  });
});

test('row ring: bounded, oldest dropped and counted, newest-first access', () => {
  const r = new RowRing<number>(3);
  for (let i = 1; i <= 5; i++) r.push(i);
  assert.equal(r.size, 3);
  assert.equal(r.dropped, 2);
  assert.equal(r.pushed, 5);
  assert.deepEqual(r.toArray(), [3, 4, 5]);
  assert.equal(r.fromNewest(0), 5);
  assert.equal(r.fromNewest(2), 3);
  assert.equal(r.at(3), undefined);
  r.clear();
  assert.equal(r.size, 0);
  assert.equal(r.dropped, 0);
  assert.throws(() => new RowRing(0), RangeError);
});

test('bodies: JSON and XML indented, form decoded, binary as hex', () => {
  assert.equal(
    prettyJson('{"a":[1,{"b":2}]}'),
    '{\n  "a": [\n    1,\n    {\n      "b": 2\n    }\n  ]\n}',
  );
  assert.equal(prettyJson('not json'), undefined);
  assert.equal(
    prettyXml('<?xml version="1.0"?><a x="1"><b>t</b><c/><d><e>u</e></d></a>'),
    '<?xml version="1.0"?>\n<a x="1">\n  <b>t</b>\n  <c/>\n  <d>\n    <e>u</e>\n  </d>\n</a>',
  );
  assert.equal(prettyXml('plain'), undefined);
  const hex = hexDump(new TextEncoder().encode('Hello, world!\x00\x01\x02xyz'));
  assert.equal(
    hex,
    '00000000  48 65 6c 6c 6f 2c 20 77  6f 72 6c 64 21 00 01 02  |Hello, world!...|\n' +
      '00000010  78 79 7a                                          |xyz|',
  );
  assert.match(hexDump(new Uint8Array(40), 16), /… 24 more bytes$/);
  assert.equal(renderBody('application/json', { text: '{"id":42}' }).text, '{\n  "id": 42\n}');
  assert.equal(renderBody('text/xml', { text: '<a><b>1</b></a>' }).kind, 'xml');
  assert.equal(
    renderBody('application/x-www-form-urlencoded', { text: 'a=1&b=x+y%21' }).text,
    'a = 1\nb = x y!',
  );
  assert.equal(renderBody('text/plain', { text: 'hi' }).kind, 'text');
  assert.equal(
    renderBody(undefined, { base64: 'AAEC' }).text.startsWith('00000000  00 01 02'),
    true,
  );
  assert.equal(renderBody('application/json', {}).kind, 'empty');
  assert.equal(renderBody('application/grpc', { decoded: { name: 'x' } }).label, 'decoded');
});

test('protobuf without a schema, and gRPC frames', () => {
  // {1: 150, 2: "testing", 3: {1: 150}, 4: fixed32 1.0f}
  const msg = Uint8Array.from([
    0x08,
    0x96,
    0x01,
    0x12,
    0x07,
    ...new TextEncoder().encode('testing'),
    0x1a,
    0x03,
    0x08,
    0x96,
    0x01,
    0x25,
    0x00,
    0x00,
    0x80,
    0x3f,
  ]);
  const f = decodeProtobuf(msg);
  assert.ok(f !== undefined);
  assert.equal(protoText(f), '1: 150\n2: "testing"\n3 {\n  1: 150\n}\n4: 1065353216 (float 1)');
  assert.equal(decodeProtobuf(Uint8Array.from([0x08])), undefined, 'truncated varint');
  assert.equal(decodeProtobuf(Uint8Array.from([0x0f, 0x01])), undefined, 'wire type 7');
  const framed = Uint8Array.from([0, 0, 0, 0, msg.length, ...msg]);
  const frames = grpcFrames(framed);
  assert.equal(frames?.length, 1);
  assert.equal(grpcFrames(Uint8Array.from([0, 0, 0, 0, 9, 1])), undefined);
  const b64 = Buffer.from(framed).toString('base64');
  const r = renderBody('application/grpc+proto', { base64: b64 });
  assert.equal(r.kind, 'grpc');
  assert.match(r.text, /^message 1 \(22 bytes\)\n {2}1: 150\n {2}2: "testing"/);
  assert.equal(
    renderBody('application/x-protobuf', { base64: Buffer.from(msg).toString('base64') }).kind,
    'protobuf',
  );
});

test('formats: clock, ISO with µs, durations, status classes, buckets', () => {
  assert.equal(fmtClock(1795276320113472), '15:52:00.113472');
  assert.equal(fmtIso(1795276320113472), '2026-11-21T15:52:00.113472Z');
  assert.equal(parseIsoUs('2026-11-21T15:52:00.113472Z'), 1795276320113472);
  assert.equal(parseIsoUs('2026-11-21T15:52:00Z'), 1795276320000000);
  assert.ok(Number.isNaN(parseIsoUs('yesterday')));
  assert.equal(fmtDuration(681), '681 µs');
  assert.equal(fmtDuration(2883), '2.88 ms');
  assert.equal(fmtDuration(1_234_000), '1.23 s');
  assert.equal(fmtDuration(undefined), '');
  // The class is the dissector's (summaries carry it); an entry error comes first.
  assert.equal(statusClass(http), 'client');
  assert.equal(statusClass({ ...http, status: 503, statusClass: 'server' }), 'server');
  assert.equal(statusClass({ ...http, status: 200, statusClass: 'ok' }), 'ok');
  assert.equal(statusClass(dns), 'client');
  assert.equal(statusClass({ ...http, status: undefined, statusClass: undefined }), 'none');
  assert.equal(statusClass({ ...http, error: { code: 'KS_NO_RESPONSE' } }), 'error');
  assert.equal(autoBucket(0.3), 1);
  assert.equal(autoBucket(3600), 60);
  assert.equal(autoBucket(1e9), 3600);
});

type Group = StatsResponse['result']['groups'][number];
function edge(key: string, calls: number, errorRate = 0, p95: number | null = 1000): Group {
  return {
    key,
    labels: {},
    calls,
    ratePerSec: calls / 10,
    failed: 0,
    errorRate,
    errors: {} as Group['errors'],
    errorRates: {} as Group['errorRates'],
    latency:
      p95 === null
        ? null
        : { samples: calls, p50: p95 / 2, p95, p99: p95, min: 1, max: p95, mean: p95 / 2 },
    bytes: { request: 0, response: 0, total: 0 },
    first: null,
    last: null,
    series: [],
  };
}

test('service map: nodes, edges, lanes and a deterministic layered layout', () => {
  const groups = [
    edge('http shop/frontend -> shop/cart', 50, 0.1),
    edge('http shop/cart -> shop/db', 40),
    edge('dns shop/frontend -> kube-system/coredns', 5),
    edge('http shop/cart -> shop/frontend', 3),
    edge('grpc shop/frontend -> shop/cart', 7),
    edge('http shop/db -> shop/db', 2),
  ];
  const g = buildGraph(groups);
  assert.deepEqual(
    g.nodes.map((n) => [n.id, n.layer]),
    [
      ['shop/frontend', 0],
      ['kube-system/coredns', 1],
      ['shop/cart', 1],
      ['shop/db', 2],
    ].sort((a, b) => (a[1] as number) - (b[1] as number) || 0),
  );
  const front = g.nodes.find((n) => n.id === 'shop/frontend')!;
  assert.equal(front.namespace, 'shop');
  assert.equal(front.name, 'frontend');
  assert.equal(front.callsOut, 62);
  const e = g.edges.find((x) => x.id === 'http shop/frontend -> shop/cart')!;
  assert.equal(e.protocol, 'http');
  assert.equal(e.lanes, 3, 'frontend↔cart has three edges (http, grpc, and http back)');
  assert.deepEqual(buildGraph([...groups].reverse()), g, 'input order does not matter');
  const small = buildGraph(groups, 2);
  assert.equal(small.edges.length, 2);
  assert.equal(small.omitted, 4);
  // Labels from the API win over the key.
  const labelled = buildGraph([
    { ...edge('x', 1), labels: { protocol: 'dns', src: 'a', dst: 'b' } as Group['labels'] },
  ]);
  assert.deepEqual(
    labelled.edges.map((x) => [x.from, x.to, x.protocol]),
    [['a', 'b', 'dns']],
  );
  const self = g.edges.find((x) => x.from === x.to)!;
  assert.match(edgePath(self, { x: 10, y: 100 }, { x: 10, y: 100 }, 20).d, /^M -2 80 C/);
});

test('service map ends: keys → filters that compile', () => {
  assert.deepEqual(parseEndKey('127.0.0.1:80'), { kind: 'address', ip: '127.0.0.1', port: 80 });
  assert.deepEqual(parseEndKey('127.0.0.1'), { kind: 'address', ip: '127.0.0.1', port: undefined });
  assert.deepEqual(parseEndKey('[fd00::1]:53'), { kind: 'address', ip: 'fd00::1', port: 53 });
  assert.deepEqual(parseEndKey('fd00::1'), { kind: 'address', ip: 'fd00::1' });
  assert.deepEqual(parseEndKey('shop/cart'), { kind: 'named', namespace: 'shop', name: 'cart' });
  assert.deepEqual(parseEndKey('cart'), { kind: 'named', name: 'cart' });
  assert.equal(
    compiles(endClause(cat, 'dst', 'service', '127.0.0.1:80')),
    'dst.ip == "127.0.0.1" && dst.port == 80',
  );
  assert.equal(
    compiles(endClause(cat, 'src', 'pod', 'shop/cart')),
    'src.namespace == "shop" && src.pod.name == "cart"',
  );
  assert.equal(
    compiles(endClause(cat, 'dst', 'service', 'shop/cart')),
    'dst.namespace == "shop" && (dst.service.name == "cart" || dst.pod.name == "cart")',
  );
  assert.equal(compiles(endClause(cat, 'dst', 'namespace', 'shop')), 'dst.namespace == "shop"');
  assert.equal(compiles(endClause(cat, 'src', 'node', 'vm')), 'node_name == "vm"');
});

test('URL state round-trips and leaves defaults out', () => {
  const s = parseUrlState(
    '?q=http+%26%26+status_code+%3D%3D+200&view=map&by=pod&bucket=10&entry=vm%2F4',
  );
  assert.deepEqual(s, {
    q: 'http && status_code == 200',
    view: 'map',
    by: 'pod',
    bucket: 10,
    entry: { node: 'vm', id: 4 },
  });
  assert.deepEqual(parseUrlState(formatUrlState(s)), s);
  assert.equal(formatUrlState(parseUrlState('')), '');
  assert.deepEqual(parseUrlState('?view=nope&by=x&bucket=-1&entry=bad'), {
    q: '',
    view: 'traffic',
    by: 'service',
    bucket: 0,
    entry: undefined,
  });
});
