/**
 * Capture files through `kubeshark tap --pcap`:
 *  - with a slow consumer of `-o jsonl`: replayed input waits for its reader, so every entry is
 *    printed (a live capture may drop, counted; a file never). A synthetic capture of 100,000
 *    calls (test/helpers/synth-capture.ts) is replayed into a pipe that is not read for the first
 *    seconds and then read in stalls;
 *  - a pcap whose format version is unknown is an input error (one clear line, exit 3), as for
 *    `dissect`, not read on a guess.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, cliCommand } from './helpers/cli.ts';
import { writeHttpVolume } from './helpers/synth-capture.ts';
import { demo, root, startTap } from './helpers/tap-process.ts';

const CALLS = 100_000;

test(
  'tap --pcap of 100,000 calls into a slow pipe prints every entry',
  { timeout: 300_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ks-tap-replay-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const capture = join(dir, 'volume.pcap');
    assert.equal(writeHttpVolume(capture, CALLS), CALLS);
    const child = spawn(
      process.execPath,
      [...cli, 'tap', '--pcap', capture, '--port', '0', '--no-browser', '-o', 'jsonl'],
      {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', HOME: dir, TMPDIR: dir, KUBESHARK_NO_BROWSER: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    t.after(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // The reader: nothing for 3 s, then 200 ms of reading every 500 ms until the replay is done.
    let lines = 0;
    const ids = new Set<number>();
    let partial = '';
    const out = child.stdout.setEncoding('utf8');
    out.on('data', (d: string) => {
      const parts = (partial + d).split('\n');
      partial = parts.pop()!;
      for (const l of parts) {
        lines++;
        ids.add((JSON.parse(l) as { id: number }).id);
      }
    });
    out.pause();
    await new Promise((r) => setTimeout(r, 3000));
    const stalls = setInterval(() => {
      out.resume();
      setTimeout(() => out.pause(), 200);
    }, 500);
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const deadline = Date.now() + 240_000;
    while (!/replayed/.test(stderr) && child.exitCode === null && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    clearInterval(stalls);
    out.resume();
    assert.match(stderr, new RegExp(`replayed .*: ${CALLS} entries`), stderr);
    while (lines < CALLS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGINT');
    assert.equal(await exited, 0, stderr);
    assert.equal(lines, CALLS, `printed ${lines} of ${CALLS}`);
    assert.equal(ids.size, CALLS, 'each entry once');
    assert.doesNotMatch(stderr, /not printed|too slow/);
  },
);

test('a pcap with an unknown format version: one clear error, exit 3 (dissect and tap)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ks-pcap-version-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bytes = readFileSync(demo);
  bytes.writeUInt16LE(3, 4); // demo/shop.pcap is little-endian 2.4: now 3.4
  const file = join(dir, 'v3.pcap');
  writeFileSync(file, bytes);
  const [exe, ...args] = cliCommand('dissect', '-o', 'jsonl', file);
  const d = spawn(exe, args, { cwd: root, env: { PATH: process.env.PATH ?? '', HOME: dir } });
  let out = '';
  let err = '';
  d.stdout.setEncoding('utf8').on('data', (x: string) => (out += x));
  d.stderr.setEncoding('utf8').on('data', (x: string) => (err += x));
  const code = await new Promise<number | null>((r) => d.on('exit', (c) => r(c)));
  assert.equal(code, 3, err);
  assert.equal(out, '', 'nothing read');
  assert.match(
    err,
    /^kubeshark: .*v3\.pcap: unsupported pcap format version 3\.4, not one this reader knows \(2\.0 to 2\.4\) \[KS_ERR_CAPTURE_FORMAT\]$/m,
  );

  const tap = startTap(['tap', '--pcap', file, '--port', '0', '--no-browser', '-o', 'jsonl']);
  t.after(() => tap.kill());
  await tap.url;
  const until = Date.now() + 20_000;
  while (!/unsupported pcap format version/.test(tap.stderr()) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(tap.stderr(), /v3\.pcap: unsupported pcap format version 3\.4/);
  tap.child.kill('SIGINT');
  assert.equal((await tap.exit).code, 3, tap.stderr());
  assert.equal(tap.stdout(), '');
});
