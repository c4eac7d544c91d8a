/**
 * An endpoint's display name, chosen in one place (../shared/KFL.md, `src.name`): the pod, else
 * the service, else the DNS name, else the process. KFL's `src.name` / `dst.name`, the API
 * summaries (dashboard, live table, MCP compact lists) and MCP's `list_ips` / `list_workloads`
 * all use these functions, so one endpoint reads the same everywhere. Without a name the caller
 * shows the address (`ip:port`).
 */

/** What an endpoint's name can come from (an Endpoint, or one read back from the KFL view). */
export interface EndpointNameSources {
  pod?: { name: string };
  service?: { name: string };
  dns?: string;
  process?: { name: string };
}

/** Which kind of identity gave an endpoint its name. */
export type EndpointNameKind = 'pod' | 'service' | 'dns' | 'process';

/**
 * The identity an endpoint is named after: pod, else service, else DNS name, else process (an
 * empty name counts as none). Undefined when none is known.
 */
export function endpointIdentity(
  p: EndpointNameSources,
): { kind: EndpointNameKind; name: string } | undefined {
  if (p.pod?.name) return { kind: 'pod', name: p.pod.name };
  if (p.service?.name) return { kind: 'service', name: p.service.name };
  if (p.dns) return { kind: 'dns', name: p.dns };
  if (p.process?.name) return { kind: 'process', name: p.process.name };
  return undefined;
}

/**
 * An endpoint's display name (KFL `src.name` / `dst.name`): `endpointIdentity`'s name, else the
 * name the resolver gave without any of those (a node's name for a host-network address).
 * Undefined when nothing is known.
 */
export function endpointName(p: EndpointNameSources & { name?: string }): string | undefined {
  return endpointIdentity(p)?.name ?? (p.name || undefined);
}
