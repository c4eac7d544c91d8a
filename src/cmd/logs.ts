/** `kubeshark logs [-f FILE]`: a zip of the release pods' logs (previous instances too) and events. */
import { Command } from 'commander';
import { getPath } from '../config/load.ts';
import { kubeOptionsOf, loadKubeConfig } from '../kube/config.ts';
import { collectLogs, DEFAULT_LOGS_FILE } from '../kube/logs.ts';
import { resolveClusterConfig, withKubeOptions, type KubeFlags } from './tap-cluster.ts';

interface LogsFlags extends KubeFlags {
  file: string;
}

export function logsCommand(): Command {
  return withKubeOptions(
    new Command('logs')
      .description(
        "zip the release pods' logs (all containers, previous instances) and the namespace's events",
      )
      .option('-f, --file <path>', 'zip file to write', DEFAULT_LOGS_FILE),
  ).action(async (opts: LogsFlags, cmd: Command) => {
    const config = resolveClusterConfig(cmd, opts);
    const { kc } = loadKubeConfig(kubeOptionsOf(config));
    const namespace = getPath(config, 'tap.release.namespace') as string;
    const release = getPath(config, 'tap.release.name') as string;
    const r = await collectLogs({ kc, namespace, release, file: opts.file });
    const w = (s: string) => process.stdout.write(`${s}\n`);
    if (r.pods === 0) {
      process.stderr.write(
        `kubeshark: no pod of release ${release} in namespace ${namespace}; the zip has the namespace's events only\n`,
      );
    }
    w(`wrote ${r.file}: ${r.pods} pod${r.pods === 1 ? '' : 's'}, ${r.entries.length} files`);
    for (const e of r.entries) w(`  ${e.name}  ${e.bytes} B${e.error ? `  (${e.error})` : ''}`);
  });
}
