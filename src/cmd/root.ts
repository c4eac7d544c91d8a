/** The commander program: global options and the command list. */
import { Command, Option } from 'commander';
import { configCommand } from './config.ts';
import { dissectCommand } from './dissect.ts';
import { tapCommand } from './tap.ts';
import { versionCommand } from './version.ts';
import { workerCommand } from './worker.ts';
import { hubCommand } from './hub.ts';
import { frontCommand } from './front.ts';
import { version } from '../util/version.ts';
import { cleanCommand } from './clean.ts';
import { proxyCommand } from './proxy.ts';
import { logsCommand } from './logs.ts';
import { checkCommand } from './check.ts';
import { mcpCommand } from './mcp.ts';

export function buildProgram(): Command {
  const program = new Command('kubeshark')
    .description('Wireshark for Kubernetes: capture, dissect and query traffic')
    .version(version(), '-v, --version', 'print the version')
    .option('--debug', 'print stack traces and debug details')
    .addOption(
      new Option(
        '--set <key=value>',
        'set a config value (repeatable), e.g. tap.portMapping.http=8080',
      ).argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]),
    )
    .option(
      '--config <path>',
      'config file (default: ~/.kubeshark/config.yaml; env KUBESHARK_CONFIG)',
    )
    .showHelpAfterError()
    .exitOverride();
  // addCommand() does not copy inherited settings: each command must throw (not exit) on usage
  // errors so that bin/ prints once and maps them to exit code 2.
  for (const cmd of [
    versionCommand(),
    configCommand(),
    dissectCommand(),
    tapCommand(),
    cleanCommand(),
    proxyCommand(),
    logsCommand(),
    checkCommand(),
    mcpCommand(),
  ]) {
    program.addCommand(cmd.showHelpAfterError().exitOverride());
  }
  // The in-cluster roles: hidden from help, started by the deployed manifests and `tap`.
  for (const cmd of [workerCommand(), hubCommand(), frontCommand()]) {
    program.addCommand(cmd.showHelpAfterError().exitOverride(), { hidden: true });
  }
  return program;
}
