/**
 * `kubeshark check` against the simulated cluster: a healthy stand-in release passes every line
 * (RBAC through SelfSubjectAccessReview, pods Ready, hub health and workers through a real
 * port-forward); a denied permission, a worker that is down, and a release that is not deployed
 * each fail with the reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../config/load.ts';
import { formatCheckLine, requiredPermissions, runChecks, type CheckLine } from './check.ts';
import { releaseObjects } from './manifests.ts';
import { findResource, startSimCluster, type SimCluster } from '../../test/kube-sim/index.ts';
import type { DenyRule } from '../../test/kube-sim/authz.ts';
import { fakeHubApiFront, fakeWorkload, freePort } from '../../test/helpers/fake-release.ts';

const objects = releaseObjects(defaultConfig(), { version: 'test' });

function worker(name: string, up: boolean, received = 1000, dropped = 0): unknown {
  return {
    name,
    url: `http://${name}:48999`,
    up,
    node: name,
    version: 'test',
    ...(up
      ? {
          capture: {
            sources: ['any'],
            receivedPackets: received,
            droppedPackets: dropped,
            ifDroppedPackets: 0,
            processedBytes: 1,
            liveTcpStreams: 0,
            matchedPairs: 0,
            entries: 7,
            limitsHit: {},
            storeDropped: 0,
            streamDropped: 0,
          },
        }
      : { error: 'connect ECONNREFUSED' }),
  };
}

/** A stand-in release: idle hub and workers, a front answering like a hub with `workers`. */
async function deployFake(sim: SimCluster, workers: unknown[]): Promise<number> {
  const srvPort = await freePort();
  const deployments = findResource('apps', 'v1', 'deployments')!;
  sim.store.create(deployments, fakeWorkload('hub'));
  sim.store.create(deployments, fakeHubApiFront(srvPort, workers, 'test'));
  sim.store.create(
    findResource('apps', 'v1', 'daemonsets')!,
    fakeWorkload('worker', { kind: 'DaemonSet' }),
  );
  // Until every pod is Ready.
  const pods = findResource('', 'v1', 'pods')!;
  const t0 = Date.now();
  for (;;) {
    const ps = sim.store.list(pods, 'default');
    const ready = ps.filter((p) =>
      (
        (p.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ??
        []
      ).some((c) => c.type === 'Ready' && c.status === 'True'),
    );
    if (ps.length === 3 && ready.length === 3) return srvPort;
    if (Date.now() - t0 > 20_000)
      throw new Error(`pods not ready: ${JSON.stringify(ps.map((p) => p.status))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function check(sim: SimCluster, srvPort: number): Promise<CheckLine[]> {
  return runChecks({
    kube: { kubeconfig: sim.kubeconfigPath },
    objects,
    release: 'kubeshark',
    namespace: 'default',
    frontSrvPort: srvPort,
    version: 'test',
  });
}

const text = (lines: CheckLine[]): string => lines.map(formatCheckLine).join('\n');

test('check: a healthy release passes every line', async () => {
  const sim = await startSimCluster();
  try {
    const port = await deployFake(sim, [worker('sim-node-1', true)]);
    const lines = await check(sim, port);
    const out = text(lines);
    assert.deepEqual(
      lines.filter((l) => l.status !== 'ok'),
      [],
      out,
    );
    assert.match(out, /✓ kubeconfig .*context sim/);
    assert.match(out, /✓ API server reachable, Kubernetes v1\.32/);
    assert.match(
      out,
      new RegExp(`✓ RBAC: all ${requiredPermissions(objects, 'default').length} permissions`),
    );
    assert.match(out, /✓ hub pod kubeshark-hub-.*: ready/);
    assert.match(out, /✓ worker pod kubeshark-worker-.* on sim-node-1: ready/);
    assert.match(out, /✓ hub \/api\/health via port-forward: ok/);
    assert.match(out, /✓ worker sim-node-1: up, 1000 packets received, 0 dropped, 7 entries/);
    assert.match(out, /✓ CLI test, images ghcr\.io\/kubeshark-ts\/kubeshark:test, hub test/);
  } finally {
    await sim.close();
  }
});

test('check: denied permissions, a worker down, drops; each line says why', async () => {
  const deny: DenyRule[] = [
    { verb: 'create', resource: 'pods/portforward' },
    { verb: 'create', resource: 'clusterrolebindings', group: 'rbac.authorization.k8s.io' },
  ];
  const sim = await startSimCluster({ deny });
  try {
    const port = await deployFake(sim, [worker('n1', false), worker('n2', true, 900, 100)]);
    const lines = await check(sim, port);
    const out = text(lines);
    assert.match(out, /✗ RBAC: denied: create pods\/portforward in default/);
    assert.match(
      out,
      /✗ RBAC: denied: create clusterrolebindings\.rbac\.authorization\.k8s\.io cluster-wide/,
    );
    // Port-forward is refused (403): the hub cannot be reached.
    assert.match(
      out,
      /✗ hub via port-forward: port-forward to default\/kubeshark-front:\d+: the API server refused: 403 Forbidden/,
    );
    assert.ok(lines.some((l) => l.status === 'fail'));
  } finally {
    await sim.close();
  }
  const sim2 = await startSimCluster();
  try {
    const port = await deployFake(sim2, [worker('n1', false), worker('n2', true, 900, 100)]);
    const out = text(await check(sim2, port));
    assert.match(out, /✗ worker n1: down: connect ECONNREFUSED/);
    assert.match(
      out,
      /! worker n2: up, 900 packets received, 100 dropped, 7 entries \(10\.00% dropped/,
    );
    assert.match(out, /✗ hub \/api\/health via port-forward: not ok/);
  } finally {
    await sim2.close();
  }
});

test('check: a release that is not deployed fails; an unreachable server stops early', async () => {
  const sim = await startSimCluster({ controllers: false });
  const dir = mkdtempSync(join(tmpdir(), 'ks-check-'));
  const kubeconfig = join(dir, 'config');
  copyFileSync(sim.kubeconfigPath, kubeconfig);
  try {
    const lines = await check(sim, 1);
    assert.deepEqual(
      lines.filter((l) => l.status === 'fail').map((l) => l.text),
      ['release kubeshark is not deployed in default (kubeshark tap deploys it)'],
    );
  } finally {
    await sim.close();
  }
  // The server is gone now: its kubeconfig points at a closed port.
  const lines = await runChecks({
    kube: { kubeconfig },
    objects,
    release: 'kubeshark',
    namespace: 'default',
    frontSrvPort: 1,
    version: 'test',
  });
  rmSync(dir, { recursive: true, force: true });
  assert.deepEqual(
    lines.map((l) => `${l.section} ${l.status}`),
    ['kubeconfig ok', 'api fail'],
  );
  assert.match(
    lines[1]!.text,
    /cannot reach the API server at http:\/\/127\.0\.0\.1:\d+ \(connection refused\)/,
  );
});
