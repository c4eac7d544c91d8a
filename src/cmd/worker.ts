/** `kubeshark worker` (hidden): the per-node role — capture, dissect, store, serve the API. */
import { Command, InvalidArgumentError } from 'commander';
import { getPath } from '../config/load.ts';
import { shutdownSignal } from '../api/server.ts';
import { kubeOptionsOf, loadKubeConfig } from '../kube/config.ts';
import { startWorkerCluster } from '../kube/identity.ts';
import { targetSelectionFromConfig } from '../kube/targets.ts';
import { KsError } from '../util/errors.ts';
import { runWorker } from '../worker/run.ts';
import { resolveConfig } from './context.ts';

export function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('must be a port (0-65535)');
  return n;
}

interface WorkerFlags {
  pcap?: string[];
  interface?: string[];
  bpf?: string;
  port?: number;
  host?: string;
  store?: string;
  node?: string;
  l4?: boolean;
  metricsPort?: number;
  kube?: boolean;
  captureUser?: string;
}

export function workerCommand(): Command {
  return new Command('worker')
    .description('run the worker role: capture, dissect, store and serve one node')
    .option('--pcap <files...>', 'capture files to replay (at full speed), then keep serving')
    .option('-i, --interface <ifaces...>', 'capture live on these interfaces (tcpdump; any: all)')
    .option('--bpf <filter>', 'capture filter for live capture (default tap.bpfOverride)')
    .option(
      '--capture-user <user>',
      "user tcpdump switches to after opening the interfaces (default: tcpdump's own; the DaemonSet uses root, so the worker can stop it without CAP_KILL or CAP_SETUID/SETGID)",
    )
    .option('--port <n>', 'API port (default tap.proxy.worker.srvPort, 48999; 0: any)', port)
    .option('--host <addr>', 'address to listen on', '0.0.0.0')
    .option('--store <dir>', 'entry store directory (default: a temporary directory)')
    .option('--node <name>', 'node name recorded on entries (default node.name, host name)')
    .option('--l4', 'store an L4 record for every TCP connection and UDP flow')
    .option(
      '--kube',
      'cluster mode: identity from the Kubernetes API (KUBECONFIG or in-cluster) and pod targeting (tap.regex, tap.namespaces, tap.excludedNamespaces) for the node --node',
    )
    .option(
      '--metrics-port <n>',
      'Prometheus metrics port (default tap.metrics.port; 0: any)',
      port,
    )
    .action(async (opts: WorkerFlags, cmd: Command) => {
      const config = resolveConfig(cmd, {
        'tap.proxy.worker.srvPort': opts.port,
        'tap.metrics.port': opts.metricsPort,
        'node.name': opts.node,
      });
      let cluster: ReturnType<typeof startWorkerCluster> | undefined;
      if (opts.kube) {
        const node = (getPath(config, 'node.name') as string) || '';
        if (!node)
          throw new KsError('KS_ERR_USAGE', '--kube needs the Kubernetes node name: --node <name>');
        const selection = targetSelectionFromConfig(config);
        const { kc } = loadKubeConfig(kubeOptionsOf(config));
        cluster = startWorkerCluster(kc, {
          node,
          selection,
          log: (line) => process.stderr.write(line + '\n'),
        });
      }
      await runWorker({
        files: opts.pcap ?? [],
        interfaces: opts.interface,
        bpf: opts.bpf ?? ((getPath(config, 'tap.bpfOverride') as string) || undefined),
        ...(opts.captureUser !== undefined && { captureUser: opts.captureUser }),
        port: getPath(config, 'tap.proxy.worker.srvPort') as number,
        metricsPort: getPath(config, 'tap.metrics.port') as number,
        host: opts.host,
        storeDir: opts.store,
        node: opts.node,
        l4All: !!opts.l4,
        ...(cluster && { cluster }),
        config,
        out: (line) => process.stdout.write(line + '\n'),
        log: (line) => process.stderr.write(line + '\n'),
        until: shutdownSignal(),
      });
    });
}
