/**
 * `kubeshark logs` against the simulated cluster: release-labelled pods running real processes
 * (one crashing and restarting), the zip read back with `unzip`: every container's log, the
 * previous instance of the one that restarted, pods.json, and the namespace's events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectLogs, formatEvents } from './logs.ts';
import { loadKubeConfig } from './config.ts';
import { findResource, startSimCluster } from '../../test/kube-sim/index.ts';
import { fakeWorkload } from '../../test/helpers/fake-release.ts';

const unzip = (...args: string[]): string => execFileSync('unzip', args, { encoding: 'utf8' });

test('logs zip: every container, the previous instance of a restarted one, pods and events', async () => {
  const sim = await startSimCluster();
  const dir = mkdtempSync(join(tmpdir(), 'ks-logs-'));
  try {
    const deployments = findResource('apps', 'v1', 'deployments')!;
    const pods = findResource('', 'v1', 'pods')!;
    sim.store.create(
      deployments,
      fakeWorkload('hub', {
        script: `console.log('hub start'); setTimeout(() => { console.error('hub dying'); process.exit(2); }, 200)`,
      }),
    );
    sim.store.create(
      deployments,
      fakeWorkload('front', {
        script: `console.log('front up'); setInterval(() => {}, 1 << 30)`,
      }),
    );
    sim.store.create(findResource('', 'v1', 'events')!, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'ev-test', namespace: 'default' },
      involvedObject: { kind: 'Pod', name: 'someone', namespace: 'default' },
      type: 'Warning',
      reason: 'TestReason',
      message: 'a test event',
      count: 2,
    });
    // Wait until the hub restarted once and the front logged.
    const t0 = Date.now();
    const restarts = (): number =>
      sim.store
        .list(pods, 'default')
        .filter((p) => p.metadata.name.startsWith('kubeshark-hub'))
        .map(
          (p) =>
            (p.status as { containerStatuses?: { restartCount: number }[] } | undefined)
              ?.containerStatuses?.[0]?.restartCount ?? 0,
        )[0] ?? 0;
    while (restarts() < 1) {
      if (Date.now() - t0 > 20_000) throw new Error('the hub never restarted');
      await new Promise((r) => setTimeout(r, 100));
    }
    const hubPod = sim.store
      .list(pods, 'default')
      .find((p) => p.metadata.name.startsWith('kubeshark-hub'))!.metadata.name;
    const frontPod = sim.store
      .list(pods, 'default')
      .find((p) => p.metadata.name.startsWith('kubeshark-front'))!.metadata.name;

    const { kc } = loadKubeConfig({ kubeconfig: sim.kubeconfigPath });
    const file = join(dir, 'out.zip');
    const report = await collectLogs({ kc, namespace: 'default', release: 'kubeshark', file });
    assert.equal(report.pods, 2);
    const names = report.entries.map((e) => e.name).sort();
    assert.deepEqual(names, [
      'events.json',
      'events.txt',
      'pods.json',
      `pods/${frontPod}/front.log`,
      `pods/${hubPod}/hub.log`,
      `pods/${hubPod}/hub.previous.log`,
    ]);
    const listing = unzip('-l', file);
    for (const n of names) assert.ok(listing.includes(n), `${n} in\n${listing}`);
    assert.match(unzip('-p', file, `pods/${frontPod}/front.log`), /front up/);
    assert.match(unzip('-p', file, `pods/${hubPod}/hub.previous.log`), /hub start[\s\S]*hub dying/);
    assert.match(
      unzip('-p', file, 'events.txt'),
      /Warning {2}TestReason {2}Pod\/someone {2}a test event \(×2\)/,
    );
    const evJson = JSON.parse(unzip('-p', file, 'events.json')) as { reason?: string }[];
    assert.ok(evJson.some((e) => e.reason === 'TestReason'));
    const podsJson = JSON.parse(unzip('-p', file, 'pods.json')) as { metadata: { name: string } }[];
    assert.deepEqual(podsJson.map((p) => p.metadata.name).sort(), [frontPod, hubPod].sort());
  } finally {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('formatEvents: oldest first, one line each', () => {
  assert.equal(formatEvents([]), 'no events\n');
  const text = formatEvents([
    {
      metadata: {},
      involvedObject: { kind: 'Pod', name: 'b' },
      lastTimestamp: new Date('2026-01-02T00:00:00Z'),
      type: 'Normal',
      reason: 'Started',
      message: 'started',
    },
    {
      metadata: {},
      involvedObject: { kind: 'Pod', name: 'a' },
      lastTimestamp: new Date('2026-01-01T00:00:00Z'),
      type: 'Warning',
      reason: 'BackOff',
      message: 'back-off',
      count: 5,
    },
  ]);
  assert.equal(
    text,
    '2026-01-01T00:00:00.000Z  Warning  BackOff  Pod/a  back-off (×5)\n2026-01-02T00:00:00.000Z  Normal  Started  Pod/b  started\n',
  );
});
