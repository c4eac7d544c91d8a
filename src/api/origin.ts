/**
 * The access checks of the request gate (src/api/server.ts), pure: which `Host` a role answers
 * (DNS rebinding), which `Origin` may open the live stream or change state (cross-site pages),
 * and whose `X-Forwarded-Host`/`-Proto` are believed (trusted proxies).
 *
 * - Host: an IP literal (rebinding needs a name), `localhost` / `*.localhost`, a name of the
 *   allow-list (`tap.allowedHosts`), or — in the cluster — a service name of the release
 *   (`<release>-hub`, `-front` with `.<ns>`, `.<ns>.svc`, `.<ns>.svc.cluster.local`). No Host
 *   (HTTP/1.0) only from loopback.
 * - Origin (upgrades, and methods other than GET/HEAD/OPTIONS): absent, or the request's own
 *   host:port, or an allowed host. State-changing requests are also refused with
 *   `Sec-Fetch-Site: cross-site`.
 * - Forwarded headers: only from loopback or `tap.trustedProxies` (IPs or CIDRs), and only when
 *   the forwarded host passes the Host check too.
 */
import { BlockList, isIP } from 'node:net';
import { getPath, type ConfigTree } from '../config/load.ts';

export interface AccessPolicy {
  /** Extra host names answered (lower case, no port; `*.example.com` matches sub-domains). */
  readonly allowedHosts: readonly string[];
  /** Addresses (IPs or CIDRs) whose X-Forwarded-Host/-Proto are believed, besides loopback. */
  readonly trustedProxies: readonly string[];
}

/** Loopback only, no extra names: the local modes' policy (and the default). */
export const LOCAL_POLICY: AccessPolicy = { allowedHosts: [], trustedProxies: [] };

/** Kubernetes' default cluster domain. */
const CLUSTER_DOMAIN = 'cluster.local';

/** The names a service answers to in the cluster (`svc`, `svc.ns`, `svc.ns.svc`, FQDN). */
export function serviceHostNames(service: string, namespace: string): string[] {
  return [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.${CLUSTER_DOMAIN}`,
  ];
}

/**
 * The policy of a role from its config: `tap.allowedHosts`, `tap.trustedProxies`, and with
 * `inCluster` the release's service names (`tap.release.name`-hub/-front in
 * `tap.release.namespace`).
 */
export function accessPolicyOf(
  config: ConfigTree,
  opts: { inCluster?: boolean } = {},
): AccessPolicy {
  const list = (key: string): string[] => {
    const v = getPath(config, key);
    return Array.isArray(v) ? v.map((s) => String(s).trim().toLowerCase()).filter(Boolean) : [];
  };
  const allowedHosts = list('tap.allowedHosts');
  if (opts.inCluster) {
    const release = String(getPath(config, 'tap.release.name'));
    const ns = String(getPath(config, 'tap.release.namespace'));
    for (const svc of [`${release}-hub`, `${release}-front`]) {
      allowedHosts.push(...serviceHostNames(svc.toLowerCase(), ns.toLowerCase()));
    }
  }
  return { allowedHosts, trustedProxies: list('tap.trustedProxies') };
}

/** Whether this process runs in a Kubernetes pod (the kubelet sets this for every container). */
export function inClusterEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return typeof env.KUBERNETES_SERVICE_HOST === 'string' && env.KUBERNETES_SERVICE_HOST !== '';
}

/**
 * Splits a Host header value (`name:port`, `[v6]:port`, `v6` bare) into a lower-case host
 * (brackets removed) and its port; undefined when it is not a host.
 */
export function splitHost(value: string): { host: string; port: string } | undefined {
  const v = value.trim().toLowerCase();
  if (v === '') return undefined;
  if (v.startsWith('[')) {
    const end = v.indexOf(']');
    if (end < 0) return undefined;
    const host = v.slice(1, end);
    const rest = v.slice(end + 1);
    if (rest !== '' && !/^:\d{0,5}$/.test(rest)) return undefined;
    return isIP(host) === 6 ? { host, port: rest.slice(1) } : undefined;
  }
  // A bare IPv6 literal (not valid in Host, but unambiguous).
  if (isIP(v) === 6) return { host: v, port: '' };
  const colon = v.lastIndexOf(':');
  const host = colon < 0 ? v : v.slice(0, colon);
  const port = colon < 0 ? '' : v.slice(colon + 1);
  if (!/^\d{0,5}$/.test(port)) return undefined;
  // A trailing dot is the same name (`localhost.`).
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  if (!/^[a-z0-9_.-]+$/.test(name)) return undefined;
  return { host: name, port };
}

/** Whether a host (as `splitHost` gives it) is answered under `policy`. */
export function hostAllowed(host: string, policy: AccessPolicy): boolean {
  if (isIP(host) !== 0) return true;
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  for (const a of policy.allowedHosts) {
    if (a === host) return true;
    if (a.startsWith('*.') && host.endsWith(a.slice(1)) && host.length > a.length - 1) return true;
  }
  return false;
}

/** Whether a socket's peer address is loopback (`127.0.0.0/8`, `::1`, v4-mapped). */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = address.toLowerCase().replace(/^::ffff:/, '');
  return a === '::1' || (isIP(a) === 4 && a.startsWith('127.'));
}

/** Whether `address` is a proxy whose forwarded headers are believed. */
export function isTrustedProxy(address: string | undefined, policy: AccessPolicy): boolean {
  if (address === undefined) return false;
  if (isLoopback(address)) return true;
  if (policy.trustedProxies.length === 0) return false;
  const a = address.replace(/^::ffff:(?=\d+\.)/i, '');
  const family = isIP(a);
  if (family === 0) return false;
  const list = new BlockList();
  for (const p of policy.trustedProxies) {
    const [net, bits] = p.split('/', 2) as [string, string | undefined];
    const f = isIP(net);
    if (f === 0) continue;
    const type = f === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(net, type);
    else if (/^\d+$/.test(bits)) list.addSubnet(net, Number(bits), type);
  }
  return list.check(a, family === 6 ? 'ipv6' : 'ipv4');
}

/** The host:port of an Origin header (`null`, not a URL: undefined). */
function originHost(origin: string): { host: string; port: string; proto: string } | undefined {
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  const h = splitHost(u.host);
  if (h === undefined) return undefined;
  return { host: h.host, port: u.port, proto: u.protocol };
}

/** Default port of a scheme, to compare `Origin: http://x` with `Host: x:80`. */
const defaultPort = (proto: string): string => (proto === 'https:' ? '443' : '80');

/**
 * Whether an `Origin` may talk to a server reached as `host` (the request's Host): same
 * host:port, or an allowed name (IP literals and localhost are not enough here: a page on
 * another local port is another origin).
 */
export function originAllowed(origin: string, host: string, policy: AccessPolicy): boolean {
  const o = originHost(origin);
  if (o === undefined) return false;
  const h = splitHost(host);
  if (h !== undefined) {
    const oPort = o.port || defaultPort(o.proto);
    const hPort = h.port || defaultPort(o.proto);
    if (o.host === h.host && oPort === hPort) return true;
  }
  if (isIP(o.host) !== 0 || o.host === 'localhost' || o.host.endsWith('.localhost')) return false;
  return hostAllowed(o.host, policy);
}

/** Methods that change nothing (no Origin/Sec-Fetch-Site check). */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** What the gate needs of a request. */
export interface AccessRequest {
  method: string;
  upgrade: boolean;
  headers: Record<string, string | string[] | undefined>;
  /** The socket's peer address. */
  remoteAddress: string | undefined;
}

/** The gate's verdict: allowed (with the public base URL the client used), or why not. */
export type AccessVerdict = { ok: true; publicBase: string } | { ok: false; reason: string };

const first = (v: string | string[] | undefined): string | undefined =>
  Array.isArray(v) ? v[0] : v;

/** The checks of the gate, in order: Host, forwarded host, Origin, Sec-Fetch-Site. */
export function checkAccess(req: AccessRequest, policy: AccessPolicy): AccessVerdict {
  const hostHeader = first(req.headers.host) ?? '';
  let base = '';
  /** Hosts the client may have used: the Host, and a trusted proxy's forwarded host. */
  const reached = [hostHeader];
  if (hostHeader.trim() === '') {
    if (!isLoopback(req.remoteAddress)) {
      return { ok: false, reason: 'a Host header is required' };
    }
    base = 'http://localhost';
  } else {
    const h = splitHost(hostHeader);
    if (h === undefined || !hostAllowed(h.host, policy)) {
      return { ok: false, reason: `host not allowed: ${hostHeader.slice(0, 100)}` };
    }
    base = `http://${hostHeader.trim()}`;
  }
  if (isTrustedProxy(req.remoteAddress, policy)) {
    const fwd = first(req.headers['x-forwarded-host'])?.split(',')[0]?.trim();
    if (fwd) {
      const f = splitHost(fwd);
      if (f === undefined || !hostAllowed(f.host, policy)) {
        return { ok: false, reason: `forwarded host not allowed: ${fwd.slice(0, 100)}` };
      }
      const proto = first(req.headers['x-forwarded-proto'])?.split(',')[0]?.trim();
      base = `${proto === 'https' ? 'https' : 'http'}://${fwd}`;
      reached.push(fwd);
    }
  }
  const origin = first(req.headers.origin);
  const changes = !SAFE_METHODS.has(req.method.toUpperCase());
  if ((req.upgrade || changes) && origin !== undefined) {
    if (!reached.some((h) => originAllowed(origin, h, policy))) {
      return { ok: false, reason: `cross-origin request refused (Origin ${origin.slice(0, 100)})` };
    }
  }
  if (changes && first(req.headers['sec-fetch-site'])?.toLowerCase() === 'cross-site') {
    return { ok: false, reason: 'cross-site request refused' };
  }
  return { ok: true, publicBase: base };
}

/** The public base URL of each request that passed the gate (`publicBaseOf`). */
const bases = new WeakMap<object, string>();

/** Records the gate's public base URL of a request (the raw IncomingMessage). */
export function setPublicBase(req: object, base: string): void {
  bases.set(req, base);
}

/**
 * The base URL the client used to reach this server, as the gate established it: the checked
 * Host, or a trusted proxy's checked X-Forwarded-Host/-Proto; `http://localhost` otherwise.
 */
export function publicBaseOf(req: object): string {
  return bases.get(req) ?? 'http://localhost';
}
