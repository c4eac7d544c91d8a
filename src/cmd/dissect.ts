import { Command, Option } from 'commander';
import chalk from 'chalk';
import { outputFormats, type OutputFormat } from '../output/printer.ts';
import { dissectors } from '../tap/dissectors/registry.ts';
import { runDissect } from './dissect-runner.ts';
import { resolveConfig } from './context.ts';

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
    .option('-q, --quiet', 'no summary on stderr')
    .action(
      async (
        files: string[],
        opts: { output?: OutputFormat; l4?: boolean; dissectors?: string; quiet?: boolean },
        cmd: Command,
      ) => {
        const config = resolveConfig(cmd, { 'tap.enabledDissectors': opts.dissectors });
        const tty = !!process.stdout.isTTY;
        const colorOn = tty && !process.env.NO_COLOR;
        const summary = await runDissect({
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
        });
        void summary;
      },
    );
}
