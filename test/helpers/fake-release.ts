/**
 * Stand-ins for the release's workloads in the simulated cluster, for tests of the cluster
 * commands that must not depend on the real image: Deployments/DaemonSets labelled exactly like
 * the release's (so selectors, clean and logs find them) whose pods run small Node programs
 * (a real HTTP server on the port the proxy forwards to, or anything else).
 */
import { RESOURCES, type KObj, type SimCluster } from '../kube-sim/index.ts';
import {
  COMPONENT_LABEL,
  INSTANCE_LABEL,
  MANAGED_BY_LABEL,
  NAME_LABEL,
  type Component,
} from '../../src/kube/manifests.ts';

export { freePort } from './free-port.ts';

/**
 * Every stored object carrying the instance label of the release `kubeshark`, sorted, as
 * `Kind ns/name` (`Kind /name` when cluster-scoped): what apply created and clean must remove.
 */
export function labelled(sim: SimCluster): string[] {
  const out: string[] = [];
  for (const r of RESOURCES) {
    for (const o of sim.store.list(r)) {
      const l = (o.metadata.labels ?? {}) as Record<string, string>;
      if (l[INSTANCE_LABEL] === 'kubeshark') {
        out.push(`${r.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`);
      }
    }
  }
  return out.sort();
}

export function releaseLabels(component: Component, release = 'kubeshark'): Record<string, string> {
  return {
    [NAME_LABEL]: 'kubeshark',
    [INSTANCE_LABEL]: release,
    [COMPONENT_LABEL]: component,
    [MANAGED_BY_LABEL]: 'kubeshark',
  };
}

export interface FakeWorkload {
  namespace?: string;
  /** A JS program for `node -e` (default: idle). */
  script?: string;
  /** TCP readiness probe port. */
  readyPort?: number;
  image?: string;
  kind?: 'Deployment' | 'DaemonSet';
}

/** A Deployment (or DaemonSet) labelled like the release's `component`. */
export function fakeWorkload(component: Component, o: FakeWorkload = {}): KObj {
  const labels = releaseLabels(component);
  const kind = o.kind ?? 'Deployment';
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: { name: `kubeshark-${component}`, namespace: o.namespace ?? 'default', labels },
    spec: {
      ...(kind === 'Deployment' ? { replicas: 1 } : {}),
      selector: {
        matchLabels: {
          [NAME_LABEL]: 'kubeshark',
          [INSTANCE_LABEL]: 'kubeshark',
          [COMPONENT_LABEL]: component,
        },
      },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: component,
              image: o.image ?? 'ghcr.io/kubeshark-ts/kubeshark:test',
              command: [process.execPath, '-e', o.script ?? 'setInterval(() => {}, 1 << 30)'],
              env: [
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
              ],
              ...(o.readyPort !== undefined
                ? { readinessProbe: { tcpSocket: { port: o.readyPort }, periodSeconds: 1 } }
                : {}),
            },
          ],
        },
      },
    },
  };
}

/**
 * A release-labelled Deployment whose pod serves HTTP on its pod IP and `srvPort` (as a real pod
 * listens in its own network namespace), answering `bodyExpr` (JS, with `q` the request).
 */
export function fakeComponentDeployment(
  component: Component,
  srvPort: number,
  bodyExpr: string,
  namespace = 'default',
): KObj {
  return fakeWorkload(component, {
    namespace,
    readyPort: srvPort,
    script: `require('http').createServer((q, s) => { s.setHeader('content-type', 'application/json'); s.end(${bodyExpr}); }).listen(${srvPort}, process.env.POD_IP || '127.0.0.1')`,
  });
}

/** A front whose /api/health and /api/workers answer like a hub with these workers. */
export function fakeHubApiFront(srvPort: number, workers: unknown[], version: string): KObj {
  const health = JSON.stringify({
    role: 'hub',
    version,
    apiVersion: 1,
    startedAt: 0,
    ok: workers.every((w) => (w as { up: boolean }).up),
    workers,
  });
  const list = JSON.stringify({ workers });
  return fakeComponentDeployment(
    'front',
    srvPort,
    `q.url.startsWith('/api/health') ? ${JSON.stringify(health)} : q.url.startsWith('/api/workers') ? ${JSON.stringify(list)} : '{}'`,
  );
}
