/** `kubeshark check`: diagnostics of the kubeconfig, RBAC, the release and its capture; exit 0 when healthy. */
import { Command } from 'commander';
import { getPath } from '../config/load.ts';
import { formatCheckLine, runChecks } from '../kube/check.ts';
import { kubeOptionsOf } from '../kube/config.ts';
import { releaseObjects } from '../kube/manifests.ts';
import { ExitCode } from '../util/errors.ts';
import { version } from '../util/version.ts';
import { resolveClusterConfig, withKubeOptions, type KubeFlags } from './tap-cluster.ts';

export function checkCommand(): Command {
  return withKubeOptions(
    new Command('check').description(
      'check the kubeconfig, RBAC, the release pods, the hub and every worker; exit code 0 only when all pass',
    ),
  ).action(async (opts: KubeFlags, cmd: Command) => {
    const config = resolveClusterConfig(cmd, opts);
    const lines = await runChecks({
      kube: kubeOptionsOf(config),
      objects: releaseObjects(config, { version: version() }),
      release: getPath(config, 'tap.release.name') as string,
      namespace: getPath(config, 'tap.release.namespace') as string,
      frontSrvPort: getPath(config, 'tap.proxy.front.srvPort') as number,
      version: version(),
      onLine: (l) => process.stdout.write(formatCheckLine(l) + '\n'),
    });
    const failed = lines.filter((l) => l.status === 'fail').length;
    process.stdout.write(
      failed === 0 ? 'all checks passed\n' : `${failed} check${failed === 1 ? '' : 's'} failed\n`,
    );
    process.exitCode = failed === 0 ? ExitCode.ok : ExitCode.failure;
  });
}
