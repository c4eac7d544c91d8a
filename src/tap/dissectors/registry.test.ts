import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCatalogue, dissectors } from './registry.ts';
import { render } from '../../../scripts/gen-kfl-docs.ts';

const here = new URL('.', import.meta.url).pathname;
const root = join(here, '../../..');

test('dissector ids are unique', () => {
  const ids = dissectors.map((d) => d.id);
  assert.equal(new Set(ids).size, ids.length);
});

test('every dissector has golden captures with expected entries', () => {
  for (const d of dissectors) {
    const td = join(here, d.id, 'testdata');
    assert.ok(existsSync(td), `${d.id} has no testdata/`);
    const pcaps = readdirSync(td).filter((f) => /\.pcap(ng)?$/.test(f));
    assert.ok(pcaps.length > 0, `${d.id} has no capture`);
    for (const p of pcaps) {
      const golden = join(td, p.replace(/\.pcap(ng)?$/, '.golden.jsonl'));
      assert.ok(existsSync(golden), `${d.id}/testdata/${p} has no golden file`);
    }
  }
});

test('the catalogue merges cleanly and every KFL field name is unique', () => {
  const cat = buildCatalogue();
  const names = cat.map((f) => f.name);
  assert.equal(new Set(names).size, names.length);
  for (const d of dissectors) {
    for (const f of d.fields) assert.ok(names.includes(f.name), `${d.id} field ${f.name} missing`);
    assert.ok(names.includes(d.id), `protocol flag \`${d.id}\` is declared`);
  }
});

test('KFL.md names for HTTP, DNS, WebSocket and L4 are declared with their KFL types', () => {
  const types = new Map(buildCatalogue().map((f) => [f.name, f.type]));
  const expect: Record<string, string> = {
    method: 'string',
    url: 'string',
    path: 'string',
    http_version: 'string',
    status_code: 'int',
    query_string: 'map<string,string>',
    'request.headers': 'map<string,string>',
    'response.headers': 'map<string,string>',
    'request.cookies': 'map<string,string>',
    'response.cookies': 'map<string,string>',
    request_headers_size: 'int',
    request_body_size: 'int',
    response_headers_size: 'int',
    response_body_size: 'int',
    dns_questions: 'list<string>',
    dns_answers: 'list<string>',
    dns_question_types: 'list<string>',
    dns_request: 'bool',
    dns_response: 'bool',
    dns_request_length: 'int',
    dns_response_length: 'int',
    dns_total_size: 'int',
    ws_opcode: 'string',
    ws_request: 'bool',
    ws_response: 'bool',
    ws_request_payload_data: 'string',
    ws_request_payload_length: 'int',
    ws_response_payload_length: 'int',
    conn_state: 'string',
    conn_l7_detected: 'list<string>',
    conn_local_pkts: 'int',
    conn_local_bytes: 'int',
    conn_remote_pkts: 'int',
    conn_remote_bytes: 'int',
    flow_state: 'string',
    flow_l7_detected: 'list<string>',
    flow_local_pkts: 'int',
    flow_remote_bytes: 'int',
    'src.ip': 'string',
    'dst.port': 'int',
    timestamp: 'timestamp',
    elapsed_time: 'int',
    http: 'bool',
    dns: 'bool',
    ws: 'bool',
    tcp: 'bool',
    udp: 'bool',
  };
  for (const [name, type] of Object.entries(expect)) assert.equal(types.get(name), type, name);
});

test('docs/kfl.md is generated from the catalogue and up to date', () => {
  assert.equal(readFileSync(join(root, 'docs/kfl.md'), 'utf8'), render());
});
