/**
 * Launch test of the built single executable (CI builds it before `npm test`; locally run
 * `npm run build` first, otherwise this test is skipped with a note).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

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
