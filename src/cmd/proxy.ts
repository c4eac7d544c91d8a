/** `kubeshark proxy`: the port-forward to a running release's front, until Ctrl-C. */
import { Command } from 'commander';
import { shutdownSignal } from '../api/server.ts';
import { getPath } from '../config/load.ts';
import { kubeOptionsOf, loadKubeConfig } from '../kube/config.ts';
import { startFrontProxy } from '../kube/portforward.ts';
import { browserAllowed } from './tap.ts';
import { resolveClusterConfig, withKubeOptions, type KubeFlags } from './tap-cluster.ts';
import { port } from './worker.ts';

interface ProxyFlags extends KubeFlags {
  port?: number;
  host?: string;
  browser: boolean;
}

/** A running release answers at once; a missing one should fail quickly, not after a minute. */
export const PROXY_COMMAND_RESOLVE_TIMEOUT_MS = 5_000;

export function proxyCommand(): Command {
  return withKubeOptions(
    new Command('proxy')
      .description("re-establish the port-forward to a running release's dashboard")
      .option('--port <n>', 'local port (tap.proxy.front.port, default 8899; 0: any)', port)
      .option('--host <addr>', 'local address (tap.proxy.host, default 127.0.0.1)')
      .option('--no-browser', 'do not open the dashboard in a browser'),
  ).action(async (opts: ProxyFlags, cmd: Command) => {
    const config = resolveClusterConfig(cmd, opts, {
      'tap.proxy.front.port': opts.port,
      'tap.proxy.host': opts.host,
    });
    const { kc } = loadKubeConfig(kubeOptionsOf(config));
    const until = shutdownSignal();
    const proxy = await startFrontProxy({
      kc,
      namespace: getPath(config, 'tap.release.namespace') as string,
      release: getPath(config, 'tap.release.name') as string,
      host: getPath(config, 'tap.proxy.host') as string,
      port: getPath(config, 'tap.proxy.front.port') as number,
      srvPort: getPath(config, 'tap.proxy.front.srvPort') as number,
    });
    try {
      // Fails clearly (not deployed / not ready) before the URL is printed.
      const pod = await proxy.resolve(PROXY_COMMAND_RESOLVE_TIMEOUT_MS);
      process.stderr.write(
        `kubeshark: dashboard at ${proxy.url} (front pod ${pod}); Ctrl-C stops\n`,
      );
      proxy.events.on('target', (p) =>
        process.stderr.write(`kubeshark: now forwarding to front pod ${p}\n`),
      );
      proxy.events.on('error', (e) =>
        process.stderr.write(`kubeshark: port-forward: ${e.message}\n`),
      );
      const tty = !!process.stdout.isTTY && !!process.stdin.isTTY;
      if (
        opts.browser &&
        !(getPath(config, 'headless') as boolean) &&
        browserAllowed(process.env, tty)
      ) {
        const { default: open } = await import('open');
        await open(proxy.url).catch(() => undefined);
      }
      await until;
    } finally {
      await proxy.close();
    }
  });
}
