/**
 * The sock_diag addon (src/native/sockdiag.c, built by scripts/build-native.mjs): a socket's
 * inode from its exact address tuple, by one netlink request — microseconds, where reading
 * /proc/net/tcp walks the kernel's whole connection hash (about 5 ms on a 24 GiB machine).
 * Inside the executable it is a SEA asset, written to a private temporary file to be loaded (a
 * shared object cannot be loaded from memory) and removed at once; from the sources it is
 * `dist/native/sockdiag.node`. Absent (not built: no C compiler; not Linux) or failing to load,
 * callers fall back to /proc.
 */
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { getAsset, isSea } from 'node:sea';
import { fileURLToPath } from 'node:url';

/** The SEA asset key and the file name in dist/native/. */
export const SOCKDIAG_ASSET = 'native/sockdiag.node';

export interface Endpoint4 {
  ip: string;
  port: number;
}

export interface SockDiag {
  /**
   * The inode of the socket whose own address is `local` and peer `remote` (in this process's
   * network namespace), 0 when there is none, undefined on an error.
   */
  inode(transport: 'tcp' | 'udp', local: Endpoint4, remote: Endpoint4): number | undefined;
}

interface Addon {
  inode(
    family: number,
    protocol: number,
    localIp: string,
    localPort: number,
    remoteIp: string,
    remotePort: number,
  ): number;
}

function dlopen(file: string): Addon {
  const m = { exports: {} as Addon };
  process.dlopen(m, file);
  if (typeof m.exports.inode !== 'function') throw new Error('sockdiag addon without inode()');
  return m.exports;
}

function loadAddon(): Addon | undefined {
  if (process.platform !== 'linux') return undefined;
  if (isSea()) {
    let bytes: ArrayBuffer;
    try {
      bytes = getAsset(SOCKDIAG_ASSET);
    } catch {
      return undefined; // built without a C compiler
    }
    const dir = mkdtempSync(join(tmpdir(), 'kubeshark-native-'));
    try {
      const file = join(dir, 'sockdiag.node');
      writeFileSync(file, Buffer.from(bytes), { mode: 0o500 });
      return dlopen(file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const url = (import.meta as { url?: string }).url;
  const file =
    typeof url === 'string' && url.startsWith('file:')
      ? resolve(dirname(fileURLToPath(url)), '../../dist', SOCKDIAG_ASSET)
      : join(dirname(resolve(process.argv[1] ?? '.')), SOCKDIAG_ASSET);
  return existsSync(file) ? dlopen(file) : undefined;
}

const PROTOCOL = { tcp: 6, udp: 17 } as const;
const mapped = (ip: string): string => `::ffff:${ip}`;

/** The addon, or undefined when it is not there or does not load (callers use /proc). */
export function loadSockDiag(): SockDiag | undefined {
  let addon: Addon | undefined;
  try {
    addon = loadAddon();
  } catch {
    return undefined;
  }
  if (!addon) return undefined;
  const a = addon;
  return {
    inode(transport, local, remote) {
      const proto = PROTOCOL[transport];
      const v6 = local.ip.includes(':');
      let r = a.inode(v6 ? 6 : 4, proto, local.ip, local.port, remote.ip, remote.port);
      // An IPv4 endpoint may be a dual-stack IPv6 socket (`::ffff:a.b.c.d`).
      if (r === 0 && !v6) {
        r = a.inode(6, proto, mapped(local.ip), local.port, mapped(remote.ip), remote.port);
      }
      return r < 0 ? undefined : r;
    },
  };
}
