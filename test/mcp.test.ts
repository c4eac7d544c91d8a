/**
 * `kubeshark mcp --url` with the official SDK client over stdio, against `kubeshark tap --pcap`
 * loaded with golden captures: the tool list and input schemas against ../shared/MCP.md (parsed),
 * every tool with valid and invalid arguments, answers checked against the same hub API queries,
 * prompts and instructions, file tools' guards, and the hub's Streamable HTTP endpoint
 * (`/api/mcp`) through the tap's front.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {
  Boundaries,
  EntriesResponse,
  EntrySummary,
  Health,
  L4Response,
  StatsResponse,
} from '../src/api/types.ts';
import { startTap, type TapProcess } from './helpers/tap-process.ts';
import {
  call,
  fails,
  getJson,
  isSnapshotTool,
  ms,
  ok,
  readContract,
  root,
  startMcp,
  type McpProcess,
} from './helpers/mcp-kit.ts';
import { corpus, needsShared } from './helpers/shared.ts';
import { cli } from './helpers/cli.ts';

const FILES = [
  join(root, 'demo/shop.pcap'),
  corpus('http/zeek-pipelined-requests.pcap'),
  corpus('dns/pcapplusplus-DnsPackets-udp.pcap'),
  corpus('mixed/pcapplusplus-many-protocols.pcap'),
];

describe(
  'kubeshark mcp over a tap of golden and corpus captures (contract: ../shared/MCP.md)',
  needsShared(),
  () => {
    let tap: TapProcess;
    let url: string;
    let mcp: McpProcess;
    let downloads: string;
    const contract = readContract();
    const api = <T>(path: string): Promise<T> => getJson<T>(url + path);
    const q = (s: string) => encodeURIComponent(s);

    before(async () => {
      tap = startTap(['tap', '--pcap', ...FILES, '--port', '0', '--no-browser', '-o', 'jsonl']);
      url = await tap.url;
      // Replay done: the tap says so on stderr.
      for (let i = 0; i < 600 && !/replayed/.test(tap.stderr()); i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(tap.stderr(), /replayed 4 files/);
      downloads = mkdtempSync(join(tmpdir(), 'ks-mcp-dl-'));
      mcp = await startMcp(['--url', url, '--download-dir', downloads], { HOME: tap.tmp });
    });

    after(async () => {
      await mcp?.close();
      tap?.kill();
      await tap?.exit;
      rmSync(downloads, { recursive: true, force: true });
      if (tap) rmSync(tap.tmp, { recursive: true, force: true });
    });

    /** The tools the contract lists that this build offers in URL mode. */
    function expectedUrlTools(): string[] {
      return contract.rows
        .flatMap((r) => r.tools)
        .filter((t) => !isSnapshotTool(t) && t !== 'start_kubeshark' && t !== 'stop_kubeshark');
    }

    test('initialize: server info and instructions teaching the workflow', () => {
      const info = mcp.client.getServerVersion();
      assert.equal(info?.name, 'kubeshark');
      const ins = mcp.client.getInstructions() ?? '';
      for (const word of [
        'check_kubeshark_status',
        'get_api_stats',
        'list_api_calls',
        'get_api_call',
        'status_code',
        'elapsed_time',
        'dst.namespace',
        'UTC',
        'download_file',
      ]) {
        assert.ok(ins.includes(word), `instructions mention ${word}`);
      }
      // status → stats → list → drill in, in that order.
      const order = [
        'check_kubeshark_status',
        'get_api_stats',
        'list_api_calls',
        'get_api_call',
      ].map((t) => ins.indexOf(t));
      assert.deepEqual(
        [...order].sort((a, b) => a - b),
        order,
      );
    });

    test('tools/list: the names and input schemas of MCP.md (snapshot tools and start/stop hidden)', async () => {
      const { tools } = await mcp.client.listTools();
      const names = tools.map((t) => t.name).sort();
      assert.deepEqual(names, expectedUrlTools().sort());
      for (const row of contract.rows) {
        const listed = tools.filter((t) => row.tools.includes(t.name));
        if (listed.length === 0) continue;
        const union = new Set<string>();
        for (const t of listed) {
          const props = Object.keys(t.inputSchema.properties ?? {});
          for (const p of props) {
            assert.ok(row.params.has(p), `${t.name}: parameter ${p} is not in MCP.md`);
            union.add(p);
          }
          // Never require what the contract marks optional.
          for (const r of t.inputSchema.required ?? []) {
            assert.equal(row.params.get(r), false, `${t.name} requires ${r}, optional in MCP.md`);
          }
          assert.ok(t.description && t.description.length > 20, `${t.name} has a description`);
          assert.equal(t.annotations?.readOnlyHint, true, `${t.name} is read-only`);
        }
        // Every parameter of the row is taken by one of its tools.
        assert.deepEqual([...union].sort(), [...row.params.keys()].sort(), row.tools.join('/'));
      }
      const byName = new Map(tools.map((t) => [t.name, t]));
      assert.deepEqual(byName.get('get_api_call')!.inputSchema.required, ['id']);
      assert.deepEqual(byName.get('download_file')!.inputSchema.required, ['path']);
      const fmt = byName.get('list_api_calls')!.inputSchema.properties!.format as {
        enum: string[];
      };
      assert.deepEqual(fmt.enum, ['compact', 'full', 'raw']);
      const limit = byName.get('list_api_calls')!.inputSchema.properties!.limit as {
        maximum: number;
      };
      assert.equal(limit.maximum, 1000);
    });

    test('prompts: every prompt of MCP.md, each with text that names tools', async () => {
      const { prompts } = await mcp.client.listPrompts();
      assert.deepEqual(prompts.map((p) => p.name).sort(), [...contract.prompts].sort());
      for (const p of prompts) {
        const args: Record<string, string> = {};
        for (const a of p.arguments ?? []) if (a.name === 'namespace') args.namespace = 'shop';
        const r = await mcp.client.getPrompt({ name: p.name, arguments: args });
        const m = r.messages[0]!.content as { type: string; text: string };
        assert.equal(m.type, 'text');
        assert.match(m.text, /list_api_calls|get_api_stats|list_l4_flows|list_workloads/, p.name);
        if (args.namespace) assert.match(m.text, /shop/, `${p.name} uses its argument`);
      }
    });

    test('check_kubeshark_status: workers up and versions, as /api/health says', async () => {
      const h = await api<Health>('/api/health');
      const r = await ok(mcp.client, 'check_kubeshark_status');
      assert.equal(r.data.reachable, true);
      assert.equal(r.data.version, h.version);
      assert.equal(r.data.workers_up, h.workers!.filter((w) => w.up).length);
      const ws = r.data.workers as { name: string; up: boolean; version: string }[];
      assert.deepEqual(
        ws.map((w) => [w.name, w.up, w.version]),
        h.workers!.map((w) => [w.name, w.up, w.version]),
      );
      assert.match(r.text, new RegExp(`${h.workers![0]!.name}\\s+\\S+\\s+up\\s+${h.version}`));
      await fails(
        mcp.client,
        'check_kubeshark_status',
        { release_namespace: 7 },
        /release_namespace/,
      );
    });

    test('list_api_calls: ids, totals and order as /api/entries; formats; windows; bad input', async () => {
      const filter = 'http && status_code >= 400';
      const page = await api<EntriesResponse>(`/api/entries?q=${q(filter)}&limit=3&count=1`);
      assert.ok(page.total! > 3, 'the captures have more than 3 failing HTTP calls');
      const r = await ok(mcp.client, 'list_api_calls', { kfl: filter, limit: 3 });
      const calls = r.data.calls as {
        id: number;
        node_id: string;
        time: string;
        time_ms: number;
      }[];
      assert.deepEqual(
        calls.map((c) => c.id),
        page.entries.map((e) => e.id),
      );
      assert.equal(r.data.total, page.total);
      assert.equal(r.data.more, page.total! - 3);
      assert.match(r.text, new RegExp(`${page.total! - 3} more — narrow with kfl`));
      for (const [i, c] of calls.entries()) {
        assert.match(c.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
        assert.equal(c.time_ms, ms(page.entries[i]!.ts));
        assert.ok(r.text.includes(c.time), 'the table shows UTC times');
        assert.ok(r.text.includes(String(c.id)));
      }

      // Default limit 100; no filter: everything newest first.
      const all = await api<EntriesResponse>('/api/entries?limit=100&count=1');
      const d = await ok(mcp.client, 'list_api_calls', {});
      assert.equal((d.data.calls as unknown[]).length, 100);
      assert.equal(d.data.total, all.total);

      // A window in Unix ms (and ISO): start ≤ t < end, as the API with µs.
      const mid = all.entries[50]!.ts;
      const win = await api<EntriesResponse>(`/api/entries?limit=1000&count=1&end=${mid}`);
      const w1 = await ok(mcp.client, 'list_api_calls', { end: ms(mid) + 1, limit: 1000 });
      const expected = win.entries.filter((e) => e.ts < (ms(mid) + 1) * 1000).length;
      assert.ok(expected > 0);
      assert.equal(w1.data.total, await countUntil((ms(mid) + 1) * 1000));
      const iso = new Date(ms(mid) + 1).toISOString();
      const w2 = await ok(mcp.client, 'list_api_calls', { end: iso, limit: 1 });
      assert.equal(w2.data.total, w1.data.total);

      // full: the KFL JSON views; raw: the API's answer.
      const full = await api<EntriesResponse<Record<string, unknown>>>(
        `/api/entries?q=dns&limit=2&view=full`,
      );
      const f = await ok(mcp.client, 'list_api_calls', { kfl: 'dns', limit: 2, format: 'full' });
      const views = f.data.calls as Record<string, unknown>[];
      assert.deepEqual(
        views.map(({ timestamp_ms, ...v }) => {
          assert.equal(timestamp_ms, Date.parse(String(v.timestamp)));
          return v;
        }),
        full.entries,
      );
      assert.ok(f.text.includes('"dns_questions"'));
      const raw = await ok(mcp.client, 'list_api_calls', { kfl: 'dns', limit: 2, format: 'raw' });
      assert.deepEqual((raw.data.entries as unknown[]).length, 2);
      assert.deepEqual(raw.data.entries, full.entries);

      // Older KFL is translated (and says so).
      const old = await ok(mcp.client, 'list_api_calls', { kfl: 'response.status == 503' });
      assert.deepEqual((old.data.kfl as { kfl2: string }).kfl2, 'status_code == 503');
      assert.equal(old.data.total, 1);

      // Errors are tool errors with clear messages; a bad filter shows the caret.
      const bad = await fails(
        mcp.client,
        'list_api_calls',
        { kfl: 'http && respnse.status == 200' },
        /unknown field `respnse\.status` at 1:9; did you mean `status_code`\? \[KS_ERR_KFL_UNKNOWN_FIELD\]/,
      );
      assert.ok(
        bad.text.includes('http && respnse.status == 200\n        ^~~~~~~~~~~~~~'),
        bad.text,
      );
      await fails(mcp.client, 'list_api_calls', { kfl: 'http &&' }, /KS_ERR_KFL_SYNTAX/);
      await fails(mcp.client, 'list_api_calls', { limit: 5000 }, /limit/);
      await fails(mcp.client, 'list_api_calls', { limit: 0 }, /limit/);
      await fails(mcp.client, 'list_api_calls', { format: 'xml' }, /format/);
      await fails(mcp.client, 'list_api_calls', { start: 'yesterday-ish' }, /`start`: not a time/);
      await fails(mcp.client, 'list_api_calls', { start: 2000, end: 1000 }, /`end` must be after/);
      await fails(
        mcp.client,
        'list_api_calls',
        { snapshot_id: 's1' },
        /snapshots are not available/,
      );
    });

    async function countUntil(endUs: number): Promise<number> {
      const r = await api<EntriesResponse>(`/api/entries?limit=1&count=1&end=${endUs}`);
      return r.total!;
    }

    test('get_api_call: the entry of /api/entries/:id, payload cut, L4, unknown id', async () => {
      const [e] = (await api<EntriesResponse>(`/api/entries?q=${q('status_code == 503')}&limit=1`))
        .entries as [EntrySummary];
      const whole = await api<{ entry: Record<string, unknown> }>(
        `/api/entries/${e.id}?node=${e.node}`,
      );
      const r = await ok(mcp.client, 'get_api_call', { id: e.id, node_id: e.node });
      assert.deepEqual(r.data.entry, whole.entry);
      assert.equal(r.data.time_ms, ms(e.ts));
      assert.match(r.text, new RegExp(`Call ${e.id} on node ${e.node} at \\S+Z`));
      assert.match(r.text, /POST \/api\/checkout → 503/);
      const l4 = r.data.l4 as { transport: string; conn_id: number; src: { ip: string } };
      assert.equal(l4.transport, 'tcp');
      assert.equal(l4.conn_id, whole.entry.conn_id);
      assert.equal(l4.src.ip, e.src.ip);

      // Bodies cut at max_payload_size; without payload none.
      const big = (
        await api<EntriesResponse>(
          `/api/entries?q=${q('http && response_body_size > 1000')}&limit=1`,
        )
      ).entries[0]!;
      const cut = await ok(mcp.client, 'get_api_call', { id: big.id, max_payload_size: 100 });
      assert.equal(cut.data.truncated, true);
      assert.match(cut.text, /Bodies cut at 100 bytes/);
      const cutApi = await api<{ entry: Record<string, unknown> }>(
        `/api/entries/${big.id}?maxPayload=100`,
      );
      assert.deepEqual(cut.data.entry, cutApi.entry);
      const none = await ok(mcp.client, 'get_api_call', {
        id: big.id,
        include_payload: false,
        include_l4: false,
      });
      assert.equal(none.data.l4, undefined);
      assert.ok(JSON.stringify(none.data.entry).length < JSON.stringify(cut.data.entry).length + 1);
      const pcap = await ok(mcp.client, 'get_api_call', { id: big.id, include_pcap: true });
      assert.equal(pcap.data.pcap, null);
      assert.match(pcap.text, /PCAP: not available/);

      await fails(mcp.client, 'get_api_call', { id: 999_999 }, /KS_ERR_NOT_FOUND/);
      await fails(mcp.client, 'get_api_call', {}, /id/);
      await fails(mcp.client, 'get_api_call', { id: 'x' }, /id/);
      await fails(mcp.client, 'get_api_call', { id: e.id, node_id: 'nowhere' }, /nowhere/);
    });

    test('get_api_stats: totals, error classes and percentiles as /api/stats', async () => {
      const s = await api<StatsResponse>('/api/stats?groupBy=endpoint&series=none');
      const r = await ok(mcp.client, 'get_api_stats', {});
      const total = r.data.total as {
        calls: number;
        failed: number;
        errors: Record<string, number>;
        latency_us: { p95: number };
      };
      assert.equal(total.calls, s.result.total.calls);
      assert.equal(total.failed, s.result.total.failed);
      assert.equal(total.errors.http_5xx, s.result.total.errors.http_5xx);
      assert.equal(total.latency_us.p95, s.result.total.latency!.p95);
      const groups = r.data.groups as { key: string; calls: number }[];
      assert.deepEqual(
        groups.map((g) => [g.key, g.calls]),
        s.result.groups.slice(0, groups.length).map((g) => [g.key, g.calls]),
      );
      assert.match(r.text, /p50 .* p95 .* p99/);
      const byNode = await ok(mcp.client, 'get_api_stats', { group_by: 'node', kfl: 'dns' });
      const sn = await api<StatsResponse>(`/api/stats?groupBy=node&q=dns`);
      assert.deepEqual(
        (byNode.data.groups as { key: string; calls: number }[]).map((g) => [g.key, g.calls]),
        sn.result.groups.map((g) => [g.key, g.calls]),
      );
      await fails(mcp.client, 'get_api_stats', { group_by: 'pod' }, /group_by/);
      await fails(mcp.client, 'get_api_stats', { kfl: 'dns_answers > 3' }, /KS_ERR_KFL_TYPE|1:1/);
    });

    test('boundaries: dissected window per node; raw capture window honest', async () => {
      const b = await api<Boundaries>('/api/boundaries');
      const r = await ok(mcp.client, 'get_l7_data_boundaries');
      assert.deepEqual(r.data.oldest, {
        iso:
          new Date(ms(b.oldest!)).toISOString().slice(0, 20) +
          String(b.oldest! % 1e6).padStart(6, '0') +
          'Z',
        ms: ms(b.oldest!),
      });
      assert.equal((r.data.newest as { ms: number }).ms, ms(b.newest!));
      const nodes = r.data.nodes as { node: string; entries: number }[];
      assert.deepEqual(
        nodes.map((n) => [n.node, n.entries]),
        b.nodes.map((n) => [n.node, n.entries]),
      );
      const raw = await ok(mcp.client, 'get_data_boundaries');
      const h = await api<Health>('/api/health');
      const rn = raw.data.nodes as { node: string; received_packets: number; raw_oldest: null }[];
      assert.equal(rn.length, h.workers!.length);
      assert.equal(rn[0]!.received_packets, h.workers![0]!.capture!.receivedPackets);
      assert.equal(rn[0]!.raw_oldest, null);
      assert.match(raw.text, /not a raw-packet ring/);
    });

    test('list_l4_flows / get_l4_flow_summary: as /api/entries and /api/l4', async () => {
      const count = async (f: string) =>
        (await api<EntriesResponse>(`/api/entries?q=${q(f)}&limit=1&count=1`)).total!;
      const r = await ok(mcp.client, 'list_l4_flows', { limit: 5 });
      assert.equal(r.data.total, await count('conn || flow'));
      assert.ok((r.data.total as number) > 5);
      assert.match(r.text, / more — narrow with ip/);
      const flows = r.data.flows as { id: number; proto: string; client_bytes: number }[];
      assert.equal(flows.length, 5);
      const tcp = await ok(mcp.client, 'list_l4_flows', { l4proto: 'tcp', limit: 1 });
      assert.equal(tcp.data.total, await count('conn'));
      const udp = await ok(mcp.client, 'list_l4_flows', { l4proto: 'udp', limit: 1000 });
      assert.equal(udp.data.total, await count('flow'));
      assert.ok((udp.data.flows as { proto: string }[]).every((f) => f.proto === 'udp'));
      const ip = '10.0.0.1';
      const byIp = await ok(mcp.client, 'list_l4_flows', { ip, limit: 1 });
      assert.equal(
        byIp.data.total,
        await count(`(conn || flow) && (src.ip == "${ip}" || dst.ip == "${ip}")`),
      );
      const agg = await ok(mcp.client, 'list_l4_flows', { aggregate: 'node' });
      const l4 = await api<L4Response>(`/api/l4?by=node&q=${q('conn || flow')}`);
      assert.deepEqual(agg.data.totals, l4.l4.totals);
      assert.deepEqual(
        (agg.data.groups as { key: string; connections: number }[]).map((g) => [
          g.key,
          g.connections,
        ]),
        l4.top!.map((g) => [g.key, g.connections]),
      );
      await fails(mcp.client, 'list_l4_flows', { aggregate: 'galaxy' }, /aggregate/);
      await fails(mcp.client, 'list_l4_flows', { l4proto: 'sctp' }, /l4proto/);

      const s = await ok(mcp.client, 'get_l4_flow_summary');
      const byPod = await api<L4Response>(`/api/l4?by=pod&limit=10&q=${q('conn || flow')}`);
      assert.deepEqual(s.data.totals, byPod.l4.totals);
      assert.deepEqual(
        (s.data.top_by_bytes as { key: string }[]).map((g) => g.key),
        byPod.top!.map((g) => g.key),
      );
      assert.match(s.text, /Top talkers by bytes/);
      assert.match(s.text, /Cross-namespace/);
    });

    test('list_ips / list_workloads: identities seen in traffic (capture files: plain IPs)', async () => {
      const ip = '192.168.1.104';
      const r = await ok(mcp.client, 'list_ips', { ip });
      const ips = r.data.ips as { ip: string; type: string; last_seen: { ms: number } }[];
      assert.deepEqual(
        ips.map((i) => [i.ip, i.type]),
        [[ip, 'unresolved']],
      );
      const newest = (
        await api<EntriesResponse>(`/api/entries?q=${q(`src.ip == "${ip}" || dst.ip == "${ip}"`)}`)
      ).entries[0]!;
      assert.equal(ips[0]!.last_seen.ms, ms(newest.ts));
      // Every IP of the traffic, once.
      const everything = await ok(mcp.client, 'list_ips', {});
      const seen = new Set<string>();
      for (const e of (await api<EntriesResponse>('/api/entries?limit=1000')).entries) {
        seen.add(e.src.ip);
        seen.add(e.dst.ip);
      }
      assert.equal(everything.data.total, seen.size);
      assert.equal(everything.data.complete, true);
      const w = await ok(mcp.client, 'list_workloads', {});
      assert.deepEqual(w.data.workloads, []);
      assert.match(w.text, /use list_ips/);
      await fails(mcp.client, 'list_ips', { name_regex: '(' }, /name_regex/);
      await fails(mcp.client, 'list_workloads', { type: 'deployment' }, /type/);
      await fails(
        mcp.client,
        'list_workloads',
        { snapshot_id: 'x' },
        /snapshots are not available/,
      );
      await fails(mcp.client, 'list_ips', { timestamp: 'soon' }, /`timestamp`: not a time/);
    });

    test('get_file_url / download_file: hub paths only, inside the download dir, size cap', async () => {
      const path = '/api/entries?q=dns&limit=2';
      const u = await ok(mcp.client, 'get_file_url', { path });
      assert.equal(u.data.url, url + path);
      const d = await ok(mcp.client, 'download_file', { path, dest: 'sub/dns.json' });
      const saved = d.data.path as string;
      assert.equal(saved, join(downloads, 'sub/dns.json'));
      assert.deepEqual(
        JSON.parse(readFileSync(saved, 'utf8')),
        await api<unknown>('/api/entries?q=dns&limit=2'),
      );
      const dflt = await ok(mcp.client, 'download_file', { path: '/api/health' });
      assert.equal(dflt.data.path, join(downloads, 'health'));

      for (const bad of [
        '/api/../etc/passwd',
        '/api/%2e%2e/x',
        'http://evil.example/api/x',
        '//evil.example/api/x',
        '/etc/passwd',
        '/api\\..\\x',
      ]) {
        await fails(mcp.client, 'get_file_url', { path: bad }, /`path`/);
        await fails(mcp.client, 'download_file', { path: bad }, /`path`/);
      }
      for (const dest of ['../escape.json', '/etc/kubeshark.json', 'a/../../b']) {
        await fails(mcp.client, 'download_file', { path, dest }, /outside the download directory/);
      }
      assert.ok(!existsSync(join(downloads, '../escape.json')));
      symlinkSync('/tmp', join(downloads, 'link'));
      await fails(mcp.client, 'download_file', { path, dest: 'link/x.json' }, /symlink/);
      await fails(mcp.client, 'download_file', { path: '/api/nope' }, /404|KS_ERR_NOT_FOUND/);

      // The size cap: nothing is kept.
      const small = await startMcp(
        ['--url', url, '--download-dir', downloads, '--max-download', '1KiB'],
        {
          HOME: tap.tmp,
        },
      );
      try {
        await fails(
          small.client,
          'download_file',
          { path: '/api/entries?limit=50', dest: 'big.json' },
          /larger than the download cap of 1024 bytes/,
        );
        assert.ok(!existsSync(join(downloads, 'big.json')));
      } finally {
        await small.close();
      }
    });

    test('bounded answers: a 1000-call page stays under the text cap with a marker', async () => {
      const r = await ok(mcp.client, 'list_api_calls', { limit: 1000, format: 'full' });
      assert.ok(Buffer.byteLength(r.text) <= 140 * 1024, `text ${Buffer.byteLength(r.text)} bytes`);
      const total = r.data.total as number;
      const returned = r.data.returned as number;
      assert.ok(returned < total, 'some calls left out at the cap');
      assert.match(
        r.text,
        new RegExp(`${total - returned} more \\(\\d+ cut at the 128\\.0 KiB cap\\)`),
      );
    });

    test('URL mode without a server: status says unreachable, other tools are tool errors', async () => {
      const dead = await startMcp(['--url', 'http://127.0.0.1:9'], { HOME: tap.tmp });
      try {
        const s = await ok(dead.client, 'check_kubeshark_status');
        assert.equal(s.data.reachable, false);
        assert.match(s.text, /not reachable/);
        await fails(dead.client, 'list_api_calls', {}, /KS_ERR_UNAVAILABLE/);
      } finally {
        await dead.close();
      }
    });

    test('--allow-destructive with --url is refused', async () => {
      const { spawnSync } = await import('node:child_process');
      const r = spawnSync(process.execPath, [...cli, 'mcp', '--url', url, '--allow-destructive'], {
        cwd: root,
        encoding: 'utf8',
        input: '',
      });
      assert.equal(r.status, 2);
      assert.match(r.stderr, /--allow-destructive needs the cluster/);
    });

    test('Streamable HTTP at /api/mcp of the tap: same tools (no download_file), same answers', async () => {
      const client = new Client({ name: 'http-test', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/api/mcp`)));
      try {
        const { tools } = await client.listTools();
        assert.deepEqual(
          tools.map((t) => t.name).sort(),
          expectedUrlTools()
            .filter((t) => t !== 'download_file')
            .sort(),
        );
        const viaHttp = await ok(client, 'list_api_calls', { kfl: 'dns', limit: 4 });
        const viaStdio = await ok(mcp.client, 'list_api_calls', { kfl: 'dns', limit: 4 });
        assert.deepEqual(viaHttp.data, viaStdio.data);
        const f = await ok(client, 'get_file_url', { path: '/api/health' });
        assert.equal(f.data.url, `${url}/api/health`);
        await fails(client, 'list_api_calls', { kfl: 'dns &&' }, /KS_ERR_KFL_SYNTAX/);
        const unknown = await call(client, 'download_file', { path: '/api/health' });
        assert.equal(unknown.isError, true);
      } finally {
        await client.close();
      }
      const get = await fetch(`${url}/api/mcp`);
      assert.equal(get.status, 405);
      assert.equal(get.headers.get('allow'), 'POST');
    });
  },
);
