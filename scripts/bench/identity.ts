/**
 * Identity informers at cluster scale: a simulated API server holding N pods (one service and
 * one EndpointSlice per 10 pods, 50 nodes) and a separate process running the workers' identity
 * (`startKubeIdentity`: list + watch of pods, services, endpointslices, nodes into the
 * KubeIdentityTable). Prints the time to sync, the RSS and heap it costs over an idle process, a
 * churn of pod updates applied per second, and lookups per second.
 *
 * Usage: node --import tsx scripts/bench/identity.ts [pods=10000,50000] [churn=2000]
 * (the child mode `--child` is internal).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const root = new URL('../..', import.meta.url).pathname;

async function child(): Promise<void> {
  const { loadKubeConfig } = await import('../../src/kube/config.ts');
  const { startKubeIdentity } = await import('../../src/kube/identity.ts');
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const base = process.memoryUsage();
  const { kc } = loadKubeConfig({});
  const t0 = performance.now();
  const id = startKubeIdentity(kc);
  await id.synced;
  const syncMs = performance.now() - t0;
  gc?.();
  const after = process.memoryUsage();
  const ips = Number(process.env.BENCH_PODS);
  const nowUs = Date.now() * 1000;
  const t1 = performance.now();
  let found = 0;
  const LOOKUPS = 1_000_000;
  for (let i = 0; i < LOOKUPS; i++) {
    const n = i % ips;
    if (
      id.resolver.lookup(`10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`, 8080, 'tcp', nowUs)
    )
      found++;
  }
  const lookupS = (performance.now() - t1) / 1000;
  console.log(
    JSON.stringify({
      syncMs: Math.round(syncMs),
      rssMiB: +((after.rss - base.rss) / 2 ** 20).toFixed(1),
      heapMiB: +((after.heapUsed - base.heapUsed) / 2 ** 20).toFixed(1),
      lookupsPerS: Math.round(LOOKUPS / lookupS),
      found,
    }),
  );
  // Then apply churn until told to stop, reporting the table's event count.
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (line === 'stats') {
      const s = id.informers().reduce((a, x) => a + x.events, 0);
      console.log(JSON.stringify({ events: s }));
    }
    if (line === 'stop') break;
  }
  await id.stop();
  process.exit(0);
}

async function parent(): Promise<void> {
  const { startSimCluster, findResource } = await import('../../test/kube-sim/index.ts');
  const sizes = (process.argv[2] ?? '10000,50000').split(',').map(Number);
  const churn = Number(process.argv[3] ?? 2000);
  for (const pods of sizes) {
    const sim = await startSimCluster({ controllers: false, historyLimit: 10_000 });
    const R = (plural: string, group = '') => findResource(group, 'v1', plural)!;
    for (let i = 0; i < 50; i++)
      sim.store.create(R('nodes'), { metadata: { name: `node-${i}` }, status: {} });
    const ns = 'bench';
    sim.store.create(R('namespaces'), { metadata: { name: ns } });
    const ipOf = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
    // Shaped like real pods: a container spec with env and probes, managedFields and kubectl's
    // last-applied-configuration (together ~5 KiB of JSON, typical of a Deployment's pod).
    const container = {
      name: 'app',
      image: 'registry.example.com/team/app:1.2.3',
      env: Array.from({ length: 15 }, (_, k) => ({ name: `SETTING_${k}`, value: `value-${k}` })),
      ports: [{ containerPort: 8080, protocol: 'TCP' }],
      readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 10 },
      resources: { requests: { cpu: '100m', memory: '128Mi' } },
    };
    const managedFields = [
      {
        manager: 'kube-controller-manager',
        operation: 'Update',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:spec': { 'f:containers': { 'k:{"name":"app"}': container } } },
      },
    ];
    const podObj = (i: number, v = 0) => ({
      metadata: {
        name: `app-${i}`,
        namespace: ns,
        labels: { app: `svc-${Math.floor(i / 10)}`, version: `v${v}` },
        annotations: {
          'example.com/owner': 'team-a',
          'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({
            spec: { containers: [container] },
          }),
        },
        managedFields,
      },
      spec: { nodeName: `node-${i % 50}`, containers: [container] },
      status: {
        phase: 'Running',
        podIP: ipOf(i),
        podIPs: [{ ip: ipOf(i) }],
        conditions: [{ type: 'Ready', status: 'True' }],
      },
    });
    for (let i = 0; i < pods; i++) sim.store.create(R('pods'), podObj(i));
    for (let s = 0; s < pods / 10; s++) {
      sim.store.create(R('services'), {
        metadata: { name: `svc-${s}`, namespace: ns },
        spec: { selector: { app: `svc-${s}` }, ports: [{ port: 80, targetPort: 8080 }] },
      });
      sim.store.create(R('endpointslices', 'discovery.k8s.io'), {
        metadata: {
          name: `svc-${s}-abcde`,
          namespace: ns,
          labels: { 'kubernetes.io/service-name': `svc-${s}` },
        },
        addressType: 'IPv4',
        endpoints: Array.from({ length: 10 }, (_, k) => ({
          addresses: [ipOf(s * 10 + k)],
          conditions: { ready: true },
          targetRef: { kind: 'Pod', name: `app-${s * 10 + k}`, namespace: ns },
        })),
        ports: [{ port: 8080, protocol: 'TCP' }],
      });
    }
    const p = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', new URL(import.meta.url).pathname, '--child'],
      {
        cwd: root,
        env: { ...process.env, KUBECONFIG: sim.kubeconfigPath, BENCH_PODS: String(pods) },
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    const out = createInterface({ input: p.stdout! })[Symbol.asyncIterator]();
    const first = JSON.parse((await out.next()).value as string) as Record<string, number>;
    // Churn: `churn` pod label updates per second for 5 s, then see how many events arrived.
    const t0 = Date.now();
    let sent = 0;
    while (Date.now() - t0 < 5000) {
      const tick = Date.now();
      for (let k = 0; k < churn / 10; k++) {
        const i = (sent + k) % pods;
        const cur = sim.store.get(R('pods'), ns, `app-${i}`)!;
        sim.store.update(R('pods'), {
          ...cur,
          metadata: {
            ...cur.metadata,
            labels: { app: `svc-${Math.floor(i / 10)}`, version: `v${sent + k}` },
          },
        });
      }
      sent += churn / 10;
      await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - tick))));
    }
    await new Promise((r) => setTimeout(r, 1000));
    p.stdin!.write('stats\n');
    const stats = JSON.parse((await out.next()).value as string) as { events: number };
    p.stdin!.write('stop\n');
    await new Promise((r) => p.on('exit', r));
    await sim.close();
    console.log(
      `${pods} pods, ${pods / 10} services + slices, 50 nodes: sync ${first.syncMs} ms, ` +
        `RSS +${first.rssMiB} MiB (heap +${first.heapMiB} MiB), ` +
        `${((first.lookupsPerS ?? 0) / 1e6).toFixed(1)} M lookups/s (${first.found} hits of 1M), ` +
        `churn ${sent} updates in 5 s → ${stats.events} watch events applied`,
    );
  }
}

if (process.argv.includes('--child')) await child();
else await parent();
