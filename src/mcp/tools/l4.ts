/** L4: list_l4_flows (TCP connections and UDP flows, or aggregated) and get_l4_flow_summary. */
import { z } from 'zod';
import type { L4Group } from '../../api/types.ts';
import { boundedJson, bytes, duration, table, timeOfUs } from '../format.ts';
import {
  MCP_DEFAULT_LIMIT,
  MCP_MAX_GROUPS,
  and,
  boundedTable,
  endpoint,
  format,
  limitParam,
  lit,
  pageData,
  partialAnswer,
  rawAnswer,
  viewTs,
} from './shared.ts';
import { tool } from './tool.ts';

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

export const listL4Flows = tool({
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

export const l4Summary = tool({
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
