/**
 * The simulated pod network: node and pod addresses on the loopback /8 (every 127.x.y.z address
 * is local, so processes in the host network namespace can bind and reach them all), and cluster
 * DNS as a per-pod /etc/hosts file bind-mounted into the container's private mount namespace.
 */
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import {
  closeSync,
  ftruncateSync,
  openSync,
  readFileSync,
  writeFileSync,
  writeSync,
} from 'node:fs';

/**
 * Each simulated cluster leases its own block `127.<block>.0.0/16` so that clusters started by
 * tests running in parallel (node --test runs files concurrently) never share pod or node IPs:
 * node i has InternalIP `127.<block>.1.<i+1>`, pods get `127.<block>.2.1 …`. The lease is a
 * listening socket on `127.<block>.0.1:NETWORK_LEASE_PORT`, released when the cluster closes
 * (or its process dies).
 */
export const NETWORK_LEASE_PORT = 64999;
/** Blocks 1 … MAX_BLOCK (block 0 is the host's own 127.0.0.0/16). */
export const MAX_BLOCK = 250;
export const POD_IP_MAX = 254;
/** At most this many nodes: one address each in NODE_IP_PREFIX. */
export const MAX_NODES = 254;
/** The cluster domain of service names, as a default kubeadm cluster. */
export const CLUSTER_DOMAIN = 'cluster.local';

/** One cluster's addresses (see NETWORK_LEASE_PORT). */
export class SimNetwork {
  constructor(readonly block: number) {}

  /** Node IPs: this prefix + (index + 1). */
  get nodePrefix(): string {
    return `127.${this.block}.1.`;
  }

  /** Pod IPs: this prefix + 1 … POD_IP_MAX. */
  get podPrefix(): string {
    return `127.${this.block}.2.`;
  }

  nodeIp(index: number): string {
    if (index < 0 || index >= MAX_NODES) throw new Error(`kube-sim: at most ${MAX_NODES} nodes`);
    return `${this.nodePrefix}${index + 1}`;
  }
}

/** Leases a free block (see NETWORK_LEASE_PORT); `release()` gives it back. */
export async function leaseNetwork(): Promise<{ net: SimNetwork; release(): Promise<void> }> {
  const first = (process.pid % MAX_BLOCK) + 1;
  for (let n = 0; n < MAX_BLOCK; n++) {
    const block = ((first - 1 + n) % MAX_BLOCK) + 1;
    const server: Server | undefined = await new Promise((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(undefined));
      s.listen(NETWORK_LEASE_PORT, `127.${block}.0.1`, () => resolve(s));
    });
    if (!server) continue;
    server.unref();
    return {
      net: new SimNetwork(block),
      release: () => new Promise((r) => server.close(() => r())),
    };
  }
  throw new Error('kube-sim: no free 127.x.0.0/16 block for a cluster network');
}

/** The pod CIDR allocator (the CNI's host-local IPAM): lowest free address, released on teardown. */
export class PodIpPool {
  private readonly used = new Set<number>();

  constructor(private readonly prefix: string) {}

  allocate(): string | undefined {
    for (let i = 1; i <= POD_IP_MAX; i++) {
      if (!this.used.has(i)) {
        this.used.add(i);
        return `${this.prefix}${i}`;
      }
    }
    return undefined;
  }

  release(ip: string): void {
    if (ip.startsWith(this.prefix)) this.used.delete(Number(ip.slice(this.prefix.length)));
  }
}

/** A service name and the addresses it resolves to. */
export interface ServiceRecord {
  name: string;
  namespace: string;
  ips: string[];
}

/**
 * The /etc/hosts a pod sees: the kubelet-managed header (localhost, the pod's own hostname), then
 * one line per service address with the names cluster DNS would answer for it (short name only
 * in the pod's own namespace, as the search path `<ns>.svc.cluster.local` makes it resolvable).
 */
export function hostsFile(opts: {
  podIp: string;
  hostnames: string[];
  namespace: string;
  services: ServiceRecord[];
  /** Lines of the node's own /etc/hosts (hostNetwork pods see the node's file). */
  nodeHosts?: string;
}): string {
  const lines = ['# Kubernetes-managed hosts file (kube-sim).'];
  if (opts.nodeHosts !== undefined) lines.push(opts.nodeHosts.trimEnd());
  else {
    lines.push('127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback');
  }
  if (opts.hostnames.length > 0) lines.push(`${opts.podIp}\t${opts.hostnames.join(' ')}`);
  const svc = [...opts.services].sort((a, b) =>
    `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`),
  );
  if (svc.length > 0) lines.push('# Services (cluster DNS, resolved to ready pod IPs).');
  for (const s of svc) {
    const names = [
      `${s.name}.${s.namespace}.svc.${CLUSTER_DOMAIN}`,
      `${s.name}.${s.namespace}.svc`,
      `${s.name}.${s.namespace}`,
      ...(s.namespace === opts.namespace ? [s.name] : []),
    ].join(' ');
    for (const ip of s.ips) lines.push(`${ip}\t${names}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Rewrites a file in place (same inode): a bind mount pins the inode, so a rename would leave
 * the running pod looking at the old file.
 */
export function rewriteInPlace(path: string, text: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'r+');
  } catch {
    writeFileSync(path, text);
    return;
  }
  try {
    ftruncateSync(fd, 0);
    writeSync(fd, text, 0);
  } finally {
    closeSync(fd);
  }
}

/** Reads a file if it exists (the node's /etc/hosts), else ''. */
export function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** How pod processes are isolated: own mount (+ UTS) namespace, or none (no root/unshare). */
export type Isolation = 'mount+uts' | 'mount' | 'none';

let isolation: Isolation | undefined;

/**
 * Whether pod processes can get a private mount namespace with their own /etc/hosts (and a UTS
 * namespace with the pod's hostname): needs root (CAP_SYS_ADMIN) and util-linux `unshare` (and
 * `hostname`). Probed once with the exact wrappers pods use.
 */
export function isolationAvailable(): Isolation {
  if (isolation === undefined) {
    const ok = (mode: Isolation): boolean => {
      const argv = [...wrap(mode, '/etc/hosts', 'probe'), 'true'];
      return spawnSync(argv[0]!, argv.slice(1), { stdio: 'ignore', timeout: 5000 }).status === 0;
    };
    isolation = ok('mount+uts') ? 'mount+uts' : ok('mount') ? 'mount' : 'none';
  }
  return isolation;
}

function wrap(mode: Isolation, hostsPath: string, hostname: string): string[] {
  if (mode === 'none') return [];
  if (mode === 'mount') {
    return [
      'unshare',
      '--mount',
      '--propagation',
      'private',
      '--',
      '/bin/sh',
      '-c',
      'mount --bind "$0" /etc/hosts && exec "$@"',
      hostsPath,
    ];
  }
  return [
    'unshare',
    '--mount',
    '--uts',
    '--propagation',
    'private',
    '--',
    '/bin/sh',
    '-c',
    'mount --bind "$0" /etc/hosts && hostname "$1" && shift && exec "$@"',
    hostsPath,
    hostname,
  ];
}

/**
 * argv that runs `argv` with `hostsPath` bind-mounted over /etc/hosts in a new mount namespace
 * (and, when available, `hostname` set in a new UTS namespace); `argv` itself when isolation is
 * unavailable.
 */
export function isolated(hostsPath: string, hostname: string, argv: string[]): string[] {
  return [...wrap(isolationAvailable(), hostsPath, hostname), ...argv];
}
