/**
 * `kubeshark check`: diagnostics, each a line that passed, failed (with the reason) or could
 * not be decided (a warning that does not fail the check):
 * kubeconfig and context → API server reachable and its version → RBAC for everything `tap`,
 * `clean`, `proxy` and `logs` do (SelfSubjectAccessReview) → the release's pods ready → through
 * a port-forward to the front: hub health, each worker up and capturing (packets, drops) →
 * versions of the CLI and the deployed images.
 */
import {
  AuthorizationV1Api,
  CoreV1Api,
  VersionApi,
  type KubeConfig,
  type V1Pod,
} from '@kubernetes/client-node';
import { ApiClient } from '../api/client.ts';
import type { K8sObject } from './manifests.ts';
import { componentSelector, listReleasePods } from './apply.ts';
import { kubeError, loadKubeConfig, statusCode, type KubeConfigOptions } from './config.ts';
import { startFrontProxy } from './portforward.ts';
import { isPodReady, podSummary } from './ready.ts';

export type CheckStatus = 'ok' | 'fail' | 'warn';

export interface CheckLine {
  section: 'kubeconfig' | 'api' | 'rbac' | 'pods' | 'hub' | 'workers' | 'version';
  status: CheckStatus;
  text: string;
}

/** Time the hub gets to answer through the port-forward. */
export const CHECK_HUB_TIMEOUT_MS = 10_000;

export interface CheckOptions {
  kube: KubeConfigOptions;
  /** releaseObjects(config): the kinds whose create/patch/delete RBAC is checked. */
  objects: readonly K8sObject[];
  release: string;
  namespace: string;
  /** tap.proxy.front.srvPort */
  frontSrvPort: number;
  /** This CLI's version. */
  version: string;
  /** Each line as soon as it is known. */
  onLine?: (l: CheckLine) => void;
}

/** One permission: verb on group/resource[/subresource], in a namespace or cluster-wide. */
export interface Permission {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
}

const PLURAL: Record<string, string> = {
  Namespace: 'namespaces',
  ServiceAccount: 'serviceaccounts',
  ClusterRole: 'clusterroles',
  ClusterRoleBinding: 'clusterrolebindings',
  ConfigMap: 'configmaps',
  Deployment: 'deployments',
  DaemonSet: 'daemonsets',
  Service: 'services',
};

/**
 * What the commands need: create/patch/delete/get/list of every kind the release applies (in its
 * namespace, or cluster-wide), get/list/watch of the resources the hub's ClusterRole grants
 * (Kubernetes lets a user grant only what they hold themselves) and that `tap --dry-run` lists,
 * port-forward and logs of the release's pods, and its events.
 */
export function requiredPermissions(
  objects: readonly K8sObject[],
  namespace: string,
): Permission[] {
  const out: Permission[] = [];
  const seen = new Set<string>();
  const push = (p: Permission): void => {
    const k = `${p.verb} ${p.group}/${p.resource}/${p.subresource ?? ''} ${p.namespace ?? ''}`;
    if (seen.has(k)) return;
    seen.add(k);
    out.push(p);
  };
  for (const o of objects) {
    const group = (o.apiVersion ?? 'v1').includes('/') ? o.apiVersion!.split('/')[0]! : '';
    const resource = PLURAL[o.kind ?? ''] ?? `${(o.kind ?? '').toLowerCase()}s`;
    const ns = o.metadata?.namespace;
    const verbs =
      o.kind === 'Namespace'
        ? ['get', 'create', 'delete']
        : ['get', 'list', 'create', 'patch', 'delete'];
    for (const verb of verbs) push({ verb, group, resource, ...(ns ? { namespace: ns } : {}) });
  }
  for (const resource of ['pods', 'services', 'endpoints', 'namespaces', 'nodes']) {
    for (const verb of ['get', 'list', 'watch']) push({ verb, group: '', resource });
  }
  for (const verb of ['get', 'list', 'watch']) {
    push({ verb, group: 'discovery.k8s.io', resource: 'endpointslices' });
  }
  push({ verb: 'create', group: '', resource: 'pods', subresource: 'portforward', namespace });
  push({ verb: 'get', group: '', resource: 'pods', subresource: 'log', namespace });
  push({ verb: 'list', group: '', resource: 'events', namespace });
  return out;
}

function permissionText(p: Permission): string {
  const res = `${p.resource}${p.subresource ? `/${p.subresource}` : ''}${p.group ? `.${p.group}` : ''}`;
  return `${p.verb} ${res} ${p.namespace ? `in ${p.namespace}` : 'cluster-wide'}`;
}

/** Runs every check; the lines in order. Passes when no line has status 'fail'. */
export async function runChecks(o: CheckOptions): Promise<CheckLine[]> {
  const lines: CheckLine[] = [];
  const say = (section: CheckLine['section'], status: CheckStatus, text: string): void => {
    const l = { section, status, text };
    lines.push(l);
    o.onLine?.(l);
  };

  // kubeconfig
  let kc: KubeConfig;
  let server: string;
  try {
    const loaded = loadKubeConfig(o.kube);
    kc = loaded.kc;
    server = loaded.server;
    say(
      'kubeconfig',
      'ok',
      `kubeconfig ${loaded.source}, context ${loaded.context}, server ${server}`,
    );
  } catch (e) {
    say('kubeconfig', 'fail', e instanceof Error ? e.message : String(e));
    return lines;
  }

  // API server
  try {
    const v = await kc.makeApiClient(VersionApi).getCode();
    say('api', 'ok', `API server reachable, Kubernetes ${v.gitVersion}`);
  } catch (e) {
    say('api', 'fail', kubeError(e, 'API server', server).message);
    return lines;
  }

  // RBAC
  await checkRbac(kc, o, say);

  // Release pods
  const core = kc.makeApiClient(CoreV1Api);
  let pods: V1Pod[];
  try {
    pods = await listReleasePods(core, o.namespace, o.release);
  } catch (e) {
    say('pods', 'fail', kubeError(e, 'listing the release pods', server).message);
    return lines;
  }
  if (pods.length === 0) {
    say(
      'pods',
      'fail',
      `release ${o.release} is not deployed in ${o.namespace} (kubeshark tap deploys it)`,
    );
    return lines;
  }
  const byComponent = async (c: 'hub' | 'front' | 'worker'): Promise<V1Pod[]> =>
    (
      await core.listNamespacedPod({
        namespace: o.namespace,
        labelSelector: componentSelector(o.release, c),
      })
    ).items;
  let frontReady = false;
  for (const c of ['hub', 'front', 'worker'] as const) {
    const ps = await byComponent(c);
    if (ps.length === 0) {
      say('pods', 'fail', `${c}: no pod`);
      continue;
    }
    for (const p of ps) {
      const ready = isPodReady(p);
      if (c === 'front' && ready) frontReady = true;
      const node = p.spec?.nodeName ? ` on ${p.spec.nodeName}` : '';
      say('pods', ready ? 'ok' : 'fail', `${c} pod ${p.metadata?.name}${node}: ${podSummary(p)}`);
    }
  }

  // Through the front: hub health, workers, capture
  let hubVersion: string | undefined;
  if (!frontReady) {
    say('hub', 'fail', 'hub and workers not checked: no ready front pod to port-forward to');
  } else {
    const proxy = await startFrontProxy({
      kc,
      namespace: o.namespace,
      release: o.release,
      host: '127.0.0.1',
      port: 0,
      srvPort: o.frontSrvPort,
      resolveTimeoutMs: CHECK_HUB_TIMEOUT_MS,
    });
    // The tunnel's own failure (e.g. port-forward forbidden) says more than the HTTP client's.
    let tunnelError: string | undefined;
    proxy.events.on('error', (e) => (tunnelError = e.message));
    try {
      const api = new ApiClient(proxy.url, { timeoutMs: CHECK_HUB_TIMEOUT_MS });
      const health = await api.health();
      hubVersion = health.version;
      say(
        'hub',
        health.ok ? 'ok' : 'fail',
        `hub /api/health via port-forward: ${health.ok ? 'ok' : `not ok: ${(health.problems ?? []).join('; ')}`}`,
      );
      const { workers } = await api.workers();
      if (workers.length === 0) say('workers', 'fail', 'the hub has no workers');
      for (const w of workers) {
        const name = `worker ${w.name}${w.node && w.node !== w.name ? ` (${w.node})` : ''}`;
        if (!w.up) {
          say('workers', 'fail', `${name}: down${w.error ? `: ${w.error}` : ''}`);
          continue;
        }
        const c = w.capture;
        if (!c) {
          say('workers', 'warn', `${name}: up, no capture counters`);
          continue;
        }
        const dropped = c.droppedPackets + c.ifDroppedPackets;
        const text = `${name}: up, ${c.receivedPackets} packets received, ${dropped} dropped, ${c.entries} entries`;
        if (c.receivedPackets === 0) say('workers', 'warn', `${text} (no packets yet)`);
        else if (dropped > 0) {
          const pct = ((100 * dropped) / (c.receivedPackets + dropped)).toFixed(2);
          say(
            'workers',
            'warn',
            `${text} (${pct}% dropped: raise tap.capture.bufferSize or the worker's CPU)`,
          );
        } else say('workers', 'ok', text);
        if (w.version && w.version !== o.version) {
          say('version', 'warn', `${name} runs ${w.version}, this CLI is ${o.version}`);
        }
      }
    } catch (e) {
      say(
        'hub',
        'fail',
        `hub via port-forward: ${tunnelError ?? (e instanceof Error ? e.message : String(e))}`,
      );
    } finally {
      await proxy.close();
    }
  }

  // Versions
  const images = new Set<string>();
  for (const p of pods) for (const c of p.spec?.containers ?? []) if (c.image) images.add(c.image);
  const tags = [...images].map((i) => i.slice(i.lastIndexOf(':') + 1));
  const mismatched = tags.filter((t) => t !== o.version);
  const parts = [`CLI ${o.version}`, `images ${[...images].join(', ')}`];
  if (hubVersion) parts.push(`hub ${hubVersion}`);
  if (mismatched.length > 0 || (hubVersion && hubVersion !== o.version)) {
    say(
      'version',
      'warn',
      `${parts.join(', ')}: versions differ (kubeshark clean, then kubeshark tap, deploys this version)`,
    );
  } else say('version', 'ok', parts.join(', '));
  return lines;
}

async function checkRbac(
  kc: KubeConfig,
  o: CheckOptions,
  say: (s: CheckLine['section'], st: CheckStatus, t: string) => void,
): Promise<void> {
  const authz = kc.makeApiClient(AuthorizationV1Api);
  const server = kc.getCurrentCluster()?.server;
  const denied: string[] = [];
  let allowed = 0;
  for (const p of requiredPermissions(o.objects, o.namespace)) {
    try {
      const r = await authz.createSelfSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: {
            resourceAttributes: {
              verb: p.verb,
              group: p.group,
              resource: p.resource,
              ...(p.subresource ? { subresource: p.subresource } : {}),
              ...(p.namespace ? { namespace: p.namespace } : {}),
            },
          },
        },
      });
      if (r.status?.allowed) allowed++;
      else denied.push(`${permissionText(p)}${r.status?.reason ? ` (${r.status.reason})` : ''}`);
    } catch (e) {
      if (statusCode(e) === 404) {
        say(
          'rbac',
          'warn',
          'cannot check RBAC (API not available: authorization.k8s.io/v1 SelfSubjectAccessReview)',
        );
        return;
      }
      say('rbac', 'fail', kubeError(e, 'checking RBAC', server).message);
      return;
    }
  }
  if (denied.length === 0)
    say(
      'rbac',
      'ok',
      `RBAC: all ${allowed} permissions tap, clean, proxy and logs need are granted`,
    );
  for (const d of denied) say('rbac', 'fail', `RBAC: denied: ${d}`);
}

/** `✓ text`, `✗ text`, `! text`. */
export function formatCheckLine(l: CheckLine): string {
  const mark = l.status === 'ok' ? '✓' : l.status === 'fail' ? '✗' : '!';
  return `${mark} ${l.text}`;
}
