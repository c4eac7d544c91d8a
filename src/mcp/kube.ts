/**
 * `kubeshark mcp` against a cluster (no `--url`): the port-forward to the release's front that
 * proxy mode uses, and start/stop (`--allow-destructive`) running the same steps as `tap`
 * (apply the release, wait until hub and front are ready) and `clean` (remove its objects).
 * The kubeconfig is loaded on first use, so the server starts (and lists its tools) even before
 * a cluster is reachable; the tool call that needs it reports a clear KS_ERR_KUBECONFIG.
 */
import { getPath, setKey, type ConfigTree } from '../config/load.ts';
import { applyRelease } from '../kube/apply.ts';
import { cleanConfiguredRelease } from '../kube/clean.ts';
import { kubeOptionsOf, loadKubeConfig } from '../kube/config.ts';
import { releaseObjects } from '../kube/manifests.ts';
import { startFrontProxy } from '../kube/portforward.ts';
import { waitForRelease } from '../kube/ready.ts';
import { version } from '../util/version.ts';
import type { ForwardStarter, Lifecycle } from './context.ts';

/**
 * How long the first look for a ready front pod may take before the tool call fails (a release
 * that is not there should fail fast; later connections wait longer while a pod is replaced).
 */
export const MCP_PROXY_RESOLVE_TIMEOUT_MS = 5_000;

/** A forward to the front of the release in `namespace`, on a free local port. */
export function kubeForwardStarter(config: ConfigTree): ForwardStarter {
  return async (namespace) => {
    const { kc } = loadKubeConfig(kubeOptionsOf(config));
    const proxy = await startFrontProxy({
      kc,
      namespace,
      release: getPath(config, 'tap.release.name') as string,
      host: '127.0.0.1',
      // Not tap.proxy.front.port: `tap` or `proxy` may hold it; the agent never sees this port.
      port: 0,
      srvPort: getPath(config, 'tap.proxy.front.srvPort') as number,
    });
    try {
      await proxy.resolve(MCP_PROXY_RESOLVE_TIMEOUT_MS);
    } catch (e) {
      await proxy.close();
      throw e;
    }
    return { url: proxy.url, target: () => proxy.target, close: () => proxy.close() };
  };
}

/** start_kubeshark / stop_kubeshark over the kubeconfig's cluster. */
export function kubeLifecycle(config: ConfigTree): Lifecycle {
  const withRelease = (ns: string | undefined): ConfigTree => {
    const c = structuredClone(config);
    if (ns) setKey(c, 'tap.release.namespace', ns, 'mcp', false);
    return c;
  };
  return {
    async start(o) {
      const c = withRelease(o.releaseNamespace);
      if (o.namespaces && o.namespaces.length > 0)
        setKey(c, 'tap.namespaces', o.namespaces, 'mcp', false);
      if (o.podRegex) setKey(c, 'tap.regex', o.podRegex, 'mcp', false);
      const { kc, context } = loadKubeConfig(kubeOptionsOf(c));
      const namespace = getPath(c, 'tap.release.namespace') as string;
      const release = getPath(c, 'tap.release.name') as string;
      const applied = await applyRelease(kc, releaseObjects(c, { version: version() }), {
        server: kc.getCurrentCluster()?.server,
        progress: o.progress,
      });
      await waitForRelease({ kc, namespace, release, progress: o.progress });
      const changed = applied.filter((a) => a.outcome !== 'unchanged').length;
      return `Kubeshark ${release} is running in namespace ${namespace} (context ${context}); ${applied.length} objects applied (${changed} created or changed). Tools now answer from it.`;
    },
    async stop(o) {
      const { removed, release, namespace, context } = await cleanConfiguredRelease(
        withRelease(o.releaseNamespace),
        o.progress,
      );
      return removed.length === 0
        ? `Nothing to remove: no object of release ${release} in namespace ${namespace} (context ${context}).`
        : `Removed ${removed.length} object(s) of release ${release} from namespace ${namespace} (context ${context}).`;
    },
  };
}
