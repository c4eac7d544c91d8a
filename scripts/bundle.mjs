/**
 * The esbuild configuration of the CLI, in one place. scripts/build.mjs bundles with it the
 * executable's main script and terminal UI; scripts/run-tests.mjs the CLI the tests spawn (so
 * they run the current sources at the bundle's start-up cost, not tsx's).
 *
 * Two bundles in one directory:
 * - `kubeshark.cjs`: bin/kubeshark.ts and everything it imports, CommonJS (the SEA's main
 *   script must be CommonJS).
 * - `ui.mjs`: the terminal UI (src/ui) as its own ESM bundle. Ink 6 and yoga use top-level
 *   await, which a CommonJS bundle cannot hold; src/cmd/ui-loader.ts imports it on demand (a SEA
 *   asset inside the executable, the file beside `kubeshark.cjs` otherwise).
 * Outside the SEA the bundle finds its other files beside it too: the dashboard in `front/`
 * (src/front/assets.ts) and the sock_diag addon in `native/sockdiag.node`
 * (src/enrich/sockdiag.ts).
 */
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
export const version = pkg.version;

/** The checkout's short commit; KUBESHARK_COMMIT for builds without a git checkout. */
export function gitCommit() {
  if (process.env.KUBESHARK_COMMIT) return process.env.KUBESHARK_COMMIT;
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
  } catch {
    return 'unknown'; // not a git checkout (the Dockerfile's build stage)
  }
}

/**
 * Bundles the CLI into `dir` (`kubeshark.cjs` and `ui.mjs`). `commit` is what `kubeshark version`
 * reports (the sources say `dev`).
 */
export async function bundleCli(dir, { commit, minify = true }) {
  const cli = join(dir, 'kubeshark.cjs');
  const ui = join(dir, 'ui.mjs');
  const mainBuild = build({
    entryPoints: [join(root, 'bin/kubeshark.ts')],
    outfile: cli,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minify,
    keepNames: false,
    sourcemap: false,
    legalComments: 'none',
    define: {
      __KUBESHARK_VERSION__: JSON.stringify(version),
      __KUBESHARK_COMMIT__: JSON.stringify(commit),
      // src/cmd/ui-loader.ts: load the UI from this asset instead of the TypeScript sources.
      __KUBESHARK_UI_ASSET__: JSON.stringify('ui.mjs'),
      // ws: use the pure-JS paths; the optional native helpers are not bundled.
      'process.env.WS_NO_BUFFER_UTIL': '"1"',
      'process.env.WS_NO_UTF_8_VALIDATE': '"1"',
    },
    alias: {
      'supports-color': join(root, 'scripts/empty-module.cjs'),
      encoding: join(root, 'scripts/empty-module.cjs'),
    },
    // @datadog/sketches-js requires protobufjs lazily, only for its protobuf (de)serialisation,
    // which we do not use (sketches travel as JSON); leave that require unresolved.
    external: ['protobufjs/minimal'],
    logOverride: { 'empty-import-meta': 'silent' },
    logLevel: 'warning',
  });
  const uiBuild = build({
    entryPoints: [join(root, 'src/ui/index.ts')],
    outfile: ui,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify,
    sourcemap: false,
    legalComments: 'none',
    define: { 'process.env.NODE_ENV': '"production"' },
    // Bundled CommonJS dependencies (react, …) call require() for node builtins; an ESM module
    // loaded from a data: URL has none, so give it one (any absolute path resolves builtins).
    banner: {
      js: "import{createRequire as __ksCreateRequire}from'node:module';const require=__ksCreateRequire(process.execPath);",
    },
    alias: {
      // Ink imports it only when DEV=true (React devtools); not shipped.
      'react-devtools-core': join(root, 'scripts/empty-module.cjs'),
    },
    logLevel: 'warning',
  });
  await Promise.all([mainBuild, uiBuild]);
  return { cli, ui };
}
