/**
 * The project's shared folder beside the checkout (`<repo>/../shared`): the public corpus
 * captures with tshark's counts (corpus/) and the contracts the code follows (KFL.md, MCP.md).
 *
 * One policy for every test that reads it: the test declares it with `needsShared()` in its
 * options (`test(name, needsShared(), fn)`, or `needsSharedFor(files)` when only some of a
 * table's files are in it); a file that reads it while declaring its tests (a table of tshark's
 * counts) asks `sharedPresent()` first. When the folder is absent the test is skipped with
 * SHARED_REASON on a developer's machine; under CI (`CI` set) the declaration throws instead, so
 * the test file fails rather than passing with less.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { TestOptions } from 'node:test';
import { fileURLToPath } from 'node:url';

/** The checkout's root. */
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
/** `<repo>/../shared`. */
export const sharedDir = join(repoRoot, '../shared');
export const SHARED_REASON =
  'needs ../shared beside the checkout (corpus captures and contracts): CI always has it';

/** A path inside the shared folder, e.g. `shared('KFL.md')`. */
export function shared(...parts: string[]): string {
  return join(sharedDir, ...parts);
}

/** A path inside the shared folder's corpus, e.g. `corpus('http/zeek-pipelined-requests.pcap')`. */
export function corpus(...parts: string[]): string {
  return join(sharedDir, 'corpus', ...parts);
}

/** Whether `path` lies inside the shared folder. */
function inShared(path: string): boolean {
  return !relative(sharedDir, path).startsWith('..');
}

/**
 * Whether the shared folder is there, for data read while tests are declared (the tests that use
 * it declare `needsShared()` as well). Absent under CI: throws.
 */
export function sharedPresent(): boolean {
  if (existsSync(sharedDir)) return true;
  if (process.env.CI) throw new Error(`${sharedDir} not found: ${SHARED_REASON}`);
  return false;
}

/**
 * Options for a test or suite that reads the shared folder (other options merged in): it runs
 * when the folder is there; otherwise it is skipped with SHARED_REASON (an option's own skip
 * reason wins), except under CI, where this throws.
 */
export function needsShared(options: TestOptions = {}): TestOptions {
  return sharedPresent() ? options : { ...options, skip: options.skip || SHARED_REASON };
}

/** `needsShared(options)` when any of `files` is inside the shared folder, else `options`. */
export function needsSharedFor(
  files: string | readonly string[],
  options: TestOptions = {},
): TestOptions {
  const list = typeof files === 'string' ? [files] : files;
  return list.some(inShared) ? needsShared(options) : options;
}
