#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with node's built-in test runner (tsx loads TS).
// Usage: npm test [-- <substring filter on file path>...]
//
// Tests that run the CLI as a process (test/helpers/cli.ts) run a bundle of the current sources,
// made here once per run into a temporary directory (node_modules/.cache/kubeshark/test-cli-*)
// and named in KS_TEST_CLI: starting the bundle takes ~0.3 s where tsx takes ~2.7 s to compile
// the sources, and some files start the CLI dozens of times. Beside it, as beside dist/kubeshark.cjs: a fresh dashboard build (front/)
// and sock_diag addon (native/). Nothing prebuilt is reused, so nothing stale is ever run.
// At the end, the slowest files (scripts/test-timings.mjs; KS_TEST_TIMINGS=<n> files, 0: none);
// the next run starts them first.
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { readTimings } from './test-timings.mjs';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.test\.tsx?$/.test(name)) out.push(relative(root, p));
  }
  return out;
}

// The slowest first (their last wall time, scripts/test-timings.mjs): the short ones then fill
// the gaps instead of a long one running alone at the end. Never timed yet: the end-to-end files
// of test/ before the unit tests beside the sources.
const last = readTimings();
const guess = (f) => last[f] ?? (f.startsWith('test/') ? 30_000 : 1_000);
const files = ['src', 'test']
  .flatMap((d) => walk(join(root, d), []))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort()
  .sort((a, b) => guess(b) - guess(a));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

/**
 * Whether a test file runs the CLI: it imports test/helpers/cli.ts, or a helper that does. (A
 * file missed here still passes: without KS_TEST_CLI the helper runs the sources with tsx.)
 */
const helpers = join(root, 'test/helpers');
const cliHelpers = readdirSync(helpers)
  .filter(
    (f) => f === 'cli.ts' || /from '\.\/cli\.ts'/.test(readFileSync(join(helpers, f), 'utf8')),
  )
  .map((f) => f.replace(/\.ts$/, ''));
const importsCli = new RegExp(`helpers/(${cliHelpers.join('|')})\\.ts'`);
const needsCli = files.some((f) => importsCli.test(readFileSync(join(root, f), 'utf8')));

const env = { ...process.env };
delete env.KS_TEST_CLI;
let bundleDir;
if (needsCli) {
  const t0 = Date.now();
  // In the checkout, not under /tmp: the simulated kubelet maps a pod's /tmp volume onto a
  // directory of its own, so a pod running this CLI (test/kube-cluster-cli.test.ts) would not
  // find it there. Left over by a run that was killed: removed a day later.
  const cache = join(root, 'node_modules/.cache/kubeshark');
  mkdirSync(cache, { recursive: true });
  for (const d of readdirSync(cache)) {
    const p = join(cache, d);
    try {
      if (d.startsWith('test-cli-') && Date.now() - statSync(p).mtimeMs > 86_400_000)
        rmSync(p, { recursive: true, force: true });
    } catch {
      // another run removed it first
    }
  }
  bundleDir = mkdtempSync(join(cache, 'test-cli-'));
  // Readable by everyone: a test runs the CLI as `nobody` (tap.test.ts, capture privileges).
  chmodSync(bundleDir, 0o755);
  const cleanup = () => rmSync(bundleDir, { recursive: true, force: true });
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      cleanup();
      process.exit(130);
    });
  }
  const step = (script, args) =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [join(root, script), ...args], {
        cwd: root,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      child.on('error', reject);
      child.on('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`${script} failed (exit ${code})`)),
      );
    });
  const { bundleCli } = await import('./bundle.mjs');
  try {
    const [{ cli }] = await Promise.all([
      // Not minified: a stack trace from a failing test stays readable. `dev`, as the sources.
      bundleCli(bundleDir, { commit: 'dev', minify: false }),
      step('scripts/build-front.mjs', ['--out-dir', join(bundleDir, 'front')]),
      step('scripts/build-native.mjs', ['--out', join(bundleDir, 'native/sockdiag.node')]),
    ]);
    env.KS_TEST_CLI = cli;
    console.error(
      `# CLI bundled for the tests in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${bundleDir}`,
    );
  } catch (e) {
    // The sources do not build (errors above): the tests run them with tsx, and those that
    // start the CLI fail as a user would see it fail, while the others still run.
    console.error(
      `# the CLI could not be bundled (${e.message.split('\n')[0]}): tests run it with tsx`,
    );
    delete env.KS_TEST_CLI;
  }
}

// Test files run at the same time (KS_TEST_CONCURRENCY to change it).
const concurrency = Number(process.env.KS_TEST_CONCURRENCY) || 2;
// The usual reporter (spec on a terminal, TAP otherwise: node's default) and the timings.
const reporter = process.stdout.isTTY ? 'spec' : 'tap';
const r = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    `--test-reporter=${reporter}`,
    '--test-reporter-destination=stdout',
    `--test-reporter=${join(root, 'scripts/test-timings.mjs')}`,
    '--test-reporter-destination=stderr',
    ...files,
  ],
  { stdio: 'inherit', cwd: root, env },
);
process.exit(r.status ?? 1);
