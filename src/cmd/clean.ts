/** `kubeshark clean [-s NS]`: removes every object of the release, cluster-scoped ones included. */
import { Command } from 'commander';
import { getPath } from '../config/load.ts';
import { cleanRelease } from '../kube/clean.ts';
import { kubeOptionsOf, loadKubeConfig } from '../kube/config.ts';
import { releaseObjects } from '../kube/manifests.ts';
import { version } from '../util/version.ts';
import { resolveClusterConfig, withKubeOptions, type KubeFlags } from './tap-cluster.ts';

export function cleanCommand(): Command {
  return withKubeOptions(
    new Command('clean').description(
      'remove the release from the cluster (every object it applied; its namespace only if tap created it)',
    ),
  ).action(async (opts: KubeFlags, cmd: Command) => {
    const config = resolveClusterConfig(cmd, opts);
    const { kc, context } = loadKubeConfig(kubeOptionsOf(config));
    const namespace = getPath(config, 'tap.release.namespace') as string;
    const release = getPath(config, 'tap.release.name') as string;
    const removed = await cleanRelease({
      kc,
      objects: releaseObjects(config, { version: version() }),
      release,
      namespace,
      progress: (line) => process.stdout.write(`${line}\n`),
    });
    process.stdout.write(
      removed.length === 0
        ? `nothing to remove: no object of release ${release} in namespace ${namespace} (context ${context})\n`
        : `removed ${removed.length} object${removed.length === 1 ? '' : 's'} of release ${release} (namespace ${namespace}, context ${context})\n`,
    );
  });
}
