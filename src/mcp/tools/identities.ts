/**
 * Who is who, from the identities the workers resolved at capture time: list_workloads
 * (workload → IPs) and list_ips (IP → workload).
 */
import { z } from 'zod';
import type { ApiClient } from '../../api/client.ts';
import { endpointIdentity, type EndpointNameKind } from '../../api/summary.ts';
import { ENTRIES_MAX_LIMIT } from '../../api/types.ts';
import { KsError } from '../../util/errors.ts';
import { table, timeOfUs, usOfParam } from '../format.ts';
import { and, lit, noSnapshots, partialAnswer, snapshotId, time, viewTs } from './shared.ts';
import { tool, type ToolOutput } from './tool.ts';

/** Entries `list_workloads` / `list_ips` read (newest first) to find identities. */
export const MCP_IDENTITY_SCAN_MAX = 5000;

const namespaces = z.array(z.string()).optional().describe('only these namespaces');
const nameRegex = z.string().optional().describe('workload name regular expression');
const labels = z
  .record(z.string(), z.string())
  .optional()
  .describe('labels that must all match (key: value)');

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
  type: EndpointNameKind | 'unresolved';
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
  const pod = fallback ? undefined : ep.pod;
  // Pod, else service, else DNS name, else process: the precedence of KFL's `src.name`.
  const id = endpointIdentity({ pod, service: ep.service, dns: ep.dns, process: ep.process });
  if (!id)
    return {
      ...base,
      type: 'unresolved',
      name: null,
      namespace: null,
      ...(ep.resolution ? { resolution: ep.resolution } : {}),
    };
  const ns =
    id.kind === 'pod' ? pod?.namespace : id.kind === 'service' ? ep.service?.namespace : null;
  return { ...base, type: id.kind, name: id.name, namespace: ns ?? null };
}

/**
 * Who one side of an entry in the KFL view (`view=full`) was at `ts`; undefined without an
 * address. The view carries labels, node and process beside the endpoint (local = src,
 * remote = dst): `local_labels`, `local_node_name`, `local_process_name`…
 */
export function viewIdentity(
  e: Record<string, unknown>,
  side: 'src' | 'dst',
  ts: number,
): Identity | undefined {
  const seen = e[side] as SeenEndpoint | undefined;
  if (!seen?.ip) return undefined;
  const near = side === 'src' ? 'local' : 'remote';
  const processName = (e[`${near}_process_name`] as string | undefined) || undefined;
  return identityOf(
    {
      ...seen,
      labels: seen.labels ?? (e[`${near}_labels`] as Record<string, string> | undefined),
      node: seen.node ?? ((e[`${near}_node_name`] as string | undefined) || undefined),
      process: seen.process ?? (processName ? { name: processName } : undefined),
    },
    ts,
  );
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
        const id = viewIdentity(e, side, ts);
        if (!id) continue;
        const prev = ips.get(id.ip);
        // Newest first: the first sighting with an identity wins; an unresolved one is replaced.
        if (!prev || (prev.type === 'unresolved' && id.type !== 'unresolved')) ips.set(id.ip, id);
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

export const listWorkloads = tool({
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

export const listIps = tool({
  name: 'list_ips',
  title: 'IP → workload',
  description:
    'Who an IP is: pod, service, DNS name or process (in that order), with namespace, labels and node, for every IP seen in the captured traffic (or one `ip`).',
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
