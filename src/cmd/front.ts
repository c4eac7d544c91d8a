/** `kubeshark front` (hidden): serves the dashboard and proxies `/api` to the hub. */
import { Command } from 'commander';
import { accessPolicyOf, inClusterEnv } from '../api/origin.ts';
import { shutdownSignal } from '../api/server.ts';
import { getPath } from '../config/load.ts';
import { runFront } from '../front/server.ts';
import { resolveConfig } from './context.ts';
import { port } from './worker.ts';

interface FrontFlags {
  port?: number;
  host?: string;
  hub?: string;
  assets?: string;
}

export function frontCommand(): Command {
  return new Command('front')
    .description('run the front role: the dashboard, with /api proxied to the hub')
    .option('--port <n>', 'port (default tap.proxy.front.port, 8899; 0: any)', port)
    .option('--host <addr>', 'address to listen on', '0.0.0.0')
    .option('--hub <url>', 'hub URL (default http://127.0.0.1:<tap.proxy.hub.port>)')
    .option('--assets <dir>', 'dashboard files to serve instead of the embedded ones')
    .action(async (opts: FrontFlags, cmd: Command) => {
      const config = resolveConfig(cmd, { 'tap.proxy.front.port': opts.port });
      await runFront({
        hub: opts.hub ?? `http://127.0.0.1:${getPath(config, 'tap.proxy.hub.port') as number}`,
        port: getPath(config, 'tap.proxy.front.port') as number,
        host: opts.host,
        assetsDir: opts.assets,
        access: accessPolicyOf(config, { inCluster: inClusterEnv() }),
        out: (line) => process.stdout.write(line + '\n'),
        log: (line) => process.stderr.write(line + '\n'),
        until: shutdownSignal(),
      });
    });
}
