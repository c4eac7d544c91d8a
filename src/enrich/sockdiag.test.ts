/**
 * The sock_diag addon on this machine's real sockets: a socket's inode by its exact tuple equals
 * the one its fd links to; no such socket is 0. Built by `npm run build` (a C compiler and
 * node_api.h); CI always builds it first, so there it must be present.
 */
import assert from 'node:assert/strict';
import { readdirSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';
import { loadSockDiag } from './sockdiag.ts';

const diag = loadSockDiag();
const skip = diag || process.env.CI ? false : 'the addon is not built (npm run build; needs cc)';

/** Socket inodes this process holds (from its fd links). */
function ownInodes(): Set<number> {
  const out = new Set<number>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) out.add(Number(m[1]));
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

test(
  'sock_diag: a TCP socket by its exact tuple (IPv4, IPv6, dual-stack), none is 0',
  { skip },
  async () => {
    assert.ok(diag, 'the addon must be built in CI');
    for (const [listen, host] of [
      ['127.0.0.1', '127.0.0.1'],
      ['::1', '::1'],
      ['::', '127.0.0.1'], // dual-stack listener: the accepted socket is ::ffff:127.0.0.1
    ] as const) {
      const accepted: net.Socket[] = [];
      const server = net.createServer((s) => accepted.push(s)).listen(0, listen);
      await once(server, 'listening');
      const port = (server.address() as net.AddressInfo).port;
      const client = net.connect(port, host);
      await once(client, 'connect');
      while (accepted.length === 0) await new Promise((r) => setTimeout(r, 5));
      const local = { ip: host, port: client.localPort! };
      const remote = { ip: host, port };
      const mine = ownInodes();
      const c = diag.inode('tcp', local, remote)!;
      const s = diag.inode('tcp', remote, local)!;
      assert.ok(c > 0 && mine.has(c), `client socket ${c} (${listen})`);
      assert.ok(s > 0 && mine.has(s) && s !== c, `accepted socket ${s} (${listen})`);
      client.destroy();
      for (const a of accepted) a.destroy();
      server.close();
    }
    assert.equal(diag.inode('tcp', { ip: '127.0.0.1', port: 1 }, { ip: '127.0.0.1', port: 2 }), 0);
  },
);

test('sock_diag: a connected UDP socket', { skip }, async () => {
  assert.ok(diag);
  const a = dgram.createSocket('udp4');
  a.bind(0, '127.0.0.1');
  await once(a, 'listening');
  const b = dgram.createSocket('udp4');
  b.bind(0, '127.0.0.1');
  await once(b, 'listening');
  b.connect(a.address().port, '127.0.0.1');
  await once(b, 'connect');
  const ino = diag.inode(
    'udp',
    { ip: '127.0.0.1', port: b.address().port },
    { ip: '127.0.0.1', port: a.address().port },
  )!;
  assert.ok(ino > 0 && ownInodes().has(ino), `udp socket ${ino}`);
  a.close();
  b.close();
});
