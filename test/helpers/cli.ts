/**
 * How tests run the CLI as a process: `[process.execPath, ...cli, ...args]`.
 *
 * `npm test` (scripts/run-tests.mjs) bundles the current sources once per run with the build's
 * esbuild configuration (scripts/bundle.mjs), beside a fresh dashboard build and sock_diag addon,
 * and names the bundle in KS_TEST_CLI: a process then starts in a tenth of the time tsx takes to
 * compile the sources. A test file run on its own (`node --import tsx --test test/x.test.ts`)
 * has no bundle and runs the sources with tsx.
 */
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = new URL('../..', import.meta.url).pathname;

/** The bundle of this test run, if scripts/run-tests.mjs made one. */
export const cliBundle: string | undefined = process.env.KS_TEST_CLI || undefined;

/**
 * Node's arguments before the CLI's own: the bundle, or tsx's loader (by file URL, so it loads
 * from any working directory) and bin/kubeshark.ts.
 */
export const cli: readonly string[] = cliBundle
  ? [cliBundle]
  : [
      '--import',
      pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href,
      join(root, 'bin/kubeshark.ts'),
    ];

/** The whole command: `[process.execPath, ...cli, ...args]`. */
export function cliCommand(...args: string[]): [string, ...string[]] {
  return [process.execPath, ...cli, ...args];
}

/**
 * The dashboard build that goes with the bundle (`front/` beside it), when there is one; tests
 * that need the built dashboard use it instead of building their own.
 */
export const cliFrontDir: string | undefined = cliBundle
  ? join(dirname(cliBundle), 'front')
  : undefined;
