/** `kubeshark dissect --stats`: API statistics over a capture instead of entries. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { execa } from 'execa';
import { cli } from './helpers/cli.ts';

const root = new URL('..', import.meta.url).pathname;
const demo = join(root, 'demo/shop.pcap');

interface Group {
  key: string;
  calls: number;
  errorRate: number;
}

test('--stats -o json groups the demo calls by endpoint with error rates', async () => {
  const r = await execa(process.execPath, [...cli, 'dissect', '-q', '--stats', '-o', 'json', demo]);
  const result = JSON.parse(r.stdout) as {
    groupBy: string;
    total: { calls: number };
    groups: Group[];
  };
  assert.equal(result.groupBy, 'endpoint');
  const entries = await execa(process.execPath, [...cli, 'dissect', '-q', '-o', 'jsonl', demo]);
  const l7 = entries.stdout.split('\n').filter((l) => /"(http|ws|dns)":true/.test(l)).length;
  assert.equal(result.total.calls, l7, 'every L7 entry is one call');
  const checkout = result.groups.find((g) => g.key.includes('/api/checkout'));
  assert.ok(checkout, JSON.stringify(result.groups.map((g) => g.key)));
  assert.equal(checkout.calls, 1);
  assert.equal(checkout.errorRate, 1, 'the 503 is a failure');
  const byId = result.groups.find((g) => g.key.includes('/api/products/:id'));
  assert.equal(byId?.calls, 2, 'ids in paths are grouped');
});

test('--stats prints a table on request and rejects unknown groupings', async () => {
  const t = await execa(process.execPath, [
    ...cli,
    'dissect',
    '-q',
    '--stats',
    'service',
    '-o',
    'table',
    demo,
  ]);
  assert.match(t.stdout, /\d+ calls, \d+ groups by service/);
  assert.match(t.stdout, /127\.0\.0\.1:80/);
  const bad = await execa(process.execPath, [...cli, 'dissect', '--stats', 'planet', demo], {
    reject: false,
  });
  assert.equal(bad.exitCode, 2);
});
