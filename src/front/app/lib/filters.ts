/**
 * Click-to-filter: which KFL field a value shown on screen belongs to, so a click can append
 * `field == value` with the field's own type. A value is clickable only when its field is in the
 * catalogue the hub sent (`/api/fields`), so a clause never names an unknown field.
 */
import type { EndpointSummary, EntrySummary } from '../../../api/types.ts';
import { clauseFor, type Field } from './kfl.ts';

export type Catalogue = ReadonlyMap<string, Field>;

/** The field of a summary's method-like part, per protocol (KFL.md names). */
export const METHOD_FIELDS: Readonly<Record<string, string>> = {
  http: 'method',
  grpc: 'method',
  gql: 'method',
  dns: 'dns_question_types',
  ws: 'ws_opcode',
  redis: 'redis_type',
  kafka: 'kafka_api_key_name',
  amqp: 'amqp_method',
  ldap: 'ldap_type',
  radius: 'radius_code_name',
  diameter: 'diameter_method',
  mongodb: 'mongodb_command',
  mysql: 'mysql_command',
  postgresql: 'postgresql_command',
  icmp: 'icmp_type',
  sctp: 'sctp_chunk_type',
};

/** The field of a summary's path-like part, per protocol. */
export const PATH_FIELDS: Readonly<Record<string, string>> = {
  http: 'path',
  grpc: 'path',
  gql: 'path',
  dns: 'dns_questions',
  redis: 'redis_key',
  kafka: 'kafka_request_summary',
  mongodb: 'mongodb_collection',
};

/** The field of a summary's status, per protocol (`status_code` is the RCODE for DNS). */
export const STATUS_FIELDS: Readonly<Record<string, string>> = {
  http: 'status_code',
  grpc: 'status_code',
  gql: 'status_code',
  dns: 'status_code',
  radius: 'radius_code',
};

export function catalogue(fields: readonly Field[]): Catalogue {
  return new Map(fields.map((f) => [f.name, f]));
}

/** `field == value` for a field of the catalogue; undefined when unknown or not comparable. */
export function clause(
  cat: Catalogue,
  name: string,
  value: string | number | boolean,
  key?: string,
): string | undefined {
  const f = cat.get(name);
  return f === undefined ? undefined : clauseFor(f, value, key);
}

export type SummaryPart = 'protocol' | 'method' | 'path' | 'status';

/** The clause for a part of a list row, or undefined when that part is not filterable. */
export function summaryClause(
  cat: Catalogue,
  s: EntrySummary,
  part: SummaryPart,
): string | undefined {
  switch (part) {
    case 'protocol':
      return clause(cat, 'protocol', s.protocol);
    case 'method': {
      const f = METHOD_FIELDS[s.protocol];
      return f !== undefined && s.method ? clause(cat, f, s.method) : undefined;
    }
    case 'path': {
      const f = PATH_FIELDS[s.protocol];
      return f !== undefined && s.path ? clause(cat, f, s.path) : undefined;
    }
    case 'status': {
      const f = STATUS_FIELDS[s.protocol];
      return f !== undefined && s.status !== undefined ? clause(cat, f, s.status) : undefined;
    }
  }
}

export type EndpointPart = 'name' | 'ip' | 'port' | 'namespace';

/** `src.name == "cart"`, `dst.port == 80`… */
export function endpointClause(
  cat: Catalogue,
  side: 'src' | 'dst',
  ep: EndpointSummary,
  part: EndpointPart,
): string | undefined {
  const v = part === 'port' ? ep.port : ep[part];
  if (v === undefined || v === '') return undefined;
  return clause(cat, `${side}.${part}`, v);
}

/**
 * Clickable leaves of an entry's KFL JSON view: a dotted path whose name is a catalogue field
 * with a scalar (or list element) value. `path` is the JSON path from the root, e.g.
 * `["src", "ip"]`; `index` is set for list elements.
 */
export function viewClause(
  cat: Catalogue,
  path: readonly string[],
  value: unknown,
  inList: boolean,
): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')
    return undefined;
  const name = path.join('.');
  const f = cat.get(name);
  if (f !== undefined) {
    if (f.type.startsWith('list<') !== inList) return undefined;
    return clauseFor(f, value);
  }
  // A map entry: `request.headers.host` → request.headers["host"].
  if (path.length >= 2 && !inList) {
    const mapName = path.slice(0, -1).join('.');
    const m = cat.get(mapName);
    if (m !== undefined && m.type.startsWith('map<string,string>'))
      return clauseFor(m, String(value), path[path.length - 1]);
  }
  return undefined;
}

export type EndKey =
  | { kind: 'address'; ip: string; port?: number }
  | { kind: 'named'; namespace?: string; name: string };

/** An end of a service-map edge: `ip`, `ip:port`, `[v6]:port`, `v6`, `namespace/name`, `name`. */
export function parseEndKey(key: string): EndKey {
  let m = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(key);
  if (m !== null) return { kind: 'address', ip: m[1]!, port: Number(m[2]) };
  m = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d+))?$/.exec(key);
  if (m !== null)
    return { kind: 'address', ip: m[1]!, port: m[2] !== undefined ? Number(m[2]) : undefined };
  if (/^[0-9a-fA-F]*:[0-9a-fA-F:.]*$/.test(key) && key.split(':').length > 2)
    return { kind: 'address', ip: key };
  const slash = key.indexOf('/');
  if (slash > 0)
    return { kind: 'named', namespace: key.slice(0, slash), name: key.slice(slash + 1) };
  return { kind: 'named', name: key };
}

/**
 * The filter for one end of a service-map edge, by the map's grouping: a node name, a
 * namespace, a pod or service (`namespace/name`), or an address.
 */
export function endClause(
  cat: Catalogue,
  side: 'src' | 'dst',
  by: 'pod' | 'service' | 'namespace' | 'node',
  key: string,
): string | undefined {
  if (by === 'node') return clause(cat, 'node_name', key);
  if (by === 'namespace') return clause(cat, `${side}.namespace`, key);
  const all = (parts: (string | undefined)[]): string | undefined =>
    parts.some((p) => p === undefined) ? undefined : parts.join(' && ');
  const k = parseEndKey(key);
  if (k.kind === 'address')
    return all([
      clause(cat, `${side}.ip`, k.ip),
      ...(k.port !== undefined ? [clause(cat, `${side}.port`, k.port)] : []),
    ]);
  const ns = k.namespace !== undefined ? clause(cat, `${side}.namespace`, k.namespace) : '';
  if (by === 'pod')
    return all([ns, clause(cat, `${side}.pod.name`, k.name)].filter((p) => p !== ''));
  // Service keys fall back to the pod when there is no service: match either.
  const svc = clause(cat, `${side}.service.name`, k.name);
  const pod = clause(cat, `${side}.pod.name`, k.name);
  const either = svc !== undefined && pod !== undefined ? `(${svc} || ${pod})` : undefined;
  return all([ns, either].filter((p) => p !== ''));
}
