/**
 * `kubeshark mcp` without --url: it finds the release through the kubeconfig (the simulated
 * cluster's) and reaches its front through the API server's pods/portforward — started on the
 * first tool call, reused, and still answering after the front pod is replaced. The "front pod"
 * runs this very program (`tap --pcap` serves the front's API on the container port), labelled as
 * the release's front, so the port-forward path is the real one end to end.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { componentSelector, releaseSelector } from '../src/kube/apply.ts';
import { startSimCluster, type KObj, type SimCluster } from './kube-sim/index.ts';
import { freePort } from './helpers/free-port.ts';
import { cliCommand } from './helpers/cli.ts';
import { fails, ok, root, startMcp, type McpProcess } from './helpers/mcp-kit.ts';

const RELEASE = 'kubeshark';
const NS = 'default';
let sim: SimCluster;
let mcp: McpProcess;
let srvPort: number;

function frontPod(name: string): KObj {
  const labels = Object.fromEntries(
    componentSelector(RELEASE, 'front')
      .split(',')
      .map((kv) => kv.split('=') as [string, string]),
  );
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels },
    spec: {
      hostNetwork: true,
      containers: [
        {
          name: 'front',
          image: 'kubeshark/front:test',
          workingDir: root,
          command: [
            ...cliCommand(),
            'tap',
            '--pcap',
            join(root, 'demo/shop.pcap'),
            '--host',
            '127.0.0.1',
            '--port',
            String(srvPort),
            '--no-browser',
            '-o',
            'jsonl',
          ],
          env: [{ name: 'KUBESHARK_NO_BROWSER', value: '1' }],
          ports: [{ containerPort: srvPort }],
          readinessProbe: {
            httpGet: { path: '/api/health', port: srvPort, host: '127.0.0.1' },
            periodSeconds: 1,
          },
        },
      ],
    },
  };
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const podsUrl = () => `${sim.url}/api/v1/namespaces/${NS}/pods`;

async function createPod(name: string): Promise<void> {
  const r = await fetch(podsUrl(), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(frontPod(name)),
  });
  assert.equal(r.status, 201, await r.text());
}

async function deletePod(name: string): Promise<void> {
  const r = await fetch(`${podsUrl()}/${name}?gracePeriodSeconds=0`, { method: 'DELETE' });
  assert.equal(r.status, 200, await r.text());
}

async function ready(name: string): Promise<void> {
  await until(`pod ${name} ready`, 60_000, async () => {
    const r = await fetch(`${podsUrl()}/${name}`);
    const p = (await r.json()) as {
      status?: { conditions?: { type: string; status: string }[] };
    };
    return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
      ? true
      : undefined;
  });
}

before(async () => {
  srvPort = await freePort();
  sim = await startSimCluster({ nodes: ['node-a'] });
  await createPod('kubeshark-front-a');
  await ready('kubeshark-front-a');
  mcp = await startMcp(
    ['--kubeconfig', sim.kubeconfigPath, '--set', `tap.proxy.front.srvPort=${srvPort}`],
    { HOME: root },
  );
});

after(async () => {
  await mcp?.close();
  await sim?.close();
});

test('proxy mode: port-forward on the first call, reused, survives the front pod being replaced', async () => {
  const status = await ok(mcp.client, 'check_kubeshark_status');
  assert.equal(status.data.reachable, true, status.text + mcp.stderr());
  assert.match(status.text, /port-forward to kubeshark-front-a/);
  const calls = await until('the replay', 30_000, async () => {
    const r = await ok(mcp.client, 'list_api_calls', { kfl: 'http' });
    return (r.data.total as number) > 0 ? r : undefined;
  });
  const direct = (await (
    await fetch(`http://127.0.0.1:${srvPort}/api/entries?q=http&limit=1&count=1`)
  ).json()) as { total: number };
  assert.equal(calls.data.total, direct.total);
  const url = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(status.text)![1];

  // The front pod is replaced: the same forward reaches the new one.
  await deletePod('kubeshark-front-a');
  await until('the old front gone', 30_000, async () => {
    const r = await fetch(`http://127.0.0.1:${srvPort}/api/health`).catch(() => undefined);
    return r === undefined ? true : undefined;
  });
  await createPod('kubeshark-front-b');
  await ready('kubeshark-front-b');
  const again = await until('the new front through the forward', 30_000, async () => {
    const r = await ok(mcp.client, 'check_kubeshark_status');
    return r.data.reachable === true ? r : undefined;
  });
  assert.match(again.text, /port-forward to kubeshark-front-b/);
  assert.equal(/at (http:\/\/127\.0\.0\.1:\d+)/.exec(again.text)![1], url, 'the same forward');
  const later = await until('the new front replayed', 30_000, async () => {
    const r = await ok(mcp.client, 'list_api_calls', { kfl: 'http', limit: 1 });
    return r.data.total === direct.total ? r : undefined;
  });
  assert.equal(later.data.total, direct.total);
});

test('proxy mode: a release namespace without Kubeshark: status answers "not reachable" quickly', async () => {
  const t0 = Date.now();
  const r = await ok(mcp.client, 'check_kubeshark_status', { release_namespace: 'nowhere' });
  assert.equal(r.data.reachable, false);
  assert.match(
    r.text,
    /no ready front pod for nowhere\/kubeshark-front .*\[KS_ERR_KUBE_NOT_READY\]/,
  );
  assert.ok(Date.now() - t0 < 15_000, 'within the first-resolve timeout');
  // Other tools, with -s naming that namespace: a tool error saying so.
  const other = await startMcp(['--kubeconfig', sim.kubeconfigPath, '-s', 'nowhere'], {
    HOME: root,
  });
  try {
    await fails(
      other.client,
      'list_api_calls',
      {},
      /no ready front pod for nowhere\/kubeshark-front/,
    );
  } finally {
    await other.close();
  }
});

test('--allow-destructive: start/stop listed as destructive; stop runs `clean` with progress', async () => {
  const d = await startMcp(
    ['--kubeconfig', sim.kubeconfigPath, '--allow-destructive', '-s', 'ks-none'],
    { HOME: root },
  );
  try {
    const { tools } = await d.client.listTools();
    const start = tools.find((t) => t.name === 'start_kubeshark');
    const stop = tools.find((t) => t.name === 'stop_kubeshark');
    assert.ok(start && stop);
    assert.equal(start.annotations?.destructiveHint, true);
    assert.equal(stop.annotations?.readOnlyHint, false);
    assert.deepEqual(Object.keys(start.inputSchema.properties ?? {}).sort(), [
      'namespaces',
      'pod_regex',
      'release_namespace',
    ]);
    // Nothing deployed in ks-none: clean says so (it looked through the API server).
    const r = await ok(d.client, 'stop_kubeshark', {});
    assert.match(r.text, /Nothing to remove: no object of release kubeshark in namespace ks-none/);

    // An object of the release in ks-stop: removed, with progress notifications on the way.
    const post = async (path: string, body: object) => {
      const res = await fetch(`${sim.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 201, await res.text());
    };
    await post('/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'ks-stop' },
    });
    const labels = Object.fromEntries(
      releaseSelector(RELEASE)
        .split(',')
        .map((kv) => kv.split('=') as [string, string]),
    );
    await post('/api/v1/namespaces/ks-stop/serviceaccounts', {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'kubeshark-service-account', namespace: 'ks-stop', labels },
    });
    const progress: string[] = [];
    const stopped = (await d.client.callTool(
      { name: 'stop_kubeshark', arguments: { release_namespace: 'ks-stop' } },
      undefined,
      { onprogress: (p) => progress.push(p.message ?? '') },
    )) as { isError?: boolean; content: { text: string }[] };
    assert.equal(stopped.isError, undefined, stopped.content[0]!.text);
    assert.match(
      stopped.content[0]!.text,
      /Removed 1 object\(s\) of release kubeshark from namespace ks-stop/,
    );
    assert.deepEqual(progress, ['removed ServiceAccount ks-stop/kubeshark-service-account']);
    const gone = await fetch(
      `${sim.url}/api/v1/namespaces/ks-stop/serviceaccounts/kubeshark-service-account`,
    );
    assert.equal(gone.status, 404);
    assert.match(d.client.getInstructions() ?? '', /ask the user first/);
  } finally {
    await d.close();
  }
  // Without the flag they are not offered.
  const { tools } = await mcp.client.listTools();
  assert.ok(!tools.some((t) => /start_kubeshark|stop_kubeshark/.test(t.name)));
});
