#!/usr/bin/env node
/**
 * Builds dist/kubeshark: one self-contained executable, offline.
 * esbuild bundles everything into one CommonJS file (scripts/bundle.mjs) → Node's single
 * executable application (SEA) blob with a code cache → injected with postject into a stripped
 * copy of this node binary.
 * (pkg and its forks download base binaries, which cannot work offline; SEA replaces them.)
 *
 * Two kinds of SEA assets ride along:
 * - `ui.mjs`: the terminal UI (src/ui) as its own ESM bundle. Ink 6 and yoga use top-level
 *   await, which a CommonJS bundle cannot hold; src/cmd/ui-loader.ts imports it on demand.
 * - `native/sockdiag.node`: the sock_diag addon (scripts/build-native.mjs), when it was built.
 * - `front/<path>` for every file of the dashboard build (dist/front, made by
 *   scripts/build-front.mjs when present) and `front/manifest.json`, the JSON list of those
 *   paths: the front server serves exactly these keys.
 */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  writeFileSync,
  chmodSync,
  statSync,
} from 'node:fs';
import { join, relative, sep } from 'node:path';
import { bundleCli, gitCommit, version } from './bundle.mjs';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');
const commit = gitCommit();

const t0 = Date.now();
mkdirSync(dist, { recursive: true });

// The native addon (optional: without a C compiler the resolver reads /proc).
run(process.execPath, [join(root, 'scripts/build-native.mjs')]);

// The dashboard first (its own script, vite), so its files can be embedded below.
const frontScript = join(root, 'scripts/build-front.mjs');
const frontDir = join(dist, 'front');
if (existsSync(frontScript)) {
  run(process.execPath, [frontScript]);
} else {
  console.error('note: scripts/build-front.mjs not found; the dashboard is not embedded');
}

// The CLI and its terminal UI (scripts/bundle.mjs: one esbuild configuration, shared with the
// tests' bundle).
const { cli: bundle, ui: uiBundle } = await bundleCli(dist, {
  commit,
  minify: process.env.KS_NO_MINIFY !== '1',
});

const assets = { 'ui.mjs': uiBundle };
// The sock_diag addon (src/enrich/sockdiag.ts loads it from this asset), when it could be built.
const nativeAddon = join(dist, 'native/sockdiag.node');
if (existsSync(nativeAddon)) assets['native/sockdiag.node'] = nativeAddon;
const frontFiles = existsSync(frontDir) ? listFiles(frontDir) : [];
for (const f of frontFiles) assets[`front/${f}`] = join(frontDir, f);
const manifest = join(dist, 'front-manifest.json');
writeFileSync(manifest, JSON.stringify(frontFiles));
assets['front/manifest.json'] = manifest;

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
    assets,
  }),
);
run(process.execPath, ['--experimental-sea-config', seaConfig]);

const exe = join(dist, 'kubeshark');
rmSync(exe, { force: true });
copyFileSync(process.execPath, exe);
chmodSync(exe, 0o755);
// macOS: the copy keeps node's signature, which injection invalidates; remove it first, put the
// blob in its own Mach-O segment and sign ad hoc afterwards (Node's SEA recipe). Not stripped
// there: only that recipe, as Node documents it, is known to give a binary macOS will run.
const darwin = process.platform === 'darwin';
if (darwin) {
  run('codesign', ['--remove-signature', exe]);
} else {
  // Strip the copy (~120 MB → ~90 MB); harmless when strip is missing.
  const s = spawnSync('strip', [exe], { stdio: 'ignore' });
  if (s.error) console.error('note: strip not found; the executable stays larger');
}
run(process.execPath, [
  join(root, 'node_modules/postject/dist/cli.js'),
  exe,
  'NODE_SEA_BLOB',
  blob,
  '--sentinel-fuse',
  'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2',
  ...(darwin ? ['--macho-segment-name', 'NODE_SEA'] : []),
]);
if (darwin) run('codesign', ['--sign', '-', exe]);
rmSync(blob);
rmSync(seaConfig);
rmSync(manifest);
const mb = (statSync(exe).size / 1e6).toFixed(1);
const kb = (p) => `${Math.round(statSync(p).size / 1024)} KiB`;
console.error(
  `built ${exe} (${mb} MB; cli ${kb(bundle)}, ui ${kb(uiBundle)}, dashboard ${frontFiles.length} files; version ${version} ${commit}) in ${((Date.now() - t0) / 1000).toFixed(1)}s`,
);

/** Files under `dir`, as `/`-separated paths relative to it, sorted. */
function listFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const ent of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, ent.name);
      if (ent.isDirectory()) walk(p);
      else if (ent.isFile()) out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) {
    console.error(`build failed: ${cmd} ${args.join(' ')}`);
    process.exit(1);
  }
}
