/**
 * `dissect --workers n`: the connections of a file are split between n child processes by a
 * symmetric flow hash. Together they must print exactly the entries of a single-process run
 * (ids and flow numbers aside, which are numbered per shard), as valid jsonl, with one summary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { execa } from 'execa';
import { corpus, needsSharedFor } from './helpers/shared.ts';
import { cli } from './helpers/cli.ts';

const root = new URL('..', import.meta.url).pathname;
const captures = [
  join(root, 'demo/shop.pcap'),
  join(root, 'src/tap/dissectors/dns/testdata/udp.pcap'),
  corpus('mixed/pcapplusplus-example-mixed.pcap'),
];

/** Entry views without the per-shard numbering, in a canonical order. */
function canonical(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const v = JSON.parse(l) as Record<string, unknown>;
      for (const k of ['id', 'flow_id', 'conn_id', 'stream', 'conn_group_id', 'flow_group_id'])
        delete v[k];
      return JSON.stringify(v);
    })
    .sort();
}

for (const file of captures) {
  const name = `--workers 3 prints the same entries as one process: ${file.split('/').pop()}`;
  test(name, needsSharedFor(file), async () => {
    const one = await execa(process.execPath, [...cli, 'dissect', '--l4', '-o', 'jsonl', file], {
      reject: false,
    });
    assert.equal(one.exitCode, 0, one.stderr);
    const three = await execa(process.execPath, [
      ...cli,
      'dissect',
      '--l4',
      '--workers',
      '3',
      '-o',
      'jsonl',
      file,
    ]);
    assert.deepEqual(canonical(three.stdout), canonical(one.stdout));
    const ids = three.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { id: number }).id);
    assert.equal(new Set(ids).size, ids.length, 'entry ids are unique across shards');
    // One merged summary with the same totals.
    const totals = (s: string) => /entries: \d+.*/.exec(s)?.[0];
    assert.equal(totals(three.stderr), totals(one.stderr));
    assert.match(three.stderr, new RegExp(`packets: ${/packets: (\d+)/.exec(one.stderr)![1]}\\b`));
  });
}

test('--workers needs -o jsonl', async () => {
  const r = await execa(
    process.execPath,
    [...cli, 'dissect', '--workers', '2', '-o', 'json', captures[0]!],
    { reject: false },
  );
  assert.equal(r.exitCode, 2);
  assert.match(r.stderr, /--workers needs -o jsonl/);
});
