/**
 * The capture filter handed to tcpdump: `tap.bpfOverride` when set, otherwise one built from the
 * targeted workloads' addresses (from Kubernetes or the local process table), minus the tool's
 * own ports so the dashboard/hub/worker traffic is not captured in a loop.
 */
import { isIP } from 'node:net';
import { KsError } from '../../util/errors.ts';

export interface BpfTarget {
  /** IPv4 or IPv6 address of a targeted workload (a zone suffix `%eth0` is ignored). */
  ip: string;
  /** Only traffic on these ports (either side) of that address; absent or empty: all of it. */
  ports?: readonly number[];
}

export interface BpfOptions {
  /** `tap.bpfOverride`: used as given when non-blank. */
  override?: string;
  /** Targeted workloads; absent or empty: every host. */
  targets?: readonly BpfTarget[];
  /** The tool's own ports (hub, front, worker API, metrics): never captured. */
  excludePorts?: readonly number[];
}

/**
 * Budget for the address part of a built filter, in host weights: an IPv4 host costs 1, an IPv6
 * host {@link IPV6_HOST_WEIGHT} (it compares four words in each direction). Measured with
 * `tcpdump -d`: 800 IPv4 hosts compile to ~3000 classic BPF instructions, and the kernel refuses
 * programs over 4096 (BPF_MAXINSNS), after which libpcap silently filters in user space — every
 * packet then crosses into tcpdump. Past the budget the filter keeps only the port exclusion;
 * the worker still selects targets by identity after dissection.
 */
export const MAX_BPF_HOST_WEIGHT = 800;
export const IPV6_HOST_WEIGHT = 5;

/**
 * The filter for tcpdump's last argument; an empty string means "capture everything".
 * Throws KS_ERR_CAPTURE_FILTER for an address or port that is not one.
 */
export function buildBpf(o: BpfOptions): string {
  const override = o.override?.trim();
  if (override) return override;
  const exclude = [...new Set((o.excludePorts ?? []).map(checkPort))].sort((a, b) => a - b);
  const hosts = targetClause(o.targets ?? []);
  const parts: string[] = [];
  if (hosts) parts.push(hosts);
  if (exclude.length > 0) parts.push(`not (${exclude.map((p) => `port ${p}`).join(' or ')})`);
  return parts.join(' and ');
}

/** `(hosts…) or ((ports…) and (hosts…)) …`, or '' for every host (none, or over budget). */
function targetClause(targets: readonly BpfTarget[]): string {
  // One entry per address: all ports if any target of it wants all, else the union of ports.
  const byIp = new Map<string, Set<number> | 'all'>();
  for (const t of targets) {
    const ip = checkIp(t.ip);
    const ports = t.ports && t.ports.length > 0 ? t.ports.map(checkPort) : undefined;
    const had = byIp.get(ip);
    if (had === 'all' || !ports) byIp.set(ip, 'all');
    else byIp.set(ip, new Set([...(had ?? []), ...ports]));
  }
  if (byIp.size === 0) return '';
  let weight = 0;
  for (const ip of byIp.keys()) weight += isIP(ip) === 6 ? IPV6_HOST_WEIGHT : 1;
  if (weight > MAX_BPF_HOST_WEIGHT) return '';
  // Addresses sharing a port set share one port test: far fewer instructions than per host.
  const groups = new Map<string, string[]>();
  for (const [ip, ports] of byIp) {
    const key = ports === 'all' ? '' : [...ports].sort((a, b) => a - b).join(',');
    const list = groups.get(key) ?? [];
    list.push(ip);
    groups.set(key, list);
  }
  const clauses: string[] = [];
  for (const [key, ips] of [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const hostList = ips.sort().map((ip) => `${isIP(ip) === 6 ? 'ip6' : 'ip'} host ${ip}`);
    const hostExpr = hostList.length === 1 ? hostList[0]! : `(${hostList.join(' or ')})`;
    if (key === '') {
      clauses.push(hostExpr);
    } else {
      const ports = key.split(',').map((p) => `port ${p}`);
      const portExpr = ports.length === 1 ? ports[0]! : `(${ports.join(' or ')})`;
      clauses.push(`(${hostExpr} and ${portExpr})`);
    }
  }
  return clauses.length === 1 ? clauses[0]! : `(${clauses.join(' or ')})`;
}

function checkIp(raw: string): string {
  const ip = raw.trim().replace(/%.*$/, '');
  if (isIP(ip) === 0) {
    throw new KsError('KS_ERR_CAPTURE_FILTER', `capture filter: "${raw}" is not an IP address`);
  }
  return ip.toLowerCase();
}

function checkPort(p: number): number {
  if (!Number.isInteger(p) || p < 1 || p > 65535) {
    throw new KsError('KS_ERR_CAPTURE_FILTER', `capture filter: port ${p} is not in 1-65535`);
  }
  return p;
}
