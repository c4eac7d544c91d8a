/**
 * `kubeshark tap` in a cluster: apply the release → wait until the hub and front pods are Ready
 * → start the port-forward to the front exactly once → print the URL (browser on a terminal) →
 * the live table (or jsonl) through that port-forward until Ctrl-C. Ctrl-C stops the proxy and
 * leaves the release running; `kubeshark clean` removes it. `--dry-run` only lists the pods the
 * release would dissect.
 *
 * Also the kube flags and config every cluster command shares (--kubeconfig, --context, -s).
 */
import { createServer } from 'node:http';
import type { Writable } from 'node:stream';
import { InvalidArgumentError, type Command } from 'commander';
import { listen } from '../api/server.ts';
import { getPath, type ConfigTree } from '../config/load.ts';
import { applyRelease } from '../kube/apply.ts';
import { kubeOptionsOf, loadKubeConfig, type KubeConfigOptions } from '../kube/config.ts';
import { releaseObjects } from '../kube/manifests.ts';
import { startFrontProxy, type FrontProxy } from '../kube/portforward.ts';
import { READY_TIMEOUT_MS, waitForRelease } from '../kube/ready.ts';
import { formatTargets, previewTargets } from '../kube/targets-preview.ts';
import { targetSelectionFromConfig } from '../kube/targets.ts';
import { ExitCode, KsError } from '../util/errors.ts';
import { openInBrowser, openTapView, type LiveView, type TapTerminal } from './tap-view.ts';
import { validateTap } from './tap-runner.ts';
import type { UiModule } from './ui-loader.ts';
import { resolveConfig } from './context.ts';

/** The flags every cluster command has. */
export interface KubeFlags {
  kubeconfig?: string;
  context?: string;
  releaseNamespace?: string;
}

/** Adds --kubeconfig, --context and -s/--release-namespace to a command. */
export function withKubeOptions(cmd: Command): Command {
  return cmd
    .option(
      '--kubeconfig <path>',
      'kubeconfig file (kube.configPath; default $KUBECONFIG, ~/.kube/config, in-cluster)',
    )
    .option('--context <name>', 'kubeconfig context (kube.context; default the current one)')
    .option(
      '-s, --release-namespace <ns>',
      'namespace of the release (tap.release.namespace, default default)',
    );
}

/** The effective config of a cluster command: its kube flags over everything else. */
export function resolveClusterConfig(
  cmd: Command,
  flags: KubeFlags,
  more: Record<string, unknown> = {},
): ConfigTree {
  return resolveConfig(cmd, {
    'kube.configPath': flags.kubeconfig,
    'kube.context': flags.context,
    'tap.release.namespace': flags.releaseNamespace,
    ...more,
  });
}

/** Repeatable and comma-separated, like Kubeshark's `-n a,b -n c`. */
export function collectList(v: string, prev: string[] | undefined): string[] {
  return [
    ...(prev ?? []),
    ...v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  ];
}

/** `--timeout <seconds>` */
export function seconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError('must be a number of seconds > 0');
  return n;
}

/** Progress lines on stderr: only on a terminal, and not with -q. */
export function progressWriter(
  stderr: Writable,
  quiet: boolean,
): ((line: string) => void) | undefined {
  if (quiet || !(stderr as NodeJS.WriteStream).isTTY) return undefined;
  return (line) => stderr.write(`kubeshark: ${line}\n`);
}

export interface TapClusterOptions extends TapTerminal {
  config: ConfigTree;
  kube: KubeConfigOptions;
  version: string;
  /** Progress lines (deploying, pods); absent: none. */
  progress?: (line: string) => void;
  /** Readiness timeout (default READY_TIMEOUT_MS). */
  timeoutMs?: number;
  /** List the targeted pods and stop. */
  dryRun: boolean;
  /** Called once with the proxy (tests count starts and reach it). */
  onProxy?: (p: FrontProxy) => void;
}

export interface TapClusterResult {
  url?: string;
  exitCode: number;
}

export async function runTapCluster(o: TapClusterOptions): Promise<TapClusterResult> {
  validateTap({ files: [], filter: o.filter, config: o.config });
  // A bad regex fails before anything else.
  const sel = targetSelectionFromConfig(o.config);
  const { kc, context } = loadKubeConfig(o.kube);
  if (o.dryRun) {
    const pods = await previewTargets(kc, sel);
    if (o.output === 'jsonl') for (const p of pods) o.stdout.write(JSON.stringify(p) + '\n');
    else o.stdout.write(formatTargets(pods));
    if (!o.quiet) {
      const where =
        sel.namespaces.size > 0 ? `namespaces ${[...sel.namespaces].join(', ')}` : 'all namespaces';
      const minus = sel.excluded.size > 0 ? ` except ${[...sel.excluded].join(', ')}` : '';
      o.stderr.write(
        `kubeshark: ${pods.length} pod${pods.length === 1 ? '' : 's'} would be tapped (regex ${JSON.stringify(sel.regex.source)}, ${where}${minus}, context ${context}); nothing was deployed\n`,
      );
    }
    return { exitCode: ExitCode.ok };
  }

  const namespace = getPath(o.config, 'tap.release.namespace') as string;
  const release = getPath(o.config, 'tap.release.name') as string;
  const hint = () => {
    if (!o.quiet) {
      o.stderr.write(
        `kubeshark: the release keeps running in namespace ${namespace}; \`kubeshark clean${namespace === 'default' ? '' : ` -s ${namespace}`}\` removes it\n`,
      );
    }
  };
  // The proxy starts only once the release is ready; a taken port should fail before deploying.
  await assertPortFree(
    getPath(o.config, 'tap.proxy.host') as string,
    getPath(o.config, 'tap.proxy.front.port') as number,
  );
  o.progress?.(`deploying release ${release} to namespace ${namespace} (context ${context})`);
  await applyRelease(kc, releaseObjects(o.config, { version: o.version }), {
    progress: o.progress,
    server: kc.getCurrentCluster()?.server,
  });

  const interrupted = new AbortController();
  void o.until.then(() => interrupted.abort());
  try {
    await waitForRelease({
      kc,
      namespace,
      release,
      timeoutMs: o.timeoutMs ?? READY_TIMEOUT_MS,
      progress: o.progress,
      signal: interrupted.signal,
    });
  } catch (e) {
    hint();
    if (interrupted.signal.aborted) return { exitCode: ExitCode.failure };
    throw e;
  }

  // Exactly one proxy per run: everything below reaches the release through it.
  let proxy: FrontProxy | undefined;
  let view: LiveView | undefined;
  try {
    proxy = await startFrontProxy({
      kc,
      namespace,
      release,
      host: getPath(o.config, 'tap.proxy.host') as string,
      port: getPath(o.config, 'tap.proxy.front.port') as number,
      srvPort: getPath(o.config, 'tap.proxy.front.srvPort') as number,
    });
    o.onProxy?.(proxy);
    const url = proxy.url;
    await proxy.resolve();
    o.stderr.write(`kubeshark: dashboard at ${url}\n`);
    const problem = (line: string) =>
      view ? view.problem(line) : o.stderr.write(`kubeshark: ${line}\n`);
    let first = true;
    proxy.events.on('target', (pod) => {
      if (!first) problem(`port-forward now reaches front pod ${pod}`);
      first = false;
    });
    proxy.events.on('error', (e) => problem(`port-forward: ${e.message}`));

    view = await openTapView(url, o, { reconnect: true });
    openInBrowser(url, o.openBrowser, problem);
    await view.run(o.until);
    await view.finish();
    return { url, exitCode: ExitCode.ok };
  } finally {
    view?.close();
    await proxy?.close();
    hint();
  }
}

/** Fails with KS_ERR_LISTEN when `host:port` cannot be listened on now (port 0: any, fine). */
export async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const server = createServer();
  await listen(server, port, host);
  await new Promise<void>((r) => server.close(() => r()));
}

/** The cluster-mode flags of `tap` (parsed by commander in tap.ts). */
export interface TapClusterFlags extends KubeFlags {
  namespaces?: string[];
  excludedNamespaces?: string[];
  dryRun?: boolean;
  timeout?: number;
  filter?: string;
  browser: boolean;
  port?: number;
  host?: string;
  output?: 'table' | 'jsonl';
  quiet?: boolean;
}

/** `tap` without --local/--pcap: the command's glue around runTapCluster. */
export async function tapClusterAction(
  regex: string | undefined,
  opts: TapClusterFlags,
  cmd: Command,
  deps: {
    until: Promise<unknown>;
    version: string;
    loadUi: () => Promise<UiModule>;
    browserAllowed: (env: NodeJS.ProcessEnv, tty: boolean) => boolean;
  },
): Promise<number> {
  const config = resolveClusterConfig(cmd, opts, {
    'tap.regex': regex,
    'tap.namespaces': opts.namespaces,
    'tap.excludedNamespaces': opts.excludedNamespaces,
    'tap.proxy.front.port': opts.port,
    'tap.proxy.host': opts.host,
  });
  const tty = !!process.stdout.isTTY && !!process.stdin.isTTY;
  const output = opts.output ?? (tty ? 'table' : 'jsonl');
  if (output === 'table' && !tty && !opts.dryRun) {
    throw new KsError('KS_ERR_USAGE', '-o table needs a terminal (stdin and stdout); use -o jsonl');
  }
  const headless = getPath(config, 'headless') as boolean;
  const r = await runTapCluster({
    config,
    kube: kubeOptionsOf(config),
    version: deps.version,
    filter: opts.filter ?? '',
    output: opts.dryRun ? (opts.output ?? 'table') : output,
    quiet: !!opts.quiet,
    progress: progressWriter(process.stderr, !!opts.quiet),
    timeoutMs: opts.timeout !== undefined ? opts.timeout * 1000 : undefined,
    dryRun: !!opts.dryRun,
    stdout: process.stdout,
    stderr: process.stderr,
    until: deps.until,
    openBrowser:
      opts.browser && !headless && deps.browserAllowed(process.env, tty)
        ? async (url) => {
            const { default: open } = await import('open');
            await open(url);
          }
        : undefined,
    loadUi: deps.loadUi,
  });
  return r.exitCode;
}
