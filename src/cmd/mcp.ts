/**
 * `kubeshark mcp`: an MCP server on stdin/stdout for AI agents (tools, prompts and instructions
 * from src/mcp). `--url` talks to a reachable front or hub (`tap --local`/`--pcap` on
 * http://127.0.0.1:8899 too); without it the deployment is found through the kubeconfig and a
 * port-forward to its front is started on the first tool call (and again if it drops).
 * `--allow-destructive` adds start_kubeshark / stop_kubeshark (never with --url).
 *
 * stdout carries the protocol only: notes go to stderr.
 */
import { Command, InvalidArgumentError } from 'commander';
import { getPath, parseSize } from '../config/load.ts';
import { proxyContext, urlContext, type ToolContext } from '../mcp/context.ts';
import { MCP_MAX_DOWNLOAD_BYTES, defaultDownloadDir } from '../mcp/files.ts';
import { kubeForwardStarter, kubeLifecycle } from '../mcp/kube.ts';
import { runStdioServer } from '../mcp/server.ts';
import { KsError } from '../util/errors.ts';
import { resolveClusterConfig, withKubeOptions, type KubeFlags } from './tap-cluster.ts';

interface McpFlags extends KubeFlags {
  url?: string;
  allowDestructive?: boolean;
  downloadDir?: string;
  maxDownload?: number;
}

function httpUrl(v: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new InvalidArgumentError('must be a URL like http://127.0.0.1:8899');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new InvalidArgumentError('must be an http(s) URL');
  return u.href.replace(/\/+$/, '');
}

function size(v: string): number {
  const n = parseSize(v);
  if (n === undefined || n <= 0) throw new InvalidArgumentError('must be a size like 100MiB');
  return n;
}

export function mcpCommand(): Command {
  return withKubeOptions(
    new Command('mcp')
      .description(
        'MCP server on stdio for AI agents (Claude, Cursor, …): traffic queries as tools',
      )
      .option(
        '--url <url>',
        'a reachable Kubeshark front or hub (e.g. http://127.0.0.1:8899 of `tap --local`); default: the cluster through a port-forward',
        httpUrl,
      )
      .option(
        '--allow-destructive',
        'offer start_kubeshark / stop_kubeshark (deploy / remove; not with --url)',
      )
      .option(
        '--download-dir <dir>',
        `where download_file may write (default ${defaultDownloadDir()})`,
      )
      .option(
        '--max-download <size>',
        `largest file download_file fetches (default ${MCP_MAX_DOWNLOAD_BYTES / 1024 / 1024}MiB)`,
        size,
      ),
  ).action(async (opts: McpFlags, cmd: Command) => {
    if (opts.url && opts.allowDestructive) {
      throw new KsError(
        'KS_ERR_USAGE',
        '--allow-destructive needs the cluster (start/stop deploy it): drop --url',
      );
    }
    const config = resolveClusterConfig(cmd, opts);
    const downloads = {
      dir: opts.downloadDir ?? defaultDownloadDir(),
      maxBytes: opts.maxDownload ?? MCP_MAX_DOWNLOAD_BYTES,
      strict: opts.downloadDir === undefined,
    };
    let ctx: ToolContext;
    let close = async (): Promise<void> => undefined;
    if (opts.url) {
      ctx = urlContext(opts.url, { downloads });
    } else {
      const proxied = proxyContext(
        kubeForwardStarter(config),
        getPath(config, 'tap.release.namespace') as string,
        { downloads, ...(opts.allowDestructive ? { lifecycle: kubeLifecycle(config) } : {}) },
      );
      ctx = proxied;
      close = () => proxied.close();
    }
    process.stderr.write(
      `kubeshark mcp: serving MCP on stdio (${opts.url ? opts.url : 'cluster via port-forward'}${opts.allowDestructive ? ', start/stop enabled' : ''})\n`,
    );
    try {
      await runStdioServer(ctx);
    } finally {
      await close();
    }
  });
}
