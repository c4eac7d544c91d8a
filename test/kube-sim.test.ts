/**
 * The simulated Kubernetes API server (test/kube-sim) checked against real clients: the real
 * `kubectl` binary, @kubernetes/client-node, and raw HTTP for the protocol details (watch streams,
 * 410 Gone, Status objects).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTcpServer } from 'node:net';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig, CoreV1Api, Watch, PortForward } from '@kubernetes/client-node';
import { startSimCluster } from './kube-sim/index.ts';
import type { SimCluster } from './kube-sim/index.ts';
import { freePort } from './helpers/free-port.ts';
import { KUBECTL, kubectl as runKubectl, type KubectlRun } from './helpers/kubectl.ts';

let sim: SimCluster;
let dir: string;

before(async () => {
  sim = await startSimCluster({
    controllers: false,
    historyLimit: 50,
    bookmarkIntervalMs: 100,
    namespaceFinalizeMs: 50,
  });
  dir = mkdtempSync(join(tmpdir(), 'kube-sim-test-'));
});

after(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

function kubectl(...args: string[]): Promise<KubectlRun> {
  return runKubectl(sim, ...args);
}

async function kubectlOk(...args: string[]): Promise<string> {
  const r = await kubectl(...args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function manifest(replicas: number, data: string): string {
  const path = join(dir, `m-${replicas}-${data}.yaml`);
  writeFileSync(
    path,
    `apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: shop
data:
  key: "${data}"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web, tier: front}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx
        ports: [{containerPort: 80}]
      - name: side
        image: busybox
        env: [{name: A, value: "1"}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 80}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: shop-reader}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: shop-reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: shop-reader}
subjects:
- {kind: ServiceAccount, name: default, namespace: shop}
`,
  );
  return path;
}

async function api(
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(`${sim.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': contentType },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

/** Reads a watch stream until `until` returns true for the collected events (or the stream ends). */
async function watchEvents(
  path: string,
  until: (evs: { type: string; object: Record<string, unknown> }[]) => boolean,
  during?: () => Promise<void>,
): Promise<{ type: string; object: Record<string, unknown> }[]> {
  const ac = new AbortController();
  const r = await fetch(`${sim.url}${path}`, { signal: ac.signal });
  assert.equal(r.status, 200);
  const evs: { type: string; object: Record<string, unknown> }[] = [];
  const reader = r.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  const work = during ? during() : Promise.resolve();
  const deadline = setTimeout(() => ac.abort(), 10_000);
  try {
    while (!until(evs)) {
      const { done, value } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        evs.push(JSON.parse(buf.slice(0, nl)) as { type: string; object: Record<string, unknown> });
        buf = buf.slice(nl + 1);
      }
    }
  } finally {
    clearTimeout(deadline);
    ac.abort();
    await work;
  }
  return evs;
}

function meta(o: Record<string, unknown>): Record<string, unknown> {
  return o.metadata as Record<string, unknown>;
}

test('kubectl apply creates, re-applies unchanged, patches a change (generation bumps)', async () => {
  const out = await kubectlOk('apply', '-f', manifest(2, 'one'));
  for (const l of [
    'namespace/shop created',
    'configmap/cfg created',
    'deployment.apps/web created',
    'service/web created',
    'clusterrole.rbac.authorization.k8s.io/shop-reader created',
    'clusterrolebinding.rbac.authorization.k8s.io/shop-reader created',
  ]) {
    assert.ok(out.includes(l), `missing "${l}" in:\n${out}`);
  }
  const dep = JSON.parse(
    await kubectlOk('get', 'deployment', 'web', '-n', 'shop', '-o', 'json'),
  ) as Record<string, unknown>;
  assert.equal(dep.kind, 'Deployment');
  assert.equal(meta(dep).generation, 1);
  const rv1 = Number(meta(dep).resourceVersion);
  assert.ok(rv1 > 0);
  assert.match(String(meta(dep).uid), /^[0-9a-f-]{36}$/);

  const again = await kubectlOk('apply', '-f', manifest(2, 'one'));
  assert.equal((again.match(/unchanged/g) ?? []).length, 6, again);
  const same = JSON.parse(
    await kubectlOk('get', 'deploy', 'web', '-n', 'shop', '-o', 'json'),
  ) as Record<string, unknown>;
  assert.equal(
    meta(same).resourceVersion,
    String(rv1),
    'no-op apply must not bump resourceVersion',
  );

  const changed = await kubectlOk('apply', '-f', manifest(3, 'two'));
  assert.match(changed, /deployment\.apps\/web configured/);
  assert.match(changed, /configmap\/cfg configured/);
  assert.match(changed, /service\/web unchanged/);
  const dep3 = JSON.parse(await kubectlOk('get', 'deploy', 'web', '-n', 'shop', '-o', 'json')) as {
    metadata: { generation: number; resourceVersion: string };
    spec: {
      replicas: number;
      template: { spec: { containers: { name: string; env?: unknown[] }[] } };
    };
  };
  assert.equal(dep3.spec.replicas, 3);
  assert.equal(dep3.metadata.generation, 2);
  assert.ok(Number(dep3.metadata.resourceVersion) > rv1);
  // Strategic merge kept both containers (merge key "name"), with the env list intact.
  assert.deepEqual(
    dep3.spec.template.spec.containers.map((c) => c.name),
    ['web', 'side'],
  );
  assert.deepEqual(dep3.spec.template.spec.containers[1]!.env, [{ name: 'A', value: '1' }]);
  const cm = JSON.parse(await kubectlOk('get', 'cm', 'cfg', '-n', 'shop', '-o', 'json')) as {
    data: Record<string, string>;
    metadata: Record<string, unknown>;
  };
  assert.deepEqual(cm.data, { key: 'two' });
  assert.equal(cm.metadata.generation, undefined);

  const table = await kubectlOk('get', 'all', '-n', 'shop');
  assert.match(table, /deployment\.apps\/web/);
  assert.match(table, /service\/web/);
  const crb = JSON.parse(
    await kubectlOk('get', 'clusterrolebinding', 'shop-reader', '-o', 'json'),
  ) as { roleRef: { name: string } };
  assert.equal(crb.roleRef.name, 'shop-reader');
});

test('kubectl get of a missing object reports NotFound; delete -f removes everything', async () => {
  const miss = await kubectl('get', 'configmap', 'nope', '-n', 'shop');
  assert.notEqual(miss.code, 0);
  assert.match(miss.stderr, /Error from server \(NotFound\): configmaps "nope" not found/);
  const missDeploy = await kubectl('get', 'deploy', 'nope', '-n', 'shop');
  assert.match(missDeploy.stderr, /deployments\.apps "nope" not found/);

  const forbidden = await kubectl('delete', 'namespace', 'default');
  assert.match(
    forbidden.stderr,
    /Error from server \(Forbidden\): namespaces "default" is forbidden/,
  );

  const out = await kubectlOk('delete', '-f', manifest(3, 'two'));
  assert.match(out, /namespace "shop" deleted/);
  assert.match(out, /clusterrole\.rbac\.authorization\.k8s\.io "shop-reader" deleted/);
  const gone = await kubectl('get', 'ns', 'shop');
  assert.match(gone.stderr, /namespaces "shop" not found/);
  const list = JSON.parse(await kubectlOk('get', 'deploy,cm,svc', '-A', '-o', 'json')) as {
    items: { metadata: { namespace: string } }[];
  };
  assert.equal(list.items.filter((i) => i.metadata.namespace === 'shop').length, 0);
});

test('kubectl get pods -w sees ADDED, MODIFIED and DELETED', async () => {
  const nsFile = join(dir, 'watchme.yaml');
  writeFileSync(nsFile, 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: watchme\n');
  await kubectlOk('create', '-f', nsFile);
  const child = spawn(KUBECTL, [
    `--kubeconfig=${sim.kubeconfigPath}`,
    'get',
    'pods',
    '-n',
    'watchme',
    '-w',
    '--output-watch-events',
  ]);
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  const waitFor = async (re: RegExp): Promise<void> => {
    const t0 = Date.now();
    while (!re.test(out)) {
      if (Date.now() - t0 > 10_000) throw new Error(`timed out waiting for ${re} in:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  try {
    // kubectl prints nothing for an empty list; give it time to open the watch.
    await new Promise((r) => setTimeout(r, 700));
    await kubectlOk('run', 'p1', '-n', 'watchme', '--image=busybox', '--', 'sleep', '10');
    await waitFor(/ADDED\s+p1/);
    await kubectlOk('label', 'pod', 'p1', '-n', 'watchme', 'x=y');
    await waitFor(/MODIFIED\s+p1/);
    await kubectlOk('delete', 'pod', 'p1', '-n', 'watchme');
    await waitFor(/DELETED\s+p1/);
  } finally {
    child.kill();
  }
  const pod = await kubectl('get', 'pod', 'p1', '-n', 'watchme');
  assert.match(pod.stderr, /pods "p1" not found/);
});

test('errors are Status objects: 409 AlreadyExists/Conflict, 422 Invalid, 404, 403', async () => {
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c1' }, data: { a: '1' } };
  const created = await api('POST', '/api/v1/namespaces/default/configmaps', cm);
  assert.equal(created.status, 201);
  const rv = String(meta(created.json).resourceVersion);
  assert.equal(meta(created.json).namespace, 'default');

  const dup = await api('POST', '/api/v1/namespaces/default/configmaps', cm);
  assert.equal(dup.status, 409);
  assert.deepEqual(
    {
      kind: dup.json.kind,
      apiVersion: dup.json.apiVersion,
      status: dup.json.status,
      reason: dup.json.reason,
      code: dup.json.code,
    },
    { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'AlreadyExists', code: 409 },
  );
  assert.deepEqual(dup.json.details, { name: 'c1', group: '', kind: 'configmaps' });

  const upd = await api('PUT', '/api/v1/namespaces/default/configmaps/c1', {
    ...cm,
    metadata: { name: 'c1', resourceVersion: rv },
    data: { a: '2' },
  });
  assert.equal(upd.status, 200);
  assert.ok(Number(meta(upd.json).resourceVersion) > Number(rv));
  const stale = await api('PUT', '/api/v1/namespaces/default/configmaps/c1', {
    ...cm,
    metadata: { name: 'c1', resourceVersion: rv },
    data: { a: '3' },
  });
  assert.equal(stale.status, 409);
  assert.equal(stale.json.reason, 'Conflict');
  assert.match(String(stale.json.message), /the object has been modified/);

  const bad = await api('POST', '/api/v1/namespaces/default/configmaps', {
    ...cm,
    metadata: { name: 'Bad_Name' },
  });
  assert.equal(bad.status, 422);
  assert.equal(bad.json.reason, 'Invalid');
  assert.equal(
    (bad.json.details as { causes: { field: string }[] }).causes[0]!.field,
    'metadata.name',
  );

  const missing = await api('GET', '/apis/apps/v1/namespaces/default/deployments/nope');
  assert.equal(missing.status, 404);
  assert.equal(missing.json.reason, 'NotFound');
  assert.equal(missing.json.message, 'deployments.apps "nope" not found');
  const noNs = await api('POST', '/api/v1/namespaces/ghost/configmaps', cm);
  assert.equal(noNs.status, 404);
  assert.equal(noNs.json.message, 'namespaces "ghost" not found');

  const forbid = await api('DELETE', '/api/v1/namespaces/kube-system');
  assert.equal(forbid.status, 403);
  assert.equal(forbid.json.reason, 'Forbidden');
});

test('JSON patch, merge patch, status subresource and generation', async () => {
  const dep = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd1', labels: { app: 'd1' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'd1' } },
      template: {
        metadata: { labels: { app: 'd1' } },
        spec: { containers: [{ name: 'c', image: 'x' }] },
      },
    },
    status: { replicas: 99 },
  };
  const base = '/apis/apps/v1/namespaces/default/deployments';
  const c = await api('POST', base, dep);
  assert.equal(c.status, 201);
  assert.deepEqual(c.json.status, {}, 'status sent on create is dropped');
  assert.equal(meta(c.json).generation, 1);

  const st = await api('PUT', `${base}/d1/status`, {
    ...c.json,
    spec: { ...dep.spec, replicas: 7 },
    status: { replicas: 1, readyReplicas: 1 },
  });
  assert.equal(st.status, 200);
  assert.deepEqual(st.json.status, { replicas: 1, readyReplicas: 1 });
  assert.equal((st.json.spec as { replicas: number }).replicas, 1, '/status ignores spec');
  assert.equal(meta(st.json).generation, 1, 'status writes do not bump generation');

  const mp = await api(
    'PATCH',
    `${base}/d1`,
    { spec: { replicas: 4 }, status: { replicas: 0 }, metadata: { labels: { extra: 'yes' } } },
    'application/merge-patch+json',
  );
  assert.equal(mp.status, 200);
  assert.equal((mp.json.spec as { replicas: number }).replicas, 4);
  assert.deepEqual(
    mp.json.status,
    { replicas: 1, readyReplicas: 1 },
    'main endpoint ignores status',
  );
  assert.deepEqual(meta(mp.json).labels, { app: 'd1', extra: 'yes' });
  assert.equal(meta(mp.json).generation, 2);

  const jp = await api(
    'PATCH',
    `${base}/d1`,
    [
      { op: 'test', path: '/spec/replicas', value: 4 },
      { op: 'replace', path: '/spec/replicas', value: 5 },
      { op: 'remove', path: '/metadata/labels/extra' },
      { op: 'add', path: '/spec/template/spec/containers/-', value: { name: 'c2', image: 'y' } },
    ],
    'application/json-patch+json',
  );
  assert.equal(jp.status, 200);
  assert.equal((jp.json.spec as { replicas: number }).replicas, 5);
  assert.deepEqual(meta(jp.json).labels, { app: 'd1' });
  assert.equal(meta(jp.json).generation, 3);
  const failedTest = await api(
    'PATCH',
    `${base}/d1`,
    [{ op: 'test', path: '/spec/replicas', value: 4 }],
    'application/json-patch+json',
  );
  assert.equal(failedTest.status, 422);

  const smp = await api(
    'PATCH',
    `${base}/d1`,
    {
      spec: {
        template: {
          spec: {
            containers: [
              { name: 'c', image: 'x2' },
              { name: 'c2', $patch: 'delete' },
            ],
          },
        },
      },
    },
    'application/strategic-merge-patch+json',
  );
  assert.equal(smp.status, 200);
  assert.deepEqual(
    (smp.json.spec as { template: { spec: { containers: unknown[] } } }).template.spec.containers,
    [{ name: 'c', image: 'x2' }],
  );

  const missing = await api('PATCH', `${base}/none`, { spec: {} }, 'application/merge-patch+json');
  assert.equal(missing.status, 404);

  const invalidSel = await api(
    'PATCH',
    `${base}/d1`,
    { spec: { selector: { matchLabels: { app: 'other' } } } },
    'application/merge-patch+json',
  );
  assert.equal(invalidSel.status, 422);
  assert.equal(invalidSel.json.reason, 'Invalid');
});

test('server-side apply creates then merges (application/apply-patch+yaml)', async () => {
  const path = '/api/v1/namespaces/default/configmaps/ssa';
  const yaml1 = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: "1"\n';
  const first = await api(
    'PATCH',
    `${path}?fieldManager=test&force=true`,
    yaml1,
    'application/apply-patch+yaml',
  );
  assert.equal(first.status, 201);
  assert.deepEqual(first.json.data, { a: '1' });
  const second = await api(
    'PATCH',
    `${path}?fieldManager=test`,
    yaml1.replace('"1"', '"2"'),
    'application/apply-patch+yaml',
  );
  assert.equal(second.status, 200);
  assert.deepEqual(second.json.data, { a: '2' });
});

test('list filters by label selector (equality and set-based) and field selector', async () => {
  const mk = (name: string, labels: Record<string, string>, nodeName: string) =>
    api('POST', '/api/v1/namespaces/default/pods', {
      metadata: { name, labels },
      spec: { nodeName, containers: [{ name: 'c', image: 'i' }] },
    });
  assert.equal((await mk('la', { app: 'a', tier: 'front' }, 'n1')).status, 201);
  assert.equal((await mk('lb', { app: 'b', tier: 'back' }, 'n2')).status, 201);
  assert.equal((await mk('lc', { app: 'c' }, 'n1')).status, 201);
  const names = async (q: string): Promise<string[]> => {
    const r = await api('GET', `/api/v1/namespaces/default/pods?${q}`);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.kind, 'PodList');
    assert.match(String(meta(r.json).resourceVersion), /^\d+$/);
    return (r.json.items as { metadata: { name: string } }[]).map((i) => i.metadata.name);
  };
  const ls = (s: string): string => `labelSelector=${encodeURIComponent(s)}`;
  assert.deepEqual(await names(ls('app=a')), ['la']);
  assert.deepEqual(await names(ls('app!=a')), ['lb', 'lc']);
  assert.deepEqual(await names(ls('app in (a,b)')), ['la', 'lb']);
  assert.deepEqual(await names(ls('app notin (a,b)')), ['lc']);
  assert.deepEqual(await names(ls('tier')), ['la', 'lb']);
  assert.deepEqual(await names(ls('!tier')), ['lc']);
  assert.deepEqual(await names(ls('app in (a,b),tier=back')), ['lb']);
  assert.deepEqual(await names(`fieldSelector=${encodeURIComponent('spec.nodeName=n1')}`), [
    'la',
    'lc',
  ]);
  assert.deepEqual(await names(`fieldSelector=${encodeURIComponent('metadata.name=lb')}`), ['lb']);
  const all = await api('GET', `/api/v1/pods?${ls('app in (a,b,c)')}`);
  assert.equal((all.json.items as unknown[]).length, 3);
  const bad = await api('GET', `/api/v1/pods?fieldSelector=${encodeURIComponent('spec.bogus=1')}`);
  assert.equal(bad.status, 400);
  assert.equal(bad.json.reason, 'BadRequest');
  // deletecollection and a DELETE with a body that is not JSON: 400 too, nothing deleted.
  const badDelete = await api(
    'DELETE',
    `/api/v1/namespaces/default/pods?labelSelector=${encodeURIComponent('app in (a')}`,
  );
  assert.equal(badDelete.status, 400);
  assert.equal(badDelete.json.reason, 'BadRequest');
  const badOptions = await api('DELETE', '/api/v1/namespaces/default/pods/la', '{"preconditions":');
  assert.equal(badOptions.status, 400);
  assert.equal((await api('GET', '/api/v1/namespaces/default/pods/la')).status, 200);
  assert.deepEqual(await names(ls('app in (a,b,c)')), ['la', 'lb', 'lc']);
  const pods = await kubectlOk('get', 'pods', '-l', 'app in (a,c)', '-o', 'name');
  assert.deepEqual(pods.trim().split('\n'), ['pod/la', 'pod/lc']);
});

test('watch: resume from resourceVersion, label-filtered, bookmarks, timeout, 410 on stale versions', async () => {
  const list = await api('GET', '/api/v1/namespaces/default/configmaps');
  const rv = String(meta(list.json).resourceVersion);
  const evs = await watchEvents(
    `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${rv}&labelSelector=w%3Dyes&allowWatchBookmarks=true`,
    (e) => e.some((x) => x.type === 'DELETED') && e.some((x) => x.type === 'BOOKMARK'),
    async () => {
      await api('POST', '/api/v1/namespaces/default/configmaps', {
        metadata: { name: 'ignored', labels: { w: 'no' } },
      });
      await api('POST', '/api/v1/namespaces/default/configmaps', {
        metadata: { name: 'w1', labels: { w: 'yes' } },
        data: { a: '1' },
      });
      await api(
        'PATCH',
        '/api/v1/namespaces/default/configmaps/w1',
        { data: { a: '2' } },
        'application/merge-patch+json',
      );
      await api('DELETE', '/api/v1/namespaces/default/configmaps/w1');
    },
  );
  const typed = evs.filter((e) => e.type !== 'BOOKMARK');
  assert.deepEqual(
    typed.map((e) => `${e.type} ${String(meta(e.object).name)}`),
    ['ADDED w1', 'MODIFIED w1', 'DELETED w1'],
  );
  assert.deepEqual(typed[1]!.object.data as Record<string, string>, { a: '2' });
  const rvs = typed.map((e) => Number(meta(e.object).resourceVersion));
  assert.ok(rvs[0]! > Number(rv) && rvs[0]! < rvs[1]! && rvs[1]! < rvs[2]!);
  const bm = evs.find((e) => e.type === 'BOOKMARK')!;
  assert.equal(bm.object.kind, 'ConfigMap');
  assert.match(String(meta(bm.object).resourceVersion), /^\d+$/);

  // Resuming at an older version replays the retained history.
  const replay = await watchEvents(
    `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}&labelSelector=w%3Dyes`,
    (e) => e.length >= 3,
  );
  assert.deepEqual(
    replay.map((e) => e.type),
    ['ADDED', 'MODIFIED', 'DELETED'],
  );

  // timeoutSeconds ends the stream.
  const t0 = Date.now();
  const timed = await watchEvents(
    `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${sim.store.resourceVersion}&timeoutSeconds=1`,
    () => false,
  );
  assert.equal(timed.length, 0);
  assert.ok(Date.now() - t0 >= 900);

  // Push the history past its limit (50): version 1 is no longer resumable.
  for (let i = 0; i < 60; i++) {
    await api('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: `fill-${i}` } });
  }
  const gone = await watchEvents(
    '/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=1',
    (e) => e.length > 0,
  );
  assert.equal(gone.length, 1);
  assert.equal(gone[0]!.type, 'ERROR');
  assert.equal(gone[0]!.object.kind, 'Status');
  assert.equal(gone[0]!.object.code, 410);
  assert.equal(gone[0]!.object.reason, 'Expired');
  assert.match(String(gone[0]!.object.message), /too old resource version: 1/);
});

test('namespace deletion: Terminating at once (403 on new content), contents removed after', async () => {
  assert.equal(
    (await api('POST', '/api/v1/namespaces', { metadata: { name: 'doomed' } })).status,
    201,
  );
  assert.equal(
    (await api('POST', '/api/v1/namespaces/doomed/configmaps', { metadata: { name: 'x' } })).status,
    201,
  );
  const del = await api('DELETE', '/api/v1/namespaces/doomed');
  assert.equal(del.status, 200);
  assert.equal((del.json.status as { phase: string }).phase, 'Terminating');
  const refused = await api('POST', '/api/v1/namespaces/doomed/configmaps', {
    metadata: { name: 'y' },
  });
  assert.equal(refused.status, 403);
  assert.equal(refused.json.reason, 'Forbidden');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await api('GET', '/api/v1/namespaces/doomed/configmaps/x')).status, 404);
  assert.equal((await api('GET', '/api/v1/namespaces/doomed')).status, 404);
});

test('@kubernetes/client-node: CoreV1Api list/create and Watch work against the simulator', async () => {
  const kc = new KubeConfig();
  kc.loadFromFile(sim.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const nodes = await core.listNode();
  assert.deepEqual(
    nodes.items.map((n) => n.metadata?.name),
    ['sim-node-1'],
  );
  assert.equal(nodes.items[0]!.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');

  const seen: string[] = [];
  let resolveDeleted: () => void = () => undefined;
  const deleted = new Promise<void>((r) => (resolveDeleted = r));
  const w = new Watch(kc);
  const ac = await w.watch(
    '/api/v1/namespaces/default/configmaps',
    { labelSelector: 'lib=yes' },
    (phase, obj: { metadata?: { name?: string } }) => {
      seen.push(`${phase} ${obj.metadata?.name ?? ''}`);
      if (phase === 'DELETED') resolveDeleted();
    },
    () => undefined,
  );
  try {
    const made = await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'lib-cm', labels: { lib: 'yes' } }, data: { k: 'v' } },
    });
    assert.equal(made.metadata?.namespace, 'default');
    assert.ok(made.metadata?.uid);
    const listed = await core.listNamespacedConfigMap({
      namespace: 'default',
      labelSelector: 'lib=yes',
    });
    assert.deepEqual(
      listed.items.map((i) => i.data),
      [{ k: 'v' }],
    );
    await assert.rejects(
      core.createNamespacedConfigMap({
        namespace: 'default',
        body: { metadata: { name: 'lib-cm' } },
      }),
      (e: { code?: number; body?: unknown }) =>
        e.code === 409 && String(e.body).includes('AlreadyExists'),
    );
    await core.deleteNamespacedConfigMap({ name: 'lib-cm', namespace: 'default' });
    await deleted;
  } finally {
    ac.abort();
  }
  assert.deepEqual(seen, ['ADDED lib-cm', 'DELETED lib-cm']);
});

test('controllers: Deployment → ReplicaSet → Ready pods, DaemonSet → one pod per node, GC on delete', async () => {
  const c = await startSimCluster({ nodes: ['n-a', 'n-b', 'n-c'] });
  const k = (...args: string[]): Promise<KubectlRun> => runKubectl(c, ...args);
  const ok = async (...args: string[]): Promise<string> => {
    const r = await k(...args);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const pods = async (
    sel: string,
  ): Promise<
    {
      metadata: { name: string; labels: Record<string, string> };
      spec: { nodeName: string };
      status: { phase: string; conditions: { type: string; status: string }[] };
    }[]
  > =>
    (
      JSON.parse(await ok('get', 'pods', '-n', 'default', '-l', sel, '-o', 'json')) as {
        items: never[];
      }
    ).items;
  const waitFor = async (what: string, f: () => Promise<boolean>): Promise<void> => {
    const t0 = Date.now();
    while (!(await f())) {
      if (Date.now() - t0 > 10_000) throw new Error(`timed out: ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const deploy = (replicas: number, image: string): string =>
    file(
      `dep-${replicas}-${image}.yaml`,
      `apiVersion: apps/v1
kind: Deployment
metadata: {name: hub, namespace: default}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: hub}}
  template:
    metadata: {labels: {app: hub}}
    spec:
      containers: [{name: hub, image: ${image}}]
`,
    );
  try {
    await ok('apply', '-f', deploy(2, 'img1'));
    const rolled = await ok('rollout', 'status', 'deployment/hub', '--timeout=10s');
    assert.match(rolled, /successfully rolled out/);
    let hub = await pods('app=hub');
    assert.equal(hub.length, 2);
    for (const p of hub) {
      assert.equal(p.status.phase, 'Running');
      assert.equal(p.status.conditions.find((x) => x.type === 'Ready')?.status, 'True');
      assert.ok(['n-a', 'n-b', 'n-c'].includes(p.spec.nodeName));
    }
    const dep = JSON.parse(await ok('get', 'deploy', 'hub', '-o', 'json')) as {
      status: Record<string, unknown>;
    };
    assert.equal(dep.status.readyReplicas, 2);
    assert.equal(dep.status.observedGeneration, 1);

    // Scale up, then change the template: a new ReplicaSet takes over, the old one goes to 0.
    await ok('apply', '-f', deploy(3, 'img1'));
    await waitFor('3 hub pods', async () => (await pods('app=hub')).length === 3);
    await ok('apply', '-f', deploy(3, 'img2'));
    await ok('rollout', 'status', 'deployment/hub', '--timeout=10s');
    await waitFor('old pods gone', async () => (await pods('app=hub')).length === 3);
    const rs = (
      JSON.parse(await ok('get', 'rs', '-l', 'app=hub', '-o', 'json')) as {
        items: {
          spec: { replicas: number; template: { spec: { containers: { image: string }[] } } };
        }[];
      }
    ).items;
    assert.deepEqual(
      rs.map((r) => `${r.spec.template.spec.containers[0]!.image}:${r.spec.replicas}`).sort(),
      ['img1:0', 'img2:3'],
    );
    hub = await pods('app=hub');
    assert.ok(hub.every((p) => p.metadata.labels['pod-template-hash'] !== undefined));

    await ok(
      'apply',
      '-f',
      file(
        'ds.yaml',
        `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: worker, namespace: default}
spec:
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: worker}}
    spec:
      containers: [{name: worker, image: w}]
`,
      ),
    );
    assert.match(
      await ok('rollout', 'status', 'daemonset/worker', '--timeout=10s'),
      /successfully rolled out/,
    );
    const workers = await pods('app=worker');
    assert.deepEqual(workers.map((p) => p.spec.nodeName).sort(), ['n-a', 'n-b', 'n-c']);
    const ds = JSON.parse(await ok('get', 'ds', 'worker', '-o', 'json')) as {
      status: Record<string, unknown>;
    };
    assert.equal(ds.status.desiredNumberScheduled, 3);
    assert.equal(ds.status.numberReady, 3);

    // Deleting owners garbage-collects what they own.
    await ok('delete', 'deployment', 'hub');
    await ok('delete', 'daemonset', 'worker');
    assert.equal((await pods('app in (hub,worker)')).length, 0);
    assert.equal(
      (JSON.parse(await ok('get', 'rs', '-o', 'json')) as { items: unknown[] }).items.length,
      0,
    );
  } finally {
    await c.close();
  }
});

test('kubelet: container commands run as local processes with probes, logs, restarts and kill on delete', async () => {
  const c = await startSimCluster();
  const port = await freePort();
  const call = async (
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: Record<string, unknown> }> => {
    const r = await fetch(`${c.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, json: (await r.json()) as Record<string, unknown> };
  };
  const waitPod = async (
    name: string,
    f: (p: Record<string, unknown>) => boolean,
  ): Promise<Record<string, unknown>> => {
    const t0 = Date.now();
    for (;;) {
      const r = await call('GET', `/api/v1/namespaces/default/pods/${name}`);
      if (r.status === 200 && f(r.json)) return r.json;
      if (Date.now() - t0 > 10_000)
        throw new Error(`timed out waiting on pod ${name}: ${JSON.stringify(r.json.status)}`);
      await new Promise((res) => setTimeout(res, 50));
    }
  };
  const ready = (p: Record<string, unknown>): boolean =>
    ((p.status as { conditions?: { type: string; status: string }[] }).conditions ?? []).some(
      (x) => x.type === 'Ready' && x.status === 'True',
    );
  // The server starts listening 300 ms after launch; Ready must wait for the readiness probe.
  const script = `console.log('hello from ' + process.env.POD_NAME + ' on ' + process.env.NODE_NAME);
setTimeout(() => require('http').createServer((q, s) => s.end('pong')).listen(Number(process.env.PORT), process.env.POD_IP), 300);`;
  try {
    const made = await call('POST', '/api/v1/namespaces/default/pods', {
      metadata: { name: 'srv' },
      spec: {
        containers: [
          {
            name: 'main',
            image: 'node',
            command: [process.execPath, '-e', script],
            env: [
              { name: 'PORT', value: String(port) },
              { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
              { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            ],
            ports: [{ name: 'http', containerPort: port }],
            readinessProbe: { httpGet: { path: '/', port: 'http' } },
          },
        ],
      },
    });
    assert.equal(made.status, 201);
    const running = await waitPod(
      'srv',
      (p) => (p.status as { phase: string }).phase === 'Running',
    );
    assert.equal(ready(running), false, 'not Ready before the probe passes');
    const readyPod = await waitPod('srv', ready);
    // The first pod of the cluster gets the lowest pod IP; the probe reached the server there.
    const podIP = (readyPod.status as { podIP: string }).podIP;
    assert.equal(podIP, `${c.network.podPrefix}1`);
    assert.equal((readyPod.status as { hostIP: string }).hostIP, c.network.nodeIp(0));
    assert.equal(await (await fetch(`http://${podIP}:${port}/`)).text(), 'pong');
    const logs = await new Promise<string>((resolve) => {
      execFile(KUBECTL, [`--kubeconfig=${c.kubeconfigPath}`, 'logs', 'srv'], (_e, out, err) =>
        resolve(out + err),
      );
    });
    assert.equal(logs, 'hello from srv on sim-node-1\n');

    // Deleting the pod kills its process.
    assert.equal((await call('DELETE', '/api/v1/namespaces/default/pods/srv')).status, 200);
    const t0 = Date.now();
    for (;;) {
      const up = await fetch(`http://${podIP}:${port}/`).then(
        () => true,
        () => false,
      );
      if (!up) break;
      if (Date.now() - t0 > 5000) throw new Error('process still serving after pod deletion');
      await new Promise((res) => setTimeout(res, 50));
    }

    // A crashing container restarts (restartPolicy Always) and records its last exit.
    await call('POST', '/api/v1/namespaces/default/pods', {
      metadata: { name: 'crash' },
      spec: {
        containers: [{ name: 'c', image: 'sh', command: ['/bin/sh', '-c', 'echo boom; exit 3'] }],
      },
    });
    const crashed = await waitPod('crash', (p) => {
      const cs =
        (p.status as { containerStatuses?: { restartCount: number }[] }).containerStatuses ?? [];
      return (cs[0]?.restartCount ?? 0) >= 2;
    });
    const cs = (
      crashed.status as {
        containerStatuses: { lastState: { terminated?: { exitCode: number; reason: string } } }[];
      }
    ).containerStatuses[0]!;
    assert.deepEqual(
      [cs.lastState.terminated?.exitCode, cs.lastState.terminated?.reason],
      [3, 'Error'],
    );
    assert.equal((crashed.status as { phase: string }).phase, 'Running');

    // restartPolicy Never: the pod ends Succeeded or Failed by exit code.
    for (const [name, code, phase] of [
      ['once-ok', 0, 'Succeeded'],
      ['once-bad', 1, 'Failed'],
    ] as const) {
      await call('POST', '/api/v1/namespaces/default/pods', {
        metadata: { name },
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'c', image: 'sh', command: ['/bin/sh', '-c', `exit ${code}`] }],
        },
      });
      await waitPod(name, (p) => (p.status as { phase: string }).phase === phase);
    }
  } finally {
    await c.close();
  }
});

test('port-forward: client-node PortForward (WebSocket channels) and kubectl port-forward (SPDY/3.1) reach a pod process', async () => {
  const c = await startSimCluster();
  const podPort = await freePort();
  const local = createTcpServer();
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(c.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'echo' },
        spec: {
          containers: [
            {
              name: 'echo',
              image: 'node',
              // Bound to the pod IP only: port-forward falls back from 127.0.0.1 to it.
              command: [process.execPath, '-e'],
              args: [
                `require('http').createServer((q, s) => s.end('echo:' + q.url)).listen(${podPort}, process.argv[1])`,
                '$(POD_IP)',
              ],
              env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
              readinessProbe: { tcpSocket: { port: podPort } },
            },
          ],
        },
      },
    });
    const t0 = Date.now();
    for (;;) {
      const p = await core.readNamespacedPod({ name: 'echo', namespace: 'default' });
      if (p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True')) break;
      if (Date.now() - t0 > 10_000) throw new Error('pod never became Ready');
      await new Promise((r) => setTimeout(r, 50));
    }
    const pf = new PortForward(kc);
    local.on('connection', (sock) => {
      pf.portForward('default', 'echo', [podPort], sock, null, sock).catch((e: unknown) =>
        sock.destroy(e as Error),
      );
    });
    await new Promise<void>((r) => local.listen(0, '127.0.0.1', r));
    const localPort = (local.address() as AddressInfo).port;
    for (const path of ['/one', '/two']) {
      const body = await (
        await fetch(`http://127.0.0.1:${localPort}${path}`, { headers: { connection: 'close' } })
      ).text();
      assert.equal(body, `echo:${path}`);
    }
    // The real kubectl: WebSocket tunnelling is refused, it falls back to SPDY/3.1.
    const kLocal = await freePort();
    const child = spawn(KUBECTL, [
      `--kubeconfig=${c.kubeconfigPath}`,
      'port-forward',
      'pod/echo',
      `${kLocal}:${podPort}`,
      '--address=127.0.0.1',
    ]);
    try {
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (out += b.toString()));
      const t1 = Date.now();
      while (!out.includes('Forwarding from')) {
        if (Date.now() - t1 > 10_000)
          throw new Error(`kubectl port-forward did not start:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      for (const path of ['/k1', '/k2', '/k3']) {
        const body = await (await fetch(`http://127.0.0.1:${kLocal}${path}`)).text();
        assert.equal(body, `echo:${path}`);
      }
      assert.match(out, /Handling connection for/);
      assert.doesNotMatch(out, /lost connection|error/i);
    } finally {
      child.kill();
    }

    // A pod that does not exist: the upgrade is refused with a NotFound Status.
    const refused = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${c.url}/api/v1/namespaces/default/pods/nope/portforward?ports=80`, {
        headers: {
          connection: 'Upgrade',
          upgrade: 'websocket',
          'sec-websocket-version': '13',
          'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
          'sec-websocket-protocol': 'v4.channel.k8s.io',
        },
      });
      req.on('upgrade', () => reject(new Error('upgrade must be refused')));
      req.on('response', (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(refused.status, 404);
    assert.equal((JSON.parse(refused.body) as { reason: string }).reason, 'NotFound');
  } finally {
    await new Promise<void>((r) => local.close(() => r()));
    await c.close();
  }
});
