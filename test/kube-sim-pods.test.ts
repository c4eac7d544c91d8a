/**
 * The simulated cluster running real pods: image entrypoints, one IP per pod (node IPs for
 * hostNetwork pods), cluster DNS through a per-pod /etc/hosts, configMap volumes, scheduling
 * failures, image pull failures, previous logs and simulated authorization — all with real
 * processes, checked through the API, kubectl and plain HTTP to the pods' addresses.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { startSimCluster } from './kube-sim/index.ts';
import type { SimCluster } from './kube-sim/index.ts';
import { freePort } from './helpers/free-port.ts';
import { kubectl } from './helpers/kubectl.ts';

/** The image the pods run: its entrypoint is this Node binary. */
const NODE_IMAGE = 'registry.sim/node';
const WAIT_MS = 15_000;

let sim: SimCluster;

before(async () => {
  sim = await startSimCluster({
    nodes: ['node-a', 'node-b'],
    images: { [NODE_IMAGE]: [process.execPath] },
    podEnv: { SIM_EXTRA: 'injected' },
    kubeconfigInPods: true,
  });
});

after(async () => {
  await sim.close();
});

type Obj = Record<string, unknown> & {
  metadata: { name: string; uid: string; labels?: Record<string, string> };
  spec: Record<string, unknown> & { nodeName?: string };
  status: Record<string, unknown> & {
    phase?: string;
    podIP?: string;
    hostIP?: string;
    podIPs?: { ip: string }[];
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: {
      restartCount: number;
      state: { waiting?: { reason: string; message?: string }; running?: unknown };
    }[];
  };
};

async function call(
  c: SimCluster,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<{ status: number; json: Record<string, unknown>; text: string }> {
  const r = await fetch(`${c.url}${path}`, {
    method,
    headers: { 'content-type': contentType },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // plain-text answers (logs)
  }
  return { status: r.status, json, text };
}

async function created(c: SimCluster, path: string, body: unknown): Promise<void> {
  const r = await call(c, 'POST', path, body);
  assert.equal(r.status, 201, `POST ${path}: ${r.text}`);
}

async function until<T>(what: string, f: () => Promise<T | undefined>): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() - t0 > WAIT_MS) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function pods(c: SimCluster, ns: string, selector: string): Promise<Obj[]> {
  const r = await call(
    c,
    'GET',
    `/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent(selector)}`,
  );
  return (r.json.items ?? []) as Obj[];
}

function ready(p: Obj): boolean {
  return (p.status.conditions ?? []).some((x) => x.type === 'Ready' && x.status === 'True');
}

async function readyPods(c: SimCluster, ns: string, selector: string, n: number): Promise<Obj[]> {
  return until(`${n} ready pods ${selector}`, async () => {
    const ps = await pods(c, ns, selector);
    return ps.length === n && ps.every(ready) ? ps : undefined;
  });
}

async function eventsOf(
  c: SimCluster,
  ns: string,
  podName: string,
): Promise<
  {
    reason: string;
    type: string;
    message: string;
    count: number;
    involvedObject: Record<string, string>;
  }[]
> {
  const r = await call(
    c,
    'GET',
    `/api/v1/namespaces/${ns}/events?fieldSelector=${encodeURIComponent(`involvedObject.name=${podName}`)}`,
  );
  return r.json.items as never;
}

/** A tiny HTTP server (run as `node -e SERVER <host> <port>`) answering with its identity and env. */
const SERVER = `const [host, port] = process.argv.slice(1);
require('http').createServer((q, s) => s.end(JSON.stringify({
  pod: process.env.POD_NAME, host, node: process.env.NODE_NAME, hostname: require('os').hostname(),
  kubeHost: process.env.KUBERNETES_SERVICE_HOST, kubePort: process.env.KUBERNETES_SERVICE_PORT,
  extra: process.env.SIM_EXTRA, kubeconfig: process.env.KUBECONFIG,
}))).listen(Number(port), host, () => console.log('listening on ' + host + ':' + port));`;

const identityEnv = [
  { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
  { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
  { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
  { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
];

test('nodes have InternalIPs; a Deployment from a mapped image is Ready on its own pod IPs, with events', async () => {
  const nodes = (await call(sim, 'GET', '/api/v1/nodes')).json.items as {
    metadata: { name: string; labels: Record<string, string> };
    status: { addresses: { type: string; address: string }[] };
  }[];
  assert.deepEqual(
    nodes.map((n) => [n.metadata.name, n.status.addresses, n.metadata.labels['kubernetes.io/os']]),
    [
      [
        'node-a',
        [
          { type: 'InternalIP', address: sim.network.nodeIp(0) },
          { type: 'Hostname', address: 'node-a' },
        ],
        'linux',
      ],
      [
        'node-b',
        [
          { type: 'InternalIP', address: sim.network.nodeIp(1) },
          { type: 'Hostname', address: 'node-b' },
        ],
        'linux',
      ],
    ],
  );
  const port = await freePort();
  await created(sim, '/apis/apps/v1/namespaces/default/deployments', {
    metadata: { name: 'web' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'web',
              image: `${NODE_IMAGE}:20@sha256:${'0'.repeat(64)}`,
              // No command: the image's entrypoint (node) runs with these args, $(VAR) expanded.
              args: ['-e', SERVER, '$(POD_IP)', String(port)],
              env: identityEnv,
              ports: [{ name: 'http', containerPort: port }],
              readinessProbe: { httpGet: { path: '/', port: 'http' } },
            },
          ],
        },
      },
    },
  });
  const web = await readyPods(sim, 'default', 'app=web', 2);
  const ips = web.map((p) => p.status.podIP!);
  assert.equal(new Set(ips).size, 2, 'each pod has its own IP');
  for (const p of web) {
    assert.ok(p.status.podIP!.startsWith(sim.network.podPrefix), p.status.podIP);
    assert.deepEqual(p.status.podIPs, [{ ip: p.status.podIP }]);
    assert.equal(
      p.status.hostIP,
      p.spec.nodeName === 'node-a' ? sim.network.nodeIp(0) : sim.network.nodeIp(1),
    );
    // Both bind the same port, each on its own address: no collision.
    const r = (await (await fetch(`http://${p.status.podIP}:${port}/`)).json()) as Record<
      string,
      string
    >;
    assert.deepEqual(r, {
      pod: p.metadata.name,
      host: p.status.podIP,
      node: p.spec.nodeName,
      // Its own UTS namespace: the pod name is the hostname (when the sim can isolate pods).
      hostname: sim.clusterDns ? p.metadata.name : hostname(),
      kubeHost: '127.0.0.1',
      kubePort: String(sim.port),
      extra: 'injected',
      kubeconfig: sim.kubeconfigPath,
    });
  }
  assert.deepEqual([...new Set(web.map((p) => p.spec.nodeName))].sort(), ['node-a', 'node-b']);
  const evs = await until('kubelet events', async () => {
    const e = await eventsOf(sim, 'default', web[0]!.metadata.name);
    const reasons = new Set(e.map((x) => x.reason));
    return ['Scheduled', 'Pulled', 'Created', 'Started'].every((r) => reasons.has(r))
      ? e
      : undefined;
  });
  const scheduled = evs.find((e) => e.reason === 'Scheduled')!;
  assert.equal(
    scheduled.message,
    `Successfully assigned default/${web[0]!.metadata.name} to ${web[0]!.spec.nodeName}`,
  );
  assert.deepEqual(
    [scheduled.involvedObject.kind, scheduled.involvedObject.uid, scheduled.count],
    ['Pod', web[0]!.metadata.uid, 1],
  );
  const logs = await kubectl(sim, 'logs', web[0]!.metadata.name);
  assert.equal(logs.stdout, `listening on ${web[0]!.status.podIP}:${port}\n`);

  // Pod IPs are released when a pod's processes are gone, and the lowest free one is reused.
  assert.equal(
    (await call(sim, 'DELETE', '/apis/apps/v1/namespaces/default/deployments/web')).status,
    200,
  );
  await until('web pods gone', async () =>
    (await pods(sim, 'default', 'app=web')).length === 0 ? true : undefined,
  );
  await until('processes exited', async () =>
    (
      await Promise.all(
        ips.map((ip) =>
          fetch(`http://${ip}:${port}/`).then(
            () => true,
            () => false,
          ),
        ),
      )
    ).some(Boolean)
      ? undefined
      : true,
  );
  await new Promise((r) => setTimeout(r, 100));
  await created(sim, '/api/v1/namespaces/default/pods', {
    metadata: { name: 'reuse', labels: { app: 'reuse' } },
    spec: {
      containers: [{ name: 'c', image: NODE_IMAGE, args: ['-e', 'setInterval(() => {}, 1000)'] }],
    },
  });
  const reuse = await readyPods(sim, 'default', 'app=reuse', 1);
  assert.equal(reuse[0]!.status.podIP, [...ips].sort()[0]);
  await call(sim, 'DELETE', '/api/v1/namespaces/default/pods/reuse');
});

test('a hostNetwork DaemonSet: one pod per node on the node IP, the same port without collision', async () => {
  const port = await freePort();
  await created(sim, '/apis/apps/v1/namespaces/default/daemonsets', {
    metadata: { name: 'agent' },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      template: {
        metadata: { labels: { app: 'agent' } },
        spec: {
          hostNetwork: true,
          dnsPolicy: 'ClusterFirstWithHostNet',
          containers: [
            {
              name: 'agent',
              image: NODE_IMAGE,
              args: ['-e', SERVER, '$(HOST_IP)', String(port)],
              env: identityEnv,
              readinessProbe: { tcpSocket: { port } },
            },
          ],
        },
      },
    },
  });
  const agents = await readyPods(sim, 'default', 'app=agent', 2);
  const byNode = Object.fromEntries(agents.map((p) => [p.spec.nodeName, p]));
  for (const [node, ip] of [
    ['node-a', sim.network.nodeIp(0)],
    ['node-b', sim.network.nodeIp(1)],
  ] as const) {
    const p = byNode[node]!;
    assert.equal(p.status.podIP, ip);
    assert.equal(p.status.hostIP, ip);
    const r = (await (await fetch(`http://${ip}:${port}/`)).json()) as Record<string, string>;
    assert.equal(r.pod, p.metadata.name);
    assert.equal(r.node, node);
    // hostNetwork: the node's hostname (the sim node's name in the pod's UTS namespace).
    assert.equal(r.hostname, sim.clusterDns ? node : hostname());
  }
  const ds = (await call(sim, 'GET', '/apis/apps/v1/namespaces/default/daemonsets/agent')).json
    .status as Record<string, number>;
  assert.equal(ds.desiredNumberScheduled, 2);
  await call(sim, 'DELETE', '/apis/apps/v1/namespaces/default/daemonsets/agent');
});

test('cluster DNS: a pod resolves Service names through its /etc/hosts, updated in place as the Service appears', async (t) => {
  if (!sim.clusterDns) {
    t.skip('no private mount namespaces here (needs root and unshare): no cluster DNS');
    return;
  }
  const port = await freePort();
  // The client starts first: the name does not resolve until the Service and a ready pod exist.
  const client = `const dns = require('dns');
let last = '';
const say = (s) => { if (s !== last) { last = s; console.log(s); } };
setInterval(async () => {
  for (const name of process.argv.slice(1)) {
    try {
      const body = await (await fetch('http://' + name + ':${port}/')).text();
      say(name + ' -> ' + JSON.parse(body).pod);
    } catch (e) {
      say(name + ' !! ' + (e.cause?.code ?? e.message));
    }
  }
}, 100);
dns.lookup(require('os').hostname(), () => {});`;
  await created(sim, '/api/v1/namespaces/default/pods', {
    metadata: { name: 'client' },
    spec: {
      containers: [
        {
          name: 'client',
          image: NODE_IMAGE,
          args: [
            '-e',
            client,
            'backend.default.svc',
            'backend',
            'backend.default.svc.cluster.local',
          ],
        },
      ],
    },
  });
  const log = async (): Promise<string> =>
    (await call(sim, 'GET', '/api/v1/namespaces/default/pods/client/log')).text;
  await until('client reports ENOTFOUND', async () =>
    /backend\.default\.svc !! ENOTFOUND/.test(await log()) ? true : undefined,
  );
  await created(sim, '/api/v1/namespaces/default/pods', {
    metadata: { name: 'backend-0', labels: { app: 'backend' } },
    spec: {
      containers: [
        {
          name: 'b',
          image: NODE_IMAGE,
          args: ['-e', SERVER, '$(POD_IP)', String(port)],
          env: identityEnv,
          readinessProbe: { httpGet: { port } },
        },
      ],
    },
  });
  await created(sim, '/api/v1/namespaces/default/services', {
    metadata: { name: 'backend' },
    spec: { selector: { app: 'backend' }, ports: [{ port, targetPort: port }] },
  });
  const out = await until('client reaches backend by every name', async () => {
    const l = await log();
    return ['backend.default.svc', 'backend', 'backend.default.svc.cluster.local'].every((n) =>
      l.includes(`${n} -> backend-0`),
    )
      ? l
      : undefined;
  });
  assert.match(out, /backend !! ENOTFOUND/);
  // The host's own resolver knows nothing of it: the names live only in the pod's mount namespace.
  const host = await import('node:dns/promises').then((d) =>
    d.lookup('backend.default.svc').then(
      (a) => a.address,
      (e: NodeJS.ErrnoException) => e.code,
    ),
  );
  assert.equal(host, 'ENOTFOUND');
  // Deleting the backend pod takes the name away again (no ready pod, no address).
  await call(sim, 'DELETE', '/api/v1/namespaces/default/pods/backend-0');
  await until('name gone', async () =>
    /backend\.default\.svc -> backend-0\n(.*\n)*backend\.default\.svc !! ENOTFOUND/.test(
      await log(),
    )
      ? true
      : undefined,
  );
  await call(sim, 'DELETE', '/api/v1/namespaces/default/pods/client');
  await call(sim, 'DELETE', '/api/v1/namespaces/default/services/backend');
});

test('configMap and secret volumes: files reachable through the rewritten mountPath, updated on change', async () => {
  await created(sim, '/api/v1/namespaces/default/configmaps', {
    metadata: { name: 'app-config' },
    data: { 'config.yaml': 'level: 1\n' },
  });
  await created(sim, '/api/v1/namespaces/default/secrets', {
    metadata: { name: 'app-secret' },
    stringData: { token: 's3cret' },
  });
  const reader = `const fs = require('fs');
let last = '';
setInterval(() => {
  const s = process.env.CONFIG + ' ' + fs.readFileSync(process.env.CONFIG, 'utf8').trim() + ' ' +
    fs.readFileSync(process.argv[1], 'utf8');
  if (s !== last) { last = s; console.log(s); }
}, 50);`;
  await created(sim, '/api/v1/namespaces/default/pods', {
    metadata: { name: 'reader' },
    spec: {
      containers: [
        {
          name: 'r',
          image: NODE_IMAGE,
          args: ['-e', reader, '/var/run/app/token'],
          env: [{ name: 'CONFIG', value: '/etc/app/config.yaml' }],
          volumeMounts: [
            { name: 'config', mountPath: '/etc/app', readOnly: true },
            { name: 'secret', mountPath: '/var/run/app' },
          ],
        },
      ],
      volumes: [
        { name: 'config', configMap: { name: 'app-config' } },
        { name: 'secret', secret: { secretName: 'app-secret' } },
      ],
    },
  });
  const log = async (): Promise<string> =>
    (await call(sim, 'GET', '/api/v1/namespaces/default/pods/reader/log')).text;
  const first = await until('reader prints', async () => {
    const l = await log();
    return l.includes('level: 1') ? l : undefined;
  });
  const m = /^(\S+) level: 1 s3cret$/m.exec(first);
  assert.ok(m, first);
  assert.notEqual(m[1], '/etc/app/config.yaml');
  assert.match(m[1]!, /\/config\/config\.yaml$/);
  await call(
    sim,
    'PATCH',
    '/api/v1/namespaces/default/configmaps/app-config',
    { data: { 'config.yaml': 'level: 2\n' } },
    'application/merge-patch+json',
  );
  await until('reader sees the new content', async () =>
    (await log()).includes('level: 2 s3cret') ? true : undefined,
  );
  await call(sim, 'DELETE', '/api/v1/namespaces/default/pods/reader');
});

test('an image the cluster does not have: ErrImagePull → ImagePullBackOff, Failed event, Pending', async () => {
  await created(sim, '/api/v1/namespaces/default/pods', {
    metadata: { name: 'nopull' },
    spec: { containers: [{ name: 'c', image: 'ghcr.io/nowhere/missing:v1' }] },
  });
  const p = await until('ImagePullBackOff', async () => {
    const r = (await call(sim, 'GET', '/api/v1/namespaces/default/pods/nopull')).json as Obj;
    return r.status.containerStatuses?.[0]?.state.waiting?.reason === 'ImagePullBackOff'
      ? r
      : undefined;
  });
  assert.equal(p.status.phase, 'Pending');
  assert.ok((p.status.podIP ?? '').startsWith(sim.network.podPrefix), p.status.podIP);
  const evs = await eventsOf(sim, 'default', 'nopull');
  const failed = evs.find(
    (e) =>
      e.type === 'Warning' && e.reason === 'Failed' && e.message.startsWith('Failed to pull image'),
  );
  assert.ok(failed, JSON.stringify(evs));
  assert.match(failed.message, /^Failed to pull image "ghcr\.io\/nowhere\/missing:v1": /);
  assert.deepEqual(
    [
      failed.involvedObject.kind,
      failed.involvedObject.name,
      failed.involvedObject.namespace,
      failed.involvedObject.uid,
    ],
    ['Pod', 'nopull', 'default', p.metadata.uid],
  );
  const logs = await call(sim, 'GET', '/api/v1/namespaces/default/pods/nopull/log');
  assert.equal(logs.status, 400);
  assert.equal(
    logs.json.message,
    'container "c" in pod "nopull" is waiting to start: trying and failing to pull image',
  );
  await call(sim, 'DELETE', '/api/v1/namespaces/default/pods/nopull');
});

test('a nodeSelector no node matches: Pending/Unschedulable with FailedScheduling, scheduled once a node is labelled', async () => {
  await created(sim, '/api/v1/namespaces/default/pods', {
    metadata: { name: 'picky' },
    spec: {
      nodeSelector: { disk: 'ssd' },
      containers: [{ name: 'c', image: NODE_IMAGE, args: ['-e', 'setInterval(() => {}, 1000)'] }],
    },
  });
  const expected =
    "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.";
  const p = await until('PodScheduled=False', async () => {
    const r = (await call(sim, 'GET', '/api/v1/namespaces/default/pods/picky')).json as Obj;
    return r.status.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False')
      ? r
      : undefined;
  });
  assert.equal(p.status.phase, 'Pending');
  assert.equal(p.spec.nodeName, undefined);
  const cond = p.status.conditions!.find((c) => c.type === 'PodScheduled')!;
  assert.deepEqual([cond.reason, cond.message], ['Unschedulable', expected]);
  const ev = (await eventsOf(sim, 'default', 'picky')).find((e) => e.reason === 'FailedScheduling');
  assert.ok(ev);
  assert.deepEqual([ev.type, ev.message], ['Warning', expected]);
  // Still pending a moment later, and the retries did not add Event objects (count only).
  await new Promise((r) => setTimeout(r, 1300));
  const again = (await eventsOf(sim, 'default', 'picky')).filter(
    (e) => e.reason === 'FailedScheduling',
  );
  assert.equal(again.length, 1);
  assert.ok(again[0]!.count >= 2, `count ${again[0]!.count}`);
  await call(
    sim,
    'PATCH',
    '/api/v1/nodes/node-b',
    { metadata: { labels: { disk: 'ssd' } } },
    'application/merge-patch+json',
  );
  // The node changed: the scheduler retries at once and binds to the one node that now fits.
  const bound = await until('picky scheduled and Ready', async () => {
    const r = (await call(sim, 'GET', '/api/v1/namespaces/default/pods/picky')).json as Obj;
    return ready(r) ? r : undefined;
  });
  assert.equal(bound.spec.nodeName, 'node-b');
  await call(sim, 'DELETE', '/api/v1/namespaces/default/pods/picky');
});

test('logs: previous instance after a crash, container= for multi-container pods, tailLines, 400s', async () => {
  await created(sim, '/api/v1/namespaces/default/pods', {
    metadata: { name: 'crashy' },
    spec: {
      containers: [
        {
          name: 'main',
          image: 'sh',
          command: ['/bin/sh', '-c', 'echo "run at $(date +%s%N)"; echo second; sleep 0.3; exit 2'],
        },
        {
          name: 'side',
          image: NODE_IMAGE,
          args: ['-e', 'console.log("side up"); setInterval(() => {}, 1000)'],
        },
      ],
    },
  });
  const base = '/api/v1/namespaces/default/pods/crashy/log';
  const noName = await call(sim, 'GET', base);
  assert.equal(noName.status, 400);
  assert.equal(
    noName.json.message,
    'a container name must be specified for pod crashy, choose one of: [main side]',
  );
  const bad = await call(sim, 'GET', `${base}?container=nope`);
  assert.equal(bad.status, 400);
  assert.equal(bad.json.message, 'container nope is not valid for pod crashy');
  const before = await until('main running, first instance', async () => {
    const r = (await call(sim, 'GET', '/api/v1/namespaces/default/pods/crashy')).json as Obj;
    return r.status.containerStatuses?.[0]?.state.running &&
      r.status.containerStatuses[0].restartCount === 0
      ? r
      : undefined;
  });
  assert.ok(before);
  const noPrev = await call(sim, 'GET', `${base}?container=main&previous=true`);
  assert.equal(noPrev.status, 400);
  assert.equal(
    noPrev.json.message,
    'previous terminated container "main" in pod "crashy" not found',
  );
  await until('restarted', async () => {
    const r = (await call(sim, 'GET', '/api/v1/namespaces/default/pods/crashy')).json as Obj;
    return (r.status.containerStatuses?.[0]?.restartCount ?? 0) >= 1 &&
      r.status.containerStatuses![0]!.state.running
      ? r
      : undefined;
  });
  const prev = await call(sim, 'GET', `${base}?container=main&previous=true`);
  assert.equal(prev.status, 200);
  // `$(date +%s%N)` is not a defined variable: Kubernetes expansion leaves it to the shell.
  assert.match(prev.text, /^run at \d{10,}\nsecond\n$/);
  const cur = await until('current instance output', async () => {
    const r = await call(sim, 'GET', `${base}?container=main`);
    return r.text.includes('second') ? r.text : undefined;
  });
  assert.notEqual(cur, prev.text, 'current and previous are different instances');
  assert.equal(
    (await call(sim, 'GET', `${base}?container=main&previous=true&tailLines=1`)).text,
    'second\n',
  );
  const k = await kubectl(sim, 'logs', 'crashy', '-c', 'main', '--previous');
  assert.equal(k.code, 0, k.stderr);
  assert.match(k.stdout, /^run at \d+\nsecond\n$/);
  assert.equal((await kubectl(sim, 'logs', 'crashy', '-c', 'side')).stdout, 'side up\n');
  // follow=true streams the running instance and ends when it exits (0.3 s after it started).
  await until('main running again', async () => {
    const r = (await call(sim, 'GET', '/api/v1/namespaces/default/pods/crashy')).json as Obj;
    return r.status.containerStatuses?.[0]?.state.running ? true : undefined;
  });
  const t0 = Date.now();
  const followed = await (await fetch(`${sim.url}${base}?container=main&follow=true`)).text();
  assert.match(followed, /^run at \d+\nsecond\n$/);
  assert.ok(Date.now() - t0 < 2000, 'the stream ended with the instance');
  const backoff = await until('BackOff event', async () =>
    (await eventsOf(sim, 'default', 'crashy')).find((e) => e.reason === 'BackOff'),
  );
  assert.equal(backoff.type, 'Warning');
  assert.match(
    backoff.message,
    /^Back-off restarting failed container main in pod crashy_default\(/,
  );
  await call(sim, 'DELETE', '/api/v1/namespaces/default/pods/crashy');
});

test('readiness probe failures: Unhealthy event, pod Running but not Ready', async () => {
  const port = await freePort();
  await created(sim, '/api/v1/namespaces/default/pods', {
    metadata: { name: 'sick' },
    spec: {
      containers: [
        {
          name: 'c',
          image: NODE_IMAGE,
          args: [
            '-e',
            `require('http').createServer((q, s) => { s.statusCode = 503; s.end(); }).listen(${port}, process.env.POD_IP)`,
          ],
          env: identityEnv,
          readinessProbe: { httpGet: { path: '/healthz', port } },
        },
      ],
    },
  });
  const ev = await until('Unhealthy event', async () =>
    (await eventsOf(sim, 'default', 'sick')).find(
      (e) => e.reason === 'Unhealthy' && e.message.includes('statuscode: 503'),
    ),
  );
  assert.equal(ev.type, 'Warning');
  assert.equal(ev.message, 'Readiness probe failed: HTTP probe failed with statuscode: 503');
  const p = (await call(sim, 'GET', '/api/v1/namespaces/default/pods/sick')).json as Obj;
  assert.equal(p.status.phase, 'Running');
  assert.equal(ready(p), false);
  await call(sim, 'DELETE', '/api/v1/namespaces/default/pods/sick');
});

test('authorization: SelfSubjectAccessReview allowed, and denied reviews match 403s on real requests', async () => {
  const c = await startSimCluster({
    controllers: false,
    deny: [
      { verb: 'list', resource: 'pods', namespace: 'kube-system' },
      { verb: 'create', resource: 'pods/portforward' },
      { verb: '*', resource: 'clusterroles', group: 'rbac.authorization.k8s.io' },
    ],
  });
  try {
    const disc = (await call(c, 'GET', '/apis/authorization.k8s.io/v1')).json as {
      resources: { name: string; verbs: string[] }[];
    };
    assert.deepEqual(disc.resources.find((r) => r.name === 'selfsubjectaccessreviews')?.verbs, [
      'create',
    ]);
    const review = async (ra: Record<string, string>): Promise<Record<string, unknown>> => {
      const r = await call(c, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: ra },
      });
      assert.equal(r.status, 201);
      return r.json.status as Record<string, unknown>;
    };
    assert.deepEqual(await review({ verb: 'list', resource: 'pods', namespace: 'default' }), {
      allowed: true,
      reason: 'simulated cluster: RBAC not enforced',
    });
    assert.deepEqual(await review({ verb: 'list', resource: 'pods', namespace: 'kube-system' }), {
      allowed: false,
    });
    assert.equal(
      (
        await review({
          verb: 'create',
          resource: 'pods',
          subresource: 'portforward',
          namespace: 'x',
        })
      ).allowed,
      false,
    );
    // The same rules on real requests.
    const denied = await call(c, 'GET', '/api/v1/namespaces/kube-system/pods');
    assert.equal(denied.status, 403);
    assert.deepEqual([denied.json.kind, denied.json.reason], ['Status', 'Forbidden']);
    assert.equal(
      denied.json.message,
      'pods is forbidden: User "sim-admin" cannot list resource "pods" in API group "" in the namespace "kube-system"',
    );
    assert.equal((await call(c, 'GET', '/api/v1/namespaces/default/pods')).status, 200);
    assert.equal(
      (await call(c, 'GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles')).status,
      403,
    );
    // kubectl's own checks and errors.
    const yes = await kubectl(c, 'auth', 'can-i', 'list', 'pods', '-n', 'default');
    assert.deepEqual([yes.code, yes.stdout.trim()], [0, 'yes']);
    const no = await kubectl(c, 'auth', 'can-i', 'list', 'pods', '-n', 'kube-system');
    assert.equal(no.stdout.trim(), 'no');
    assert.notEqual(no.code, 0);
    const get = await kubectl(c, 'get', 'pods', '-n', 'kube-system');
    assert.notEqual(get.code, 0);
    assert.match(get.stderr, /Forbidden|forbidden: User "sim-admin" cannot list resource "pods"/);
  } finally {
    await c.close();
  }
});
