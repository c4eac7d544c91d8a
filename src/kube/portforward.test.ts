/**
 * The front proxy through the simulated cluster's port-forward: a Deployment whose pod runs a
 * real HTTP server (this Node binary); requests through the local port reach it; the pod is
 * deleted, the Deployment replaces it, and the same local port reaches the new pod. Plus the
 * clear failures: a taken local port, a release that is not deployed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { CoreV1Api } from '@kubernetes/client-node';
import { componentSelector } from './apply.ts';
import { loadKubeConfig } from './config.ts';
import { startFrontProxy } from './portforward.ts';
import { isPodReady } from './ready.ts';
import { findResource, startSimCluster } from '../../test/kube-sim/index.ts';
import { KsError } from '../util/errors.ts';
import { fakeComponentDeployment, freePort } from '../../test/helpers/fake-release.ts';

test('port-forward survives the front pod being replaced; same local port', async () => {
  const sim = await startSimCluster();
  const srvPort = await freePort();
  const { kc } = loadKubeConfig({ kubeconfig: sim.kubeconfigPath });
  const core = kc.makeApiClient(CoreV1Api);
  const proxy = await startFrontProxy({
    kc,
    namespace: 'default',
    release: 'kubeshark',
    host: '127.0.0.1',
    port: 0,
    srvPort,
  });
  const targets: string[] = [];
  proxy.events.on('target', (p) => targets.push(p));
  try {
    const deployments = findResource('apps', 'v1', 'deployments')!;
    sim.store.create(
      deployments,
      fakeComponentDeployment('front', srvPort, `'pod:' + process.env.POD_NAME + ':' + q.url`),
    );
    // The first request waits for the pod to become Ready (the proxy resolves lazily).
    const get = async (path: string): Promise<string> =>
      (await fetch(`${proxy.url}${path}`, { headers: { connection: 'close' } })).text();
    const first = await get('/one');
    const m = /^pod:(kubeshark-front-[a-z0-9-]+):\/one$/.exec(first);
    assert.ok(m, first);
    const oldPod = m[1]!;
    assert.equal(await get('/two'), `pod:${oldPod}:/two`);
    assert.deepEqual(targets, [oldPod]);

    await core.deleteNamespacedPod({ name: oldPod, namespace: 'default' });
    // At once, while the ReplicaSet is still making the new pod: the request waits for it.
    const third = await get('/three');
    const m3 = /^pod:(kubeshark-front-[a-z0-9-]+):\/three$/.exec(third);
    assert.ok(m3, third);
    const newPod = m3[1]!;
    assert.notEqual(newPod, oldPod);
    const pods = await core.listNamespacedPod({
      namespace: 'default',
      labelSelector: componentSelector('kubeshark', 'front'),
    });
    assert.deepEqual(
      pods.items.map((p) => p.metadata?.name),
      [newPod],
    );
    assert.ok(isPodReady(pods.items[0]!));
    assert.equal(await get('/four'), `pod:${newPod}:/four`);
    assert.deepEqual(targets, [oldPod, newPod]);
    assert.equal(proxy.target, newPod);
  } finally {
    await proxy.close();
    await sim.close();
  }
});

test('port-forward fails clearly: local port taken, release not deployed', async () => {
  const sim = await startSimCluster({ controllers: false });
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const port = (busy.address() as { port: number }).port;
  try {
    const { kc } = loadKubeConfig({ kubeconfig: sim.kubeconfigPath });
    const opts = { kc, namespace: 'default', release: 'kubeshark', host: '127.0.0.1', srvPort: 1 };
    await assert.rejects(
      startFrontProxy({ ...opts, port }),
      (e: unknown) =>
        e instanceof KsError &&
        e.code === 'KS_ERR_LISTEN' &&
        e.message.includes(`127.0.0.1:${port}: the port is in use`),
    );
    const proxy = await startFrontProxy({ ...opts, port: 0 });
    try {
      await assert.rejects(
        proxy.resolve(300),
        (e: unknown) =>
          e instanceof KsError &&
          e.code === 'KS_ERR_KUBE_NOT_READY' &&
          /no ready front pod for default\/kubeshark-front/.test(e.message),
      );
    } finally {
      await proxy.close();
    }
  } finally {
    busy.close();
    await sim.close();
  }
});
