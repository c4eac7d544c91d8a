/** `kubeshark hub` (hidden): the cluster-wide API — fans queries out to the workers, merges. */
import { Command } from 'commander';
import { shutdownSignal } from '../api/server.ts';
import { getPath } from '../config/load.ts';
import { runHub, type WorkerSetSource } from '../hub/run.ts';
import { kubeOptionsOf, loadKubeConfig } from '../kube/config.ts';
import { workerDiscoverySource } from '../kube/discovery.ts';
import { resolveConfig } from './context.ts';
import { port } from './worker.ts';

interface HubFlags {
  port?: number;
  host?: string;
  worker?: string[];
  discover?: boolean;
}

export function hubCommand(): Command {
  return new Command('hub')
    .description('run the hub role: one API over every worker')
    .option('--port <n>', 'API port (default tap.proxy.hub.port, 8898; 0: any)', port)
    .option('--host <addr>', 'address to listen on', '0.0.0.0')
    .option('--worker <url...>', 'worker API URLs (http://host:48999), optionally name=URL')
    .option(
      '--discover',
      "find the workers from the Kubernetes API: the release's Ready worker pods (tap.release.*), at tap.proxy.worker.srvPort",
    )
    .action(async (opts: HubFlags, cmd: Command) => {
      const config = resolveConfig(cmd, { 'tap.proxy.hub.port': opts.port });
      const log = (line: string): void => void process.stderr.write(line + '\n');
      let discovery: WorkerSetSource | undefined;
      if (opts.discover) {
        const { kc } = loadKubeConfig(kubeOptionsOf(config));
        discovery = workerDiscoverySource(kc, {
          namespace: getPath(config, 'tap.release.namespace') as string,
          release: getPath(config, 'tap.release.name') as string,
          port: getPath(config, 'tap.proxy.worker.srvPort') as number,
          log,
        });
      }
      await runHub({
        workers: [...(getPath(config, 'hub.workers') as string[]), ...(opts.worker ?? [])],
        port: getPath(config, 'tap.proxy.hub.port') as number,
        host: opts.host,
        config,
        ...(discovery && { discovery }),
        log,
        out: (line) => process.stdout.write(line + '\n'),
        until: shutdownSignal(),
      });
    });
}
