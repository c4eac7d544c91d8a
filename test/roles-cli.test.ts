/**
 * The hidden role commands as processes: `kubeshark worker`, `hub`, `front` each print one line
 * saying where they listen, work together over HTTP, and shut down cleanly on SIGTERM/SIGINT
 * (exit 0, the worker's store closed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ApiClient } from '../src/api/client.ts';
import { SHOP } from './helpers/roles-kit.ts';
import { runRole, type RoleProcess } from './helpers/role-process.ts';
import { cli } from './helpers/cli.ts';

test('worker, hub and front as processes: one line each, work together, stop on a signal', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'roles-cli-'));
  const store = join(dir, 'store');
  const assets = join(dir, 'front');
  mkdirSync(assets);
  writeFileSync(join(assets, 'index.html'), '<!doctype html><title>ks</title>\n');
  const procs: RoleProcess[] = [];
  try {
    const w = await runRole([
      'worker',
      '--pcap',
      SHOP,
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--store',
      store,
      '--node',
      'cli-node',
      '--metrics-port',
      '0',
    ]);
    procs.push(w);
    assert.match(
      w.line,
      /^kubeshark worker: node cli-node listening on http:\/\/127\.0\.0\.1:\d+ \(store .*store, replaying 1 file\(s\), metrics on :\d+\/metrics\)$/,
    );
    const metricsPort = Number(/metrics on :(\d+)/.exec(w.line)![1]);
    assert.ok(existsSync(join(store, 'LOCK')));
    const h = await runRole([
      'hub',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      // The worker list from config (`hub.workers`), as a deployment's ConfigMap would give it.
      '--set',
      `hub.workers=cli=http://127.0.0.1:${w.port}`,
    ]);
    procs.push(h);
    assert.match(
      h.line,
      /^kubeshark hub: listening on http:\/\/127\.0\.0\.1:\d+ \(1 worker\(s\)\)$/,
    );
    const f = await runRole([
      'front',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--hub',
      `http://127.0.0.1:${h.port}`,
      '--assets',
      assets,
    ]);
    procs.push(f);
    assert.match(
      f.line,
      /^kubeshark front: listening on http:\/\/127\.0\.0\.1:\d+ \(API proxied to http/,
    );

    const api = new ApiClient(`http://127.0.0.1:${f.port}`);
    let page = await api.entries({ q: 'http', count: true });
    for (let i = 0; i < 50 && page.total !== 9; i++) {
      await new Promise((r) => setTimeout(r, 100));
      page = await api.entries({ q: 'http', count: true });
    }
    assert.equal(page.total, 9);
    assert.ok(page.entries.every((e) => e.node === 'cli-node'));
    assert.deepEqual(
      (await api.workers()).workers.map((x) => [x.name, x.up]),
      [['cli', true]],
    );
    assert.equal((await fetch(`http://127.0.0.1:${f.port}/any/route`)).status, 200);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(metrics, /^kubeshark_entries_total\{node="cli-node"\} 20$/m);

    f.proc.kill('SIGTERM');
    h.proc.kill('SIGINT');
    w.proc.kill('SIGTERM');
    for (const p of procs) {
      const r = await p.proc;
      assert.equal(r.exitCode, 0, p.stderr());
    }
    assert.ok(!existsSync(join(store, 'LOCK')), 'store closed');
    assert.ok(
      readdirSync(store).some((n) => n.endsWith('.seg')),
      'entries kept',
    );
  } finally {
    for (const p of procs) p.proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('usage errors: a missing capture file, an unknown interface, a taken port', async () => {
  const r = await execa(process.execPath, [...cli, 'worker', '--pcap', '/nonexistent.pcap'], {
    reject: false,
  });
  assert.equal(r.exitCode, 3);
  assert.match(r.stderr, /capture file not found: \/nonexistent\.pcap \[KS_ERR_FILE_NOT_FOUND\]/);
  const live = await execa(process.execPath, [...cli, 'worker', '-i', 'nosuchif0', '--port', '0'], {
    reject: false,
  });
  assert.equal(live.exitCode, 2, 'a capture that cannot start fails the command');
  assert.match(live.stderr, /nosuchif0.*\[KS_ERR_CAPTURE_INTERFACE\]/s);
  const w = await runRole(['worker', '--port', '0', '--host', '127.0.0.1', '--metrics-port', '0']);
  try {
    const taken = await execa(
      process.execPath,
      [...cli, 'hub', '--port', String(w.port), '--host', '127.0.0.1'],
      { reject: false },
    );
    assert.equal(taken.exitCode, 1);
    assert.match(
      taken.stderr,
      /cannot listen on 127\.0\.0\.1:\d+: the port is in use \[KS_ERR_LISTEN\]/,
    );
  } finally {
    w.proc.kill('SIGTERM');
    assert.equal((await w.proc).exitCode, 0);
  }
});
