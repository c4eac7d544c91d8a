/**
 * Kubeshark's three published skill workflows, replayed as scripted MCP tool-call sequences that
 * must succeed: root-cause analysis (status → stats → list filtered → get call), KFL filters
 * written with KFL.md's names (and its older syntax), and workload → IP resolution.
 *
 * The deployment is the cluster's shape in one process: a worker whose entries are enriched by
 * the real Kubernetes identity table (pods and a service for the captures' IPs), a hub on its own
 * port, and a front proxying `/api` to it. The agent side is `kubeshark mcp --url <front>` over
 * stdio, and the hub's `/api/mcp` reached through the front's proxy (Streamable HTTP).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { EntriesResponse } from '../src/api/types.ts';
import { enrichEntry } from '../src/enrich/index.ts';
import { KubeIdentityTable, type KubeObject } from '../src/enrich/kube-table.ts';
import type { Entry } from '../src/entry/model.ts';
import { createFront, type Front } from '../src/front/server.ts';
import { createHub, type Hub } from '../src/hub/index.ts';
import { createWorker, fileSource, type Worker } from '../src/worker/index.ts';
import { configFor } from './helpers/roles-kit.ts';
import { fails, getJson, ms, ok, root, startMcp, type McpProcess } from './helpers/mcp-kit.ts';
import { corpus, needsShared } from './helpers/shared.ts';

const FILES = [
  join(root, 'demo/shop.pcap'),
  corpus('http/zeek-pipelined-requests.pcap'),
  corpus('mixed/pcapplusplus-many-protocols.pcap'),
];
const LONG_AGO = '2000-01-01T00:00:00Z';

function pod(
  name: string,
  namespace: string,
  ip: string,
  labels: Record<string, string>,
): KubeObject {
  return {
    metadata: { name, namespace, uid: `uid-${name}`, labels, creationTimestamp: LONG_AGO },
    spec: { nodeName: 'node-a', containers: [] },
    status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], startTime: LONG_AGO },
  };
}

describe('the published skill workflows over MCP (corpus captures)', needsShared(), () => {
  let worker: Worker;
  let hub: Hub;
  let front: Front;
  let frontUrl: string;
  let mcp: McpProcess;
  let http: Client;
  const q = (s: string) => encodeURIComponent(s);
  const api = <T>(path: string): Promise<T> => getJson<T>(frontUrl + path);
  const total = async (filter: string): Promise<number> =>
    (await api<EntriesResponse>(`/api/entries?limit=1&count=1&q=${q(filter)}`)).total!;

  before(async () => {
    const table = new KubeIdentityTable();
    const at = Date.parse('2000-01-02T00:00:00Z') * 1000;
    table.upsert('Pod', pod('browser-5f6d7', 'web', '192.168.1.104', { app: 'browser' }), at);
    table.upsert('Pod', pod('crawler-7c8d9', 'web', '10.0.0.1', { app: 'crawler' }), at);
    table.upsert('Pod', pod('www-0', 'edge', '63.245.209.11', { app: 'www', tier: 'front' }), at);
    table.upsert(
      'Service',
      {
        metadata: { name: 'news', namespace: 'external', uid: 'uid-news', labels: { app: 'news' } },
        spec: { clusterIP: '212.58.244.71', ports: [{ port: 80, protocol: 'TCP' }] },
      },
      at,
    );
    worker = await createWorker({
      config: configFor('node-a'),
      sources: FILES.map(fileSource),
      enrich: (e: Entry) => enrichEntry(e, table),
    });
    const wp = await worker.listen(0, '127.0.0.1');
    await worker.replayed;
    hub = createHub({ workers: [{ name: 'node-a', url: `http://127.0.0.1:${wp}` }] });
    const hubUrl = `http://127.0.0.1:${await hub.listen(0, '127.0.0.1')}`;
    await hub.ready;
    front = createFront({ hub: hubUrl });
    frontUrl = `http://127.0.0.1:${await front.listen(0, '127.0.0.1')}`;
    mcp = await startMcp(['--url', frontUrl]);
    http = new Client({ name: 'skills-http', version: '1' });
    await http.connect(new StreamableHTTPClientTransport(new URL(`${frontUrl}/api/mcp`)));
  });

  after(async () => {
    await http?.close();
    await mcp?.close();
    await front?.close();
    await hub?.close();
    await worker?.close();
  });

  /** Root cause: status → boundaries → stats → list filtered → get call, over `client`. */
  async function rootCause(client: Client): Promise<void> {
    const status = await ok(client, 'check_kubeshark_status');
    assert.equal(status.data.workers_up, 1);
    assert.equal(status.data.workers_down, 0);

    const b = await ok(client, 'get_l7_data_boundaries');
    const oldest = b.data.oldest as { ms: number; iso: string };
    const newest = b.data.newest as { ms: number };
    assert.match(oldest.iso, /Z$/);

    // Stats over the whole window (the boundaries' ms given back): which endpoint fails?
    const stats = await ok(client, 'get_api_stats', {
      group_by: 'endpoint',
      start: oldest.ms,
      end: newest.ms + 1,
    });
    const groups = stats.data.failing_groups as { key: string; errors: Record<string, number> }[];
    const failing = groups.filter((g) => (g.errors.http_5xx ?? 0) > 0);
    assert.deepEqual(
      failing.map((g) => g.key),
      ['http POST /api/checkout'],
    );
    assert.match(stats.text, /http_5xx:1/);

    // The failing calls, then one in full.
    const list = await ok(client, 'list_api_calls', { kfl: 'http && status_code >= 500' });
    const calls = list.data.calls as {
      id: number;
      node_id: string;
      path: string;
      status: number;
    }[];
    assert.equal(list.data.total, await total('http && status_code >= 500'));
    assert.equal(calls[0]!.path, '/api/checkout');
    assert.equal(calls[0]!.status, 503);
    const one = await ok(client, 'get_api_call', { id: calls[0]!.id, node_id: calls[0]!.node_id });
    const entry = one.data.entry as { status_code: number; response: { status: number } };
    assert.equal(entry.status_code, 503);
    assert.match(one.text, /POST \/api\/checkout → 503/);
    assert.match(one.text, /"response"/);
  }

  test('skill 1, root-cause analysis, over stdio (`kubeshark mcp --url <front>`)', async () => {
    await rootCause(mcp.client);
  });

  test("skill 1 over Streamable HTTP: the hub's /api/mcp through the front's proxy", async () => {
    await rootCause(http);
    // The proxy passes the endpoint's own answers on (405 for GET/DELETE, allow: POST).
    for (const method of ['GET', 'DELETE']) {
      const r = await fetch(`${frontUrl}/api/mcp`, { method });
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.get('allow'), 'POST');
    }
    // A streamed (SSE) answer arrives whole through the proxy.
    const r = await fetch(`${frontUrl}/api/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'x', version: '1' },
        },
      }),
    });
    assert.equal(r.headers.get('content-type'), 'text/event-stream');
    assert.match(await r.text(), /^event: message\ndata: \{.*"serverInfo":\{"name":"kubeshark"/m);
    const bad = await fetch(`${frontUrl}/api/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    assert.equal(bad.status, 400);
  });

  test("skill 2, KFL filters with KFL.md names (and its older syntax) give the API's counts", async () => {
    const filters = [
      'http',
      'dns',
      'http && method == "POST"',
      'http && status_code >= 400 && status_code < 500',
      'http && path.startsWith("/api")',
      'http && url.contains("favicon")',
      'dns && "A" in dns_question_types',
      'dns && status_code != 0',
      'elapsed_time > 100000',
      'http && "host" in request.headers',
      'dst.port == 80 && tcp',
      'src.ip == "10.0.0.1"',
      'conn && conn_state == "closed"',
      'flow',
      'dst.pod.name == "www-0"',
      'src.namespace == "web"',
      '"edge" in namespaces',
      'local_labels["app"] == "browser" || remote_labels["app"] == "www"',
      'dst.service.name == "news"',
      'ws && ws_opcode == "text"',
      'timestamp > timestamp("2010-01-01T00:00:00Z")',
    ];
    let nonEmpty = 0;
    for (const f of filters) {
      const r = await ok(mcp.client, 'list_api_calls', { kfl: f, limit: 5 });
      const want = await total(f);
      assert.equal(r.data.total, want, f);
      if (want > 0) nonEmpty++;
    }
    assert.ok(nonEmpty >= filters.length - 2, `most filters match something (${nonEmpty})`);

    // Older KFL (KFL.md's table) is translated and runs like its KFL2 form.
    const older: [string, string][] = [
      ['response.status == 503', 'status_code == 503'],
      [
        'request.method == "GET" and response.status == 200',
        'method == "GET" && status_code == 200',
      ],
      ['http and not request.path == "/"', 'http && !(path == "/")'],
      ['response.latency > 100ms', 'elapsed_time > 100000'],
    ];
    for (const [old, kfl2] of older) {
      const r = await ok(mcp.client, 'list_api_calls', { kfl: old, limit: 1 });
      assert.equal(r.data.total, await total(kfl2), old);
    }

    // A mistyped name: the position and a suggestion, as a tool error.
    const e = await fails(
      mcp.client,
      'list_api_calls',
      { kfl: 'http && respnse.status == 200' },
      /at 1:9; did you mean `status_code`/,
    );
    assert.ok(
      e.text.split('\n').some((l) => /^ {8}\^~+$/.test(l)),
      e.text,
    );
  });

  test('skill 3, workload → IP resolution and back', async () => {
    // Workload by name → its IPs → its traffic by IP, equal to its traffic by name.
    const w = await ok(mcp.client, 'list_workloads', { name: 'www-0', namespace: 'edge' });
    const list = w.data.workloads as {
      type: string;
      name: string;
      ips: string[];
      labels: object;
    }[];
    assert.deepEqual(
      list.map((x) => [x.type, x.name, x.ips]),
      [['pod', 'www-0', ['63.245.209.11']]],
    );
    assert.deepEqual(list[0]!.labels, { app: 'www', tier: 'front' });
    const byIp = await ok(mcp.client, 'list_api_calls', { kfl: `dst.ip == "${list[0]!.ips[0]}"` });
    assert.equal(byIp.data.total, await total('dst.pod.name == "www-0"'));
    assert.ok((byIp.data.total as number) > 0);

    // IP → workload.
    const ip = await ok(mcp.client, 'list_ips', { ip: '10.0.0.1' });
    const ids = ip.data.ips as { ip: string; type: string; name: string; namespace: string }[];
    assert.deepEqual(
      ids.map((i) => [i.ip, i.type, i.name, i.namespace]),
      [['10.0.0.1', 'pod', 'crawler-7c8d9', 'web']],
    );
    assert.match(ip.text, /10\.0\.0\.1\s+pod\s+web\s+crawler-7c8d9/);

    // Filters: namespace, labels, type, regex, and a time before any traffic.
    const web = await ok(mcp.client, 'list_workloads', { namespaces: ['web'] });
    assert.deepEqual(
      (web.data.workloads as { name: string }[]).map((x) => x.name),
      ['browser-5f6d7', 'crawler-7c8d9'],
    );
    const labeled = await ok(mcp.client, 'list_workloads', { labels: { app: 'www' } });
    assert.deepEqual(
      (labeled.data.workloads as { name: string }[]).map((x) => x.name),
      ['www-0'],
    );
    const svc = await ok(mcp.client, 'list_workloads', { type: 'service' });
    assert.deepEqual(
      (svc.data.workloads as { name: string; ips: string[] }[]).map((x) => [x.name, x.ips]),
      [['news', ['212.58.244.71']]],
    );
    const re = await ok(mcp.client, 'list_ips', { name_regex: '^(www|browser)' });
    assert.deepEqual(
      (re.data.ips as { ip: string }[]).map((x) => x.ip),
      ['63.245.209.11', '192.168.1.104'].sort((a, b) =>
        a.localeCompare(b, 'en', { numeric: true }),
      ),
    );
    const b = await api<{ oldest: number }>('/api/boundaries');
    const before = await ok(mcp.client, 'list_workloads', { timestamp: ms(b.oldest) - 1 });
    assert.deepEqual(before.data.workloads, []);
    // Over HTTP too.
    const h = await ok(http, 'list_ips', { ip: '63.245.209.11' });
    assert.equal((h.data.ips as { name: string }[])[0]!.name, 'www-0');
  });
});
