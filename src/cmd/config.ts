import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Command } from 'commander';
import { stringify } from 'yaml';
import { defaultConfigPath } from '../config/load.ts';
import { globalOptions, resolveConfig } from './context.ts';

export function configCommand(): Command {
  return new Command('config')
    .description('print the effective configuration as YAML (-r writes it to the config file)')
    .option('-r, --regenerate', 'write the effective configuration to ~/.kubeshark/config.yaml')
    .action((opts: { regenerate?: boolean }, cmd: Command) => {
      const cfg = resolveConfig(cmd);
      const text = stringify(cfg);
      if (opts.regenerate) {
        const path = globalOptions(cmd).config ?? defaultConfigPath();
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, text);
        process.stderr.write(`wrote ${path}\n`);
      } else {
        process.stdout.write(text);
      }
    });
}
