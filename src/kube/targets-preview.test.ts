/**
 * `tap --dry-run`'s listing against the simulated API server: exactly the pods the workers'
 * rule (targets.ts) selects — regex searched, namespaces, exclusions win, never hostNetwork,
 * finished or IP-less pods, never the release's own — as rows and as the printed table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTargets, previewRows, previewTargets } from './targets-preview.ts';
import { targetSelection } from './targets.ts';
import { loadKubeConfig } from './config.ts';
import { findResource, startSimCluster } from '../../test/kube-sim/index.ts';

test('formatTargets: aligned columns, <none> for missing values', () => {
  assert.equal(
    formatTargets([
      { namespace: 'a', name: 'b', node: 'n1', ip: '10.0.0.1' },
      { namespace: 'shop', name: 'catalog', node: '', ip: '' },
    ]),
    'NAMESPACE   NAME      NODE     IP\na           b         n1       10.0.0.1\nshop        catalog   <none>   <none>\n',
  );
});

test('previewTargets lists exactly the pods the rule targets', async () => {
  const sim = await startSimCluster({ controllers: false });
  try {
    const pods = findResource('', 'v1', 'pods')!;
    const ns = findResource('', 'v1', 'namespaces')!;
    for (const n of ['shop', 'prod'])
      sim.store.create(ns, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: n } });
    let ip = 1;
    const add = (
      namespace: string,
      name: string,
      o: { phase?: string; hostNetwork?: boolean; labels?: Record<string, string> } = {},
    ): void => {
      sim.store.create(pods, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace, ...(o.labels ? { labels: o.labels } : {}) },
        spec: {
          nodeName: 'sim-node-1',
          hostNetwork: o.hostNetwork ?? false,
          containers: [{ name: 'c', image: 'x' }],
        },
        status: { phase: o.phase ?? 'Running', podIP: `10.1.0.${ip++}` },
      });
    };
    add('shop', 'catalog-1');
    add('shop', 'front-1');
    add('shop', 'catalog-done', { phase: 'Succeeded' });
    add('shop', 'catalog-host', { hostNetwork: true });
    add('prod', 'my-catalog-2');
    add('default', 'catalog-x');
    add('default', 'kubeshark-catalog', {
      labels: {
        'app.kubernetes.io/instance': 'kubeshark',
        'app.kubernetes.io/managed-by': 'kubeshark',
      },
    });
    const { kc } = loadKubeConfig({ kubeconfig: sim.kubeconfigPath });
    const names = async (o: Parameters<typeof targetSelection>[0]): Promise<string[]> =>
      (await previewTargets(kc, targetSelection({ release: 'kubeshark', ...o }))).map(
        (p) => `${p.namespace}/${p.name}`,
      );
    assert.deepEqual(await names({ regex: 'catalog' }), [
      'default/catalog-x',
      'prod/my-catalog-2',
      'shop/catalog-1',
    ]);
    assert.deepEqual(await names({ regex: 'catalog', excludedNamespaces: ['default'] }), [
      'prod/my-catalog-2',
      'shop/catalog-1',
    ]);
    assert.deepEqual(await names({ regex: '^catalog', namespaces: ['shop', 'prod'] }), [
      'shop/catalog-1',
    ]);
    assert.deepEqual(await names({ namespaces: ['shop'], excludedNamespaces: ['shop'] }), []);
    const rows = await previewTargets(kc, targetSelection({ regex: 'front' }));
    assert.deepEqual(rows, [
      { namespace: 'shop', name: 'front-1', node: 'sim-node-1', ip: '10.1.0.2' },
    ]);
    assert.deepEqual(previewRows([], targetSelection({})), []);
  } finally {
    await sim.close();
  }
});
