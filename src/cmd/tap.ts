/**
 * `kubeshark tap`: cluster mode by default (deploy into Kubernetes, tap-cluster.ts), or the local
 * modes — `--local` (this machine's interfaces) and `--pcap FILE...` (replayed capture files) —
 * with worker, hub and dashboard in this process.
 */
import { Command, Option } from 'commander';
import { shutdownSignal } from '../api/server.ts';
import { getPath, parseSize } from '../config/load.ts';
import { KsError } from '../util/errors.ts';
import { resolveConfig } from './context.ts';
import { runTapLocal } from './tap-runner.ts';
import { loadUi } from './ui-loader.ts';
import { port } from './worker.ts';
import { openLiveSources } from './tap-live.ts';
import {
  collectList,
  seconds,
  tapClusterAction,
  withKubeOptions,
  type TapClusterFlags,
} from './tap-cluster.ts';
import { version } from '../util/version.ts';

interface TapFlags extends TapClusterFlags {
  local?: boolean;
  pcap?: string[];
  interface?: string[];
  filter?: string;
  browser: boolean;
  port?: number;
  host?: string;
  output?: 'table' | 'jsonl';
  store?: string;
  quiet?: boolean;
}

const collect = (v: string, prev: string[] | undefined) => [...(prev ?? []), v];

/** Whether a browser may be opened: a person at a terminal, not CI, not turned off. */
export function browserAllowed(env: NodeJS.ProcessEnv, tty: boolean): boolean {
  return tty && !env.CI && !env.KUBESHARK_NO_BROWSER;
}

export function tapCommand(): Command {
  const cmd = new Command('tap')
    .description(
      "deploy into the cluster and show its traffic (pods matching POD_REGEX in -n namespaces); or --local (this machine's interfaces) / --pcap FILE... (capture files)",
    )
    .argument('[pod-regex]', 'pod name regular expression to tap (tap.regex, default .*)')
    .addOption(
      new Option(
        '-n, --namespaces <ns>',
        'namespaces to tap (repeatable or a,b; default all)',
      ).argParser(collectList),
    )
    .addOption(
      new Option(
        '-e, --excluded-namespaces <ns>',
        'namespaces never tapped (repeatable or a,b)',
      ).argParser(collectList),
    )
    .option('--dry-run', 'list the pods that would be tapped and exit (nothing is deployed)')
    .option(
      '--timeout <seconds>',
      'how long the hub and front get to become ready (default 120)',
      seconds,
    )
    .option('--local', "capture this machine's traffic (tcpdump; needs capture privileges)")
    .option('--pcap <files...>', 'replay capture files (pcap, pcapng); keeps serving afterwards')
    .addOption(
      new Option(
        '-i, --interface <name>',
        'interface to capture with --local (repeatable; default: any)',
      ).argParser(collect),
    )
    .option(
      '-f, --filter <kfl>',
      "KFL filter for the terminal output, e.g. 'http && status_code >= 500'",
    )
    .option('--no-browser', 'do not open the dashboard in a browser')
    .option(
      '--port <n>',
      'dashboard port (tap.proxy.front.port, default 8899; 0: any free port)',
      port,
    )
    .option('--host <addr>', 'address the dashboard listens on (tap.proxy.host, default 127.0.0.1)')
    .addOption(
      new Option(
        '-o, --output <format>',
        'terminal output (default: table on a terminal, jsonl when piped)',
      ).choices(['table', 'jsonl']),
    )
    .option(
      '--store <dir>',
      'keep the captured entries in this directory (default: a temporary directory removed on exit)',
    )
    .option('-q, --quiet', 'no notes on stderr (the dashboard URL is still printed)');
  return withKubeOptions(cmd).action(
    async (regex: string | undefined, opts: TapFlags, cmd: Command) => {
      const files = opts.pcap ?? [];
      if (!opts.local && files.length === 0) {
        if (opts.interface || opts.store) {
          throw new KsError(
            'KS_ERR_USAGE',
            '-i/--interface and --store apply to --local/--pcap only',
          );
        }
        process.exitCode = await tapClusterAction(regex, opts, cmd, {
          until: shutdownSignal(),
          version: version(),
          loadUi,
          browserAllowed,
        });
        return;
      }
      const clusterOnly = [
        regex !== undefined && 'POD_REGEX',
        opts.namespaces && '-n',
        opts.excludedNamespaces && '-e',
        opts.releaseNamespace && '-s',
        opts.dryRun && '--dry-run',
        opts.kubeconfig && '--kubeconfig',
        opts.context && '--context',
        opts.timeout !== undefined && '--timeout',
      ].filter((x): x is string => typeof x === 'string');
      if (clusterOnly.length > 0) {
        throw new KsError(
          'KS_ERR_USAGE',
          `${clusterOnly.join(', ')}: cluster mode only (not with --local/--pcap)`,
        );
      }
      if (opts.local && files.length > 0) {
        throw new KsError('KS_ERR_USAGE', '--local and --pcap cannot be combined: pick one');
      }
      if (opts.interface && !opts.local) {
        throw new KsError('KS_ERR_USAGE', '-i/--interface applies to --local only');
      }
      const config = resolveConfig(cmd, {
        'tap.proxy.front.port': opts.port,
        'tap.proxy.host': opts.host,
      });
      const tty = !!process.stdout.isTTY && !!process.stdin.isTTY;
      const output = opts.output ?? (tty ? 'table' : 'jsonl');
      if (output === 'table' && !tty) {
        throw new KsError(
          'KS_ERR_USAGE',
          '-o table needs a terminal (stdin and stdout); use -o jsonl',
        );
      }
      const interfaces = opts.interface ?? [];
      const r = await runTapLocal({
        files,
        live: opts.local
          ? (ownPort) =>
              openLiveSources({
                interfaces,
                bpf: getPath(config, 'tap.bpfOverride') as string,
                bufferBytes: parseSize(String(getPath(config, 'tap.capture.bufferSize'))),
                ownPort,
              })
          : undefined,
        filter: opts.filter ?? '',
        host: getPath(config, 'tap.proxy.host') as string,
        port: getPath(config, 'tap.proxy.front.port') as number,
        output,
        storeDir: opts.store,
        quiet: !!opts.quiet,
        config,
        stdout: process.stdout,
        stderr: process.stderr,
        until: shutdownSignal(),
        openBrowser:
          opts.browser && browserAllowed(process.env, tty)
            ? async (url) => {
                const { default: open } = await import('open');
                await open(url);
              }
            : undefined,
        loadUi,
      });
      process.exitCode = r.exitCode;
    },
  );
}
