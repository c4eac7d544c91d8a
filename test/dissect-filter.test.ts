/** `kubeshark dissect --filter`: KFL through the CLI (engine tests live in src/query). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { execa } from 'execa';
import { cli } from './helpers/cli.ts';

const root = new URL('..', import.meta.url).pathname;
const demo = join(root, 'demo/shop.pcap');
const ks = (args: string[]) => execa(process.execPath, [...cli, ...args], { reject: false });
const lines = (s: string) => s.split('\n').filter(Boolean);

test('a filter keeps only matching entries and says how many matched', async () => {
  const r = await ks(['dissect', '-o', 'jsonl', '-f', 'http && status_code >= 400', demo]);
  assert.equal(r.exitCode, 0, r.stderr);
  const got = lines(r.stdout).map((l) => JSON.parse(l) as { path: string; status_code: number });
  assert.deepEqual(
    got.map((v) => `${v.path} ${v.status_code}`),
    ['/api/products/999 404', '/api/checkout 503'],
  );
  assert.match(r.stderr, /filter: http && status_code >= 400 {2}matched 2 of 20 entries/);
});

test('a bad filter fails with its position before any file is read', async () => {
  const r = await ks(['dissect', '-f', 'respnse.status == 200', '/nonexistent.pcap']);
  assert.equal(r.exitCode, 2);
  assert.equal(r.stdout, '');
  assert.match(
    r.stderr,
    /unknown field `respnse\.status` at 1:1; did you mean `status_code`\? \[KS_ERR_KFL_UNKNOWN_FIELD\]/,
  );
  assert.match(r.stderr, /\n {2}respnse\.status == 200\n {2}\^~+/);
  assert.doesNotMatch(r.stderr, /not found/, 'the file was never looked at');
  const t = await ks(['dissect', '-f', 'status_code == "200"', demo]);
  assert.equal(t.exitCode, 2);
  assert.match(t.stderr, /KS_ERR_KFL_TYPE/);
});

test('older KFL is translated and the translation is shown', async () => {
  const r = await ks(['dissect', '-o', 'jsonl', '-f', 'http and response.status >= 500', demo]);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(lines(r.stdout).length, 1);
  assert.match(
    r.stderr,
    /older syntax translated: http and response\.status >= 500 {2}→ {2}http && status_code >= 500/,
  );
});

test('macros from tap.customMacros expand in filters', async () => {
  const r = await ks([
    '--set',
    'tap.customMacros.failed=http && status_code >= 500',
    'dissect',
    '-o',
    'jsonl',
    '-f',
    'failed || (dns && status_code == 3)',
    demo,
  ]);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(lines(r.stdout).length, 2);
});

test('filters and --workers: the children filter the same way', async () => {
  const one = await ks(['dissect', '-q', '-o', 'jsonl', '-f', 'dns || ws', demo]);
  const two = await ks(['dissect', '-q', '-o', 'jsonl', '--workers', '2', '-f', 'dns || ws', demo]);
  assert.equal(lines(two.stdout).length, lines(one.stdout).length);
  assert.equal(lines(one.stdout).length, 11);
});
