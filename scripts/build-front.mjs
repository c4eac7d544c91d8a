#!/usr/bin/env node
/**
 * Builds the dashboard (src/front/app) with Vite into dist/front: index.html + hashed assets.
 * Offline: Vite and its plugins run locally, nothing is downloaded.
 * Usage: node scripts/build-front.mjs [--out-dir DIR]   (the default is dist/front)
 */
import { build } from 'vite';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const configFile = join(root, 'src/front/app/vite.config.ts');

const args = process.argv.slice(2);
let outDir;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--out-dir' && args[i + 1] !== undefined) outDir = resolve(args[++i]);
  else {
    console.error(`build-front: unknown argument ${args[i]}`);
    process.exit(2);
  }
}

const t0 = Date.now();
await build({
  configFile,
  mode: 'production',
  ...(outDir !== undefined ? { build: { outDir, emptyOutDir: true } } : {}),
});
const dir = outDir ?? join(root, 'dist/front');

/** Total size of the built files (what the binary embeds). */
function size(d) {
  let n = 0;
  for (const f of readdirSync(d)) {
    const p = join(d, f);
    const s = statSync(p);
    n += s.isDirectory() ? size(p) : s.size;
  }
  return n;
}
console.log(
  `dashboard: ${dir} (${(size(dir) / 1024).toFixed(1)} KiB) in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
);
