/**
 * The cluster commands as a user runs them (`kubeshark …`, test/helpers/cli.ts) against the
 * simulated API server: `tap --dry-run` lists exactly the targeted pods and deploys nothing;
 * `tap` applies the release and, when its pods never become ready, times out explaining why;
 * `clean` removes it (idempotent); `check`'s exit code follows a missing release and a denied
 * permission; `proxy` and `logs` fail or report clearly; kubeconfig errors name what was tried.
 */
// Ink draws only the last frame when it thinks it runs in CI; the table test reads live frames.
process.env.CI = '0';
delete process.env.CONTINUOUS_INTEGRATION;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { PassThrough } from 'node:stream';
import { defaultConfig, setKey } from '../src/config/load.ts';
import { runTapCluster } from '../src/cmd/tap-cluster.ts';
import { loadUi } from '../src/cmd/ui-loader.ts';
import { execFileSync } from 'node:child_process';
import { execa } from 'execa';
import { findResource, startSimCluster, type SimCluster } from './kube-sim/index.ts';
import { fakeComponentDeployment, freePort, labelled } from './helpers/fake-release.ts';
import { FakeTerminal, fakeKeyboard } from './helpers/fake-terminal.ts';
import { cli, cliCommand } from './helpers/cli.ts';

const root = new URL('..', import.meta.url).pathname;
const home = mkdtempSync(join(tmpdir(), 'kshome-'));

async function ks(args: string[], env: Record<string, string> = {}) {
  return execa(process.execPath, [...cli, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: home, KUBESHARK_NO_BROWSER: '1', ...env },
    extendEnv: false,
    reject: false,
    timeout: 60_000,
  });
}

function addPod(sim: SimCluster, namespace: string, name: string, ip: string): void {
  sim.store.create(findResource('', 'v1', 'pods')!, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace },
    spec: { nodeName: 'sim-node-1', containers: [{ name: 'c', image: 'x' }] },
    status: { phase: 'Running', podIP: ip },
  });
}

test('tap --dry-run lists exactly the targeted pods and deploys nothing', async () => {
  const sim = await startSimCluster({ controllers: false });
  try {
    const nsRes = findResource('', 'v1', 'namespaces')!;
    for (const n of ['shop', 'prod'])
      sim.store.create(nsRes, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: n } });
    addPod(sim, 'shop', 'catalog-1', '10.1.0.1');
    addPod(sim, 'shop', 'front-1', '10.1.0.2');
    addPod(sim, 'prod', 'catalog-2', '10.1.0.3');
    addPod(sim, 'default', 'catalog-3', '10.1.0.4');
    const r = await ks([
      'tap',
      'catalog',
      '-n',
      'shop,prod',
      '--dry-run',
      '--kubeconfig',
      sim.kubeconfigPath,
    ]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        'NAMESPACE   NAME        NODE         IP',
        'prod        catalog-2   sim-node-1   10.1.0.3',
        'shop        catalog-1   sim-node-1   10.1.0.1',
      ].join('\n'),
    );
    assert.match(
      r.stderr,
      /2 pods would be tapped \(regex "catalog", namespaces shop, prod, context sim\); nothing was deployed/,
    );
    // KUBECONFIG and -e; jsonl.
    const j = await ks(['tap', '--dry-run', '-e', 'shop', '-o', 'jsonl', '-q'], {
      KUBECONFIG: `/nonexistent/config:${sim.kubeconfigPath}`,
    });
    assert.equal(j.exitCode, 0, j.stderr);
    assert.equal(j.stderr, '');
    assert.deepEqual(
      j.stdout.split('\n').map((l) => (JSON.parse(l) as { name: string }).name),
      ['catalog-3', 'catalog-2'],
    );
    assert.deepEqual(labelled(sim), [], 'nothing deployed');
    assert.equal(sim.store.list(findResource('apps', 'v1', 'deployments')!).length, 0);
  } finally {
    await sim.close();
  }
});

test('kubeconfig problems are clear: no file, unknown context, unreachable server, bad regex', async () => {
  const none = await ks(['tap', '--dry-run']);
  assert.equal(none.exitCode, 4);
  assert.match(
    none.stderr,
    /no kubeconfig found; tried .*KUBECONFIG \(not set\).*\.kube\/config.*\[KS_ERR_KUBECONFIG\]/,
  );
  const sim = await startSimCluster({ controllers: false });
  const dir = mkdtempSync(join(tmpdir(), 'ks-kc-'));
  const copy = join(dir, 'config');
  execFileSync('cp', [sim.kubeconfigPath, copy]);
  try {
    const ctx = await ks(['clean', '--kubeconfig', copy, '--context', 'nope']);
    assert.equal(ctx.exitCode, 4);
    assert.match(ctx.stderr, /context "nope" is not in .*; contexts: sim \[KS_ERR_KUBECONFIG\]/);
    const regex = await ks(['tap', '(', '--dry-run', '--kubeconfig', copy]);
    assert.equal(regex.exitCode, 2);
    assert.match(regex.stderr, /tap\.regex is not a valid regular expression.*\[KS_ERR_USAGE\]/);
  } finally {
    await sim.close();
  }
  try {
    const down = await ks(['tap', '--dry-run', '--kubeconfig', copy]);
    assert.equal(down.exitCode, 1);
    assert.match(
      down.stderr,
      /listing pods: cannot reach the API server at http:\/\/127\.0\.0\.1:\d+ \(connection refused\) \[KS_ERR_KUBE_API\]/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tap applies the release, times out explaining why; clean removes it all, twice', async () => {
  const sim = await startSimCluster({ controllers: false, namespaceFinalizeMs: 50 });
  try {
    const r = await ks([
      'tap',
      '-s',
      'ks',
      '--timeout',
      '1',
      '-o',
      'jsonl',
      '--kubeconfig',
      sim.kubeconfigPath,
    ]);
    assert.equal(r.exitCode, 1, r.stderr);
    assert.match(
      r.stderr,
      /hub and front not ready after 1 s \(--timeout\) \[KS_ERR_KUBE_NOT_READY\]/,
    );
    assert.match(r.stderr, /hub: no pod in ks/);
    assert.match(r.stderr, /`kubeshark clean -s ks` removes it/);
    const applied = labelled(sim);
    assert.ok(applied.includes('Deployment ks/kubeshark-hub'), applied.join('\n'));
    assert.ok(applied.includes('Namespace /ks'));
    assert.ok(applied.includes('ClusterRole /kubeshark-ks'));

    const c = await ks(['clean', '-s', 'ks', '--kubeconfig', sim.kubeconfigPath]);
    assert.equal(c.exitCode, 0, c.stderr);
    assert.match(c.stdout, /removed Deployment ks\/kubeshark-hub\n/);
    assert.match(c.stdout, /removed ClusterRole kubeshark-ks\n/);
    assert.match(c.stdout, /removed Namespace ks\n/);
    assert.match(c.stdout, new RegExp(`removed ${applied.length} objects of release kubeshark`));
    await new Promise((res) => setTimeout(res, 300));
    assert.deepEqual(labelled(sim), []);
    const again = await ks(['clean', '-s', 'ks', '--kubeconfig', sim.kubeconfigPath]);
    assert.equal(again.exitCode, 0);
    assert.match(again.stdout, /nothing to remove: no object of release kubeshark in namespace ks/);
  } finally {
    await sim.close();
  }
});

test('check exits 1 when the release is missing or a permission is denied; proxy and logs say what is there', async () => {
  const sim = await startSimCluster({
    controllers: false,
    deny: [{ verb: 'patch', resource: 'deployments', group: 'apps', namespace: 'default' }],
  });
  const dir = mkdtempSync(join(tmpdir(), 'ks-cli-'));
  try {
    const c = await ks(['check', '--kubeconfig', sim.kubeconfigPath]);
    assert.equal(c.exitCode, 1, c.stdout + c.stderr);
    assert.match(c.stdout, /^✓ kubeconfig /m);
    assert.match(c.stdout, /^✓ API server reachable/m);
    assert.match(c.stdout, /^✗ RBAC: denied: patch deployments\.apps in default/m);
    assert.match(
      c.stdout,
      /^✗ release kubeshark is not deployed in default \(kubeshark tap deploys it\)$/m,
    );
    assert.match(c.stdout, /^2 checks failed$/m);

    const p = await ks(['proxy', '--port', '0', '--kubeconfig', sim.kubeconfigPath]);
    assert.equal(p.exitCode, 1);
    assert.match(
      p.stderr,
      /no ready front pod for default\/kubeshark-front .*\[KS_ERR_KUBE_NOT_READY\]/,
    );
    assert.doesNotMatch(p.stderr, /dashboard at/);

    const zip = join(dir, 'l.zip');
    const l = await ks(['logs', '-f', zip, '--kubeconfig', sim.kubeconfigPath]);
    assert.equal(l.exitCode, 0, l.stderr);
    assert.match(l.stderr, /no pod of release kubeshark in namespace default/);
    assert.match(l.stdout, new RegExp(`wrote ${zip}: 0 pods, 3 files`));
    assert.ok(existsSync(zip));
    assert.match(execFileSync('unzip', ['-l', zip], { encoding: 'utf8' }), /events\.txt/);
  } finally {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Polls until `fn` is true (or fails after `ms`). */
async function until(what: string, fn: () => boolean, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!fn()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `key=port` settings giving every in-cluster port of the release a free one. */
async function releasePorts(): Promise<string[]> {
  const keys = [
    'tap.proxy.hub.srvPort',
    'tap.proxy.front.srvPort',
    'tap.proxy.worker.srvPort',
    'tap.metrics.port',
  ];
  const out: string[] = [];
  for (const k of keys) out.push(`${k}=${await freePort()}`);
  return out;
}

const capture = process.getuid?.() === 0 && existsSync('/usr/bin/tcpdump');

test(
  'tap end to end: the real roles as pods become ready, one proxy, entries with pod identity, the front replaced, Ctrl-C leaves the release, clean removes it',
  { skip: capture ? false : 'needs root and tcpdump (the worker captures live)' },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ks-e2e-'));
    const podKubeconfig = join(dir, 'kubeconfig');
    const serverIpFile = join(dir, 'server-ip');
    // The image runs this very CLI; pods reach the API through KUBECONFIG.
    const sim = await startSimCluster({
      images: { 'ghcr.io/kubeshark-ts/kubeshark': cliCommand() },
      podEnv: { KUBECONFIG: podKubeconfig },
    });
    copyFileSync(sim.kubeconfigPath, podKubeconfig);
    const deployments = findResource('apps', 'v1', 'deployments')!;
    const pods = findResource('', 'v1', 'pods')!;
    const demo = (name: string, script: string) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: 'default' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            containers: [
              {
                name,
                image: 'node',
                command: [process.execPath, '-e', script],
                env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
              },
            ],
          },
        },
      },
    });
    sim.store.create(
      deployments,
      demo(
        'server',
        `require('http').createServer((q, s) => s.end('hi')).listen(9000, process.env.POD_IP)`,
      ),
    );
    sim.store.create(
      deployments,
      demo(
        'client',
        `setInterval(async () => { try { const ip = require('fs').readFileSync(${JSON.stringify(serverIpFile)}, 'utf8').trim(); await (await fetch('http://' + ip + ':9000/hello')).text(); } catch {} }, 200)`,
      ),
    );
    const podsNamed = (prefix: string) =>
      sim.store.list(pods, 'default').filter((p) => p.metadata.name.startsWith(prefix));
    const serverIp = (): string | undefined =>
      (podsNamed('server-')[0]?.status as { podIP?: string } | undefined)?.podIP;
    await until('the demo server pod IP', () => !!serverIp());
    writeFileSync(serverIpFile, serverIp()!);

    const ports = (await releasePorts()).flatMap((kv) => ['--set', kv]);
    const child = execa(
      process.execPath,
      [
        ...cli,
        'tap',
        '-o',
        'jsonl',
        '--port',
        '0',
        '--timeout',
        '90',
        '--kubeconfig',
        sim.kubeconfigPath,
        // Free ports: other tests on this machine may run a release at the same time.
        ...ports,
      ],
      {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', HOME: home, KUBESHARK_NO_BROWSER: '1' },
        extendEnv: false,
        reject: false,
      },
    );
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    try {
      const hello = (text: string) =>
        text
          .split('\n')
          .filter((l) => l.includes('"path":"/hello"'))
          .map((l) => JSON.parse(l) as { dst: { pod?: { name: string; namespace: string } } });
      await until('entries of the demo call', () => hello(out).length > 0, 120_000);
      const e = hello(out)[0]!;
      assert.match(e.dst.pod?.name ?? '', /^server-/);
      assert.equal(e.dst.pod?.namespace, 'default');
      assert.equal(err.match(/dashboard at http:\/\/127\.0\.0\.1:\d+/g)?.length, 1, err);
      assert.doesNotMatch(err, /applying/, 'no progress lines without a terminal');

      // check, against the real release: every line passes (it has its own port-forward).
      const chk = await ks(['check', '--kubeconfig', sim.kubeconfigPath, ...ports]);
      assert.equal(chk.exitCode, 0, chk.stdout + chk.stderr);
      assert.match(chk.stdout, /^✓ hub \/api\/health via port-forward: ok$/m);
      assert.match(chk.stdout, /^[✓!] worker sim-node-1: up, \d+ packets received/m);
      assert.match(chk.stdout, /^all checks passed$/m);

      // The front pod is replaced: the same proxy reaches the new one, the stream resumes.
      const front = podsNamed('kubeshark-front-')[0]!.metadata.name;
      sim.store.delete(pods, 'default', front);
      await until('the stream reconnecting', () => /live stream reconnected/.test(err), 120_000);
      const mark = out.length;
      await until(
        'entries after the reconnection',
        () => hello(out.slice(mark)).length > 0,
        60_000,
      );
      assert.equal(err.match(/dashboard at/g)?.length, 1, 'the proxy started once');

      child.kill('SIGINT');
      const r = await child;
      assert.equal(r.exitCode, 0, err);
      assert.match(
        err,
        /the release keeps running in namespace default; `kubeshark clean` removes it/,
      );
      assert.ok(podsNamed('kubeshark-hub-').length > 0, 'Ctrl-C leaves the deployment');

      const c = await ks(['clean', '--kubeconfig', sim.kubeconfigPath]);
      assert.equal(c.exitCode, 0, c.stderr);
      assert.match(c.stdout, /removed DaemonSet default\/kubeshark-worker/);
      await until('the release gone', () => labelled(sim).length === 0, 10_000);
      assert.ok(
        sim.store.get(findResource('', 'v1', 'namespaces')!, undefined, 'default'),
        'default stays',
      );
    } finally {
      child.kill('SIGKILL');
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('proxy: serves the running front on the local port until Ctrl-C', async () => {
  const sim = await startSimCluster();
  try {
    const srvPort = await freePort();
    sim.store.create(
      findResource('apps', 'v1', 'deployments')!,
      fakeComponentDeployment('front', srvPort, `'front says ' + q.url`),
    );
    await until('the front pod ready', () =>
      sim.store
        .list(findResource('', 'v1', 'pods')!, 'default')
        .some((p) =>
          (
            (p.status as { conditions?: { type: string; status: string }[] } | undefined)
              ?.conditions ?? []
          ).some((c) => c.type === 'Ready' && c.status === 'True'),
        ),
    );
    const child = execa(
      process.execPath,
      [
        ...cli,
        'proxy',
        '--port',
        '0',
        '--kubeconfig',
        sim.kubeconfigPath,
        '--set',
        `tap.proxy.front.srvPort=${srvPort}`,
      ],
      {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', HOME: home, KUBESHARK_NO_BROWSER: '1' },
        extendEnv: false,
        reject: false,
      },
    );
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    try {
      await until('the URL', () => /dashboard at (http:\S+)/.test(err), 30_000);
      const url = /dashboard at (http:\S+)/.exec(err)![1]!;
      assert.match(err, /\(front pod kubeshark-front-[a-z0-9-]+\); Ctrl-C stops/);
      for (const path of ['/a', '/b']) {
        assert.equal(await (await fetch(url + path)).text(), `front says ${path}`);
      }
      child.kill('SIGINT');
      const r = await child;
      assert.equal(r.exitCode, 0, err);
    } finally {
      child.kill('SIGKILL');
    }
  } finally {
    await sim.close();
  }
});

test('tap fails before deploying when the local port is taken', async () => {
  const sim = await startSimCluster({ controllers: false });
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const port = (busy.address() as { port: number }).port;
  try {
    const r = await ks([
      'tap',
      '--port',
      String(port),
      '-o',
      'jsonl',
      '--kubeconfig',
      sim.kubeconfigPath,
    ]);
    assert.equal(r.exitCode, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use \\[KS_ERR_LISTEN\\]`,
      ),
    );
    assert.deepEqual(labelled(sim), [], 'nothing deployed');
  } finally {
    busy.close();
    await sim.close();
  }
});

/**
 * A stand-in for the kubeshark image, for the runner in table mode: `hub` and `front` answer
 * /api/health (their readiness probe), the front also /api/kfl and a live /api/stream of
 * made-up entries; `worker` idles. The real manifests run it (SimClusterOptions.images).
 */
const FAKE_IMAGE = `
const [role, ...rest] = process.argv.slice(2);
if (role === 'worker') { setInterval(() => {}, 1 << 30); return; }
const port = Number(rest[rest.indexOf('--port') + 1]);
const http = require('http');
const { WebSocketServer } = require(${JSON.stringify(join(root, 'node_modules/ws'))});
const srv = http.createServer((q, s) => {
  s.setHeader('content-type', 'application/json');
  s.end(q.url.startsWith('/api/kfl') ? '{"ok":true}' : '{"role":"hub","ok":true}');
});
if (role === 'front') {
  const wss = new WebSocketServer({ server: srv, path: '/api/stream' });
  wss.on('connection', (ws) => {
    ws.send(JSON.stringify({ type: 'hello', kfl: {}, role: 'hub', version: 'test' }));
    ws.send(JSON.stringify({ type: 'status', entriesPerSec: 5, workersUp: 2, workersDown: [], dropped: 0 }));
    let i = 0;
    const t = setInterval(() => ws.send(JSON.stringify({ type: 'entry', entry: {
      id: ++i, node: 'n1', worker: 'n1', ts: Date.now() * 1000, protocol: 'http',
      src: { ip: '10.0.0.1', port: 5000, name: 'client-pod' },
      dst: { ip: '10.0.0.2', port: 80, name: 'catalog-pod' },
      summary: 'GET /fake/' + i, method: 'GET', path: '/fake/' + i, status: 200,
      statusText: '200', elapsed: 1000, requestSize: 1, responseSize: 2 } })), 100);
    ws.on('close', () => clearInterval(t));
  });
}
srv.listen(port, '0.0.0.0');
`;

test('tap runner in a cluster, table mode: deploy, ready, one proxy, the live table through it, q quits and leaves the release', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ks-table-'));
  const image = join(dir, 'image.cjs');
  writeFileSync(image, FAKE_IMAGE);
  const sim = await startSimCluster({
    images: { 'ghcr.io/kubeshark-ts/kubeshark': [process.execPath, image] },
  });
  const config = defaultConfig();
  for (const kv of await releasePorts()) {
    const [k, v] = kv.split('=') as [string, string];
    setKey(config, k, Number(v), 'test', false);
  }
  setKey(config, 'tap.proxy.front.port', 0, 'test', false);
  const term = new FakeTerminal();
  const keys = fakeKeyboard();
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const progress: string[] = [];
  let proxies = 0;
  try {
    const run = runTapCluster({
      config,
      kube: { kubeconfig: sim.kubeconfigPath },
      version: 'test',
      filter: '',
      output: 'table',
      quiet: false,
      progress: (l) => progress.push(l),
      timeoutMs: 30_000,
      dryRun: false,
      stdout: new PassThrough(),
      stderr,
      until: new Promise(() => {}),
      loadUi,
      tty: { stdin: keys, stdout: term as unknown as NodeJS.WriteStream },
      onProxy: () => proxies++,
    });
    let failed: unknown;
    run.catch((e: unknown) => (failed = e));
    await until(
      'rows in the table',
      () => failed !== undefined || /GET \/fake\/\d+/.test(term.plain()),
      60_000,
    );
    assert.equal(failed, undefined);
    assert.match(term.plain(), /catalog-pod/);
    await until('the status line', () => /workers 2 up · 5 entries\/s/.test(term.plain()), 10_000);
    assert.equal(proxies, 1);
    assert.equal(err.match(/dashboard at http:\/\/127\.0\.0\.1:\d+/g)?.length, 1);
    assert.ok(
      progress.includes('applying Deployment default/kubeshark-front … created'),
      progress.join('\n'),
    );
    assert.ok(progress.some((l) => /^front pod default\/kubeshark-front-.*: ready$/.test(l)));
    keys.write('q');
    const r = await run;
    assert.equal(r.exitCode, 0);
    assert.match(err, /`kubeshark clean` removes it/);
    assert.ok(labelled(sim).includes('Deployment default/kubeshark-front'), 'the release stays');
  } finally {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
