/**
 * The direct JSON writer (ViewBuilder.json, used by -o jsonl) must produce exactly
 * JSON.stringify(ViewBuilder.build(e)) — same keys, values and order — for every entry of
 * real captures of every protocol.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildView } from '../src/tap/records.ts';
import type { Entry } from '../src/entry/model.ts';
import { entriesFromCapture } from '../src/tap/run.ts';
import { replayCaptures } from './helpers/dissector-captures.ts';
import { corpus, needsShared } from './helpers/shared.ts';

function captures(): string[] {
  return [
    ...replayCaptures(),
    corpus('http/zeek-100-continue-chunked.pcap'),
    corpus('dns/pcapplusplus-DnsPackets-udp.pcap'),
    corpus('websocket/zeek-jupyter-websocket.pcap'),
    corpus('mixed/mercury-emix.pcap'),
  ];
}

function entriesOf(file: string): Promise<Entry[]> {
  return entriesFromCapture(file, { l4All: true });
}

test(
  'ViewBuilder.json equals JSON.stringify(ViewBuilder.build) on real captures',
  needsShared(),
  async () => {
    const view = buildView();
    let n = 0;
    for (const file of captures()) {
      for (const e of await entriesOf(file)) {
        assert.equal(view.json(e), JSON.stringify(view.build(e)), `${file} entry ${e.id}`);
        n++;
      }
    }
    assert.ok(n > 200, `checked ${n} entries`);
  },
);

test('ViewBuilder.json equals build for entries with errors and odd values', () => {
  const view = buildView();
  const e: Entry = {
    id: 7,
    node_id: 'n',
    worker: 'w',
    node: { name: 'n', ip: '' },
    timestamp: 1.5e15,
    elapsed_time: 0,
    src: { ip: '::1', port: 1 },
    dst: { ip: '::1', port: 2, pod: { name: 'p"q', namespace: 'ns' } },
    transport: 'tcp',
    protocol: 'http',
    flow_id: 3,
    conn_id: 3,
    stream: 'tcp-3',
    index: 0,
    capture_source: 'pcap_file',
    requestSize: 10,
    responseSize: 0,
    record: {
      kind: 'http',
      request: {
        method: 'GET',
        url: '/\u2028',
        path: '/\u2028',
        query: { 'a"': 'b\\' },
        httpVersion: 'HTTP/1.1',
        headers: {},
        headersList: [],
        cookies: {},
        headersSize: 10,
        body: { size: 0 },
        ts: 1.5e15,
      },
    },
    error: { code: 'KS_NO_RESPONSE', message: 'no "response"' },
  };
  assert.equal(view.json(e), JSON.stringify(view.build(e)));
});
