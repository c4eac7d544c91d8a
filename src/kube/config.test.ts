/**
 * Kubeconfig loading like kubectl (explicit path > KUBECONFIG list, first definition wins >
 * ~/.kube/config > in-cluster service account; --context), the errors naming what was tried, and
 * client-node failures turned into readable KsErrors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { kubeError, loadKubeConfig, statusCode } from './config.ts';
import { KsError } from '../util/errors.ts';

function kubeconfig(
  path: string,
  name: string,
  server: string,
  current = name,
  insecure = false,
): void {
  writeFileSync(
    path,
    `apiVersion: v1
kind: Config
clusters:
- name: ${name}
  cluster:
    server: ${server}${insecure ? '\n    insecure-skip-tls-verify: true' : ''}
contexts:
- name: ${name}
  context:
    cluster: ${name}
    user: ${name}
current-context: ${current}
users:
- name: ${name}
  user:
    token: t
`,
  );
}

test('precedence: --kubeconfig > KUBECONFIG (merged, first wins) > ~/.kube/config > in-cluster', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ks-kc-'));
  try {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    kubeconfig(a, 'alpha', 'https://alpha:6443');
    kubeconfig(b, 'beta', 'https://beta:6443');
    const home = join(dir, 'home');
    mkdirSync(join(home, '.kube'), { recursive: true });
    kubeconfig(join(home, '.kube', 'config'), 'homed', 'https://home:6443');
    const sa = join(dir, 'sa');
    mkdirSync(sa);
    writeFileSync(join(sa, 'token'), 'tok');
    writeFileSync(join(sa, 'namespace'), 'kube-shark\n');

    const explicit = loadKubeConfig({ kubeconfig: b, env: { KUBECONFIG: a }, home });
    assert.equal(explicit.server, 'https://beta:6443');
    assert.equal(explicit.source, b);

    const list = loadKubeConfig({ env: { KUBECONFIG: `${join(dir, 'missing')}:${a}:${b}` }, home });
    assert.equal(list.context, 'alpha', 'the first file with a current context wins');
    assert.deepEqual(
      list.kc.getContexts().map((c) => c.name),
      ['alpha', 'beta'],
    );
    const beta = loadKubeConfig({ env: { KUBECONFIG: `${a}:${b}` }, context: 'beta', home });
    assert.equal(beta.server, 'https://beta:6443');

    const inPod = { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' };
    // As kubectl: a ~/.kube/config wins over the pod's service account…
    const homeInPod = loadKubeConfig({ env: inPod, serviceAccountDir: sa, home });
    assert.equal(homeInPod.server, 'https://home:6443');
    // …which is used when there is none.
    const inCluster = loadKubeConfig({
      env: inPod,
      serviceAccountDir: sa,
      home: join(dir, 'no-home'),
    });
    assert.equal(inCluster.source, 'in-cluster service account');
    assert.equal(inCluster.server, 'https://10.0.0.1:443');
    assert.equal(inCluster.kc.getContextObject(inCluster.context)?.namespace, 'kube-shark');

    const fromHome = loadKubeConfig({ env: {}, serviceAccountDir: sa, home });
    assert.equal(fromHome.server, 'https://home:6443');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('errors name what was tried', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ks-kc-'));
  try {
    const none = () => loadKubeConfig({ env: {}, home: dir, serviceAccountDir: join(dir, 'sa') });
    assert.throws(
      none,
      (e: unknown) =>
        e instanceof KsError &&
        e.code === 'KS_ERR_KUBECONFIG' &&
        e.message.includes('KUBECONFIG (not set)') &&
        e.message.includes('in-cluster (KUBERNETES_SERVICE_HOST not set)') &&
        e.message.includes(join(dir, '.kube', 'config')),
    );
    assert.throws(
      () => loadKubeConfig({ kubeconfig: join(dir, 'nope') }),
      /no kubeconfig: --kubeconfig .*nope does not exist/,
    );
    const bad = join(dir, 'bad');
    writeFileSync(bad, ': : not yaml [');
    assert.throws(() => loadKubeConfig({ kubeconfig: bad }), /cannot read kubeconfig .*bad/);
    const ok = join(dir, 'ok');
    kubeconfig(ok, 'one', 'https://one:6443');
    assert.throws(
      () => loadKubeConfig({ kubeconfig: ok, context: 'two' }),
      /context "two" is not in .*ok; contexts: one/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('client-node failures become readable errors: Status bodies and a refused connection', async () => {
  const status = {
    code: 403,
    body: JSON.stringify({
      kind: 'Status',
      status: 'Failure',
      reason: 'Forbidden',
      message: 'pods is forbidden: User "u" cannot list resource "pods"',
      code: 403,
    }),
  };
  assert.equal(statusCode(status), 403);
  assert.equal(
    kubeError(status, 'listing pods').message,
    'listing pods: Forbidden 403: pods is forbidden: User "u" cannot list resource "pods"',
  );
  // A real refused connection through client-node.
  const dir = mkdtempSync(join(tmpdir(), 'ks-kc-'));
  try {
    const path = join(dir, 'c');
    kubeconfig(path, 'down', 'http://127.0.0.1:1', 'down', true);
    const { kc, server } = loadKubeConfig({ kubeconfig: path });
    const err = await kc
      .makeApiClient(CoreV1Api)
      .listNamespace()
      .then(
        () => assert.fail('must fail'),
        (e: unknown) => e,
      );
    const k = kubeError(err, 'listing namespaces', server);
    assert.equal(k.code, 'KS_ERR_KUBE_API');
    assert.equal(
      k.message,
      'listing namespaces: cannot reach the API server at http://127.0.0.1:1 (connection refused)',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
