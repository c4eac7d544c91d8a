/**
 * Where MCP tools get the hub's API from. Every tool talks to the hub through one `ApiClient`;
 * what differs is how the client reaches it:
 * - `url`: a front or hub the agent's machine can reach (`kubeshark mcp --url`, `tap --local`);
 * - `proxy`: a port-forward to the deployment's front, found through the kubeconfig, started on
 *   the first tool call, reused, and started again when it stops answering;
 * - `hub`: inside the hub (its `/api/mcp` endpoint), calling its API in process.
 * The server and the tools never know which; they only call `ctx.api()`.
 */
import { ApiClient } from '../api/client.ts';
import { errorOf } from '../api/errors.ts';
import type { NodeApi } from '../api/server.ts';
import { paramsOf } from '../api/params.ts';
import { isKsError } from '../util/errors.ts';

/** Destination rules of `download_file` (stdio only: files land on the agent's machine). */
export interface DownloadPolicy {
  /** Every download is written inside this directory. */
  dir: string;
  /** Largest file fetched; larger answers are cut off and removed. */
  maxBytes: number;
  /**
   * `dir` is the default per-user directory: besides being this user's and writable by no one
   * else (checked for any `dir`), it must not be a symlink nor readable by others (mode 0700).
   */
  strict?: boolean;
}

/** Runs `tap` / `clean` for start_kubeshark / stop_kubeshark (`--allow-destructive`). */
export interface Lifecycle {
  start(o: {
    namespaces?: string[];
    podRegex?: string;
    releaseNamespace?: string;
    /** A line per step (objects applied, pods ready). */
    progress?: (line: string) => void;
  }): Promise<string>;
  stop(o: { releaseNamespace?: string; progress?: (line: string) => void }): Promise<string>;
}

export interface ToolContext {
  mode: 'url' | 'proxy' | 'hub';
  /** The hub's API; `releaseNamespace` picks another deployment in proxy mode. */
  api(releaseNamespace?: string): Promise<ApiClient>;
  /** Base URL hub-relative file paths resolve against, for the agent. */
  fileBase(): Promise<string>;
  /** Where `download_file` may write; absent: the tool is not offered. */
  downloads?: DownloadPolicy;
  /** start/stop; absent: the tools are not offered. */
  lifecycle?: Lifecycle;
  /** Describes how the hub is reached (status output). */
  describe(): string;
}

/** A fixed URL: `--url`. */
export function urlContext(
  url: string,
  extra: Pick<ToolContext, 'downloads' | 'lifecycle'> = {},
): ToolContext {
  const client = new ApiClient(url);
  return {
    mode: 'url',
    api: () => Promise.resolve(client),
    fileBase: () => Promise.resolve(client.baseUrl),
    describe: () => client.baseUrl,
    ...extra,
  };
}

/** A port-forward the proxy provider starts: its local URL and how to stop it. */
export interface ForwardHandle {
  url: string;
  /** Which pod it reaches (status output). */
  target(): string | undefined;
  close(): Promise<void>;
}

/** Starts a forward to the front of the release in `namespace` (default: the configured one). */
export type ForwardStarter = (namespace: string) => Promise<ForwardHandle>;

/**
 * Proxy mode: one forward per release namespace, started on first use and reused. A forward
 * whose local end no longer answers (`/api/health` fails) is closed and started again, once per
 * call, so a dropped port-forward heals on the next tool call.
 */
export function proxyContext(
  start: ForwardStarter,
  defaultNamespace: string,
  extra: Pick<ToolContext, 'downloads' | 'lifecycle'> = {},
): ToolContext & { close(): Promise<void>; starts(): number } {
  const forwards = new Map<string, Promise<ForwardHandle>>();
  let started = 0;
  const open = (ns: string): Promise<ForwardHandle> => {
    let p = forwards.get(ns);
    if (!p) {
      started++;
      p = start(ns);
      forwards.set(ns, p);
      // A failed start is not cached: the next call tries again.
      p.catch(() => forwards.delete(ns));
    }
    return p;
  };
  const api = async (releaseNamespace?: string): Promise<ApiClient> => {
    const ns = releaseNamespace || defaultNamespace;
    const fwd = await open(ns);
    const client = new ApiClient(fwd.url);
    try {
      await client.health({ timeoutMs: 10_000 });
      return client;
    } catch (err) {
      if (!isKsError(err) || err.code !== 'KS_ERR_UNAVAILABLE') throw err;
      // The forward dropped (or the front was replaced): start it again.
      forwards.delete(ns);
      await fwd.close().catch(() => undefined);
      return new ApiClient((await open(ns)).url);
    }
  };
  let last: ForwardHandle | undefined;
  return {
    mode: 'proxy',
    api: async (ns) => {
      const c = await api(ns);
      last = await forwards.get(ns || defaultNamespace);
      return c;
    },
    fileBase: async () => (await api()).baseUrl,
    describe: () =>
      last ? `${last.url} (port-forward to ${last.target() ?? 'the front'})` : 'port-forward',
    close: async () => {
      const all = [...forwards.values()];
      forwards.clear();
      for (const p of all) await p.then((f) => f.close()).catch(() => undefined);
    },
    starts: () => started,
    ...extra,
  };
}

/**
 * Inside the hub: an ApiClient whose `fetch` calls the hub's NodeApi directly (no HTTP hop), so
 * tools behave exactly as over HTTP (same parameters, same ApiError on a bad filter).
 */
export function inProcessContext(api: NodeApi, fileBase: string): ToolContext {
  const fetchFn = (async (input: string | URL | Request): Promise<Response> => {
    const url = new URL(
      typeof input === 'string' ? input : input instanceof URL ? input : input.url,
    );
    let status = 200;
    let body: unknown;
    try {
      body = await api.call(url.pathname, paramsOf(url.searchParams));
    } catch (err) {
      const e = errorOf(err);
      status = e.status;
      body = e.body;
    }
    return new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
  }) as typeof fetch;
  const client = new ApiClient('http://hub.invalid', { fetch: fetchFn });
  return {
    mode: 'hub',
    api: () => Promise.resolve(client),
    fileBase: () => Promise.resolve(fileBase),
    describe: () => `${fileBase} (in the hub)`,
  };
}
