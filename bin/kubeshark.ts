#!/usr/bin/env node
/** Entry point: run the program, catch once, print once. `--debug` adds the stack. */
import { CommanderError } from 'commander';
import { buildProgram } from '../src/cmd/root.ts';
import { ExitCode, isKsError } from '../src/util/errors.ts';

const debug = process.argv.includes('--debug') || process.env.KUBESHARK_DEBUG === '1';

// A closed pipe on stdout (e.g. `| head`) ends the program quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
});

async function main(): Promise<void> {
  await buildProgram().parseAsync(process.argv);
}

main().catch((e: unknown) => {
  if (e instanceof CommanderError) {
    // commander already printed its message (help, version or a usage error).
    process.exitCode = e.exitCode === 0 ? 0 : ExitCode.usage;
  } else if (isKsError(e)) {
    process.stderr.write(`kubeshark: ${e.message} [${e.code}]\n`);
    const detail = e.detail();
    if (detail) process.stderr.write(detail.replace(/^/gm, '  ') + '\n');
    if (debug && e.stack) process.stderr.write(e.stack + '\n');
    process.exitCode = e.exitCode;
  } else {
    const err = e as Error;
    process.stderr.write(
      `kubeshark: internal error: ${err?.message ?? String(e)} [KS_ERR_INTERNAL]\n`,
    );
    process.stderr.write(debug && err?.stack ? err.stack + '\n' : 'run with --debug for details\n');
    process.exitCode = ExitCode.failure;
  }
});
