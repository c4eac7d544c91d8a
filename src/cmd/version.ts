import { Command } from 'commander';
import { commit, version } from '../util/version.ts';

export function versionCommand(): Command {
  return new Command('version')
    .description('print the version')
    .option('-o, --output <format>', 'text or json', 'text')
    .action((opts: { output: string }) => {
      const info = {
        version: version(),
        commit: commit(),
        node: process.version,
        platform: `${process.platform}/${process.arch}`,
      };
      if (opts.output === 'json') process.stdout.write(JSON.stringify(info) + '\n');
      else process.stdout.write(`${info.version}\n`);
    });
}
