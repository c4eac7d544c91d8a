/** `kubeshark clean [-s NS]`: removes every object of the release, cluster-scoped ones included. */
import { Command } from 'commander';
import { cleanConfiguredRelease } from '../kube/clean.ts';
import { resolveClusterConfig, withKubeOptions, type KubeFlags } from './tap-cluster.ts';

export function cleanCommand(): Command {
  return withKubeOptions(
    new Command('clean').description(
      'remove the release from the cluster (every object it applied; its namespace only if tap created it)',
    ),
  ).action(async (opts: KubeFlags, cmd: Command) => {
    const config = resolveClusterConfig(cmd, opts);
    const { removed, release, namespace, context } = await cleanConfiguredRelease(config, (line) =>
      process.stdout.write(`${line}\n`),
    );
    process.stdout.write(
      removed.length === 0
        ? `nothing to remove: no object of release ${release} in namespace ${namespace} (context ${context})\n`
        : `removed ${removed.length} object${removed.length === 1 ? '' : 's'} of release ${release} (namespace ${namespace}, context ${context})\n`,
    );
  });
}
