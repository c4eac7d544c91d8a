/**
 * `kubeshark tap --pcap` end to end, as a user runs it (test/helpers/cli.ts): worker + hub + front
 * in one process on 127.0.0.1, jsonl on stdout when piped, the dashboard and the API on the
 * printed port, a clean exit on SIGINT/SIGTERM with the temporary store removed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import {
  chownSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import dnsPacket from 'dns-packet';
import { WebSocket, WebSocketServer } from 'ws';
import { execa } from 'execa';
import type { EntriesResponse } from '../src/api/types.ts';
import { cliCommand } from './helpers/cli.ts';
import { demo, root, startTap, workerStores } from './helpers/tap-process.ts';

const cli = cliCommand();
const env = { PATH: process.env.PATH ?? '', HOME: mkdtempSync(join(tmpdir(), 'kshome-')) };

async function run(args: string[]) {
  return execa(cli[0], [...cli.slice(1), ...args], {
    cwd: root,
    env: { ...env, KUBESHARK_NO_BROWSER: '1' },
    extendEnv: false,
    reject: false,
    timeout: 30_000,
  });
}

test('tap --pcap: the demo as jsonl, the dashboard and the API on the printed port; SIGINT exits 0 and removes the store', async (t) => {
  const tap = startTap(['tap', '--pcap', demo, '--port', '0', '--no-browser', '-o', 'jsonl']);
  t.after(() => tap.kill());
  const url = await tap.url;
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.notEqual(url, 'http://127.0.0.1:0');
  const views = await tap.waitLines(20);

  // The same 20 entries `dissect` finds, in the same order, as the same KFL views.
  const dissect = await run(['dissect', '-q', '-o', 'jsonl', demo]);
  assert.equal(dissect.exitCode, 0, dissect.stderr);
  const expected = dissect.stdout.split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(views.length, 20);
  const key = (v: Record<string, unknown>) =>
    `${String(v.timestamp)} ${String(v.protocol)} ${String(v.status_code)}`;
  assert.deepEqual(views.map(key), expected.map(key));
  assert.ok(views.some((v) => v.path === '/api/checkout' && v.status_code === 503));
  assert.match(tap.stderr(), /replayed .*shop\.pcap: 20 entries; serving http/);

  // The dashboard: its index, or (not built) the page that says how to build it.
  const page = await fetch(url + '/');
  const html = await page.text();
  if (page.status === 200) assert.match(html, /<div id="root">/);
  else {
    assert.equal(page.status, 503);
    assert.match(html, /dashboard is not built/);
  }

  // The API on the same port has the same entries.
  const res = await fetch(`${url}/api/entries?limit=100&order=oldest`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as EntriesResponse;
  assert.deepEqual(
    body.entries.map((e) => e.id),
    views.map((v) => v.id),
  );
  assert.ok(body.entries.some((e) => e.summary === 'POST /api/checkout' && e.status === 503));

  // Still serving after the replay; the store is a temporary directory until the end.
  assert.equal(workerStores(tap.tmp).length, 1);
  tap.child.kill('SIGINT');
  const exit = await tap.exit;
  assert.deepEqual(exit, { code: 0, signal: null }, tap.stderr());
  assert.deepEqual(workerStores(tap.tmp), [], 'temporary store removed');
});

test('tap --filter: only matching entries on stdout; the dashboard API still has them all; SIGTERM exits 0', async (t) => {
  const tap = startTap([
    'tap',
    '--pcap',
    demo,
    '--port',
    '0',
    '--no-browser',
    '-o',
    'jsonl',
    '--filter',
    'http && status_code >= 400',
  ]);
  t.after(() => tap.kill());
  const url = await tap.url;
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (/replayed/.test(tap.stderr())) {
        clearInterval(timer);
        resolve();
      }
    }, 50);
    void tap.exit.then(() => {
      clearInterval(timer);
      reject(new Error(tap.stderr()));
    });
  });
  // The stream delivers before the replay note; give the last line a moment to be flushed.
  const views = await tap.waitLines(2);
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(
    tap.lines().map((v) => `${String(v.method)} ${String(v.path)} ${String(v.status_code)}`),
    ['GET /api/products/999 404', 'POST /api/checkout 503'],
  );
  assert.equal(views.length, 2);
  const all = (await (await fetch(`${url}/api/entries?limit=100`)).json()) as EntriesResponse;
  assert.equal(all.entries.length, 20);
  tap.child.kill('SIGTERM');
  assert.deepEqual(await tap.exit, { code: 0, signal: null }, tap.stderr());
  assert.deepEqual(workerStores(tap.tmp), []);
});

test('tap --store DIR keeps the entries after exit', async (t) => {
  const store = mkdtempSync(join(tmpdir(), 'ksstore-'));
  const tap = startTap([
    'tap',
    '--pcap',
    demo,
    '--port',
    '0',
    '-o',
    'jsonl',
    '-q',
    '--store',
    store,
  ]);
  t.after(() => tap.kill());
  await tap.url;
  await tap.waitLines(20);
  assert.doesNotMatch(tap.stderr(), /replayed/, '-q keeps notes off stderr');
  tap.child.kill('SIGINT');
  assert.equal((await tap.exit).code, 0, tap.stderr());
  assert.ok(readdirSync(store).length > 0, 'store directory kept with its files');
  assert.deepEqual(workerStores(tap.tmp), []);
});

test('tap --pcap with a truncated capture: the entries before the damage, one clear line, exit 3 on SIGINT', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kstrunc-'));
  const cut = join(dir, 'cut.pcap');
  writeFileSync(cut, readFileSync(demo).subarray(0, 5000));
  const tap = startTap(['tap', '--pcap', cut, '--port', '0', '-o', 'jsonl']);
  t.after(() => tap.kill());
  const url = await tap.url;
  const until = Date.now() + 20_000;
  while (!/truncated/.test(tap.stderr()) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.match(tap.stderr(), /cut\.pcap is truncated at byte \d+/);
  assert.doesNotMatch(tap.stderr(), /replayed/);
  // Still serving what was read.
  const api = (await (await fetch(`${url}/api/entries?limit=100`)).json()) as EntriesResponse;
  assert.ok(api.entries.length > 0 && api.entries.length < 20, String(api.entries.length));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(tap.lines().length, api.entries.length);
  tap.child.kill('SIGINT');
  assert.equal((await tap.exit).code, 3);
  assert.deepEqual(workerStores(tap.tmp), []);
});

test('tap fails before starting: bad filter (with position), missing file, no mode, port in use', async () => {
  const bad = await run([
    'tap',
    '--pcap',
    demo,
    '--no-browser',
    '-o',
    'jsonl',
    '--filter',
    'http && nope == 1',
  ]);
  assert.equal(bad.exitCode, 2);
  assert.match(bad.stderr, /nope.*\[KS_ERR_KFL_UNKNOWN_FIELD\]/);
  assert.match(bad.stderr, /http && nope == 1\n\s+\^/, 'caret under the error');
  assert.doesNotMatch(bad.stderr, /dashboard at/);

  const missing = await run(['tap', '--pcap', 'nope.pcap', '-o', 'jsonl']);
  assert.equal(missing.exitCode, 3);
  assert.match(missing.stderr, /capture file not found: nope\.pcap \[KS_ERR_FILE_NOT_FOUND\]/);

  // Without --local/--pcap, tap deploys into a cluster: here there is no kubeconfig to use.
  const none = await run(['tap']);
  assert.equal(none.exitCode, 4);
  assert.match(none.stderr, /no kubeconfig found; tried .*\[KS_ERR_KUBECONFIG\]/);

  const both = await run(['tap', '--local', '--pcap', demo]);
  assert.equal(both.exitCode, 2);
  assert.match(both.stderr, /cannot be combined/);

  const table = await run(['tap', '--pcap', demo, '-o', 'table']);
  assert.equal(table.exitCode, 2);
  assert.match(table.stderr, /-o table needs a terminal/);

  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const port = (busy.address() as { port: number }).port;
  try {
    const inUse = await run(['tap', '--pcap', demo, '--port', String(port), '-o', 'jsonl']);
    assert.equal(inUse.exitCode, 1);
    assert.match(
      inUse.stderr,
      new RegExp(
        `cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use \\[KS_ERR_LISTEN\\]`,
      ),
    );
  } finally {
    busy.close();
  }
});

const root0 = process.getuid?.() === 0;
const tcpdump = ['/usr/bin/tcpdump', '/usr/sbin/tcpdump'].some((p) => existsSync(p));

test("tap --local without tcpdump: the capture module's clear error, nothing left behind", async () => {
  const empty = mkdtempSync(join(tmpdir(), 'kspath-'));
  const r = await execa(cli[0], [...cli.slice(1), 'tap', '--local', '-o', 'jsonl', '--port', '0'], {
    cwd: root,
    env: { PATH: empty, HOME: empty, TMPDIR: empty, KUBESHARK_NO_BROWSER: '1' },
    extendEnv: false,
    reject: false,
    timeout: 30_000,
  });
  assert.equal(r.exitCode, 1);
  assert.match(r.stderr, /tcpdump not found: install it .*\[KS_ERR_CAPTURE_TOOL\]/);
  assert.doesNotMatch(r.stderr, /dashboard at/, 'fails before announcing the dashboard');
  assert.deepEqual(workerStores(empty), []);
});

test(
  "tap --local without capture privileges: the capture module's clear error",
  {
    skip:
      root0 && tcpdump && existsSync('/usr/bin/setpriv')
        ? false
        : 'needs root (to drop to nobody), tcpdump and setpriv',
  },
  async () => {
    const home = mkdtempSync(join(tmpdir(), 'ksnobody-'));
    chownSync(home, 65534, 65534);
    const r = await execa(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        ...cli,
        'tap',
        '--local',
        '-o',
        'jsonl',
        '--port',
        '0',
      ],
      {
        cwd: root,
        env: {
          PATH: '/usr/sbin:/usr/bin:/bin',
          HOME: home,
          TMPDIR: home,
          KUBESHARK_NO_BROWSER: '1',
        },
        extendEnv: false,
        reject: false,
        timeout: 30_000,
      },
    );
    assert.equal(r.exitCode, 1);
    assert.match(
      r.stderr,
      /no permission to capture on any: run as root, or grant tcpdump the capabilities .*\[KS_ERR_CAPTURE_PRIVILEGE\]/,
    );
    assert.deepEqual(workerStores(home), []);
  },
);

test(
  'tap --local -i lo: a live HTTP call on loopback shows up as jsonl (its own dashboard traffic does not)',
  { skip: root0 && tcpdump ? false : 'needs root and tcpdump' },
  async (t) => {
    const server = createHttpServer((req, res) => {
      res.writeHead(req.url === '/tap-local-probe' ? 418 : 200, { 'content-type': 'text/plain' });
      res.end('probe');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => server.close());
    const port = (server.address() as { port: number }).port;
    const tap = startTap([
      'tap',
      '--local',
      '-i',
      'lo',
      '--port',
      '0',
      '-o',
      'jsonl',
      '--filter',
      `http && dst.port == ${port}`,
      '--set',
      'tap.capture.bufferSize=24Mi',
    ]);
    t.after(() => tap.kill());
    const url = await tap.url;
    // The kernel buffer from config reaches the capture process (tcpdump -B, KiB).
    const dumps = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map((d) => {
        try {
          return readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
        } catch {
          return [];
        }
      })
      .filter(
        (a) => a[0]?.endsWith('tcpdump') && a.includes(`not (tcp port ${new URL(url).port})`),
      );
    assert.equal(dumps.length, 1, 'one tcpdump for this tap');
    assert.equal(dumps[0]![dumps[0]!.indexOf('-B') + 1], String(24 * 1024));
    // The capture is running once the URL is printed; keep calling until one is dissected
    // (a connection has to end or be answered to become an entry).
    let views: Record<string, unknown>[] = [];
    for (let i = 0; i < 40 && views.length === 0; i++) {
      // Kept alive (fetch's default): the client's socket still exists when the entry is
      // enriched, so /proc names both ends.
      const res = await fetch(`http://127.0.0.1:${port}/tap-local-probe`);
      await res.text();
      await new Promise((r) => setTimeout(r, 250));
      views = tap.lines();
    }
    assert.ok(views.length > 0, `no entry; stderr:\n${tap.stderr()}`);
    assert.equal(views[0]!.path, '/tap-local-probe');
    assert.equal(views[0]!.status_code, 418);
    assert.equal(views[0]!.capture_source, 'af_packet');
    // Local identity from /proc: both ends are this test's node process.
    for (const ep of [views[0]!.src, views[0]!.dst] as { name?: string }[]) {
      assert.equal(ep.name, 'node', JSON.stringify(ep));
    }
    assert.equal(views[0]!.local_resolution_status, '');
    // The API sees the same call; the dashboard's own port is not captured.
    const all = (await (await fetch(`${url}/api/entries?limit=1000`)).json()) as EntriesResponse;
    const own = Number(new URL(url).port);
    assert.ok(all.entries.some((e) => e.dst.port === port));
    assert.ok(
      !all.entries.some((e) => e.dst.port === own || e.src.port === own),
      'own traffic captured',
    );
    tap.child.kill('SIGINT');
    assert.equal((await tap.exit).code, 0, tap.stderr());
    assert.deepEqual(workerStores(tap.tmp), []);
  },
);

test('tap --pcap redacts before storing: no secret of the secrets capture reaches stdout or the API', async (t) => {
  const secrets = join(root, 'src/redact/testdata/secrets.pcap');
  const tap = startTap(['tap', '--pcap', secrets, '--port', '0', '--no-browser', '-o', 'jsonl']);
  t.after(() => tap.kill());
  const url = await tap.url;
  const until = Date.now() + 20_000;
  while (!/replayed/.test(tap.stderr()) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const out = JSON.stringify(tap.lines());
  const api = await (await fetch(`${url}/api/entries?limit=1000&view=full`)).text();
  assert.ok(tap.lines().length > 5, `only ${tap.lines().length} entries`);
  assert.ok(/\[REDACTED\]/.test(out) && /"redacted"/.test(api), 'values are marked as redacted');
  for (const text of [out, api]) {
    const leaked = text.match(/s3cr3t-[a-z-]+/g);
    assert.equal(leaked, null, `leaked: ${String(leaked)}`);
  }
  tap.child.kill('SIGINT');
  assert.equal((await tap.exit).code, 0, tap.stderr());
});

test(
  'tap --local -i lo: live WebSocket messages and DNS over UDP from real clients and servers',
  { skip: root0 && tcpdump ? false : 'needs root and tcpdump' },
  async (t) => {
    // A WebSocket echo server and a DNS server answering A queries, both on loopback.
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    wss.on('connection', (s) => s.on('message', (m, binary) => s.send(m, { binary })));
    t.after(() => wss.close());
    const wsPort = (wss.address() as { port: number }).port;
    const dnsServer = createSocket('udp4');
    dnsServer.on('message', (msg, rinfo) => {
      const q = dnsPacket.decode(msg);
      const answer = dnsPacket.encode({
        type: 'response',
        id: q.id,
        flags: dnsPacket.RECURSION_DESIRED,
        questions: q.questions,
        answers: [{ type: 'A', name: q.questions![0]!.name, ttl: 60, data: '10.1.2.3' }],
      });
      dnsServer.send(answer, rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => dnsServer.bind(0, '127.0.0.1', r));
    t.after(() => dnsServer.close());
    const dnsPort = dnsServer.address().port;

    const tap = startTap([
      'tap',
      '--local',
      '-i',
      'lo',
      '--port',
      '0',
      '-o',
      'jsonl',
      '--filter',
      `(ws && dst.port == ${wsPort}) || (dns && dst.port == ${dnsPort})`,
    ]);
    t.after(() => tap.kill());
    await tap.url;
    const client = createSocket('udp4');
    t.after(() => client.close());
    let views: Record<string, unknown>[] = [];
    const has = (p: string) => views.some((v) => v.protocol === p);
    for (let i = 0; i < 40 && !(has('ws') && has('dns')); i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${wsPort}/live-probe`);
      await new Promise((r, j) => ws.once('open', r).once('error', j));
      ws.send(`hello ${i}`);
      await new Promise((r) => ws.once('message', r));
      ws.close();
      const query = dnsPacket.encode({
        type: 'query',
        id: 1000 + i,
        flags: dnsPacket.RECURSION_DESIRED,
        questions: [{ type: 'A', name: `probe${i}.tap.test` }],
      });
      const got = new Promise((r) => client.once('message', r));
      client.send(query, dnsPort, '127.0.0.1');
      await got;
      await new Promise((r) => setTimeout(r, 250));
      views = tap.lines();
    }
    assert.ok(has('ws'), `no WebSocket entry; stderr:\n${tap.stderr()}`);
    assert.ok(has('dns'), `no DNS entry; stderr:\n${tap.stderr()}`);
    const dns = views.find((v) => v.protocol === 'dns')!;
    assert.match(JSON.stringify(dns.dns_questions), /probe\d+\.tap\.test/);
    assert.match(JSON.stringify(dns), /10\.1\.2\.3/);
    const ws = views.filter((v) => v.protocol === 'ws');
    assert.ok(
      ws.some((v) => /hello \d+/.test(JSON.stringify(v))),
      JSON.stringify(ws[0]),
    );
    tap.child.kill('SIGINT');
    assert.equal((await tap.exit).code, 0, tap.stderr());
  },
);
