/**
 * Finding and loading the user's kubeconfig the way kubectl users expect, and turning the
 * client's failures (ApiException with a Status body, refused connections) into one readable
 * KsError. Every command that talks to a cluster starts here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { getPath, type ConfigTree } from '../config/load.ts';
import { KsError } from '../util/errors.ts';

/** Where a pod's service-account credentials are mounted (in-cluster config). */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeConfigOptions {
  /** `--kubeconfig` / `kube.configPath` ('' or undefined: not given). */
  kubeconfig?: string;
  /** `--context` / `kube.context` ('' or undefined: the kubeconfig's current context). */
  context?: string;
  env?: NodeJS.ProcessEnv;
  /** Home directory (for ~/.kube/config); default os.homedir(). */
  home?: string;
  /** Service-account directory for in-cluster config (tests point it elsewhere). */
  serviceAccountDir?: string;
}

export interface LoadedKubeConfig {
  kc: KubeConfig;
  /** Where it came from: a path list, or "in-cluster service account". */
  source: string;
  context: string;
  /** The API server URL of the current cluster. */
  server: string;
}

/** The kubeconfig options from the effective config (flags are already merged into it). */
export function kubeOptionsOf(config: ConfigTree): KubeConfigOptions {
  return {
    kubeconfig: (getPath(config, 'kube.configPath') as string) || undefined,
    context: (getPath(config, 'kube.context') as string) || undefined,
  };
}

/**
 * Loads a kubeconfig: an explicit path (`--kubeconfig`, `kube.configPath`) > `KUBECONFIG`
 * (a list separated like PATH, merged, first wins) > the in-cluster service account
 * (`KUBERNETES_SERVICE_HOST` + its token file) > `~/.kube/config`. `context` selects a context.
 * Fails with KS_ERR_KUBECONFIG naming every place it looked.
 */
export function loadKubeConfig(o: KubeConfigOptions = {}): LoadedKubeConfig {
  const env = o.env ?? process.env;
  const tried: string[] = [];
  const kc = new KubeConfig();
  let source: string | undefined;
  const loadFiles = (files: string[], what: string): void => {
    const present = files.filter((f) => existsSync(f));
    if (present.length === 0) {
      throw new KsError(
        'KS_ERR_KUBECONFIG',
        `no kubeconfig: ${what} ${files.join(', ')} does not exist`,
      );
    }
    present.forEach((f, i) => {
      const one = i === 0 ? kc : new KubeConfig();
      try {
        one.loadFromFile(f);
      } catch (e) {
        throw new KsError(
          'KS_ERR_KUBECONFIG',
          `cannot read kubeconfig ${f}: ${e instanceof Error ? e.message : String(e)}`,
          { cause: e },
        );
      }
      if (i > 0) mergeFirstWins(kc, one);
    });
    source = present.join(delimiter);
  };

  if (o.kubeconfig) {
    loadFiles([o.kubeconfig], '--kubeconfig');
  } else if (env.KUBECONFIG) {
    const files = env.KUBECONFIG.split(delimiter).filter((f) => f !== '');
    loadFiles(files, 'KUBECONFIG');
  } else {
    const saDir = o.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
    const tokenFile = join(saDir, 'token');
    const home = join(o.home ?? homedir(), '.kube', 'config');
    // kubectl's order: ~/.kube/config, then the pod's service account.
    if (existsSync(home)) {
      loadFiles([home], '');
    } else if (env.KUBERNETES_SERVICE_HOST && existsSync(tokenFile)) {
      loadInCluster(kc, env, saDir);
      source = 'in-cluster service account';
    } else {
      tried.push(
        `--kubeconfig (not given)`,
        `KUBECONFIG (not set)`,
        home,
        env.KUBERNETES_SERVICE_HOST
          ? `in-cluster (${tokenFile} missing)`
          : 'in-cluster (KUBERNETES_SERVICE_HOST not set)',
      );
      throw new KsError(
        'KS_ERR_KUBECONFIG',
        `no kubeconfig found; tried ${tried.join(', ')}. Point --kubeconfig or KUBECONFIG at one`,
      );
    }
  }
  if (o.context) {
    if (!kc.getContexts().some((c) => c.name === o.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new KsError(
        'KS_ERR_KUBECONFIG',
        `context "${o.context}" is not in ${source}; contexts: ${known.join(', ') || 'none'}`,
      );
    }
    kc.setCurrentContext(o.context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    throw new KsError(
      'KS_ERR_KUBECONFIG',
      `kubeconfig ${source} has no current context with a cluster (use --context)`,
    );
  }
  return { kc, source: source!, context: kc.getCurrentContext(), server: cluster.server };
}

/** Merges `more` into `kc` like kubectl merges KUBECONFIG files: the first definition wins. */
function mergeFirstWins(kc: KubeConfig, more: KubeConfig): void {
  for (const c of more.clusters) if (!kc.clusters.some((x) => x.name === c.name)) kc.addCluster(c);
  for (const u of more.users) if (!kc.users.some((x) => x.name === u.name)) kc.addUser(u);
  for (const c of more.contexts) if (!kc.contexts.some((x) => x.name === c.name)) kc.addContext(c);
  if (!kc.currentContext && more.currentContext) kc.setCurrentContext(more.currentContext);
}

/** The in-cluster config from the service-account mount (token, CA, namespace). */
function loadInCluster(kc: KubeConfig, env: NodeJS.ProcessEnv, saDir: string): void {
  const host = env.KUBERNETES_SERVICE_HOST!;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  const h = host.includes(':') ? `[${host}]` : host;
  const nsFile = join(saDir, 'namespace');
  const caFile = join(saDir, 'ca.crt');
  kc.loadFromOptions({
    clusters: [
      {
        name: 'inCluster',
        server: `https://${h}:${port}`,
        ...(existsSync(caFile) ? { caFile } : {}),
        skipTLSVerify: false,
      },
    ],
    users: [
      {
        name: 'inClusterUser',
        authProvider: { name: 'tokenFile', config: { tokenFile: join(saDir, 'token') } },
      },
    ],
    contexts: [
      {
        name: 'inClusterContext',
        cluster: 'inCluster',
        user: 'inClusterUser',
        ...(existsSync(nsFile) ? { namespace: readFileSync(nsFile, 'utf8').trim() } : {}),
      },
    ],
    currentContext: 'inClusterContext',
  });
}

/** A Kubernetes `Status` body (what the API server answers on errors). */
export interface StatusBody {
  kind?: string;
  status?: string;
  reason?: string;
  message?: string;
  code?: number;
}

/** The Status in an error from client-node (ApiException's body may be text or parsed). */
export function statusOf(err: unknown): StatusBody | undefined {
  const e = err as { code?: unknown; body?: unknown; statusCode?: unknown } | undefined;
  if (!e || typeof e !== 'object') return undefined;
  let body = e.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      body = undefined;
    }
  }
  const code =
    typeof e.code === 'number' ? e.code : typeof e.statusCode === 'number' ? e.statusCode : 0;
  if (body && typeof body === 'object') {
    const b = body as StatusBody;
    return { ...b, code: typeof b.code === 'number' ? b.code : code };
  }
  return code ? { code } : undefined;
}

/** The HTTP status of a client-node error (0 when it is not an API answer). */
export function statusCode(err: unknown): number {
  return statusOf(err)?.code ?? 0;
}

/** The message of an Error, a WebSocket ErrorEvent (`{message, error}`), or anything else. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  const e = err as { message?: unknown; error?: unknown } | undefined;
  if (e && typeof e === 'object') {
    if (typeof e.message === 'string' && e.message) return e.message;
    if (e.error !== undefined) return errorText(e.error);
  }
  return String(err);
}

/** Network error codes anywhere in the cause chain (ECONNREFUSED, ENOTFOUND, …). */
function networkCode(err: unknown): string | undefined {
  for (
    let e = err as { code?: unknown; cause?: unknown; errno?: unknown } | undefined, i = 0;
    e && i < 5;
    i++
  ) {
    if (typeof e.code === 'string' && /^E[A-Z]+/.test(e.code)) return e.code;
    e = e.cause as typeof e;
  }
  const m = /\b(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|EAI_AGAIN)\b/.exec(
    errorText(err),
  );
  return m?.[1];
}

const NETWORK_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found (DNS)',
  ETIMEDOUT: 'timed out',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
};

/**
 * One readable KsError for a failed API call: `<what>: <reason> (<code>): <message>` from the
 * Status, or "cannot reach the API server at URL (connection refused)" when nothing answered.
 */
export function kubeError(err: unknown, what: string, server?: string): KsError {
  if (err instanceof KsError) return err;
  const net = networkCode(err);
  const st = statusOf(err);
  if (net) {
    return new KsError(
      'KS_ERR_KUBE_API',
      `${what}: cannot reach the API server${server ? ` at ${server}` : ''} (${NETWORK_WORDS[net] ?? net})`,
      { cause: err },
    );
  }
  if (!st) return new KsError('KS_ERR_KUBE_API', `${what}: ${errorText(err)}`, { cause: err });
  const parts = [st.reason, st.code ? String(st.code) : undefined].filter(Boolean).join(' ');
  return new KsError(
    'KS_ERR_KUBE_API',
    `${what}: ${parts || 'failed'}${st.message ? `: ${st.message}` : ''}`,
    { cause: err },
  );
}
