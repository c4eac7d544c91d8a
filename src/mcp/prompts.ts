/**
 * The server instructions (sent at initialize: how an agent should use the tools) and the prompts
 * MCP.md names. Both teach the same workflow: status → stats → list with a KFL filter → drill into
 * one call; KFL2 field names; every time in UTC.
 */
import { z } from 'zod';

export function instructions(o: { downloads: boolean; destructive: boolean }): string {
  return `Kubeshark captures and dissects the cluster's network traffic (HTTP, gRPC, DNS, Redis, Kafka, SQL, AMQP, WebSocket…) and keeps it queryable. Use these tools to answer questions about that traffic.

Workflow:
1. check_kubeshark_status — is it running, are the workers (one per node) up?
2. get_l7_data_boundaries — the time window the data covers (UTC).
3. get_api_stats — calls, error rates and p50/p95/p99 latency per endpoint/service/namespace/node: find what fails or is slow.
4. list_api_calls with a KFL filter — the matching calls, newest first, each with an id and node_id.
5. get_api_call with id and node_id — headers, bodies, timing and the L4 connection of one call.
L4: list_l4_flows (flows or per pod/namespace/service aggregates), get_l4_flow_summary (top talkers, cross-namespace).
Identity: list_workloads (workload → IPs), list_ips (IP → workload).

KFL (KFL2 = CEL over one entry): protocol flags \`http\`, \`dns\`, \`grpc\`, \`redis\`, \`kafka\`, \`postgresql\`, \`mysql\`, \`ws\`, \`conn\`/\`flow\` (TCP/UDP records); \`method\`, \`path\`, \`url\`, \`status_code\` (int; the RCODE for DNS), \`elapsed_time\` (int, microseconds), \`request.headers["x"]\`, \`src.ip\`, \`dst.ip\`, \`dst.port\`, \`src.name\`, \`dst.name\`, \`src.namespace\`, \`dst.namespace\`, \`dst.pod.name\`, \`dst.service.name\`, \`namespaces\`/\`pods\`/\`services\` (lists), \`dns_questions\`, \`dns_answers\`, \`redis_type\`, \`kafka_request_summary\`, \`postgresql_query\`, \`node_name\`, \`timestamp\`. Operators: == != < > && || ! in, .contains() .startsWith() .matches(). Examples: \`http && status_code >= 500\`, \`elapsed_time > 500000\`, \`dns && status_code != 0\`, \`dst.namespace == "shop" && path.startsWith("/api")\`. An unknown field is an error with its position and a suggestion — fix the filter and retry.

Times: every time shown is UTC (ISO-8601 with Z) with its Unix milliseconds; \`start\`/\`end\`/\`timestamp\` take Unix milliseconds or ISO-8601. Answers are bounded: when a list says "N more", narrow the KFL filter or the window instead of raising limit.${
    o.downloads
      ? `

Files: get_file_url turns a hub-relative path (under /api/) into a URL; download_file saves it inside the download directory on this machine and returns the local path.`
      : `

Files: get_file_url turns a hub-relative path (under /api/) into a URL to fetch with HTTP GET.`
  }${o.destructive ? '\n\nstart_kubeshark / stop_kubeshark deploy and remove Kubeshark: ask the user first.' : ''}`;
}

export interface McpPrompt {
  name: string;
  title: string;
  description: string;
  args: z.ZodRawShape;
  text(a: Record<string, string | undefined>): string;
}

const opt = (d: string) => z.string().optional().describe(d);
const scope = (a: Record<string, string | undefined>): string =>
  a.namespace ? ` in namespace \`${a.namespace}\` (KFL: \`"${a.namespace}" in namespaces\`)` : '';
const during = (a: Record<string, string | undefined>): string =>
  a.window ? ` over ${a.window}` : ' over the whole captured window (get_l7_data_boundaries)';

export const PROMPTS: readonly McpPrompt[] = [
  {
    name: 'analyze_traffic',
    title: 'Analyze traffic',
    description: 'Overview of the captured traffic: who talks to whom, volumes, errors, latency.',
    args: {
      namespace: opt('limit to a namespace'),
      window: opt('time window, e.g. "last 15 minutes"'),
    },
    text: (a) =>
      `Analyze the network traffic Kubeshark captured${scope(a)}${during(a)}. Call check_kubeshark_status, then get_l7_data_boundaries, then get_api_stats grouped by service and by endpoint, and get_l4_flow_summary. Summarize: busiest services and endpoints, error rates by class, p95/p99 latency, top talkers and cross-namespace traffic. Give times in UTC and cite call ids for anything notable.`,
  },
  {
    name: 'find_errors',
    title: 'Find errors',
    description: 'Failing calls: HTTP 4xx/5xx, DNS failures, calls without response.',
    args: { namespace: opt('limit to a namespace'), window: opt('time window') },
    text: (a) =>
      `Find failing API calls${scope(a)}${during(a)}. Use get_api_stats (group_by endpoint) to see error classes, then list_api_calls with KFL such as \`http && status_code >= 500\`, \`http && status_code >= 400 && status_code < 500\`, \`dns && status_code != 0\`. Open representative calls with get_api_call (id + node_id) and explain the likely cause from headers and bodies. Report each error pattern with counts, first/last time (UTC) and example ids.`,
  },
  {
    name: 'trace_request',
    title: 'Trace a request',
    description: 'Follow one request through services by path, header or id.',
    args: {
      path: opt('request path, e.g. /api/orders'),
      header: opt('header name=value to follow, e.g. x-request-id=abc'),
    },
    text: (a) => {
      const [h, v] = (a.header ?? '').split('=');
      const kfl = a.header
        ? `request.headers["${(h ?? '').toLowerCase()}"] == "${v ?? ''}"`
        : a.path
          ? `http && path.startsWith("${a.path}")`
          : 'http';
      return `Trace a request across services. Start with list_api_calls kfl \`${kfl}\` (format compact), order the calls by time (UTC), and open each hop with get_api_call to follow it from service to service (src.name → dst.name). Describe the chain with timings and where it failed or slowed down.`;
    },
  },
  {
    name: 'show_topology',
    title: 'Service topology',
    description: 'Which workloads talk to which, with protocols and volumes.',
    args: { namespace: opt('limit to a namespace') },
    text: (a) =>
      `Draw the service topology${scope(a)}. Use get_api_stats grouped by service for L7 calls, list_l4_flows with aggregate=service and aggregate=namespace for connections, get_l4_flow_summary for cross-namespace pairs, and list_workloads to name the IPs. Present it as a list of edges "src → dst (protocol, calls, errors, p95)".`,
  },
  {
    name: 'latency_analysis',
    title: 'Latency analysis',
    description: 'Slow endpoints and calls: percentiles, outliers, causes.',
    args: {
      namespace: opt('limit to a namespace'),
      threshold_ms: opt('slow threshold in ms (default 500)'),
    },
    text: (a) => {
      const us = Math.round(Number(a.threshold_ms ?? 500) * 1000) || 500000;
      return `Analyze latency${scope(a)}. get_api_stats grouped by endpoint gives p50/p95/p99 per endpoint; then list_api_calls with \`elapsed_time > ${us}\` (elapsed_time is in microseconds) for the slow calls, and get_api_call on a few to see sizes, status and the L4 connection (RTT, retransmissions). Rank the slow endpoints and explain.`;
    },
  },
  {
    name: 'security_audit',
    title: 'Security audit',
    description: 'Sensitive data, plain-text credentials, unexpected egress, auth failures.',
    args: { namespace: opt('limit to a namespace') },
    text: (a) =>
      `Audit the captured traffic for security issues${scope(a)}. Look for: credentials or tokens in plain HTTP (\`http && "authorization" in request.headers\`), auth failures (\`status_code == 401 || status_code == 403\`), unexpected external destinations (list_ips, list_l4_flows aggregate=namespace, get_l4_flow_summary cross-namespace), DNS lookups of unusual domains (\`dns\`), and database queries (\`postgresql || mysql\`). Values may be redacted by Kubeshark; report findings with call ids and UTC times.`,
  },
  {
    name: 'compare_traffic',
    title: 'Compare two windows',
    description: 'What changed between two time windows (before/after a deploy).',
    args: {
      before: opt('first window start–end (Unix ms or ISO)'),
      after: opt('second window start–end (Unix ms or ISO)'),
    },
    text: (a) =>
      `Compare traffic between two windows${a.before ? ` (before: ${a.before})` : ''}${a.after ? ` (after: ${a.after})` : ''}. Run get_api_stats with start/end for each window (grouped by endpoint, then by service) and compare calls, error rates and p95/p99. List what appeared, disappeared or regressed, with example calls from list_api_calls for each change.`,
  },
  {
    name: 'debug_connection',
    title: 'Debug a connection',
    description: 'Why two workloads cannot talk: DNS, TCP handshake, resets, HTTP errors.',
    args: {
      source: opt('client workload or IP'),
      destination: opt('server workload, service or IP'),
    },
    text: (a) =>
      `Debug connectivity${a.source ? ` from ${a.source}` : ''}${a.destination ? ` to ${a.destination}` : ''}. Resolve names to IPs with list_workloads / list_ips. Check DNS (\`dns\` calls for the destination name, failures \`status_code != 0\`), then list_l4_flows with ip= for handshakes, resets, retransmissions and state, then list_api_calls between the two (\`src.ip == "…" && dst.ip == "…"\`) for application errors. Say at which layer it breaks.`,
  },
  {
    name: 'kubeshark_usage',
    title: 'How to use Kubeshark tools',
    description: 'The tools, KFL and the recommended workflow.',
    args: {},
    text: () =>
      `${instructions({ downloads: true, destructive: false })}\n\nExplain to the user what Kubeshark can answer with these tools, then ask what to investigate.`,
  },
];
