/**
 * `download_file`'s destination on disk (files.ts), against a real HTTP server on port 0: a
 * symlink planted where a download lands is refused and what it points to left untouched; the
 * download directory must be this user's own (owner, mode), the default one per user and 0700.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { KsError } from '../util/errors.ts';
import { checkDownloadDir, defaultDownloadDir, download, downloadTarget } from './files.ts';

const root0 = process.getuid?.() === 0;
let server: Server;
let base: string;
const work = mkdtempSync(join(tmpdir(), 'ks-mcp-files-'));

before(async () => {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"downloaded":true}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.close();
  rmSync(work, { recursive: true, force: true });
});

/** A fresh private download directory. */
function privateDir(): string {
  const d = mkdtempSync(join(work, 'dl-'));
  chmodSync(d, 0o700);
  return d;
}

const usage = (re: RegExp) => (e: unknown) => e instanceof KsError && re.test(e.message);

test('a symlink planted as the file name is refused; its target is untouched', async () => {
  const dir = privateDir();
  const victim = join(work, 'victim.txt');
  writeFileSync(victim, 'precious');
  symlinkSync(victim, join(dir, 'x.json'));
  assert.throws(() => downloadTarget(dir, '/api/x', 'x.json'), usage(/symbolic link/));
  // Planted after the checks (the race): the no-follow open refuses it.
  const target = downloadTarget(dir, '/api/x', 'y.json');
  symlinkSync(victim, target);
  await assert.rejects(download(`${base}/api/x`, target, 1024), usage(/symbolic link/));
  assert.equal(readFileSync(victim, 'utf8'), 'precious');
  assert.ok(lstatSync(target).isSymbolicLink(), 'the symlink itself is left as it was');
  // A dangling symlink (would create a file elsewhere) likewise.
  const elsewhere = join(work, 'created-elsewhere');
  symlinkSync(elsewhere, join(dir, 'z.json'));
  const z = join(dir, 'z.json');
  await assert.rejects(download(`${base}/api/x`, z, 1024), usage(/symbolic link/));
  assert.ok(!existsSync(elsewhere));
});

test('a regular file is written 0600 and an earlier download of that name replaced', async () => {
  const dir = privateDir();
  const target = downloadTarget(dir, '/api/x', 'a.json');
  const d = await download(`${base}/api/x`, target, 1024);
  assert.equal(d.bytes, 19);
  assert.equal(statSync(target).mode & 0o777, 0o600);
  writeFileSync(target, 'old');
  await download(`${base}/api/x`, downloadTarget(dir, '/api/x', 'a.json'), 1024);
  assert.equal(readFileSync(target, 'utf8'), '{"downloaded":true}');
});

test('the directory: writable by others, or (default) readable by others, is refused', () => {
  const dir = privateDir();
  chmodSync(dir, 0o777);
  assert.throws(() => downloadTarget(dir, '/api/x'), usage(/mode 0777 .*others may write/));
  chmodSync(dir, 0o755);
  assert.doesNotThrow(() => downloadTarget(dir, '/api/x'), 'a directory given: 0755 is fine');
  assert.throws(() => downloadTarget(dir, '/api/x', undefined, true), usage(/must be 0700/));
  const link = join(work, 'link-to-dir');
  symlinkSync(privateDir(), link);
  assert.throws(() => checkDownloadDir(link, true), usage(/is a symbolic link/));
});

test(
  'the directory: owned by someone else is refused',
  { skip: root0 ? false : 'needs root (chown)' },
  () => {
    const dir = privateDir();
    chownSync(dir, 4242, 4242);
    assert.throws(() => downloadTarget(dir, '/api/x'), usage(/owned by uid 4242/));
    assert.throws(() => checkDownloadDir(dir, true), usage(/owned by uid 4242/));
  },
);

test('the default directory: kubeshark-<uid> under the temp directory, created 0700', () => {
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = mkdtempSync(join(work, 'tmp-'));
  try {
    const dir = defaultDownloadDir();
    assert.equal(dir, join(process.env.TMPDIR, `kubeshark-${process.getuid?.() ?? ''}`));
    const target = downloadTarget(dir, '/api/health', undefined, true);
    assert.equal(target, join(dir, 'health'));
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    // Someone made it first, open to all: refused, nothing written.
    rmSync(dir, { recursive: true });
    mkdirSync(dir, { mode: 0o777 });
    chmodSync(dir, 0o777);
    assert.throws(() => downloadTarget(dir, '/api/health', undefined, true), usage(/mode 0777/));
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
});
