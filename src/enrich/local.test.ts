/**
 * The local resolver on a fixture /proc tree (every table format, namespaces, history) and on
 * this machine's real /proc with a real server and real client processes on loopback.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { KsError } from '../util/errors.ts';
import { createLocalResolver, LOCAL_IDENTITY_TTL_MS, LOCAL_MAX_PENDING } from './local.ts';
import { loadSockDiag } from './sockdiag.ts';

const FIXTURE = new URL('./testdata/proc', import.meta.url).pathname;
const temps: string[] = [];
after(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

/** A copy of the fixture with its `<name>.link` files turned into symlinks (see README). */
function procTree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ks-proc-'));
  temps.push(dir);
  cpSync(FIXTURE, dir, { recursive: true });
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.link')) {
        const target = readFileSync(p, 'utf8').trim();
        unlinkSync(p);
        symlinkSync(target, p.slice(0, -'.link'.length));
      }
    }
  };
  walk(dir);
  return dir;
}

const T0 = 1_760_000_000_000; // ms
const us = (ms: number): number => ms * 1000;

test('fixture: every socket kind resolves to its process, pid and container', () => {
  const r = createLocalResolver({ procRoot: procTree(), refreshMs: 0, now: () => T0 });
  try {
    const who = (ip: string, port: number, tr: 'tcp' | 'udp' = 'tcp'): unknown => {
      const id = r.lookup(ip, port, tr, us(T0));
      return id && [id.process?.name, id.process?.pid, id.containerId];
    };
    const ctrl = '0123456789abcdef'.repeat(4);
    const api = 'fedcba9876543210'.repeat(4);
    const redis = 'aaaabbbbccccddddeeeeffff0000111122223333444455556666777788889999';
    // Accepted connection (exact) and the 0.0.0.0 listener for every other local address.
    assert.deepEqual(who('192.0.2.2', 80), ['nginx', 100, undefined]);
    assert.deepEqual(who('2001:db8::5', 80), ['nginx', 100, undefined]);
    assert.deepEqual(who('127.0.0.1', 80), ['nginx', 100, undefined]);
    // A dual-stack socket (::ffff:127.0.0.1) answers for the IPv4 address, in any spelling;
    // comm cut at 15 characters is completed from argv[0]; kubepods cgroup → container.
    assert.deepEqual(who('127.0.0.1', 51000), ['kube-controller-manager', 101, ctrl]);
    assert.deepEqual(who('::ffff:127.0.0.1', 51000), ['kube-controller-manager', 101, ctrl]);
    // Loopback listener: exact, and by port for the machine's other addresses.
    assert.deepEqual(who('127.0.0.1', 6443), ['api-server', 102, api]);
    assert.deepEqual(who('192.0.2.2', 6443), ['api-server', 102, api]);
    assert.deepEqual(who('::1', 9090), ['api-server', 102, api]);
    assert.deepEqual(who('2001:0db8:0:0::5', 443), ['api-server', 102, api]);
    // UDP: wildcard IPv4 and IPv6 sockets, and a connected client socket.
    assert.deepEqual(who('192.0.2.2', 53, 'udp'), ['dnsmasq', 103, undefined]);
    assert.deepEqual(who('127.0.0.1', 53, 'udp'), ['dnsmasq', 103, undefined]);
    assert.deepEqual(who('192.0.2.2', 42001, 'udp'), ['dig', 104, undefined]);
    // Another network namespace (a container): its own tables and addresses.
    assert.deepEqual(who('172.17.0.5', 6379), ['redis-server', 200, redis]);
    // Not found: the transport differs, a socket no process holds, a remote address, junk.
    assert.equal(who('192.0.2.2', 53, 'tcp'), undefined);
    assert.equal(who('192.0.2.2', 54321), undefined);
    assert.equal(who('8.8.8.8', 53, 'udp'), undefined);
    assert.equal(who('192.0.2.9', 40000), undefined);
    assert.equal(who('nonsense', 1), undefined);
    const s = r.stats();
    assert.equal(s.namespaces, 2);
    assert.equal(s.processes, 6);
    assert.equal(s.sockets, 12); // every table row with an inode (TIME_WAIT has none)
    assert.equal(s.ownedSockets, 11); // all but inode 1999
    assert.equal(s.lookups, 18);
    assert.equal(s.hits, 13);
    // Each local key that missed was looked for once (targeted), and not again at once.
    assert.equal(s.missLooks, 2);
    assert.equal(s.refreshes, 1);
    assert.equal(who('192.0.2.2', 54321), undefined);
    assert.equal(r.stats().missLooks, 2, 'a key is looked for again only after a while');
  } finally {
    r.close();
  }
});

test('fixture: fd links are read only for sockets without a known owner', () => {
  const root = procTree();
  let now = T0;
  const r = createLocalResolver({ procRoot: root, refreshMs: 0, now: () => now });
  try {
    assert.equal(r.stats().fdScans, 6, 'first refresh: every process');
    now += 1000;
    r.refresh();
    // Inode 1999 has no owner and is not looked for again before LOCAL_UNOWNED_RETRY_MS.
    assert.equal(r.stats().fdScans, 0);
    // nginx opens a new connection: one more socket, found by reading fd links again.
    symlinkSync('socket:[1011]', join(root, '100', 'fd', '9'));
    const tcp = join(root, 'net', 'tcp');
    writeFileSync(
      tcp,
      readFileSync(tcp, 'utf8') +
        '   5: 020200C0:C350 0A0200C0:0050 01 00000000:00000000 00:00000000 00000000     0        0 1011 1 0000000000000000 100 0 0 10 0\n',
    );
    // A miss on a local address looks for that socket at once, without a full refresh.
    assert.equal(r.lookup('192.0.2.2', 50000, 'tcp', us(now))?.process?.name, 'nginx');
    const s = r.stats();
    assert.equal(s.refreshes, 2);
    assert.equal(s.missLooks, 1);
    assert.equal(s.targetedLooks, 1);
    assert.ok(s.fdScans >= 1 && s.fdScans <= 6, `fdScans ${s.fdScans}`);
  } finally {
    r.close();
  }
});

/** Adds process `pid` (comm `name`) holding socket `inode` on `192.0.2.2:port` to a tree. */
function addClient(root: string, pid: number, name: string, inode: number, port: number): void {
  const dir = join(root, String(pid));
  mkdirSync(join(dir, 'fd'), { recursive: true });
  writeFileSync(join(dir, 'comm'), `${name}\n`);
  writeFileSync(join(dir, 'cmdline'), `${name}\0`);
  writeFileSync(join(dir, 'cgroup'), '0::/user.slice\n');
  symlinkSync(`socket:[${inode}]`, join(dir, 'fd', '3'));
  const tcp = join(root, 'net', 'tcp');
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  writeFileSync(
    tcp,
    readFileSync(tcp, 'utf8') +
      `  9${pid % 10}: 020200C0:${hexPort} 0A0200C0:0050 01 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`,
  );
}

test('fixture: a flow start looks for its sockets at once; a client that is gone by the lookup is named', async () => {
  const root = procTree();
  let now = T0;
  const r = createLocalResolver({ procRoot: root, refreshMs: 0, now: () => now });
  try {
    addClient(root, 300, 'curl', 3001, 40123);
    now += 5;
    // The pipeline saw the SYN: the client's port is unknown, nginx's listener was just seen.
    r.prefetch('192.0.2.2', 40123, 'tcp');
    r.prefetch('192.0.2.2', 80, 'tcp');
    r.prefetch('8.8.8.8', 80, 'tcp'); // not local: nothing to look for
    const s = r.stats();
    assert.equal(s.prefetched, 1);
    assert.equal(s.prefetchKnown, 1);
    assert.equal(s.targetedLooks, 1, 'the first flow start is looked for at once');
    assert.equal(s.fdScans, 1, 'the new process is scanned first, and alone');
    assert.equal(s.refreshes, 1, 'no full refresh');
    // curl exits before its call is complete: its socket and its /proc entry are gone.
    rmSync(join(root, '300'), { recursive: true });
    writeFileSync(
      join(root, 'net', 'tcp'),
      readFileSync(join(root, 'net', 'tcp'), 'utf8').replace(/^.* 3001 .*\n/m, ''),
    );
    now += 5;
    assert.deepEqual(r.lookup('192.0.2.2', 40123, 'tcp', us(now - 5))?.process, {
      name: 'curl',
      pid: 300,
    });
    // Flow starts later in the same batch wait for the next turn, unless a lookup asks first.
    addClient(root, 301, 'wget', 3002, 40124);
    addClient(root, 302, 'wget', 3003, 40125);
    r.prefetch('192.0.2.2', 40124, 'tcp');
    r.prefetch('192.0.2.2', 40125, 'tcp');
    assert.equal(r.stats().targetedLooks, 1);
    assert.equal(r.lookup('192.0.2.2', 40124, 'tcp', us(now))?.process?.pid, 301);
    assert.equal(r.stats().targetedLooks, 2, 'one look for both');
    assert.equal(r.lookup('192.0.2.2', 40125, 'tcp', us(now))?.process?.pid, 302);
    await new Promise((res) => setImmediate(res));
    assert.equal(r.stats().targetedLooks, 2, 'nothing left for the next turn');
    // A process that held no socket at the last refresh is left to the next refresh: a targeted
    // look reads only new processes and socket holders.
    const dir = join(root, '400');
    mkdirSync(join(dir, 'fd'), { recursive: true });
    writeFileSync(join(dir, 'comm'), 'cron\n');
    writeFileSync(join(dir, 'cmdline'), 'cron\0');
    now += 1000;
    r.refresh();
    addClient(root, 400, 'cron', 3005, 40126);
    now += 5;
    r.prefetch('192.0.2.2', 40126, 'tcp');
    assert.equal(r.stats().fdScans, 8, 'the 8 socket holders, not cron');
    assert.equal(r.lookup('192.0.2.2', 40126, 'tcp', us(now))?.process?.name, 'cron');
    assert.equal(r.stats().fdScans, 9, "a lookup's look reads every process if need be");
  } finally {
    r.close();
  }
});

test('fixture: flow starts waiting for a look are bounded, the oldest dropped and counted', async () => {
  const r = createLocalResolver({ procRoot: procTree(), refreshMs: 0, now: () => T0 });
  try {
    const n = LOCAL_MAX_PENDING + 100;
    for (let i = 0; i < n; i++) r.prefetch('192.0.2.2', 1024 + i, 'tcp');
    // The first is looked for at once, the rest wait for the next turn.
    assert.equal(r.stats().pendingDropped, n - 1 - LOCAL_MAX_PENDING);
    await new Promise((res) => setImmediate(res));
    const s = r.stats();
    assert.equal(s.targetedLooks, 2, 'one look for the rest of the batch');
    assert.equal(s.prefetched, n);
  } finally {
    r.close();
  }
});

test('fixture: history keeps an exited client within the TTL, and tells port reuse apart', () => {
  const root = procTree();
  let now = T0;
  const r = createLocalResolver({ procRoot: root, refreshMs: 0, now: () => now });
  try {
    assert.equal(r.lookup('192.0.2.2', 42001, 'udp', us(now))?.process?.name, 'dig');
    // dig exits: its process and its socket disappear.
    rmSync(join(root, '104'), { recursive: true });
    const udp = join(root, 'net', 'udp');
    writeFileSync(udp, readFileSync(udp, 'utf8').replace(/^.*\b1008\b.*\n/m, ''));
    now += 5000;
    r.refresh();
    const digTs = us(T0 + 10);
    assert.equal(r.lookup('192.0.2.2', 42001, 'udp', digTs)?.process?.pid, 104);
    // The port is reused by a new process (curl, pid 105).
    cpSync(join(FIXTURE, '104'), join(root, '105'), { recursive: true });
    writeFileSync(join(root, '105', 'comm'), 'curl\n');
    unlinkSync(join(root, '105', 'fd', '3.link'));
    unlinkSync(join(root, '105', 'fd', '0.link'));
    unlinkSync(join(root, '105', 'ns', 'net.link'));
    symlinkSync('socket:[1010]', join(root, '105', 'fd', '3'));
    symlinkSync('net:[4026531833]', join(root, '105', 'ns', 'net'));
    writeFileSync(
      udp,
      readFileSync(udp, 'utf8') +
        '   2: 020200C0:A411 08080808:0035 01 00000000:00000000 00:00000000 00000000     0        0 1010 1 0000000000000000 100 0 0 10 0\n',
    );
    now += 4000; // before inode 1999 (no owner) is looked for again
    r.refresh();
    assert.equal(r.stats().fdScans, 1, 'the new process is scanned first, and alone');
    // Traffic from dig's time resolves to dig, traffic from now to curl.
    assert.equal(r.lookup('192.0.2.2', 42001, 'udp', digTs)?.process?.name, 'dig');
    assert.equal(r.lookup('192.0.2.2', 42001, 'udp', us(now))?.process?.name, 'curl');
    // Past the TTL after dig was last seen, only curl is left; past curl's too, nothing.
    now = T0 + LOCAL_IDENTITY_TTL_MS + 1;
    r.refresh();
    assert.equal(r.lookup('192.0.2.2', 42001, 'udp', digTs)?.process?.name, 'curl');
    rmSync(join(root, '105'), { recursive: true });
    writeFileSync(udp, readFileSync(udp, 'utf8').replace(/^.*\b1010\b.*\n/m, ''));
    now += LOCAL_IDENTITY_TTL_MS + 1;
    r.refresh();
    assert.equal(r.lookup('192.0.2.2', 42001, 'udp', us(now)), undefined);
    assert.ok(r.stats().expired >= 1);
  } finally {
    r.close();
  }
});

test('fixture: the history table is bounded', () => {
  const r = createLocalResolver({
    procRoot: procTree(),
    refreshMs: 0,
    now: () => T0,
    maxRemembered: 4,
  });
  try {
    const s = r.stats();
    assert.equal(s.remembered, 4);
    assert.ok(s.evicted > 0, `evicted ${s.evicted}`);
  } finally {
    r.close();
  }
});

test('no socket tables (not Linux, wrong root): KS_ERR_PROC_UNAVAILABLE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ks-noproc-'));
  temps.push(dir);
  assert.throws(
    () => createLocalResolver({ procRoot: dir }),
    (e: unknown) => e instanceof KsError && e.code === 'KS_ERR_PROC_UNAVAILABLE',
  );
});

// ------------------------------------------------------------------ real /proc

/** A child process's exit (code), once. */
function exited(child: ReturnType<typeof spawn>): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

test('real /proc: curl and a node client talking to this process on loopback', async () => {
  // The clock is moved by the test so that each miss may refresh (misses are rate-limited).
  let clock = Date.now();
  const tick = (): number => (clock += 10_000) * 1000;
  const r = createLocalResolver({ refreshMs: 0, now: () => clock });
  const held: http.ServerResponse[] = [];
  const arrived: ((port: number) => void)[] = [];
  const server = http.createServer((req, res) => {
    held.push(res);
    arrived.shift()?.(req.socket.remotePort!);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const nextRequest = (): Promise<number> => new Promise((resolve) => arrived.push(resolve));
  try {
    // 1. curl: the server holds the response while both sockets are looked up.
    let got = nextRequest();
    const curl = spawn('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${port}/hold`], {
      stdio: 'ignore',
    });
    const curlPort = await got;
    const during = tick();
    const client = r.lookup('127.0.0.1', curlPort, 'tcp', during);
    assert.deepEqual(client?.process, { name: 'curl', pid: curl.pid });
    const srv = r.lookup('127.0.0.1', port, 'tcp', during);
    assert.deepEqual(srv?.process, { name: 'node', pid: process.pid });
    held.shift()!.end('ok');
    assert.equal(await exited(curl), 0);
    // curl is gone (its socket closed); the lookup after the fact still answers.
    tick();
    r.refresh();
    assert.ok(
      !readFileSync('/proc/net/tcp', 'utf8').includes(
        `:${curlPort.toString(16).toUpperCase().padStart(4, '0')} 0100007F:${port.toString(16).toUpperCase().padStart(4, '0')} 01`,
      ),
      'curl socket closed',
    );
    assert.deepEqual(r.lookup('127.0.0.1', curlPort, 'tcp', during)?.process, {
      name: 'curl',
      pid: curl.pid,
    });

    // 2. A node client whose name (process.title) is longer than comm's 15 characters.
    got = nextRequest();
    const title = 'kubeshark-test-client';
    const nodeClient = spawn(
      process.execPath,
      [
        '-e',
        `process.title = ${JSON.stringify(title)};
         require('http').get('http://127.0.0.1:${port}/', (res) => res.resume());`,
      ],
      { stdio: 'ignore' },
    );
    const nodePort = await got;
    const id = r.lookup('127.0.0.1', nodePort, 'tcp', tick());
    assert.deepEqual(id?.process, { name: title, pid: nodeClient.pid });
    assert.equal(readFileSync(`/proc/${nodeClient.pid}/comm`, 'utf8').trim(), title.slice(0, 15));
    held.shift()!.end('ok');
    assert.equal(await exited(nodeClient), 0);
    // Not a local address: answered without a refresh.
    const before = r.stats().refreshes;
    assert.equal(r.lookup('192.0.2.200', 80, 'tcp', tick()), undefined);
    assert.equal(r.stats().refreshes, before);
  } finally {
    for (const res of held) res.end();
    server.closeAllConnections();
    server.close();
    r.close();
  }
});

test('real /proc: a UDP socket bound to loopback', async () => {
  const sock = dgram.createSocket('udp4');
  sock.bind(0, '127.0.0.1');
  await once(sock, 'listening');
  const r = createLocalResolver({ refreshMs: 0 });
  try {
    const id = r.lookup('127.0.0.1', sock.address().port, 'udp', Date.now() * 1000);
    assert.deepEqual(id?.process, { name: 'node', pid: process.pid });
    assert.equal(r.lookup('127.0.0.1', sock.address().port, 'tcp', Date.now() * 1000), undefined);
  } finally {
    sock.close();
    r.close();
  }
});

test('real /proc: the timer refreshes on its own; a refresh is measured', async () => {
  const r = createLocalResolver({ refreshMs: 50 });
  try {
    // The timer spaces refreshes out to keep their share of a core under LOCAL_REFRESH_MAX_DUTY.
    const deadline = Date.now() + 20_000;
    while (r.stats().refreshes < 3 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const s = r.stats();
    assert.ok(s.refreshes >= 3, `refreshes ${s.refreshes}`);
    assert.ok(s.processes > 1 && s.lastRefreshMs > 0);
    console.log(
      `# /proc refresh: ${s.processes} processes, ${s.namespaces} netns, ${s.sockets} sockets; ` +
        `first ${s.maxRefreshMs.toFixed(1)} ms, last ${s.lastRefreshMs.toFixed(1)} ms`,
    );
  } finally {
    r.close();
  }
});

test(
  'real /proc + sock_diag: a client that is gone before its call is looked up is named from its flow start',
  { skip: loadSockDiag() || process.env.CI ? false : 'the sock_diag addon is not built' },
  async () => {
    const r = createLocalResolver({ refreshMs: 0 });
    const server = net.createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;
    try {
      const title = 'ks-short-client';
      const client = spawn(
        process.execPath,
        [
          '-e',
          `process.title = ${JSON.stringify(title)};
           require('net').connect(${port}, '127.0.0.1').on('connect', () => setInterval(() => {}, 1000));`,
        ],
        { stdio: 'ignore' },
      );
      const [sock] = (await once(server, 'connection')) as [net.Socket];
      // What the pipeline does at the connection's first packet.
      r.prefetchFlow('tcp', { ip: '127.0.0.1', port: sock.remotePort! }, { ip: '127.0.0.1', port });
      client.kill('SIGKILL');
      await exited(client);
      sock.destroy();
      const s = r.stats();
      assert.equal(s.refreshes, 1, 'no refresh: only the flow start looked');
      assert.ok(s.diagFound >= 1, JSON.stringify(s));
      const id = r.lookup('127.0.0.1', sock.remotePort!, 'tcp', Date.now() * 1000);
      assert.deepEqual(id?.process, { name: title, pid: client.pid });
    } finally {
      server.close();
      r.close();
    }
  },
);
