/**
 * Applying and cleaning the real release objects against the simulated API server: a second
 * apply changes nothing, a config change configures only what it touches, clean removes every
 * object (cluster-scoped ones too) and the namespace it created, leaves a namespace that was
 * already there, leaves another release's cluster-scoped objects, and is idempotent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultConfig, setKey, type ConfigTree } from '../config/load.ts';
import { applyRelease, releaseSelector } from './apply.ts';
import { cleanRelease } from './clean.ts';
import { loadKubeConfig } from './config.ts';
import { releaseObjects } from './manifests.ts';
import { RESOURCES, startSimCluster } from '../../test/kube-sim/index.ts';
import { labelled } from '../../test/helpers/fake-release.ts';

function configFor(ns: string, extra: Record<string, unknown> = {}): ConfigTree {
  const c = defaultConfig();
  setKey(c, 'tap.release.namespace', ns, 'test', false);
  for (const [k, v] of Object.entries(extra)) setKey(c, k, v, 'test', false);
  return c;
}

test('apply twice: created, then all unchanged; a config change configures the ConfigMap and the workloads only', async () => {
  const sim = await startSimCluster({ controllers: false, namespaceFinalizeMs: 50 });
  try {
    const { kc } = loadKubeConfig({ kubeconfig: sim.kubeconfigPath });
    const objects = releaseObjects(configFor('ks'), { version: '1.0.0' });
    const lines: string[] = [];
    const first = await applyRelease(kc, objects, { progress: (l) => lines.push(l) });
    assert.equal(first.length, objects.length);
    assert.deepEqual(
      first.map((r) => r.outcome),
      objects.map(() => 'created'),
    );
    assert.ok(lines.includes('applying ServiceAccount ks/kubeshark … created'), lines.join('\n'));
    assert.ok(lines.includes('applying Namespace ks … created'));

    const second = await applyRelease(kc, objects);
    assert.deepEqual(
      second.map((r) => `${r.kind}:${r.outcome}`),
      objects.map((o) => `${o.kind}:unchanged`),
    );

    const changed = releaseObjects(configFor('ks', { 'tap.resources.hub.limits.cpu': '3' }), {
      version: '1.0.0',
    });
    const third = await applyRelease(kc, changed);
    // The ConfigMap changes, and every pod template with it (its config checksum annotation).
    const configured = third.filter((r) => r.outcome !== 'unchanged');
    assert.deepEqual(configured.map((r) => `${r.kind} ${r.name} ${r.outcome}`).sort(), [
      'ConfigMap kubeshark-config configured',
      'DaemonSet kubeshark-worker configured',
      'Deployment kubeshark-front configured',
      'Deployment kubeshark-hub configured',
    ]);
    assert.ok(
      third
        .filter((r) => ['Namespace', 'ServiceAccount', 'ClusterRole', 'Service'].includes(r.kind))
        .every((r) => r.outcome === 'unchanged'),
    );
    const hub = sim.store.get(
      RESOURCES.find((r) => r.kind === 'Deployment')!,
      'ks',
      'kubeshark-hub',
    )!;
    const spec = hub.spec as {
      template: { spec: { containers: { resources: { limits: { cpu: string } } }[] } };
    };
    assert.equal(spec.template.spec.containers[0]!.resources.limits.cpu, '3');
  } finally {
    await sim.close();
  }
});

test('clean removes everything of the release and the namespace it created; idempotent', async () => {
  const sim = await startSimCluster({ controllers: false, namespaceFinalizeMs: 50 });
  try {
    const { kc } = loadKubeConfig({ kubeconfig: sim.kubeconfigPath });
    const objects = releaseObjects(configFor('ks'), { version: '1.0.0' });
    await applyRelease(kc, objects);
    assert.equal(labelled(sim).length, objects.length);
    const removed = await cleanRelease({ kc, objects, release: 'kubeshark', namespace: 'ks' });
    assert.deepEqual(removed.map((r) => r.kind).sort(), objects.map((o) => o.kind).sort());
    await new Promise((r) => setTimeout(r, 300)); // namespace finalization
    assert.deepEqual(labelled(sim), []);
    assert.equal(
      sim.store.get(
        RESOURCES.find((r) => r.kind === 'Namespace')!,
        undefined,
        'ks',
      ),
      undefined,
    );
    const again = await cleanRelease({ kc, objects, release: 'kubeshark', namespace: 'ks' });
    assert.deepEqual(again, []);
    // Re-deploying right after works (the namespace is created again).
    const re = await applyRelease(kc, objects);
    assert.equal(re[0]!.outcome, 'created');
  } finally {
    await sim.close();
  }
});

test('a namespace that was already there is never labelled nor deleted; other releases are left alone', async () => {
  const sim = await startSimCluster({ controllers: false, namespaceFinalizeMs: 50 });
  try {
    const { kc } = loadKubeConfig({ kubeconfig: sim.kubeconfigPath });
    const nsRes = RESOURCES.find((r) => r.kind === 'Namespace')!;
    sim.store.create(nsRes, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'mine', labels: { team: 'a' } },
    });
    const mine = releaseObjects(configFor('mine'), { version: '1.0.0' });
    const other = releaseObjects(configFor('ks'), { version: '1.0.0' });
    const lines: string[] = [];
    const applied = await applyRelease(kc, mine, { progress: (l) => lines.push(l) });
    assert.equal(applied[0]!.outcome, 'exists');
    assert.ok(lines.includes('applying Namespace mine … exists, left as is'));
    assert.deepEqual(sim.store.get(nsRes, undefined, 'mine')!.metadata.labels, { team: 'a' });
    await applyRelease(kc, other);

    const removed = await cleanRelease({
      kc,
      objects: mine,
      release: 'kubeshark',
      namespace: 'mine',
    });
    assert.ok(!removed.some((r) => r.kind === 'Namespace'));
    assert.deepEqual(
      removed
        .filter((r) => !r.namespace)
        .map((r) => `${r.kind} ${r.name}`)
        .sort(),
      ['ClusterRole kubeshark-mine', 'ClusterRoleBinding kubeshark-mine'],
    );
    await new Promise((r) => setTimeout(r, 200));
    const ns = sim.store.get(nsRes, undefined, 'mine');
    assert.ok(ns, 'the pre-existing namespace stays');
    assert.notEqual((ns.status as { phase?: string } | undefined)?.phase, 'Terminating');
    // The other release (namespace ks) is untouched.
    assert.deepEqual(labelled(sim).filter((l) => !l.includes('mine')).length, other.length);
    assert.ok(releaseSelector('kubeshark').includes('app.kubernetes.io/managed-by=kubeshark'));
  } finally {
    await sim.close();
  }
});
