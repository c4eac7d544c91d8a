/**
 * Pure parsers of the Linux /proc files the local resolver reads: socket tables
 * (`net/tcp`, `tcp6`, `udp`, `udp6`), local addresses (`net/fib_trie`, `net/if_inet6`), a
 * process's name (`comm`, `cmdline`) and container (`cgroup`). No I/O here, so the formats are
 * tested on fixture text.
 */
import { formatIPv6 } from '../tap/decode/addr.ts';

/** TCP states as /proc prints them (hex), from include/net/tcp_states.h. */
export const TCP_STATES: Readonly<Record<number, string>> = {
  0x01: 'ESTABLISHED',
  0x02: 'SYN_SENT',
  0x03: 'SYN_RECV',
  0x04: 'FIN_WAIT1',
  0x05: 'FIN_WAIT2',
  0x06: 'TIME_WAIT',
  0x07: 'CLOSE',
  0x08: 'CLOSE_WAIT',
  0x09: 'LAST_ACK',
  0x0a: 'LISTEN',
  0x0b: 'CLOSING',
  0x0c: 'NEW_SYN_RECV',
};

export interface SocketRow {
  transport: 'tcp' | 'udp';
  /** Normalised text (IPv4-mapped IPv6 as dotted quad, IPv6 per RFC 5952). */
  localIp: string;
  localPort: number;
  remoteIp: string;
  remotePort: number;
  /** Numeric state (`0x0a` LISTEN for TCP; UDP: 0x07 unconnected, 0x01 connected). */
  state: number;
  /** Socket inode (0 for sockets no process holds, e.g. TIME_WAIT). */
  inode: number;
}

const HEX8 = /^[0-9A-Fa-f]{8}$/;
const HEX32 = /^[0-9A-Fa-f]{32}$/;

/** `0100007F` (a 32-bit word in host order, little-endian here) → `127.0.0.1`. */
export function decodeHexIPv4(hex: string): string | undefined {
  if (!HEX8.test(hex)) return undefined;
  const n = parseInt(hex, 16);
  return `${n & 0xff}.${(n >>> 8) & 0xff}.${(n >>> 16) & 0xff}.${n >>> 24}`;
}

/** 32 hex digits: four 32-bit words, each in host (little-endian) order → address bytes. */
export function decodeHexIPv6(hex: string): string | undefined {
  if (!HEX32.test(hex)) return undefined;
  const b = new Uint8Array(16);
  for (let w = 0; w < 4; w++) {
    const n = parseInt(hex.slice(w * 8, w * 8 + 8), 16);
    b[w * 4] = n & 0xff;
    b[w * 4 + 1] = (n >>> 8) & 0xff;
    b[w * 4 + 2] = (n >>> 16) & 0xff;
    b[w * 4 + 3] = n >>> 24;
  }
  return formatIPv6Bytes(b);
}

/**
 * RFC 5952 text of 16 address bytes (as the packet decoder writes addresses), except that an
 * IPv4-mapped address becomes its plain dotted quad: a dual-stack socket bound to
 * `::ffff:127.0.0.1` is the same endpoint as the IPv4 packets' `127.0.0.1`.
 */
export function formatIPv6Bytes(b: Uint8Array): string {
  const mapped = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  if (mapped) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  return formatIPv6(Buffer.from(b.buffer, b.byteOffset, 16), 0);
}

/**
 * An address as entries carry it → the form the socket tables are keyed by: IPv6 re-written per
 * RFC 5952 (any input spelling), IPv4-mapped IPv6 as a dotted quad; IPv4 unchanged. Returns
 * undefined for text that is no address.
 */
export function normalizeIp(ip: string): string | undefined {
  if (!ip.includes(':')) return /^\d{1,3}(\.\d{1,3}){3}$/.test(ip) ? ip : undefined;
  const zone = ip.indexOf('%');
  const text = (zone < 0 ? ip : ip.slice(0, zone)).toLowerCase();
  const b = parseIPv6(text);
  return b && formatIPv6Bytes(b);
}

function parseIPv6(text: string): Uint8Array | undefined {
  let head = text;
  let tail4: number[] | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tail4 = text
      .slice(lastColon + 1)
      .split('.')
      .map((x) => Number(x));
    if (tail4.length !== 4 || tail4.some((x) => !Number.isInteger(x) || x < 0 || x > 255))
      return undefined;
    head = text.slice(0, lastColon + 1) + '0:0';
  }
  const dbl = head.indexOf('::');
  if (dbl !== head.lastIndexOf('::')) return undefined;
  const parts = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const left = dbl < 0 ? parts(head) : parts(head.slice(0, dbl));
  const right = dbl < 0 ? [] : parts(head.slice(dbl + 2));
  const missing = 8 - left.length - right.length;
  if (dbl < 0 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...left, ...Array<string>(dbl < 0 ? 0 : missing).fill('0'), ...right];
  const b = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const h = groups[i]!;
    if (!/^[0-9a-f]{1,4}$/.test(h)) return undefined;
    const n = parseInt(h, 16);
    b[2 * i] = n >> 8;
    b[2 * i + 1] = n & 0xff;
  }
  if (tail4) b.set(tail4, 12);
  return b;
}

/**
 * One of /proc/net/{tcp,tcp6,udp,udp6}. Columns: `sl local rem st tx:rx tr:when retrnsmt uid
 * timeout inode …`; addresses are `HEX:PORT` with the port in big-endian hex. Malformed lines
 * are skipped (the kernel never writes them, a fixture might).
 */
export function parseSocketTable(text: string, transport: 'tcp' | 'udp', v6: boolean): SocketRow[] {
  const out: SocketRow[] = [];
  const decode = v6 ? decodeHexIPv6 : decodeHexIPv4;
  const f: string[] = [];
  // Tokens by hand: a busy machine has thousands of rows per table, every refresh.
  for (let start = 0; start < text.length;) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    f.length = 0;
    for (let i = start; i < end && f.length < 10;) {
      while (i < end && text.charCodeAt(i) === 0x20) i++;
      const st = i;
      while (i < end && text.charCodeAt(i) !== 0x20) i++;
      if (i > st) f.push(text.slice(st, i));
    }
    start = end + 1;
    if (f.length < 10 || !f[0]!.endsWith(':')) continue;
    const l = f[1]!;
    const r = f[2]!;
    const lc = l.indexOf(':');
    const rc = r.indexOf(':');
    if (lc < 0 || rc < 0) continue;
    const localIp = decode(l.slice(0, lc));
    const remoteIp = decode(r.slice(0, rc));
    const inode = Number(f[9]);
    if (localIp === undefined || remoteIp === undefined || !Number.isSafeInteger(inode)) continue;
    out.push({
      transport,
      localIp,
      localPort: parseInt(l.slice(lc + 1), 16),
      remoteIp,
      remotePort: parseInt(r.slice(rc + 1), 16),
      state: parseInt(f[3]!, 16),
      inode,
    });
  }
  return out;
}

/**
 * Addresses of the `/32 host LOCAL` leaves of /proc/net/fib_trie (the kernel's local routing
 * table: every IPv4 address assigned to this network namespace). A leaf line `|-- A.B.C.D` is
 * followed by one line per prefix length and type.
 */
export function parseFibTrieLocal(text: string): string[] {
  const out = new Set<string>();
  let leaf: string | undefined;
  for (const line of text.split('\n')) {
    const m = /\|--\s+(\d{1,3}(?:\.\d{1,3}){3})\s*$/.exec(line);
    if (m) {
      leaf = m[1];
      continue;
    }
    if (leaf !== undefined && /^\s*\/32 host LOCAL\s*$/.test(line)) out.add(leaf);
    else if (!/^\s*\/\d+ /.test(line)) leaf = undefined;
  }
  return [...out];
}

/** IPv6 addresses of /proc/net/if_inet6 (`<32 hex> ifindex plen scope flags name`). */
export function parseIfInet6(text: string): string[] {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const hex = line.trim().split(/\s+/)[0];
    if (hex === undefined || !HEX32.test(hex)) continue;
    // if_inet6 prints the address bytes in network order (unlike the socket tables).
    const b = new Uint8Array(16);
    for (let i = 0; i < 16; i++) b[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    out.add(formatIPv6Bytes(b));
  }
  return [...out];
}

/** The kernel truncates `comm` to TASK_COMM_LEN - 1 characters. */
export const COMM_MAX_CHARS = 15;

/**
 * A process's name: `comm`, or — when `comm` is cut at 15 characters — the base name of
 * argv[0] that it is the start of (e.g. `kube-controller` → `kube-controller-manager`).
 * Interpreters keep their own name (`node`, `python3`), as `ps` shows them.
 */
export function processName(comm: string, cmdline: string): string {
  const c = comm.replace(/\n$/, '');
  if (c.length < COMM_MAX_CHARS) return c;
  const argv0 = cmdline.split('\0')[0] ?? '';
  const base = argv0.slice(argv0.lastIndexOf('/') + 1).split(/\s/)[0] ?? '';
  return base.length > c.length && base.startsWith(c) ? base : c;
}

/**
 * The container a process runs in, from its /proc/[pid]/cgroup: the 64-hex id that container
 * runtimes put in the cgroup path — `docker-<id>.scope`, `/docker/<id>`, `cri-containerd-<id>`,
 * `crio-<id>`, `libpod-<id>` (podman), `/kubepods/…/pod<uid>/<id>`. Podman's `libpod-conmon-`
 * scope is the monitor process, outside the container: not matched.
 */
export function containerIdFromCgroup(text: string): string | undefined {
  let found: string | undefined;
  for (const line of text.split('\n')) {
    const path = line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
    if (path.includes('conmon')) continue;
    const re = /(?:^|[/-])([0-9a-f]{64})(?:\.scope)?(?=$|\/)/g;
    for (let m = re.exec(path); m; m = re.exec(path)) found = m[1];
    if (found) return found;
  }
  return found;
}
