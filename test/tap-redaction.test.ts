/**
 * The secrets corpus (src/redact/testdata/corpus.ts) end to end, as a user runs it: `kubeshark
 * tap --pcap` of the corpus capture with `--store DIR`. Nothing of any secret may reach stdout
 * (jsonl), the API (`/api/entries?view=full` and each entry by id) or the store's files on disk
 * (their bytes, searched as text, base64 values decoded).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EntriesResponse } from '../src/api/types.ts';
import {
  SECRET_CASES,
  corpusLeaks,
  haystack,
  writeCorpusCapture,
} from '../src/redact/testdata/corpus.ts';
import { startTap } from './helpers/tap-process.ts';

/** Every file under `dir`, as latin1 text (byte for byte). */
function filesText(dir: string): string {
  const parts: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) parts.push(filesText(p));
    else parts.push(readFileSync(p).toString('latin1'));
  }
  return parts.join('\n');
}

test('tap --pcap of the secrets corpus: zero leaks on stdout, through the API, in the store files', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ks-tap-redact-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const capture = join(dir, 'corpus.pcap');
  writeCorpusCapture(capture);
  const store = join(dir, 'store');
  const tap = startTap([
    'tap',
    '--pcap',
    capture,
    '--port',
    '0',
    '--no-browser',
    '-o',
    'jsonl',
    '--store',
    store,
  ]);
  t.after(() => tap.kill());
  const url = await tap.url;
  const until = Date.now() + 30_000;
  while (!/replayed/.test(tap.stderr()) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(tap.stderr(), /replayed/);
  const res = await fetch(`${url}/api/entries?limit=1000&view=full`);
  assert.equal(res.status, 200);
  const apiText = await res.text();
  const api = JSON.parse(apiText) as EntriesResponse;
  assert.ok(api.entries.length >= SECRET_CASES.length, `${api.entries.length} entries`);
  const one = await Promise.all(
    api.entries.map(async (e) => (await fetch(`${url}/api/entries/${e.id}`)).text()),
  );
  const lines = await tap.waitLines(api.entries.length);
  assert.equal(lines.length, api.entries.length, 'every entry printed');
  tap.child.kill('SIGINT');
  assert.equal((await tap.exit).code, 0, tap.stderr());

  const outputs = {
    stdout: haystack(tap.stdout()),
    'the API (list)': haystack(apiText),
    'the API (by id)': haystack(one.join('\n')),
    'the store files': haystack(filesText(store)),
  };
  for (const [where, text] of Object.entries(outputs)) {
    const r = corpusLeaks(text);
    assert.deepEqual(r.leaked, [], `leaked in ${where}`);
  }
  // The look-alikes survive (stdout and API: the store keeps bodies in its own form).
  assert.deepEqual(corpusLeaks(outputs.stdout).lost, []);
  assert.deepEqual(corpusLeaks(outputs['the API (list)']).lost, []);
  assert.ok(/\[REDACTED\]/.test(outputs.stdout) && /"redacted"/.test(apiText));
});
