/**
 * End to end against the simulated cluster: two nodes, demo workloads in namespace `demo` that
 * talk HTTP and DNS to each other, and the real release — the built executable runs as the hub,
 * front and worker pods (the simulated kubelet maps the image to dist/kubeshark). `kubeshark tap
 * -n demo` deploys, waits for readiness, port-forwards once and streams entries that carry pod,
 * service, namespace and node identity; a killed worker pod is replaced and entries keep coming;
 * Ctrl-C leaves the deployment; `kubeshark clean` leaves nothing labelled with the release.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startSimCluster, type KObj, type SimCluster } from './kube-sim/index.ts';
import { freePort } from './helpers/free-port.ts';
import { kubectl as runKubectl } from './helpers/kubectl.ts';
import { root, startTap } from './helpers/tap-process.ts';
import { call, ok, startMcp } from './helpers/mcp-kit.ts';

const run = promisify(execFile);
const EXE = join(root, 'dist/kubeshark');
const IMAGE = 'ghcr.io/kubeshark-ts/kubeshark';
const DEMO = join(root, 'test/kube-demo/demo.mjs');
const RELEASE_NS = 'ks-e2e';
const canRun = process.getuid?.() === 0 && existsSync(EXE);

async function until<T>(
  what: string,
  ms: number,
  probe: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function demoPod(name: string, node: string, role: string, env: Record<string, string> = {}): KObj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'demo', labels: { app: name } },
    spec: {
      nodeName: node,
      containers: [
        {
          name: role,
          image: 'demo/node:1',
          command: [process.execPath, DEMO, role],
          env: [
            { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            ...Object.entries(env).map(([k, value]) => ({ name: k, value })),
          ],
        },
      ],
    },
  } as KObj;
}

function demoService(name: string, port: number, protocol: 'TCP' | 'UDP'): KObj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'demo' },
    spec: { selector: { app: name }, ports: [{ port, targetPort: port, protocol }] },
  } as KObj;
}

/** kubectl's output; a failing command fails the test with its stderr. */
async function kubectl(sim: SimCluster, ...args: string[]): Promise<string> {
  const r = await runKubectl(sim, ...args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

test(
  'tap -n demo on a two-node simulated cluster: identity, one proxy, worker restart, clean',
  {
    skip: !canRun && 'needs root (capture) and the built executable (npm run build)',
    timeout: 240_000,
  },
  async () => {
    const sim = await startSimCluster({
      nodes: ['node-a', 'node-b'],
      images: { [IMAGE]: [EXE] },
      kubeconfigInPods: true,
    });
    const ports = {
      front: await freePort(),
      frontSrv: await freePort(),
      hubSrv: await freePort(),
      worker: await freePort(),
      metrics: await freePort(),
    };
    const sets = [
      `tap.proxy.front.port=${ports.front}`,
      `tap.proxy.front.srvPort=${ports.frontSrv}`,
      `tap.proxy.hub.srvPort=${ports.hubSrv}`,
      `tap.proxy.worker.srvPort=${ports.worker}`,
      `tap.metrics.port=${ports.metrics}`,
      // Small, so two workers and the test fit on a small machine.
      'tap.capture.bufferSize=8Mi',
      'tap.probes.hub.initialDelaySeconds=0',
      'tap.probes.front.initialDelaySeconds=0',
      'tap.probes.worker.initialDelaySeconds=0',
    ].flatMap((s) => ['--set', s]);
    const common = ['--kubeconfig', sim.kubeconfigPath, '-s', RELEASE_NS];
    let tap: ReturnType<typeof startTap> | undefined;
    try {
      for (const o of [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } } as KObj,
        demoPod('demo-server', 'node-b', 'server'),
        demoPod('demo-dns', 'node-a', 'dns'),
        demoService('demo-server', 8080, 'TCP'),
        demoService('demo-dns', 53, 'UDP'),
      ])
        await kubectlApply(sim, o);
      await until('demo server and dns ready', 20_000, async () =>
        /demo-dns\s+\S*\s*Running[\s\S]*demo-server\s+\S*\s*Running/.test(
          await kubectl(sim, 'get', 'pods', '-n', 'demo'),
        ),
      );
      await kubectlApply(
        sim,
        demoPod('demo-client', 'node-a', 'client', {
          SERVER_HOST: 'demo-server',
          DNS_HOST: 'demo-dns',
          INTERVAL_MS: '150',
        }),
      );

      tap = startTap([...sets, 'tap', '-n', 'demo', ...common, '--no-browser', '-o', 'jsonl'], {
        exe: EXE,
      });
      const url = await tap.url;
      assert.equal(url, `http://127.0.0.1:${ports.front}`);
      const http = await until('an HTTP entry with identities', 90_000, () =>
        tap!
          .lines()
          .find(
            (l) =>
              l.protocol === 'http' &&
              (l.dst as { name?: string }).name === 'demo-server' &&
              (l.src as { name?: string }).name === 'demo-client',
          ),
      );
      const src = http.src as Record<string, unknown>;
      const dst = http.dst as Record<string, unknown>;
      assert.equal(src.namespace, 'demo');
      assert.equal(dst.namespace, 'demo');
      assert.equal(http.local_node_name, 'node-a');
      assert.equal(http.remote_node_name, 'node-b');
      assert.equal(http.node_name, 'node-b', "recorded by the server's node");
      assert.deepEqual(dst.service, { name: 'demo-server', namespace: 'demo' });
      await until('a DNS entry to demo-dns', 30_000, () =>
        tap!
          .lines()
          .find((l) => l.protocol === 'dns' && (l.dst as { name?: string }).name === 'demo-dns'),
      );
      // Recorded once cluster-wide: both workers capture the call (one loopback), only the
      // server's node keeps it. The client numbers its requests: no path may appear twice.
      const query = `${url}/api/entries?q=${encodeURIComponent('http && src.name == "demo-client"')}&limit=1000`;
      const page = await until('ten calls stored', 30_000, async () => {
        const p = (await (await fetch(query)).json()) as { entries: { path?: string }[] };
        return p.entries.length >= 10 ? p : undefined;
      });
      const paths = page.entries.map((e) => e.path);
      assert.equal(new Set(paths).size, paths.length, `a call recorded twice: ${paths.join(' ')}`);

      // An AI agent through `kubeshark mcp` in proxy mode: its own port-forward, same answers.
      const mcp = await startMcp(['--kubeconfig', sim.kubeconfigPath, '-s', RELEASE_NS], {
        HOME: tap.tmp,
      });
      try {
        const status = await ok(mcp.client, 'check_kubeshark_status');
        assert.match(status.text, /node-a/);
        assert.match(status.text, /node-b/);
        const calls = await ok(mcp.client, 'list_api_calls', {
          kfl: 'http && dst.name == "demo-server" && status_code == 503',
          limit: 5,
        });
        assert.match(calls.text, /demo-client/);
        assert.match(calls.text, /\/api\/fail/);
      } finally {
        await mcp.close();
      }

      // Kill the worker of node-b: the DaemonSet replaces it, the hub finds it again.
      const workers = JSON.parse(
        await kubectl(
          sim,
          'get',
          'pods',
          '-n',
          RELEASE_NS,
          '-l',
          'app.kubernetes.io/component=worker',
          '-o',
          'json',
        ),
      ) as { items: KObj[] };
      assert.equal(workers.items.length, 2, 'one worker per node');
      const victim = workers.items.find(
        (p) => (p.spec as { nodeName: string }).nodeName === 'node-b',
      )!;
      await kubectl(sim, 'delete', 'pod', '-n', RELEASE_NS, victim.metadata.name);
      const before = tap.lines().length;
      await until('new HTTP entries after the worker restart', 90_000, () =>
        tap!
          .lines()
          .slice(before)
          .find(
            (l) => l.protocol === 'http' && (l.dst as { name?: string }).name === 'demo-server',
          ),
      );
      assert.equal(
        (tap.stderr().match(/dashboard at /g) ?? []).length,
        1,
        'the proxy started exactly once',
      );

      // Ctrl-C: the proxy stops, the release stays.
      tap.child.kill('SIGINT');
      const exit = await Promise.race([
        tap.exit,
        new Promise<never>((_, reject) =>
          setTimeout(
            () => reject(new Error(`tap did not exit 10 s after SIGINT:\n${tap!.stderr()}`)),
            10_000,
          ),
        ),
      ]);
      assert.equal(exit.code, 0, tap.stderr());
      assert.match(tap.stderr(), /kubeshark clean/);
      assert.match(await kubectl(sim, 'get', 'deploy', '-n', RELEASE_NS), /kubeshark-hub/);

      // clean: nothing labelled with the release is left, cluster-scoped included.
      const clean = await run(EXE, ['clean', ...common], {
        env: { ...process.env, HOME: tap.tmp },
      });
      assert.match(clean.stdout + clean.stderr, /removed/i);
      await until('every release object gone', 20_000, async () =>
        (await releaseLeft(sim)) === '' ? true : undefined,
      );

      // An agent allowed to deploy: start_kubeshark applies the release again and waits for it,
      // list_api_calls answers from it, stop_kubeshark removes it.
      const agent = await startMcp(
        ['--kubeconfig', sim.kubeconfigPath, '-s', RELEASE_NS, '--allow-destructive', ...sets],
        { HOME: tap.tmp },
      );
      try {
        const started = await ok(agent.client, 'start_kubeshark', {
          namespaces: 'demo',
          release_namespace: RELEASE_NS,
        });
        assert.match(started.text, /running/);
        await until('calls through the agent', 60_000, async () => {
          const r = await call(agent.client, 'list_api_calls', {
            kfl: 'http && dst.name == "demo-server"',
            limit: 3,
          });
          return !r.isError && /demo-client/.test(r.text) ? true : undefined;
        });
        const stopped = await ok(agent.client, 'stop_kubeshark', { release_namespace: RELEASE_NS });
        assert.match(stopped.text, /Removed \d+ object/);
        await until('the agent-started release gone', 20_000, async () =>
          (await releaseLeft(sim)) === '' ? true : undefined,
        );
      } finally {
        await agent.close();
      }
    } finally {
      tap?.kill();
      await sim.close();
    }
  },
);

/** Every object labelled with the release, cluster-scoped included (kubectl's names). */
async function releaseLeft(sim: SimCluster): Promise<string> {
  const out = await kubectl(
    sim,
    'get',
    'all,configmaps,serviceaccounts,clusterroles,clusterrolebindings',
    '-A',
    '-l',
    'app.kubernetes.io/instance=kubeshark',
    '-o',
    'name',
  );
  return out.trim();
}

async function kubectlApply(sim: SimCluster, o: KObj): Promise<void> {
  const { spawn } = await import('node:child_process');
  await new Promise<void>((resolve, reject) => {
    const p = spawn('kubectl', ['--kubeconfig', sim.kubeconfigPath, 'apply', '-f', '-'], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(err))));
    p.stdin.end(JSON.stringify(o));
  });
}
