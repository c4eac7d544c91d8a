/**
 * One row of a traffic list, made from an Entry: the worker's `view=summary` answers, the live
 * stream, the terminal live table and MCP's compact format all use this function, so a call
 * reads the same everywhere. The text columns reuse the CLI table's (`summaryOf`, `statusOf`).
 */
import { endpointNamespace } from '../entry/common-fields.ts';
import { endpointName } from '../entry/endpoint-name.ts';
import type { Endpoint, Entry } from '../entry/model.ts';
import { statusOf, summaryOf } from '../output/printer.ts';
import { viewOf } from '../tap/records.ts';
import type { EndpointSummary, EntrySummary } from './types.ts';

// MCP may not import entry/ (eslint.config.js ALLOWED): it names endpoints through api/.
export { endpointIdentity, type EndpointNameKind } from '../entry/endpoint-name.ts';

function endpointSummary(ep: Endpoint): EndpointSummary {
  const out: EndpointSummary = { ip: ep.ip, port: ep.port };
  const name = endpointName(ep);
  if (name) out.name = name;
  const ns = endpointNamespace(ep);
  if (ns) out.namespace = ns;
  return out;
}

/** Whether redaction changed the entry (it lists the KFL paths it replaced in `redacted`). */
function isRedacted(e: Entry): boolean {
  const r = e.redacted;
  return Array.isArray(r) && r.length > 0;
}

export function summarize(e: Entry): EntrySummary {
  const r = e.record;
  const s: EntrySummary = {
    id: e.id,
    node: e.node?.name || e.node_id,
    worker: e.worker,
    ts: e.timestamp,
    protocol: e.protocol,
    src: endpointSummary(e.src),
    dst: endpointSummary(e.dst),
    summary: summaryOf(e),
    statusText: statusOf(e),
    requestSize: e.requestSize,
    responseSize: e.responseSize,
  };
  const v = viewOf(e);
  const listed = v.listed(r);
  if (listed.method !== undefined) s.method = listed.method;
  if (listed.path !== undefined) s.path = listed.path;
  const status = v.status(r);
  if (status !== undefined) {
    s.status = status;
    s.statusClass = v.statusClass(status);
  }
  if (v.timed) s.elapsed = e.elapsed_time;
  if (e.error) s.error = { code: e.error.code, message: e.error.message };
  if (isRedacted(e)) s.redacted = true;
  return s;
}
