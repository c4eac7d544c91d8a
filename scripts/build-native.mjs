#!/usr/bin/env node
/**
 * Builds dist/native/sockdiag.node (src/native/sockdiag.c, a Node-API addon) with the system's C
 * compiler against the headers of the node that runs this script. Optional: without a compiler
 * or headers it says so and builds nothing, and the local resolver reads /proc instead.
 * Usage: node scripts/build-native.mjs [--out FILE]   (the default is dist/native/sockdiag.node)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
let out = join(root, 'dist/native/sockdiag.node');
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--out' && args[i + 1] !== undefined) out = resolve(args[++i]);
  else {
    console.error(`build-native: unknown argument ${args[i]}`);
    process.exit(2);
  }
}
const shown = relative(root, out);
const source = join(root, 'src/native/sockdiag.c');
const include = [
  join(dirname(process.execPath), '../include/node'),
  '/usr/include/node',
  '/usr/local/include/node',
].find((d) => existsSync(join(d, 'node_api.h')));
const cc = process.env.CC || 'cc';
rmSync(out, { force: true });
if (process.platform !== 'linux') {
  console.error(`note: sock_diag is Linux only; ${shown} not built`);
  process.exit(0);
}
if (!include) {
  console.error(`note: node_api.h not found; ${shown} not built (/proc is used)`);
  process.exit(0);
}
mkdirSync(dirname(out), { recursive: true });
const r = spawnSync(
  cc,
  ['-O2', '-fPIC', '-shared', '-Wall', '-Wextra', `-I${include}`, '-o', out, source],
  { stdio: 'inherit' },
);
if (r.error || r.status !== 0) {
  rmSync(out, { force: true });
  console.error(
    `note: ${cc} could not build ${shown} (${r.error?.message ?? `exit ${r.status}`}); /proc is used`,
  );
}
