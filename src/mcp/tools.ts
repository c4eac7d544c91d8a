/**
 * The MCP tools (../shared/MCP.md is the contract: names and parameters as Kubeshark's published
 * skills call them). Each tool is a plain object — name, description, zod input shape, `run` —
 * and `mcpTools()` is the one registry both transports serve (stdio `kubeshark mcp`, the hub's
 * `/api/mcp`). Tools answer from the hub's HTTP API through `ctx.api()` and return compact text
 * for the agent plus the same facts as structured content. Errors are thrown (KsError / ApiError)
 * and become MCP tool errors in server.ts, with the KFL caret when the filter was wrong.
 *
 * Not listed in this build: the snapshot, snapshot-dissection and cloud-storage tools (no
 * snapshots on the hub yet); `snapshot_id` / `db` parameters say so when given.
 */
import { z } from 'zod';
import type { ApiClient } from '../api/client.ts';
import {
  DEFAULT_MAX_PAYLOAD,
  ENTRIES_MAX_LIMIT,
  type Boundaries,
  type EntrySummary,
  type L4Group,
} from '../api/types.ts';
import type { GroupStats } from '../store/stats/accumulator.ts';
import { KsError } from '../util/errors.ts';
import type { ToolContext } from './context.ts';
import { download, downloadTarget, fileUrl, hubPath } from './files.ts';
import {
  MCP_MAX_TEXT_BYTES,
  boundedJoin,
  boundedJson,
  bytes,
  duration,
  isoOfUs,
  percent,
  table,
  timeOfUs,
  usOfParam,
} from './format.ts';

/** `list_api_calls` page size when `limit` is not given. */
export const MCP_DEFAULT_LIMIT = 100;
/** Groups shown by `get_api_stats` / L4 tools in text (structured content has the same). */
export const MCP_MAX_GROUPS = 50;
/** Entries `list_workloads` / `list_ips` read (newest first) to find identities. */
export const MCP_IDENTITY_SCAN_MAX = 5000;

export interface ToolOutput {
  /** What the agent reads. */
  text: string;
  /** The same facts as JSON (MCP structuredContent). */
  data: Record<string, unknown>;
}

/** About the call in progress: progress lines for a long tool (keeps the client's timer alive). */
export interface CallInfo {
  progress(message: string): void;
}

/** A call without a client to tell (tests, internal use). */
export const QUIET_CALL: CallInfo = { progress: () => undefined };

export interface McpTool {
  name: string;
  title: string;
  description: string;
  inputSchema: z.ZodRawShape;
  /** Read-only tools never change the deployment (MCP annotation). */
  readOnly: boolean;
  run(args: Record<string, unknown>, ctx: ToolContext, call?: CallInfo): Promise<ToolOutput>;
}

/** Defines a tool with its argument type inferred from the shape. */
function tool<S extends z.ZodRawShape>(t: {
  name: string;
  title: string;
  description: string;
  inputSchema: S;
  readOnly?: boolean;
  run(args: z.infer<z.ZodObject<S>>, ctx: ToolContext, call: CallInfo): Promise<ToolOutput>;
}): McpTool {
  return {
    ...t,
    readOnly: t.readOnly ?? true,
    run: (args, ctx, call) => t.run(args as z.infer<z.ZodObject<S>>, ctx, call ?? QUIET_CALL),
  };
}

// ---------------------------------------------------------------- shared parameters

const time = (what: string) =>
  z
    .union([z.number(), z.string()])
    .optional()
    .describe(`${what}: Unix milliseconds or ISO-8601 UTC (2026-03-14T22:00:00Z)`);
/** A page size: 1 to ENTRIES_MAX_LIMIT (the API's own cap), optional. */
const limitParam = (what: string) =>
  z.number().int().min(1).max(ENTRIES_MAX_LIMIT).optional().describe(what);
const kfl = z
  .string()
  .optional()
  .describe(
    'KFL2 filter, e.g. `http && status_code >= 500`, `dns && "NXDOMAIN" in dns_answers`, `dst.namespace == "shop"`; empty: everything',
  );
const format = z
  .enum(['compact', 'full', 'raw'])
  .optional()
  .describe('compact (default): a table of key columns; full: every field; raw: the API answer');
const snapshotId = z
  .string()
  .optional()
  .describe('query a snapshot instead of live data (not available in this build)');
const namespaces = z.array(z.string()).optional().describe('only these namespaces');
const nameRegex = z.string().optional().describe('workload name regular expression');
const labels = z
  .record(z.string(), z.string())
  .optional()
  .describe('labels that must all match (key: value)');

function noSnapshots(args: { snapshot_id?: string; db?: string }): void {
  if (args.snapshot_id || args.db) {
    throw new KsError(
      'KS_ERR_USAGE',
      'snapshots are not available in this build: omit `snapshot_id`/`db` to query live data',
    );
  }
}

/** KFL string literal. */
const lit = (s: string): string => JSON.stringify(s);
const and = (...parts: (string | undefined)[]): string =>
  parts
    .filter((p): p is string => !!p && p.trim() !== '')
    .map((p) => `(${p})`)
    .join(' && ');

function window(args: { start?: number | string; end?: number | string }): {
  start?: number;
  end?: number;
} {
  const start = usOfParam('start', args.start);
  const end = usOfParam('end', args.end);
  if (start !== undefined && end !== undefined && end <= start) {
    throw new KsError('KS_ERR_USAGE', '`end` must be after `start`');
  }
  return { start, end };
}

function endpoint(e: { ip: string; port: number; name?: string; namespace?: string }): string {
  const who = e.name ? (e.namespace ? `${e.namespace}/${e.name}` : e.name) : e.ip;
  return `${who}:${e.port}`;
}

function unavailableNote(u: string[] | undefined): string {
  return u && u.length > 0 ? `\nPartial answer: workers not answering: ${u.join(', ')}.` : '';
}

/**
 * An answer gathered from the workers, some of which may not have answered (`unavailable`):
 * the text gets the partial-answer note, the data `unavailable` last (only when there are such).
 */
function partialAnswer(
  text: string,
  data: Record<string, unknown>,
  unavailable: string[] | undefined,
): ToolOutput {
  return {
    text: text + unavailableNote(unavailable),
    data: { ...data, ...(unavailable ? { unavailable } : {}) },
  };
}

/** A page of `key`: the query, how many match, the list returned and how many more there are. */
function pageData(
  kfl: unknown,
  total: number,
  key: string,
  list: readonly unknown[],
): Record<string, unknown> {
  return { kfl, total, returned: list.length, more: Math.max(0, total - list.length), [key]: list };
}

/**
 * A table whose rows are cut where they pass `maxBytes` (default the text cap): its header and
 * the rows kept as one text ('' when none is kept), and how many rows were kept.
 */
function boundedTable(
  head: readonly string[],
  rows: readonly (readonly unknown[])[],
  maxBytes?: number,
): { text: string; kept: number } {
  const lines = table(head, rows).split('\n');
  const body = boundedJoin(lines.slice(1), '\n', maxBytes);
  return { text: body.kept > 0 ? `${lines[0]!}\n${body.text}` : '', kept: body.kept };
}

/** A KFL view's `timestamp` (ISO with µs) → µs. */
function viewTs(e: Record<string, unknown>): number {
  return usOfParam('timestamp', String(e.timestamp)) ?? 0;
}

/** The entries of `page` that fit the text cap (raw answers stay bounded too). */
function fitPage<T>(page: { entries: T[] }): { entries: T[]; cut: number } {
  const kept = boundedJoin(
    page.entries.map((e) => JSON.stringify(e)),
    ',',
  ).kept;
  return { entries: page.entries.slice(0, kept), cut: page.entries.length - kept };
}

/** The record as text: `headersList` (the wire order, a copy of `headers`) left out. */
function withoutHeaderLists(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutHeaderLists);
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (k !== 'headersList') out[k] = withoutHeaderLists(x);
  return out;
}

/** `format: raw`: the API's answer as is, its entries cut to the cap (and marked). */
function rawAnswer<T>(page: { entries: T[] }): ToolOutput {
  const fit = fitPage(page);
  const data = { ...page, entries: fit.entries, ...(fit.cut > 0 ? { truncated: fit.cut } : {}) };
  return {
    text:
      JSON.stringify(data) +
      (fit.cut > 0 ? `\n… ${fit.cut} entries cut at the size cap — narrow the query.` : ''),
    data,
  };
}

function callRow(s: EntrySummary): Record<string, unknown> {
  const t = timeOfUs(s.ts)!;
  return {
    id: s.id,
    node_id: s.node,
    time: t.iso,
    time_ms: t.ms,
    protocol: s.protocol,
    src: s.src,
    dst: s.dst,
    summary: s.summary,
    ...(s.method !== undefined ? { method: s.method } : {}),
    ...(s.path !== undefined ? { path: s.path } : {}),
    ...(s.status !== undefined ? { status: s.status } : {}),
    status_text: s.statusText,
    ...(s.elapsed !== undefined ? { elapsed_us: s.elapsed } : {}),
    request_size: s.requestSize,
    response_size: s.responseSize,
    ...(s.error ? { error: s.error } : {}),
  };
}

// ---------------------------------------------------------------- status

/** Errors meaning "not deployed / not reachable": the status tool's answer, not a failure. */
const NOT_RUNNING: ReadonlySet<string> = new Set([
  'KS_ERR_UNAVAILABLE',
  'KS_ERR_KUBE_NOT_READY',
  'KS_ERR_KUBE_API',
]);

const checkStatus = tool({
  name: 'check_kubeshark_status',
  title: 'Kubeshark status',
  description:
    'Is Kubeshark running and reachable? Lists the workers (one per node) up or down with their versions and capture counters. Call this first.',
  inputSchema: {
    release_namespace: z
      .string()
      .optional()
      .describe('namespace Kubeshark is installed in (proxy mode; default tap.release.namespace)'),
  },
  async run(args, ctx) {
    let api: ApiClient;
    try {
      api = await ctx.api(args.release_namespace);
      const health = await api.health();
      const workers = health.workers ?? [];
      const up = workers.filter((w) => w.up);
      const lines = [
        `Kubeshark ${health.role} ${health.version} (API ${health.apiVersion}) at ${ctx.describe()}: ${health.ok ? 'healthy' : 'degraded'}; started ${isoOfUs(health.startedAt)}`,
        `Workers: ${up.length} up, ${workers.length - up.length} down; entries ${health.capture?.entries ?? 0}, packets ${health.capture?.receivedPackets ?? 0}, dropped ${health.capture?.droppedPackets ?? 0}`,
      ];
      if (workers.length > 0) {
        lines.push(
          '',
          table(
            [
              'WORKER',
              'NODE',
              'STATE',
              'VERSION',
              'LAST SEEN (UTC)',
              'ENTRIES',
              'PACKETS',
              'ERROR',
            ],
            workers.map((w) => [
              w.name,
              w.node,
              w.up ? 'up' : 'down',
              w.version,
              isoOfUs(w.lastSeen),
              w.capture?.entries,
              w.capture?.receivedPackets,
              w.error,
            ]),
          ),
        );
      }
      for (const p of health.problems ?? []) lines.push(`Problem: ${p}`);
      lines.push('', 'Next: get_api_stats for an overview, then list_api_calls with a KFL filter.');
      return {
        text: lines.join('\n'),
        data: {
          reachable: true,
          url: ctx.describe(),
          role: health.role,
          version: health.version,
          api_version: health.apiVersion,
          healthy: health.ok,
          started: timeOfUs(health.startedAt),
          workers_up: up.length,
          workers_down: workers.length - up.length,
          workers: workers.map((w) => ({
            name: w.name,
            node: w.node ?? null,
            up: w.up,
            version: w.version ?? null,
            last_seen: timeOfUs(w.lastSeen),
            entries: w.capture?.entries ?? null,
            received_packets: w.capture?.receivedPackets ?? null,
            dropped_packets: w.capture?.droppedPackets ?? null,
            ...(w.error ? { error: w.error } : {}),
          })),
          problems: health.problems ?? [],
        },
      };
    } catch (err) {
      if (!(err instanceof KsError) || !NOT_RUNNING.has(err.code)) throw err;
      return {
        text: `Kubeshark is not reachable (${ctx.describe()}): ${err.message} [${err.code}]\nIs it deployed and running? (\`kubeshark tap\`)`,
        data: { reachable: false, url: ctx.describe(), error: err.message },
      };
    }
  },
});

// ---------------------------------------------------------------- L7 calls

const listApiCalls = tool({
  name: 'list_api_calls',
  title: 'List API calls',
  description:
    'L7 API calls (HTTP, gRPC, DNS, Redis, Kafka, SQL…) matching a KFL filter, newest first, with ids to drill into with get_api_call. Narrow with kfl and start/end rather than raising limit.',
  inputSchema: {
    kfl,
    limit: limitParam(`calls returned (default ${MCP_DEFAULT_LIMIT}, max ${ENTRIES_MAX_LIMIT})`),
    format,
    start: time('window start'),
    end: time('window end (exclusive)'),
    snapshot_id: snapshotId,
    db: z
      .string()
      .optional()
      .describe('a snapshot dissection to query (not available in this build)'),
  },
  async run(args, ctx) {
    noSnapshots(args);
    const api = await ctx.api();
    const q = args.kfl ?? '';
    const limit = args.limit ?? MCP_DEFAULT_LIMIT;
    const fmt = args.format ?? 'compact';
    const w = window(args);
    if (fmt === 'compact') {
      const page = await api.entries({ q, limit, count: true, ...w });
      const total = page.total ?? page.entries.length;
      const rows = page.entries.map((s) => [
        s.id,
        s.node,
        isoOfUs(s.ts),
        s.protocol,
        `${endpoint(s.src)} → ${endpoint(s.dst)}`,
        s.summary,
        s.statusText,
        s.elapsed !== undefined ? duration(s.elapsed) : '',
      ]);
      const head = [
        'ID',
        'NODE',
        'TIME (UTC)',
        'PROTO',
        'SRC → DST',
        'SUMMARY',
        'STATUS',
        'ELAPSED',
      ];
      const body = boundedTable(head, rows, MCP_MAX_TEXT_BYTES - 2048);
      const shown = body.kept;
      const more = total - shown;
      const text = [
        `${total} call(s) match${q ? ` \`${page.kfl.kfl2}\`` : ''}${page.kfl.note ? ` (${page.kfl.note})` : ''}; ${shown} shown, newest first.`,
        body.text,
        ...(more > 0
          ? [
              `… ${more} more — narrow with kfl (e.g. add \`&& status_code >= 500\`) or start/end${shown < page.entries.length ? ' (text cut at the size cap)' : ''}.`,
            ]
          : []),
        shown > 0 ? 'Drill in: get_api_call with id and node_id.' : '',
      ]
        .filter((l) => l !== '')
        .join('\n');
      return partialAnswer(
        text,
        pageData(page.kfl, total, 'calls', page.entries.map(callRow)),
        page.unavailable,
      );
    }
    const page = await api.entries({ q, limit, view: 'full', count: true, ...w });
    const total = page.total ?? page.entries.length;
    if (fmt === 'raw') return rawAnswer(page);
    // The view's `timestamp` is ISO; its Unix ms (what start/end take back) is added beside it.
    const views = page.entries.map((e) => ({ ...e, timestamp_ms: Math.floor(viewTs(e) / 1000) }));
    const parts = views.map((e) => JSON.stringify(e));
    const body = boundedJoin(parts, '\n');
    const cut = page.entries.length - body.kept;
    const more = total - body.kept;
    return partialAnswer(
      `${total} call(s) match; ${body.kept} shown (KFL JSON views plus timestamp_ms, one per line, newest first):\n${body.text}` +
        (more > 0
          ? `\n… ${more} more${cut > 0 ? ` (${cut} cut at the ${bytes(MCP_MAX_TEXT_BYTES)} cap)` : ''} — narrow with kfl or start/end.`
          : ''),
      pageData(page.kfl, total, 'calls', views.slice(0, body.kept)),
      page.unavailable,
    );
  },
});

const getApiCall = tool({
  name: 'get_api_call',
  title: 'One API call',
  description:
    'One call by id (from list_api_calls): request and response headers and bodies, timing, endpoints and the L4 connection it travelled on. Bodies are cut at max_payload_size.',
  inputSchema: {
    id: z.number().int().min(0).describe('the call id (list_api_calls)'),
    node_id: z
      .string()
      .optional()
      .describe('the node holding it (list_api_calls gives it); required with several nodes'),
    include_payload: z.boolean().optional().describe('include bodies and payloads (default true)'),
    include_l4: z
      .boolean()
      .optional()
      .describe('include the L4 connection: endpoints, bytes, packets, state (default true)'),
    include_pcap: z
      .boolean()
      .optional()
      .describe('include the raw packets as base64 PCAP (default false; not kept in this build)'),
    max_payload_size: z
      .number()
      .int()
      .min(0)
      .max(16 * 1024 * 1024)
      .optional()
      .describe(`bodies cut to this many bytes (default ${DEFAULT_MAX_PAYLOAD})`),
  },
  async run(args, ctx) {
    const api = await ctx.api();
    const maxPayload = args.max_payload_size ?? DEFAULT_MAX_PAYLOAD;
    const res = await api.entry(args.id, {
      node: args.node_id,
      payload: args.include_payload ?? true,
      maxPayload,
    });
    const s = res.summary;
    const entry = res.entry;
    const t = timeOfUs(s.ts)!;
    const data: Record<string, unknown> = {
      id: s.id,
      node_id: s.node,
      time: t.iso,
      time_ms: t.ms,
      summary: callRow(s),
      entry,
      ...(res.truncated ? { truncated: true, max_payload_size: maxPayload } : {}),
    };
    const notes: string[] = [];
    if (args.include_l4 ?? true) {
      const l4: Record<string, unknown> = {
        transport: entry.tcp ? 'tcp' : entry.udp ? 'udp' : undefined,
        src: entry.src,
        dst: entry.dst,
        conn_id: entry.conn_id,
        flow_id: entry.flow_id,
        stream: entry.stream,
      };
      // The connection's own record, when the worker stored one (see docs/api.md /api/l4).
      const rec = await api.entries({
        q: `(conn || flow) && flow_id == ${Number(entry.flow_id)} && node_id == ${lit(s.node)}`,
        limit: 1,
        view: 'full',
      });
      const r = rec.entries[0];
      if (r) {
        for (const [k, v] of Object.entries(r)) {
          if (/^(conn|flow)_/.test(k) || k === 'tcp_method') l4[k] = v;
        }
      } else notes.push('No L4 record stored for this connection (workers store them with --l4).');
      data.l4 = l4;
    }
    if (args.include_pcap) {
      data.pcap = null;
      notes.push(
        'PCAP: not available — workers in this build keep dissected entries, not raw packets.',
      );
    }
    const text = [
      `Call ${s.id} on node ${s.node} at ${t.iso} (${t.ms} ms): ${s.protocol} ${endpoint(s.src)} → ${endpoint(s.dst)}`,
      `${s.summary} → ${s.statusText || '-'}${s.elapsed !== undefined ? ` in ${duration(s.elapsed)}` : ''}; request ${bytes(s.requestSize)}, response ${bytes(s.responseSize)}${s.error ? `; error ${s.error.code}: ${s.error.message}` : ''}`,
      res.truncated ? `Bodies cut at ${maxPayload} bytes (raise max_payload_size for more).` : '',
      ...notes,
      'Full record (KFL field names):',
      boundedJson(withoutHeaderLists(data.l4 ? { ...entry, l4: data.l4 } : entry)),
    ]
      .filter((l) => l !== '')
      .join('\n');
    return { text, data };
  },
});

const STATS_GROUPS = ['endpoint', 'service', 'namespace', 'node'] as const;

const getApiStats = tool({
  name: 'get_api_stats',
  title: 'API statistics',
  description:
    'Throughput, error rates (http_4xx, http_5xx, dns, no_response…) and latency percentiles (p50/p95/p99) of the calls matching kfl, overall and per endpoint, service, namespace or node. Start here to find what is slow or failing.',
  inputSchema: {
    kfl,
    start: time('window start'),
    end: time('window end (exclusive)'),
    group_by: z.enum(STATS_GROUPS).optional().describe('grouping (default endpoint)'),
  },
  async run(args, ctx) {
    const api = await ctx.api();
    const groupBy = args.group_by ?? 'endpoint';
    const res = await api.stats({
      q: args.kfl ?? '',
      groupBy,
      series: 'none',
      bucketSec: 0,
      ...window(args),
    });
    const r = res.result;
    const shape = (g: GroupStats) => ({
      key: g.key,
      labels: g.labels,
      calls: g.calls,
      rate_per_sec: g.ratePerSec,
      failed: g.failed,
      error_rate: g.errorRate,
      errors: Object.fromEntries(Object.entries(g.errors).filter(([, n]) => n > 0)),
      latency_us: g.latency
        ? {
            p50: g.latency.p50,
            p95: g.latency.p95,
            p99: g.latency.p99,
            min: g.latency.min,
            max: g.latency.max,
            mean: g.latency.mean,
          }
        : null,
      bytes: g.bytes,
      first: timeOfUs(g.first),
      last: timeOfUs(g.last),
    });
    const groups = r.groups.slice(0, MCP_MAX_GROUPS);
    // Failing groups by failures, wherever they rank by calls: what a root-cause search needs.
    const failing = r.groups
      .filter((g) => g.failed > 0)
      .sort((a, b) => b.failed - a.failed || b.errorRate - a.errorRate)
      .slice(0, MCP_MAX_GROUPS);
    const errs = (g: GroupStats) =>
      Object.entries(g.errors)
        .filter(([, n]) => n > 0)
        .map(([k, n]) => `${k}:${n}`)
        .join(' ');
    const t = r.total;
    const text = [
      `${t.calls} call(s)${args.kfl ? ` matching \`${res.kfl.kfl2}\`` : ''} from ${isoOfUs(r.window.start)} to ${isoOfUs(r.window.end)} (${r.window.seconds.toFixed(1)} s): ${t.ratePerSec.toFixed(2)}/s, ${t.failed} failed (${percent(t.errorRate)})${errs(t) ? ` [${errs(t)}]` : ''}, latency p50 ${duration(t.latency?.p50)} p95 ${duration(t.latency?.p95)} p99 ${duration(t.latency?.p99)}`,
      r.ignored > 0 ? `(${r.ignored} L4 records not counted: see list_l4_flows)` : '',
      '',
      table(
        [groupBy.toUpperCase(), 'CALLS', 'RATE/S', 'FAILED', 'ERR%', 'ERRORS', 'P50', 'P95', 'P99'],
        groups.map((g) => [
          g.key,
          g.calls,
          g.ratePerSec.toFixed(2),
          g.failed,
          percent(g.errorRate),
          errs(g),
          duration(g.latency?.p50),
          duration(g.latency?.p95),
          duration(g.latency?.p99),
        ]),
      ),
      r.groups.length > groups.length
        ? `… ${r.groups.length - groups.length} more groups — narrow with kfl.`
        : '',
      failing.length > 0 ? `\nFailing ${groupBy} groups (by failures):` : '',
      failing.length > 0
        ? table(
            [groupBy.toUpperCase(), 'FAILED', 'OF CALLS', 'ERR%', 'ERRORS', 'LAST (UTC)'],
            failing.map((g) => [
              g.key,
              g.failed,
              g.calls,
              percent(g.errorRate),
              errs(g),
              isoOfUs(g.last),
            ]),
          )
        : '',
      'Next: list_api_calls with kfl for the failing or slow group (e.g. `status_code >= 500`, `elapsed_time > 500000`).',
    ]
      .filter((l, i) => l !== '' || i === 2)
      .join('\n');
    return partialAnswer(
      text,
      {
        kfl: res.kfl,
        group_by: groupBy,
        window: {
          start: timeOfUs(r.window.start),
          end: timeOfUs(r.window.end),
          seconds: r.window.seconds,
        },
        ignored_l4_records: r.ignored,
        total: shape(t),
        groups: groups.map(shape),
        failing_groups: failing.map(shape),
        more_groups: r.groups.length - groups.length,
      },
      res.unavailable,
    );
  },
});

// ---------------------------------------------------------------- boundaries

function boundariesData(b: Boundaries): Record<string, unknown> {
  return {
    oldest: timeOfUs(b.oldest),
    newest: timeOfUs(b.newest),
    entries: b.entries,
    nodes: b.nodes.map((n) => ({
      node: n.node,
      oldest: timeOfUs(n.oldest),
      newest: timeOfUs(n.newest),
      entries: n.entries,
      bytes: n.bytes,
    })),
    ...(b.unavailable ? { unavailable: b.unavailable } : {}),
  };
}

const l7Boundaries = tool({
  name: 'get_l7_data_boundaries',
  title: 'Time range of dissected data',
  description:
    'Oldest and newest dissected entry, cluster-wide and per node (UTC ISO-8601 and Unix ms): the window list_api_calls and get_api_stats can see.',
  inputSchema: {},
  async run(_args, ctx) {
    const b = await (await ctx.api()).boundaries();
    const text = [
      `Cluster: ${b.entries} entries from ${isoOfUs(b.oldest)} to ${isoOfUs(b.newest)}${b.oldest !== null ? ` (ms ${Math.floor(b.oldest / 1000)} – ${Math.floor(b.newest! / 1000)})` : ''}`,
      table(
        ['NODE', 'OLDEST (UTC)', 'NEWEST (UTC)', 'ENTRIES', 'STORE'],
        b.nodes.map((n) => [
          n.node,
          isoOfUs(n.oldest),
          isoOfUs(n.newest),
          n.entries,
          bytes(n.bytes),
        ]),
      ),
    ].join('\n');
    return { text: text + unavailableNote(b.unavailable), data: boundariesData(b) };
  },
});

const dataBoundaries = tool({
  name: 'get_data_boundaries',
  title: 'Time range of raw capture',
  description:
    'Oldest and newest raw captured packets, cluster-wide and per node, with what each node captured.',
  inputSchema: {},
  async run(_args, ctx) {
    const api = await ctx.api();
    const [health, b] = await Promise.all([api.health(), api.boundaries()]);
    const byNode = new Map(b.nodes.map((n) => [n.node, n]));
    const nodes = (health.workers ?? []).map((w) => {
      const n = w.node !== undefined ? byNode.get(w.node) : undefined;
      return {
        node: w.node ?? w.name,
        worker: w.name,
        up: w.up,
        // No raw-packet ring in this build: only the dissected window is known.
        raw_oldest: null,
        raw_newest: null,
        received_packets: w.capture?.receivedPackets ?? null,
        processed_bytes: w.capture?.processedBytes ?? null,
        sources: w.capture?.sources ?? [],
        dissected_oldest: timeOfUs(n?.oldest),
        dissected_newest: timeOfUs(n?.newest),
      };
    });
    const text = [
      'Raw capture: workers in this build keep dissected entries and L4 records, not a raw-packet ring, so raw boundaries are null; the dissected window per node is below (what every query can see).',
      table(
        ['NODE', 'STATE', 'PACKETS', 'BYTES', 'DISSECTED FROM (UTC)', 'TO (UTC)', 'SOURCES'],
        nodes.map((n) => [
          n.node,
          n.up ? 'up' : 'down',
          n.received_packets,
          n.processed_bytes === null ? null : bytes(n.processed_bytes),
          n.dissected_oldest?.iso,
          n.dissected_newest?.iso,
          n.sources.join(' '),
        ]),
      ),
    ].join('\n');
    return {
      text,
      data: {
        raw_capture: false,
        oldest: null,
        newest: null,
        dissected: { oldest: timeOfUs(b.oldest), newest: timeOfUs(b.newest) },
        nodes,
      },
    };
  },
});

// ---------------------------------------------------------------- L4

const L4_AGGREGATES = ['pod', 'namespace', 'node', 'service'] as const;

function l4GroupData(g: L4Group): Record<string, unknown> {
  return {
    key: g.key,
    connections: g.connections,
    flows: g.flows,
    sent: g.sent,
    received: g.received,
    retransmissions: g.retransmissions,
    resets: g.resets,
    rtt_us: g.rtt,
    l7: g.l7,
  };
}

function l4Filter(args: {
  l4proto?: 'tcp' | 'udp';
  ip?: string;
  ns?: string;
  pod?: string;
  svc?: string;
}): string {
  return and(
    args.l4proto === 'tcp' ? 'conn' : args.l4proto === 'udp' ? 'flow' : 'conn || flow',
    args.ip ? `src.ip == ${lit(args.ip)} || dst.ip == ${lit(args.ip)}` : undefined,
    args.ns ? `${lit(args.ns)} in namespaces` : undefined,
    args.pod ? `${lit(args.pod)} in pods` : undefined,
    args.svc ? `${lit(args.svc)} in services` : undefined,
  );
}

const listL4Flows = tool({
  name: 'list_l4_flows',
  title: 'TCP/UDP flows',
  description:
    'TCP connections and UDP flows with bytes and packets each way, handshake RTT, retransmissions and state; or aggregated per pod, namespace, node or service (top talkers by bytes).',
  inputSchema: {
    format,
    aggregate: z.enum(L4_AGGREGATES).optional().describe('group flows instead of listing them'),
    l4proto: z.enum(['tcp', 'udp']).optional().describe('only TCP or only UDP'),
    ip: z.string().optional().describe('flows with this IP at either end'),
    ns: z.string().optional().describe('flows touching this namespace'),
    pod: z.string().optional().describe('flows touching this pod'),
    svc: z.string().optional().describe('flows touching this service'),
    limit: limitParam(`flows or groups returned (default ${MCP_DEFAULT_LIMIT})`),
  },
  async run(args, ctx) {
    const api = await ctx.api();
    const q = l4Filter(args);
    const limit = args.limit ?? MCP_DEFAULT_LIMIT;
    const fmt = args.format ?? 'compact';
    if (args.aggregate) {
      const res = await api.l4({ q, by: args.aggregate, limit });
      const top = res.top ?? [];
      if (fmt === 'raw')
        return { text: boundedJson(res), data: res as unknown as Record<string, unknown> };
      const text = [
        `${res.l4.totals.connections} TCP connection(s), ${res.l4.totals.flows} UDP flow(s) by ${args.aggregate}; top ${top.length} by bytes:`,
        table(
          [
            args.aggregate.toUpperCase(),
            'CONNS',
            'FLOWS',
            'SENT',
            'RECEIVED',
            'PKTS',
            'RETRANS',
            'RST',
            'RTT',
          ],
          top.map((g) => [
            g.key,
            g.connections,
            g.flows,
            bytes(g.sent.bytes),
            bytes(g.received.bytes),
            g.sent.packets + g.received.packets,
            g.retransmissions,
            g.resets,
            g.rtt ? duration(g.rtt.mean) : '',
          ]),
        ),
      ].join('\n');
      return partialAnswer(
        text,
        {
          kfl: res.kfl,
          aggregate: args.aggregate,
          totals: res.l4.totals,
          groups: top.map(l4GroupData),
        },
        res.unavailable,
      );
    }
    const page = await api.entries({ q, limit, view: 'full', count: true });
    const total = page.total ?? page.entries.length;
    if (fmt === 'raw') return rawAnswer(page);
    const flows = page.entries.map((e) => {
      const tcp = e.conn === true;
      const p = tcp ? 'conn' : 'flow';
      const ts = viewTs(e);
      const src = e.src as { ip: string; port: number; name?: string; namespace?: string };
      const dst = e.dst as { ip: string; port: number; name?: string; namespace?: string };
      return {
        id: e.id as number,
        node_id: e.node_id as string,
        proto: tcp ? 'tcp' : 'udp',
        time: timeOfUs(ts),
        src,
        dst,
        state: e[`${p}_state`] as string,
        client_packets: e[`${p}_local_pkts`] as number,
        client_bytes: e[`${p}_local_bytes`] as number,
        server_packets: e[`${p}_remote_pkts`] as number,
        server_bytes: e[`${p}_remote_bytes`] as number,
        duration_us: e.elapsed_time as number,
        retransmissions: (e.conn_retransmissions as number | undefined) ?? 0,
        l7_detected: (e[`${p}_l7_detected`] as string[] | undefined) ?? [],
        ...(fmt === 'full' ? { record: e } : {}),
      };
    });
    const rows = flows.map((f) => [
      f.id,
      f.node_id,
      f.proto,
      f.time?.iso,
      `${endpoint(f.src)} → ${endpoint(f.dst)}`,
      f.state,
      `${f.client_packets}/${f.server_packets}`,
      `${bytes(f.client_bytes ?? 0)}/${bytes(f.server_bytes ?? 0)}`,
      f.retransmissions,
      duration(f.duration_us),
    ]);
    const body = boundedTable(
      [
        'ID',
        'NODE',
        'PROTO',
        'START (UTC)',
        'CLIENT → SERVER',
        'STATE',
        'PKTS C/S',
        'BYTES C/S',
        'RETRANS',
        'DURATION',
      ],
      rows,
    );
    const more = total - body.kept;
    const text = [
      `${total} L4 record(s) match \`${q}\`; ${body.kept} shown, newest first. (Workers store a record per connection without L7 entries, or every one with --l4.)`,
      body.text,
      more > 0 ? `… ${more} more — narrow with ip/ns/pod/svc/l4proto, or use aggregate.` : '',
    ]
      .filter((l) => l !== '')
      .join('\n');
    return partialAnswer(text, pageData(page.kfl, total, 'flows', flows), page.unavailable);
  },
});

const l4Summary = tool({
  name: 'get_l4_flow_summary',
  title: 'L4 traffic summary',
  description:
    'TCP/UDP totals, top talkers by bytes and by packets, traffic per namespace and cross-namespace pairs.',
  inputSchema: {},
  async run(_args, ctx) {
    const api = await ctx.api();
    const q = 'conn || flow';
    const [byPod, byNs, pairs] = await Promise.all([
      api.l4({ q, by: 'pod', limit: 10 }),
      api.l4({ q, by: 'namespace', limit: MCP_MAX_GROUPS }),
      api.l4({ q, by: 'namespace', pairs: true, limit: MCP_MAX_GROUPS }),
    ]);
    const t = byPod.l4.totals;
    const topBytes = byPod.top ?? [];
    const topPackets = [...topBytes].sort(
      (a, b) => b.sent.packets + b.received.packets - (a.sent.packets + a.received.packets),
    );
    const cross = (pairs.top ?? []).filter((g) => {
      const [a, b] = g.key.split(' -> ');
      return a !== b;
    });
    const row = (g: L4Group) => [
      g.key,
      g.connections + g.flows,
      bytes(g.sent.bytes + g.received.bytes),
      g.sent.packets + g.received.packets,
      g.retransmissions,
    ];
    const head = ['KEY', 'CONNS+FLOWS', 'BYTES', 'PACKETS', 'RETRANS'];
    const text = [
      `Totals: ${t.connections} TCP connection(s), ${t.flows} UDP flow(s); client→server ${bytes(t.clientToServer.bytes)} in ${t.clientToServer.packets} packets, server→client ${bytes(t.serverToClient.bytes)} in ${t.serverToClient.packets}; ${t.retransmissions} retransmissions, ${t.resets} resets.`,
      '',
      'Top talkers by bytes (pod, else address):',
      table(head, topBytes.map(row)),
      '',
      'Top talkers by packets:',
      table(head, topPackets.map(row)),
      '',
      'By namespace:',
      table(head, (byNs.top ?? []).map(row)),
      '',
      `Cross-namespace (${cross.length}):`,
      cross.length > 0 ? table(head, cross.map(row)) : '(none)',
    ].join('\n');
    return partialAnswer(
      text,
      {
        totals: t,
        top_by_bytes: topBytes.map(l4GroupData),
        top_by_packets: topPackets.map(l4GroupData),
        by_namespace: (byNs.top ?? []).map(l4GroupData),
        cross_namespace: cross.map(l4GroupData),
      },
      byPod.unavailable,
    );
  },
});

// ---------------------------------------------------------------- workloads and IPs

interface SeenEndpoint {
  ip: string;
  port?: number;
  name?: string;
  namespace?: string;
  pod?: { name: string; namespace: string };
  service?: { name: string; namespace: string };
  labels?: Record<string, string>;
  node?: string;
  dns?: string;
  process?: { name: string };
  resolution?: string;
}

interface Identity {
  ip: string;
  type: 'pod' | 'service' | 'process' | 'dns' | 'unresolved';
  name: string | null;
  namespace: string | null;
  labels: Record<string, string>;
  node: string | null;
  last_seen: { iso: string; ms: number } | null;
  /** Why it has no identity (resolver's word). */
  resolution?: string;
}

function identityOf(ep: SeenEndpoint, ts: number): Identity {
  const base = {
    ip: ep.ip,
    labels: ep.labels ?? {},
    node: ep.node ?? null,
    last_seen: timeOfUs(ts),
  };
  // The KFL view fills `pod` with the service when there is no pod (KFL.md): equal → a service.
  const fallback =
    ep.pod &&
    ep.service &&
    ep.pod.name === ep.service.name &&
    ep.pod.namespace === ep.service.namespace;
  if (ep.pod && !fallback)
    return { ...base, type: 'pod', name: ep.pod.name, namespace: ep.pod.namespace };
  if (ep.service)
    return { ...base, type: 'service', name: ep.service.name, namespace: ep.service.namespace };
  if (ep.process) return { ...base, type: 'process', name: ep.process.name, namespace: null };
  if (ep.dns) return { ...base, type: 'dns', name: ep.dns, namespace: null };
  return {
    ...base,
    type: 'unresolved',
    name: null,
    namespace: null,
    ...(ep.resolution ? { resolution: ep.resolution } : {}),
  };
}

interface SeenIdentities {
  ips: Map<string, Identity>;
  scanned: number;
  complete: boolean;
  unavailable?: string[];
}

/**
 * Identities seen in traffic: the newest MCP_IDENTITY_SCAN_MAX entries matching `q` (up to `end`),
 * newest identity per IP. The workers resolved them when they captured (Kubernetes informers,
 * /proc), so this is who an IP was at capture time.
 */
async function seenIdentities(
  api: ApiClient,
  q: string,
  end: number | undefined,
): Promise<SeenIdentities> {
  const ips = new Map<string, Identity>();
  let cursor: string | undefined;
  let scanned = 0;
  let unavailable: string[] | undefined;
  for (;;) {
    const page = await api.entries({
      q,
      limit: ENTRIES_MAX_LIMIT,
      view: 'full',
      cursor,
      ...(end !== undefined ? { end } : {}),
    });
    unavailable ??= page.unavailable;
    for (const e of page.entries) {
      const ts = viewTs(e);
      for (const side of ['src', 'dst'] as const) {
        const seen = e[side] as SeenEndpoint | undefined;
        if (!seen?.ip) continue;
        // The KFL view carries labels and node beside the endpoint (local = src, remote = dst).
        const near = side === 'src' ? 'local' : 'remote';
        const ep: SeenEndpoint = {
          ...seen,
          labels: seen.labels ?? (e[`${near}_labels`] as Record<string, string> | undefined),
          node: seen.node ?? ((e[`${near}_node_name`] as string | undefined) || undefined),
        };
        const prev = ips.get(ep.ip);
        // Newest first: the first sighting with an identity wins; an unresolved one is replaced.
        if (!prev || (prev.type === 'unresolved' && identityOf(ep, ts).type !== 'unresolved'))
          ips.set(ep.ip, identityOf(ep, ts));
      }
    }
    scanned += page.entries.length;
    cursor = page.cursor;
    if (cursor === undefined) return { ips, scanned, complete: true, unavailable };
    if (scanned >= MCP_IDENTITY_SCAN_MAX) return { ips, scanned, complete: false, unavailable };
  }
}

function matchesIdentity(
  id: Identity,
  f: { namespaces?: string[]; name_regex?: RegExp; labels?: Record<string, string> },
): boolean {
  if (f.namespaces && f.namespaces.length > 0 && !f.namespaces.includes(id.namespace ?? ''))
    return false;
  if (f.name_regex && !f.name_regex.test(id.name ?? '')) return false;
  for (const [k, v] of Object.entries(f.labels ?? {})) if (id.labels[k] !== v) return false;
  return true;
}

function regexOf(s: string | undefined): RegExp | undefined {
  if (!s) return undefined;
  try {
    return new RegExp(s);
  } catch (e) {
    throw new KsError('KS_ERR_USAGE', `\`name_regex\`: ${(e as Error).message}`);
  }
}

/** seenIdentities as of the `timestamp` parameter (that instant included; absent: now). */
async function identitiesAsOf(
  api: ApiClient,
  q: string,
  timestamp: number | string | undefined,
): Promise<SeenIdentities> {
  const at = usOfParam('timestamp', timestamp);
  return seenIdentities(api, q, at === undefined ? undefined : at + 1);
}

/** A list_workloads / list_ips answer: `data` plus how much of the traffic was scanned. */
function identityAnswer(
  text: string,
  data: Record<string, unknown>,
  seen: SeenIdentities,
): ToolOutput {
  return partialAnswer(
    text,
    { ...data, scanned_entries: seen.scanned, complete: seen.complete },
    seen.unavailable,
  );
}

function scanNote(r: { scanned: number; complete: boolean }): string {
  return r.complete
    ? `(from ${r.scanned} entries: every identity seen in the captured traffic)`
    : `(from the newest ${r.scanned} entries only — narrow with namespaces/name/ip or timestamp)`;
}

const listWorkloads = tool({
  name: 'list_workloads',
  title: 'Workloads and their IPs',
  description:
    'Pods and services seen in the captured traffic with their IPs, namespace, labels and node, as the workers resolved them at capture time. Use it to turn a workload name into IPs for KFL filters (src.ip / dst.ip) or to check who talks.',
  inputSchema: {
    snapshot_id: snapshotId,
    name: z.string().optional().describe('exact workload name'),
    namespace: z.string().optional().describe('namespace of `name`'),
    namespaces,
    name_regex: nameRegex,
    labels,
    type: z.enum(['pod', 'service']).optional().describe('only pods or only services'),
    timestamp: time('identities as of this time (default now)'),
  },
  async run(args, ctx) {
    noSnapshots(args);
    const api = await ctx.api();
    const nsList = [...(args.namespaces ?? []), ...(args.namespace ? [args.namespace] : [])];
    const q = and(
      nsList.length > 0 ? nsList.map((n) => `${lit(n)} in namespaces`).join(' || ') : undefined,
      args.name
        ? `${lit(args.name)} in pods || ${lit(args.name)} in services || src.name == ${lit(args.name)} || dst.name == ${lit(args.name)}`
        : undefined,
    );
    const seen = await identitiesAsOf(api, q, args.timestamp);
    const re = regexOf(args.name_regex);
    const workloads = new Map<
      string,
      {
        type: string;
        name: string;
        namespace: string | null;
        ips: string[];
        labels: Record<string, string>;
        node: string | null;
        last_seen: Identity['last_seen'];
      }
    >();
    for (const id of seen.ips.values()) {
      if (id.type !== 'pod' && id.type !== 'service') continue;
      if (args.type && id.type !== args.type) continue;
      if (args.name && id.name !== args.name) continue;
      if (!matchesIdentity(id, { namespaces: nsList, name_regex: re, labels: args.labels }))
        continue;
      const key = `${id.type}/${id.namespace ?? ''}/${id.name ?? ''}`;
      const w = workloads.get(key);
      if (w) {
        w.ips.push(id.ip);
        if ((id.last_seen?.ms ?? 0) > (w.last_seen?.ms ?? 0)) w.last_seen = id.last_seen;
      } else
        workloads.set(key, {
          type: id.type,
          name: id.name!,
          namespace: id.namespace,
          ips: [id.ip],
          labels: id.labels,
          node: id.node,
          last_seen: id.last_seen,
        });
    }
    const list = [...workloads.values()].sort((a, b) =>
      `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`),
    );
    const labelText = (l: Record<string, string>) =>
      Object.entries(l)
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
    const text =
      list.length === 0
        ? `No pods or services found ${scanNote(seen)}. Without Kubernetes identity (e.g. replayed capture files) endpoints are plain IPs: use list_ips.`
        : [
            `${list.length} workload(s) ${scanNote(seen)}:`,
            table(
              ['TYPE', 'NAMESPACE', 'NAME', 'IPS', 'NODE', 'LABELS', 'LAST SEEN (UTC)'],
              list.map((w) => [
                w.type,
                w.namespace,
                w.name,
                w.ips.join(' '),
                w.node,
                labelText(w.labels),
                w.last_seen?.iso,
              ]),
            ),
            'Filter their traffic with KFL, e.g. `dst.ip == "<ip>"` or `dst.pod.name == "<name>"`.',
          ].join('\n');
    return identityAnswer(text, { workloads: list }, seen);
  },
});

const listIps = tool({
  name: 'list_ips',
  title: 'IP → workload',
  description:
    'Who an IP is: pod, service, process or DNS name, with namespace, labels and node, for every IP seen in the captured traffic (or one `ip`).',
  inputSchema: {
    snapshot_id: snapshotId,
    ip: z.string().optional().describe('one IP address'),
    namespaces,
    name_regex: nameRegex,
    labels,
    timestamp: time('identities as of this time (default now)'),
  },
  async run(args, ctx) {
    noSnapshots(args);
    const api = await ctx.api();
    const q = and(
      args.ip ? `src.ip == ${lit(args.ip)} || dst.ip == ${lit(args.ip)}` : undefined,
      args.namespaces && args.namespaces.length > 0
        ? args.namespaces.map((n) => `${lit(n)} in namespaces`).join(' || ')
        : undefined,
    );
    const seen = await identitiesAsOf(api, q, args.timestamp);
    const re = regexOf(args.name_regex);
    const list = [...seen.ips.values()]
      .filter((id) => (args.ip ? id.ip === args.ip : true))
      .filter((id) =>
        matchesIdentity(id, { namespaces: args.namespaces, name_regex: re, labels: args.labels }),
      )
      .sort((a, b) => a.ip.localeCompare(b.ip, 'en', { numeric: true }));
    const shown = list.slice(0, ENTRIES_MAX_LIMIT);
    const text =
      list.length === 0
        ? `No IP found${args.ip ? ` for ${args.ip}` : ''} ${scanNote(seen)}.`
        : [
            `${list.length} IP(s) ${scanNote(seen)}:`,
            table(
              ['IP', 'TYPE', 'NAMESPACE', 'NAME', 'NODE', 'LAST SEEN (UTC)'],
              shown.map((i) => [
                i.ip,
                i.type,
                i.namespace,
                i.name ?? i.resolution,
                i.node,
                i.last_seen?.iso,
              ]),
            ),
            list.length > shown.length
              ? `… ${list.length - shown.length} more — narrow with ip or namespaces.`
              : '',
          ]
            .filter((l) => l !== '')
            .join('\n');
    return identityAnswer(text, { ips: shown, total: list.length }, seen);
  },
});

// ---------------------------------------------------------------- files

const getFileUrl = tool({
  name: 'get_file_url',
  title: 'URL of a hub file',
  description:
    'The URL of a hub-relative file (e.g. a path another tool returned, or an API answer such as /api/entries?q=dns&view=full) that can be fetched over HTTP.',
  inputSchema: {
    path: z.string().describe('hub-relative path, under /api/'),
  },
  async run(args, ctx) {
    const url = fileUrl(await ctx.fileBase(), args.path);
    return {
      text: `${url}\n(fetch it with HTTP GET${ctx.downloads ? ', or download_file to save it locally' : ''})`,
      data: { path: hubPath(args.path), url },
    };
  },
});

const downloadFile = tool({
  name: 'download_file',
  title: 'Download a hub file',
  description:
    'Saves a hub-relative file (see get_file_url) on this machine inside the download directory and returns the local path. Files over the size cap are refused.',
  inputSchema: {
    path: z.string().describe('hub-relative path, under /api/'),
    dest: z
      .string()
      .optional()
      .describe(
        'file name (or relative path) inside the download directory; default the last path segment',
      ),
  },
  async run(args, ctx) {
    const policy = ctx.downloads;
    if (!policy) throw new KsError('KS_ERR_USAGE', 'download_file is not offered here');
    const target = downloadTarget(policy.dir, args.path, args.dest);
    const url = fileUrl(await ctx.fileBase(), args.path);
    const d = await download(url, target, policy.maxBytes);
    return {
      text: `Saved ${url} to ${d.path} (${bytes(d.bytes)}${d.contentType ? `, ${d.contentType}` : ''}).`,
      data: { url, path: d.path, bytes: d.bytes, content_type: d.contentType },
    };
  },
});

// ---------------------------------------------------------------- start / stop

const startKubeshark = tool({
  name: 'start_kubeshark',
  title: 'Deploy Kubeshark',
  description: 'Runs `kubeshark tap`: deploys Kubeshark into the cluster (changes the cluster).',
  readOnly: false,
  inputSchema: {
    namespaces: z.string().optional().describe('comma-separated namespaces to tap (default all)'),
    pod_regex: z.string().optional().describe('pod name regular expression to tap'),
    release_namespace: z.string().optional().describe('namespace to install into'),
  },
  async run(args, ctx, call) {
    if (!ctx.lifecycle)
      throw new KsError('KS_ERR_USAGE', 'start_kubeshark needs --allow-destructive');
    const text = await ctx.lifecycle.start({
      namespaces: args.namespaces
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      podRegex: args.pod_regex,
      releaseNamespace: args.release_namespace,
      progress: (line) => call.progress(line),
    });
    return { text, data: { started: true } };
  },
});

const stopKubeshark = tool({
  name: 'stop_kubeshark',
  title: 'Remove Kubeshark',
  description: 'Runs `kubeshark clean`: removes Kubeshark from the cluster (changes the cluster).',
  readOnly: false,
  inputSchema: {
    release_namespace: z.string().optional().describe('namespace it is installed in'),
  },
  async run(args, ctx, call) {
    if (!ctx.lifecycle)
      throw new KsError('KS_ERR_USAGE', 'stop_kubeshark needs --allow-destructive');
    const text = await ctx.lifecycle.stop({
      releaseNamespace: args.release_namespace,
      progress: (line) => call.progress(line),
    });
    return { text, data: { stopped: true } };
  },
});

/** Every tool this build has, in the order MCP.md lists them. */
export const ALL_TOOLS: readonly McpTool[] = [
  checkStatus,
  startKubeshark,
  stopKubeshark,
  listApiCalls,
  getApiCall,
  getApiStats,
  l7Boundaries,
  listL4Flows,
  l4Summary,
  listWorkloads,
  listIps,
  dataBoundaries,
  getFileUrl,
  downloadFile,
];

/**
 * The tools offered in `ctx`: start/stop only with a lifecycle (`--allow-destructive`, never in
 * URL or hub mode), download_file only where files land on the agent's machine (stdio).
 */
export function mcpTools(ctx: Pick<ToolContext, 'lifecycle' | 'downloads'>): McpTool[] {
  return ALL_TOOLS.filter((t) => {
    if (t.name === 'start_kubeshark' || t.name === 'stop_kubeshark') return !!ctx.lifecycle;
    if (t.name === 'download_file') return !!ctx.downloads;
    return true;
  });
}
