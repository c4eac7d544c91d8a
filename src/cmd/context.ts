/** What every command gets from the root program: resolved global options and the config. */
import type { Command } from 'commander';
import { loadConfig, type ConfigTree } from '../config/load.ts';

export interface GlobalOptions {
  debug: boolean;
  set: string[];
  config?: string;
}

export function globalOptions(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals<{ debug?: boolean; set?: string[]; config?: string }>();
  return { debug: !!o.debug, set: o.set ?? [], config: o.config ?? process.env.KUBESHARK_CONFIG };
}

/** Resolves the effective config: flags (only those given) > --set > env > file > defaults. */
export function resolveConfig(cmd: Command, flags: Record<string, unknown> = {}): ConfigTree {
  const g = globalOptions(cmd);
  return loadConfig({ configPath: g.config, env: process.env, sets: g.set, flags });
}
