/**
 * Golden tests: every capture under src/tap/dissectors/<proto>/testdata/<case>.pcap is replayed
 * through the whole pipeline (as `kubeshark dissect -o jsonl --l4`) and compared with
 * <case>.golden.jsonl. `UPDATE_GOLDEN=1 npm test -- golden` rewrites them; a capture without its
 * golden file fails (it is never written by a plain run).
 * A sidecar <case>.json may give `{"sets": ["tap.portMapping.dns=5399"]}`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dissectViews } from './helpers/dissect.ts';
import { dissectorTestCaptures } from './helpers/dissector-captures.ts';

function cases(): { proto: string; name: string; pcap: string }[] {
  return dissectorTestCaptures().map((c) => ({ proto: c.proto, name: c.name, pcap: c.file }));
}

for (const c of cases()) {
  test(`golden ${c.proto}/${c.name}`, async () => {
    const sidecar = c.pcap.replace(/\.pcap(ng)?$/, '.json');
    const sets = existsSync(sidecar)
      ? ((JSON.parse(readFileSync(sidecar, 'utf8')) as { sets?: string[] }).sets ?? [])
      : [];
    const r = await dissectViews([c.pcap], { l4All: true, sets });
    assert.equal(r.error, undefined, `dissect failed: ${String(r.error)}`);
    const actual = r.views.map((v) => JSON.stringify(v)).join('\n') + '\n';
    const goldenPath = c.pcap.replace(/\.pcap(ng)?$/, '.golden.jsonl');
    if (process.env.UPDATE_GOLDEN === '1') {
      writeFileSync(goldenPath, actual);
      return;
    }
    // A capture without its expected output is a failure everywhere: writing it here would
    // make whatever the code prints today the truth.
    if (!existsSync(goldenPath))
      assert.fail(
        `missing golden file ${goldenPath} (UPDATE_GOLDEN=1 writes it: review it by hand)`,
      );
    const expected = readFileSync(goldenPath, 'utf8');
    const exp = expected.split('\n');
    const act = actual.split('\n');
    for (let i = 0; i < Math.max(exp.length, act.length); i++) {
      if (exp[i] !== act[i]) {
        assert.fail(
          `${c.proto}/${c.name}: entry ${i + 1} differs (UPDATE_GOLDEN=1 rewrites)\n- ${exp[i]}\n+ ${act[i]}`,
        );
      }
    }
  });
}
