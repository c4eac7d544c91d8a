/**
 * A node:test reporter (scripts/run-tests.mjs adds it next to the usual one) for the wall time of
 * each test file's process:
 * - at the end of the run, the slowest files, so a slow file is seen the day it becomes slow
 *   (KS_TEST_TIMINGS=<n> shows n files, default 20; 0: none);
 * - kept in node_modules/.cache (TIMINGS_FILE) for the next run, which starts the slowest files
 *   first so that none of them is left running alone at the end.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
export const TIMINGS_FILE = join(root, 'node_modules/.cache/kubeshark/test-timings.json');

/** The last known wall time (ms) of each file, by path relative to the checkout. */
export function readTimings() {
  try {
    const t = JSON.parse(readFileSync(TIMINGS_FILE, 'utf8'));
    return t && typeof t === 'object' ? t : {};
  } catch {
    return {};
  }
}

export default async function* timings(source) {
  const t0 = Date.now();
  /** file → ms; node:test reports each file as a test named after its path. */
  const files = new Map();
  for await (const ev of source) {
    if (ev.type !== 'test:complete' && ev.type !== 'test:pass' && ev.type !== 'test:fail') continue;
    const { file, name, details } = ev.data;
    if (file === undefined || name !== file || details?.duration_ms === undefined) continue;
    files.set(relative(root, file), details.duration_ms);
  }
  if (files.size === 0) return;
  try {
    mkdirSync(dirname(TIMINGS_FILE), { recursive: true });
    const all = {
      ...readTimings(),
      ...Object.fromEntries([...files].map(([f, ms]) => [f, Math.round(ms)])),
    };
    // Whole or not at all: another run may read it now.
    const tmp = `${TIMINGS_FILE}.${process.pid}`;
    writeFileSync(tmp, JSON.stringify(all, null, 1) + '\n');
    renameSync(tmp, TIMINGS_FILE);
  } catch {
    // a read-only checkout: no ordering next time, nothing else lost
  }
  const n = Number(process.env.KS_TEST_TIMINGS ?? 20);
  if (!(n > 0)) return;
  const rows = [...files].sort((a, b) => b[1] - a[1]).slice(0, n);
  yield `# slowest test files (of ${files.size}; wall ${((Date.now() - t0) / 1000).toFixed(1)} s):\n`;
  for (const [file, ms] of rows) yield `# ${(ms / 1000).toFixed(1).padStart(6)} s  ${file}\n`;
}
