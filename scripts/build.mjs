#!/usr/bin/env node
/**
 * Builds dist/kubeshark: one self-contained executable, offline.
 * esbuild bundles everything into one CommonJS file → Node's single executable application
 * (SEA) blob with a code cache → injected with postject into a stripped copy of this node binary.
 * (pkg and its forks download base binaries, which cannot work offline; SEA replaces them.)
 */
import { build } from 'esbuild';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  chmodSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'ignore'],
  })
    .toString()
    .trim();
} catch {
  // not a git checkout
}

const t0 = Date.now();
mkdirSync(dist, { recursive: true });
const bundle = join(dist, 'kubeshark.cjs');
await build({
  entryPoints: [join(root, 'bin/kubeshark.ts')],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: process.env.KS_NO_MINIFY !== '1',
  keepNames: false,
  sourcemap: false,
  legalComments: 'none',
  define: {
    __KUBESHARK_VERSION__: JSON.stringify(pkg.version),
    __KUBESHARK_COMMIT__: JSON.stringify(commit),
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

// The SEA blob with V8's code cache (faster start).
const seaConfig = join(dist, 'sea-config.json');
const blob = join(dist, 'sea-prep.blob');
writeFileSync(
  seaConfig,
  JSON.stringify({
    main: bundle,
    output: blob,
    disableExperimentalSEAWarning: true,
    useCodeCache: true,
    useSnapshot: false,
  }),
);
run(process.execPath, ['--experimental-sea-config', seaConfig]);

const exe = join(dist, 'kubeshark');
rmSync(exe, { force: true });
copyFileSync(process.execPath, exe);
chmodSync(exe, 0o755);
// Strip the copy (~120 MB → ~90 MB); harmless when strip is missing.
const s = spawnSync('strip', [exe], { stdio: 'ignore' });
if (s.error) console.error('note: strip not found; the executable stays larger');
run(process.execPath, [
  join(root, 'node_modules/postject/dist/cli.js'),
  exe,
  'NODE_SEA_BLOB',
  blob,
  '--sentinel-fuse',
  'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2',
]);
rmSync(blob);
rmSync(seaConfig);
const mb = (statSync(exe).size / 1e6).toFixed(1);
console.error(
  `built ${exe} (${mb} MB, version ${pkg.version} ${commit}) in ${((Date.now() - t0) / 1000).toFixed(1)}s`,
);

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) {
    console.error(`build failed: ${cmd} ${args.join(' ')}`);
    process.exit(1);
  }
}
