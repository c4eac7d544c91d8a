/**
 * Launch test of the built single executable (CI builds it before `npm test`; locally run
 * `npm run build` first, otherwise this test is skipped with a note).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  readFileSync,
  writeFileSync,
  mkdtempSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { demo, startTap, workerStores } from './helpers/tap-process.ts';

const root = new URL('..', import.meta.url).pathname;
const exe = join(root, 'dist/kubeshark');
const built = existsSync(exe);
const skip = !built && !process.env.CI ? 'dist/kubeshark not built (npm run build)' : false;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const env = { HOME: mkdtempSync(join(tmpdir(), 'kshome-')), PATH: process.env.PATH ?? '' };

test('dist/kubeshark version prints the package version', { skip }, async () => {
  const r = await execa(exe, ['version'], { env, extendEnv: false });
  assert.equal(r.stdout.trim(), pkg.version);
  const j = await execa(exe, ['version', '-o', 'json'], { env, extendEnv: false });
  assert.equal((JSON.parse(j.stdout) as { version: string }).version, pkg.version);
});

test('dist/kubeshark dissects the demo capture on its own', { skip }, async () => {
  const r = await execa(exe, ['dissect', '-o', 'jsonl', join(root, 'demo/shop.pcap')], {
    env,
    extendEnv: false,
  });
  const views = r.stdout.split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const http = views.filter((v) => v.http === true);
  assert.ok(http.length >= 9, `expected the shop API calls, got ${http.length}`);
  assert.ok(http.some((v) => v.path === '/api/checkout' && v.status_code === 503));
  assert.ok(
    views.some((v) => v.dns === true && v.status_code === 3),
    'NXDOMAIN lookup',
  );
  assert.ok(
    views.some((v) => v.ws === true && v.ws_opcode === 'close'),
    'websocket close',
  );
  assert.match(r.stderr, /packets: \d+/);
});

test('dist/kubeshark filters and computes statistics on its own', { skip }, async () => {
  const demo = join(root, 'demo/shop.pcap');
  const f = await execa(
    exe,
    ['dissect', '-q', '-o', 'jsonl', '-f', 'http && status_code >= 500', demo],
    {
      env,
      extendEnv: false,
    },
  );
  assert.equal(f.stdout.split('\n').length, 1);
  const st = await execa(exe, ['dissect', '-q', '--stats', '-o', 'json', demo], {
    env,
    extendEnv: false,
  });
  const result = JSON.parse(st.stdout) as { total: { calls: number } };
  assert.equal(result.total.calls, 20);
});

test('dist/kubeshark errors are one line with a stable code and exit code', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ksbin-'));
  const notCapture = join(dir, 'notes.txt');
  writeFileSync(notCapture, 'hello, this is not a capture\n');
  const r = await execa(exe, ['dissect', notCapture], { env, extendEnv: false, reject: false });
  assert.equal(r.exitCode, 3);
  assert.match(r.stderr, /not a pcap or pcapng capture.*\[KS_ERR_CAPTURE_FORMAT\]/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace without --debug');
  const bad = await execa(exe, ['--set', 'tap.nope=1', 'config'], {
    env,
    extendEnv: false,
    reject: false,
  });
  assert.equal(bad.exitCode, 4);
  assert.match(bad.stderr, /unknown config key `tap\.nope`/);
});

test(
  'dist/kubeshark tap --pcap: jsonl, and the dashboard from its embedded assets',
  { skip },
  async (t) => {
    // A copy alone in a directory: no dist/front beside it, so files can only come from the SEA.
    const dir = mkdtempSync(join(tmpdir(), 'ksbin-'));
    const lone = join(dir, 'kubeshark');
    copyFileSync(exe, lone);
    chmodSync(lone, 0o755);
    const tap = startTap(['tap', '--pcap', demo, '--port', '0', '--no-browser', '-o', 'jsonl'], {
      exe: lone,
    });
    t.after(() => tap.kill());
    const url = await tap.url;
    const views = await tap.waitLines(20);
    assert.equal(views.length, 20);
    assert.ok(views.some((v) => v.path === '/api/checkout' && v.status_code === 503));
    const index = await fetch(url + '/');
    assert.equal(index.status, 200, 'the dashboard is embedded');
    const html = await index.text();
    assert.match(html, /<div id="root">/);
    const script = /src="\.?\/?(assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(script, 'index.html names its script');
    const js = await fetch(`${url}/${script}`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    assert.ok((await js.arrayBuffer()).byteLength > 1000);
    const api = (await (await fetch(`${url}/api/entries?limit=100`)).json()) as {
      entries: unknown[];
    };
    assert.equal(api.entries.length, 20);
    tap.child.kill('SIGINT');
    assert.deepEqual(await tap.exit, { code: 0, signal: null }, tap.stderr());
    assert.deepEqual(workerStores(tap.tmp), []);
  },
);

const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
test(
  'dist/kubeshark tap draws the live table on a terminal (the embedded Ink bundle loads)',
  { skip: skip || (hasScript ? false : 'script(1) not installed') },
  async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'kstty-'));
    // script(1) gives the program a pseudo-terminal; `q` on its stdin quits the table.
    const child = spawn(
      'script',
      ['-qec', `stty cols 100 rows 30; exec ${exe} tap --pcap ${demo} --port 0`, '/dev/null'],
      {
        env: { ...env, TMPDIR: tmp, KUBESHARK_NO_BROWSER: '1', TERM: 'xterm' },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    // eslint-disable-next-line no-control-regex
    const plain = () => out.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
    const until = Date.now() + 30_000;
    while (!/replayed .*: 20 entries/.test(plain()) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
    }
    child.stdin.write('q');
    assert.equal(await exit, 0, plain().slice(-2000));
    const screen = plain();
    assert.match(screen, /TIME \(UTC\)\s+PROTO\s+SRC → DST\s+SUMMARY\s+STATUS\s+LATENCY/);
    assert.match(screen, /POST \/api\/checkout\s+503/);
    assert.match(screen, /workers 1 up/);
    assert.doesNotMatch(screen, /ExperimentalWarning/);
    assert.deepEqual(workerStores(tmp), []);
  },
);
