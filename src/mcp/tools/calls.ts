/** L7 calls: list_api_calls (a KFL query, newest first) and get_api_call (one call in full). */
import { z } from 'zod';
import { DEFAULT_MAX_PAYLOAD, ENTRIES_MAX_LIMIT, type EntrySummary } from '../../api/types.ts';
import {
  MCP_MAX_TEXT_BYTES,
  boundedJoin,
  boundedJson,
  bytes,
  duration,
  isoOfUs,
  timeOfUs,
} from '../format.ts';
import {
  MCP_DEFAULT_LIMIT,
  boundedTable,
  endpoint,
  format,
  kfl,
  limitParam,
  lit,
  noSnapshots,
  pageData,
  partialAnswer,
  rawAnswer,
  snapshotId,
  time,
  viewTs,
  window,
} from './shared.ts';
import { tool } from './tool.ts';

/** The record as text: `headersList` (the wire order, a copy of `headers`) left out. */
function withoutHeaderLists(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutHeaderLists);
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (k !== 'headersList') out[k] = withoutHeaderLists(x);
  return out;
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

export const listApiCalls = tool({
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

export const getApiCall = tool({
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
