import { isSea } from 'node:sea';
import { Command, InvalidArgumentError, Option } from 'commander';
import chalk from 'chalk';
import { outputFormats, type OutputFormat } from '../output/printer.ts';
import { dissectors } from '../tap/dissectors/registry.ts';
import { runDissect } from './dissect-runner.ts';
import { STATS_GROUP_BY, type StatsGroupBy } from '../store/stats/index.ts';
import { globalOptions, resolveConfig } from './context.ts';

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function shardSpec(v: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(v);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index >= count) throw new InvalidArgumentError('must be i/n with i < n');
  return { index, count };
}

/** argv that starts this program again: the executable itself, or node + loader + script. */
function selfCommand(): string[] {
  return isSea()
    ? [process.execPath]
    : [process.execPath, ...process.execArgv, process.argv[1] ?? ''];
}

interface DissectFlags {
  output?: OutputFormat;
  l4?: boolean;
  dissectors?: string;
  quiet?: boolean;
  workers?: number;
  shard?: { index: number; count: number };
  idBase?: number;
  summaryFd?: number;
  stats?: StatsGroupBy;
  filter?: string;
}

export function dissectCommand(): Command {
  return new Command('dissect')
    .description('dissect capture files (pcap, pcapng; - for stdin) into entries')
    .argument('<files...>', 'capture files')
    .addOption(
      new Option(
        '-o, --output <format>',
        'output format (default: table on a terminal, jsonl when piped)',
      ).choices(outputFormats),
    )
    .option(
      '--l4',
      'emit an L4 record for every TCP connection and UDP flow (default: only those without L7 entries)',
    )
    .option(
      '--dissectors <ids>',
      `dissectors to run, comma-separated (${dissectors.map((d) => d.id).join(', ')}); sets tap.enabledDissectors`,
    )
    .option(
      '-f, --filter <kfl>',
      "KFL filter: only matching entries are printed, e.g. 'http && status_code >= 500' (older KFL syntax is translated)",
    )
    .option('-q, --quiet', 'no summary on stderr')
    .option(
      '--workers <n>',
      'dissect each file in n processes, splitting its connections between them by hash (needs -o jsonl; pays off on captures with many connections; entry order then interleaves)',
      positiveInt,
    )
    .addOption(
      new Option(
        '--stats [group]',
        'print API statistics (calls, rates, error rates, p50/p95/p99 latency, bytes) instead of entries',
      )
        .choices(STATS_GROUP_BY)
        .preset('endpoint'),
    )
    .addOption(new Option('--shard <i/n>').argParser(shardSpec).hideHelp())
    .addOption(new Option('--id-base <n>').argParser(Number).hideHelp())
    .addOption(new Option('--summary-fd <fd>').argParser(Number).hideHelp())
    .action(async (files: string[], opts: DissectFlags, cmd: Command) => {
      const config = resolveConfig(cmd, { 'tap.enabledDissectors': opts.dissectors });
      const g = globalOptions(cmd);
      const tty = !!process.stdout.isTTY;
      const colorOn = tty && !process.env.NO_COLOR;
      await runDissect({
        files,
        format: opts.output ?? (tty ? 'table' : 'jsonl'),
        l4All: !!opts.l4,
        summary: !opts.quiet,
        config,
        stdout: process.stdout,
        stderr: process.stderr,
        width: process.stdout.columns,
        color: colorOn
          ? (kind, s) =>
              kind === 'dim' ? chalk.dim(s) : kind === 'err' ? chalk.red(s) : chalk.green(s)
          : undefined,
        workers: opts.workers ?? 1,
        self: selfCommand(),
        childArgs: [
          ...(g.config ? ['--config', g.config] : []),
          ...g.set.flatMap((s) => ['--set', s]),
          ...(g.debug ? ['--debug'] : []),
        ],
        shard: opts.shard,
        idBase: opts.idBase,
        summaryFd: opts.summaryFd,
        stats: opts.stats,
        filter: opts.filter,
      });
    });
}
