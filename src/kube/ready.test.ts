/**
 * The readiness gate (pure: random event orders, duplicates, flapping → exactly one onReady, only
 * when both components are Ready at once) and its watch wiring against the simulated API server
 * (pods whose status the test writes): ready when both turn Ready, and a timeout that explains
 * ImagePullBackOff, CrashLoopBackOff (exit code + logs) and Unschedulable pods.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { V1Pod } from '@kubernetes/client-node';
import {
  isPodReady,
  NotReadyError,
  podSummary,
  ReadinessGate,
  waitForRelease,
  watchPods,
} from './ready.ts';
import { loadKubeConfig } from './config.ts';
import { COMPONENT_LABEL, INSTANCE_LABEL, NAME_LABEL } from './manifests.ts';
import {
  startSimCluster,
  findResource,
  type KObj,
  type SimCluster,
} from '../../test/kube-sim/index.ts';
import { fakeWorkload, freePort } from '../../test/helpers/fake-release.ts';

type C = 'hub' | 'front';

function pod(name: string, ready: boolean, phase = 'Running'): V1Pod {
  return {
    metadata: { name, namespace: 'default' },
    status: {
      phase,
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    },
  };
}

test('Ready means the Ready condition, not the phase', () => {
  assert.equal(isPodReady(pod('a', false, 'Running')), false);
  assert.equal(podSummary(pod('a', false, 'Running')), 'running, waiting for readiness');
  assert.equal(isPodReady(pod('a', true)), true);
  const deleting = pod('a', true);
  deleting.metadata!.deletionTimestamp = new Date();
  assert.equal(isPodReady(deleting), false);
});

test('gate property: any order, duplicates, flapping → onReady exactly once, at the first moment both are Ready', () => {
  const event = fc.record({
    component: fc.constantFrom<C>('hub', 'front'),
    pod: fc.constantFrom('p1', 'p2'),
    type: fc.constantFrom('ADDED', 'MODIFIED', 'MODIFIED', 'DELETED') as fc.Arbitrary<
      'ADDED' | 'MODIFIED' | 'DELETED'
    >,
    ready: fc.boolean(),
    repeat: fc.integer({ min: 1, max: 3 }),
  });
  fc.assert(
    fc.property(fc.array(event, { maxLength: 60 }), (events) => {
      let calls = 0;
      let calledAt = -1;
      const gate = new ReadinessGate<C>(['hub', 'front'], () => {
        calls++;
        calledAt = step;
      });
      // The model: per component, the pods present and whether each is Ready.
      const model = { hub: new Map<string, boolean>(), front: new Map<string, boolean>() };
      let firstBoth = -1;
      let step = 0;
      for (const e of events) {
        for (let i = 0; i < e.repeat; i++) {
          const name = `${e.component}-${e.pod}`;
          gate.feed(e.component, e.type, pod(name, e.ready));
          if (e.type === 'DELETED') model[e.component].delete(name);
          else model[e.component].set(name, e.ready);
          const both = (['hub', 'front'] as const).every((c) =>
            [...model[c].values()].some(Boolean),
          );
          if (both && firstBoth < 0) firstBoth = step;
          step++;
        }
      }
      if (firstBoth < 0) {
        assert.equal(calls, 0);
        assert.equal(gate.fired, false);
      } else {
        assert.equal(calls, 1);
        assert.equal(calledAt, firstBoth);
      }
    }),
    { numRuns: 500 },
  );
});

test('gate: relist drops pods that vanished while not watching', () => {
  let calls = 0;
  const gate = new ReadinessGate<C>(['hub', 'front'], () => calls++);
  gate.feed('hub', 'ADDED', pod('h1', true));
  gate.relist('hub', []);
  gate.feed('front', 'ADDED', pod('f1', true));
  assert.equal(calls, 0, 'the hub pod is gone');
  gate.relist('hub', [pod('h2', true)]);
  assert.equal(calls, 1);
  gate.relist('hub', [pod('h2', true)]);
  gate.feed('front', 'MODIFIED', pod('f1', false));
  gate.feed('front', 'MODIFIED', pod('f1', true));
  assert.equal(calls, 1);
});

const podsRes = findResource('', 'v1', 'pods')!;
const eventsRes = findResource('', 'v1', 'events')!;

function releasePod(name: string, component: C, image = 'ghcr.io/x/kubeshark:1'): KObj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      labels: {
        [NAME_LABEL]: 'kubeshark',
        [INSTANCE_LABEL]: 'kubeshark',
        [COMPONENT_LABEL]: component,
        'app.kubernetes.io/managed-by': 'kubeshark',
      },
    },
    spec: { containers: [{ name: component, image }] },
  };
}

function setStatus(sim: SimCluster, name: string, status: Record<string, unknown>): void {
  const cur = sim.store.get(podsRes, 'default', name)!;
  sim.store.update(podsRes, { ...cur, status }, true);
}

test('waitForRelease: watch events in any order; ready only when both Ready', async () => {
  const sim = await startSimCluster({ controllers: false });
  try {
    const { kc } = loadKubeConfig({ kubeconfig: sim.kubeconfigPath });
    sim.store.create(podsRes, releasePod('kubeshark-hub-1', 'hub'));
    sim.store.create(podsRes, releasePod('kubeshark-front-1', 'front'));
    const progress: string[] = [];
    let resolved = false;
    const wait = waitForRelease({
      kc,
      namespace: 'default',
      release: 'kubeshark',
      timeoutMs: 10_000,
      progress: (l) => progress.push(l),
    }).then((r) => {
      resolved = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 200));
    // Running but not Ready: still waiting.
    setStatus(sim, 'kubeshark-front-1', {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'False' }],
    });
    setStatus(sim, 'kubeshark-hub-1', {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True' }],
    });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(resolved, false);
    setStatus(sim, 'kubeshark-front-1', {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True' }],
    });
    const pods = await wait;
    assert.equal(pods.hub.metadata?.name, 'kubeshark-hub-1');
    assert.equal(pods.front.metadata?.name, 'kubeshark-front-1');
    assert.ok(
      progress.includes('front pod default/kubeshark-front-1: running, waiting for readiness'),
      progress.join('\n'),
    );
    assert.ok(progress.includes('hub pod default/kubeshark-hub-1: ready'), progress.join('\n'));
  } finally {
    await sim.close();
  }
});

test('waitForRelease timeout explains ImagePullBackOff, CrashLoopBackOff and Unschedulable', async () => {
  const sim = await startSimCluster({ controllers: false });
  try {
    const { kc } = loadKubeConfig({ kubeconfig: sim.kubeconfigPath });
    sim.store.create(podsRes, releasePod('kubeshark-hub-1', 'hub', 'ghcr.io/nope/kubeshark:9.9'));
    sim.store.create(podsRes, releasePod('kubeshark-front-1', 'front'));
    sim.store.create(podsRes, releasePod('kubeshark-front-2', 'front'));
    setStatus(sim, 'kubeshark-hub-1', {
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'True' }],
      containerStatuses: [
        {
          name: 'hub',
          image: 'ghcr.io/nope/kubeshark:9.9',
          ready: false,
          restartCount: 0,
          state: {
            waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' },
          },
        },
      ],
    });
    setStatus(sim, 'kubeshark-front-1', {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'False' }],
      containerStatuses: [
        {
          name: 'front',
          image: 'ghcr.io/x/kubeshark:1',
          ready: false,
          restartCount: 4,
          state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } },
          lastState: { terminated: { exitCode: 3, reason: 'Error' } },
        },
      ],
    });
    setStatus(sim, 'kubeshark-front-2', {
      phase: 'Pending',
      conditions: [
        {
          type: 'PodScheduled',
          status: 'False',
          reason: 'Unschedulable',
          message: '0/1 nodes are available: 1 Insufficient memory.',
        },
      ],
    });
    sim.store.create(eventsRes, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'ev1', namespace: 'default' },
      involvedObject: { kind: 'Pod', name: 'kubeshark-hub-1', namespace: 'default' },
      type: 'Warning',
      reason: 'Failed',
      message: 'Failed to pull image "ghcr.io/nope/kubeshark:9.9": not found',
      count: 3,
    });
    const err = await waitForRelease({
      kc,
      namespace: 'default',
      release: 'kubeshark',
      timeoutMs: 800,
    }).then(
      () => assert.fail('must time out'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof NotReadyError);
    assert.equal(err.code, 'KS_ERR_KUBE_NOT_READY');
    assert.match(err.message, /hub and front not ready after 1 s/);
    const d = err.detail() ?? '';
    assert.match(d, /hub pod default\/kubeshark-hub-1: ImagePullBackOff/);
    assert.match(d, /ImagePullBackOff: cannot pull image ghcr\.io\/nope\/kubeshark:9\.9/);
    assert.match(d, /event Failed: Failed to pull image .* \(×3\)/);
    assert.match(d, /container front: CrashLoopBackOff, restarted 4 times, last exit code 3/);
    assert.match(d, /kubeshark-front-2: Unschedulable/);
    assert.match(
      d,
      /not scheduled \(Unschedulable\): 0\/1 nodes are available: 1 Insufficient memory\./,
    );
  } finally {
    await sim.close();
  }
});

test('watchPods resumes a closed watch from its resourceVersion, and re-lists after 410 Gone', async () => {
  const sim = await startSimCluster({
    controllers: false,
    historyLimit: 3,
    bookmarkIntervalMs: 600_000,
  });
  const events: string[] = [];
  let lists = 0;
  const { kc } = loadKubeConfig({ kubeconfig: sim.kubeconfigPath });
  const w = watchPods(kc, 'default', 'app.kubernetes.io/component=hub', {
    onEvent: (type, p) => events.push(`${type} ${p.metadata?.name}`),
    onList: (pods) => {
      lists++;
      events.push(`LIST ${pods.map((p) => p.metadata?.name).join(',')}`);
    },
    timeoutSeconds: 1,
  });
  const waitFor = async (what: string, fn: () => boolean): Promise<void> => {
    const t0 = Date.now();
    while (!fn()) {
      if (Date.now() - t0 > 10_000)
        throw new Error(`timed out: ${what}; events ${events.join(' | ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  try {
    await waitFor('the first list', () => lists === 1);
    // Within the retained history: every event once, across watch reconnections (1 s each).
    sim.store.create(podsRes, releasePod('kubeshark-hub-1', 'hub'));
    await new Promise((r) => setTimeout(r, 1300));
    sim.store.create(podsRes, releasePod('kubeshark-hub-2', 'hub'));
    await waitFor('hub-2', () => events.includes('ADDED kubeshark-hub-2'));
    assert.deepEqual(events, ['LIST ', 'ADDED kubeshark-hub-1', 'ADDED kubeshark-hub-2']);
    assert.equal(lists, 1);

    // Past the history (3 events) while the watch is open with an older resourceVersion: the
    // resumed watch gets 410 Gone and the pods are listed again.
    const cms = findResource('', 'v1', 'configmaps')!;
    for (let i = 0; i < 6; i++) {
      sim.store.create(cms, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `cm-${i}`, namespace: 'default' },
      });
    }
    await waitFor('a re-list', () => lists === 2);
    assert.equal(events.at(-1), 'LIST kubeshark-hub-1,kubeshark-hub-2');
    sim.store.delete(podsRes, 'default', 'kubeshark-hub-1');
    await waitFor('the deletion', () => events.includes('DELETED kubeshark-hub-1'));
  } finally {
    w.stop();
    await sim.close();
  }
});

test('a real crash loop: the timeout shows the last exit code and the last log lines', async () => {
  const sim = await startSimCluster();
  try {
    const deployments = findResource('apps', 'v1', 'deployments')!;
    sim.store.create(
      deployments,
      fakeWorkload('hub', {
        script: `console.error('hub: cannot read /etc/kubeshark/config.yaml'); process.exit(3)`,
        // As the real hub: ready only by its probe (which this one never passes).
        readyPort: await freePort(),
      }),
    );
    sim.store.create(deployments, fakeWorkload('front'));
    const { kc } = loadKubeConfig({ kubeconfig: sim.kubeconfigPath });
    const err = await waitForRelease({
      kc,
      namespace: 'default',
      release: 'kubeshark',
      timeoutMs: 2500,
    }).then(
      () => assert.fail('must time out'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof NotReadyError);
    assert.match(err.message, /^hub not ready after 3 s/);
    const d = err.detail() ?? '';
    assert.match(
      d,
      /container hub: (CrashLoopBackOff|restarting), restarted \d+ times, last exit code 3/,
    );
    assert.match(d, /\| hub: cannot read \/etc\/kubeshark\/config\.yaml/);
    assert.doesNotMatch(d, /front pod/, 'the ready front is not explained');
  } finally {
    await sim.close();
  }
});

test('a release already ready at the first list: waitForRelease leaves no watch open (the process exits)', async () => {
  // As a second `kubeshark tap` against a running release: readiness comes from the list, while
  // the watches are still being opened. They must be closed too, or Ctrl-C never exits.
  const sim = await startSimCluster({ controllers: false });
  try {
    for (const [name, c] of [
      ['kubeshark-hub-1', 'hub'],
      ['kubeshark-front-1', 'front'],
    ] as const) {
      sim.store.create(podsRes, releasePod(name, c));
      setStatus(sim, name, { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] });
    }
    const here = new URL('.', import.meta.url).pathname;
    const script = [
      `import { loadKubeConfig } from '${here}config.ts';`,
      `import { waitForRelease } from '${here}ready.ts';`,
      `const { kc } = loadKubeConfig({ kubeconfig: process.env.SIM_KUBECONFIG });`,
      `const r = await waitForRelease({ kc, namespace: 'default', release: 'kubeshark', timeoutMs: 10000 });`,
      `console.log('ready ' + r.hub.metadata.name);`,
    ].join('\n');
    const { spawn } = await import('node:child_process');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        env: { ...process.env, SIM_KUBECONFIG: sim.kubeconfigPath },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = await new Promise<number | null | 'hung'>((resolve) => {
      const t = setTimeout(() => resolve('hung'), 15_000);
      child.on('exit', (code) => {
        clearTimeout(t);
        resolve(code);
      });
    });
    if (exited === 'hung') child.kill('SIGKILL');
    assert.match(out, /ready kubeshark-hub-1/);
    assert.equal(exited, 0, `the process did not exit by itself: ${out}`);
  } finally {
    await sim.close();
  }
});
