/**
 * The secrets corpus (testdata/corpus.ts: one conversation per secret shape, written to a capture
 * here) through the pipeline and the redactor: no 8-character piece of any secret survives in an
 * entry, its JSON view or its stored form, and the look-alikes that are not secrets do. End to
 * end (worker, API, store files, `tap` stdout): test/tap-redaction.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { defaultConfig } from '../config/load.ts';
import type { Entry } from '../entry/model.ts';
import { ByteReader, ByteWriter } from '../store/bytes.ts';
import { decodeFull, encodeRow } from '../store/codec.ts';
import { Dict } from '../store/dict.ts';
import { buildCatalogue } from '../tap/dissectors/registry.ts';
import { buildView } from '../tap/records.ts';
import { entriesFromCapture } from '../tap/run.ts';
import { redactionConfig } from './config.ts';
import { createRedactor, REDACTED, type RedactionConfig } from './redact.ts';
import { SECRET_CASES, corpusLeaks, haystack, writeCorpusCapture } from './testdata/corpus.ts';

const dir = mkdtempSync(join(tmpdir(), 'ks-corpus-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const capture = join(dir, 'corpus.pcap');
writeCorpusCapture(capture);
const view = buildView(undefined, buildCatalogue());
const defaults = redactionConfig(defaultConfig());

async function redacted(cfg: RedactionConfig): Promise<Entry[]> {
  const entries = await entriesFromCapture(capture);
  const redact = createRedactor(cfg);
  for (const e of entries) redact(e);
  return entries;
}

function storedJson(e: Entry): string {
  const w = new ByteWriter(64);
  const heavy: unknown[] = [];
  const dict = new Dict();
  encodeRow(e, w, dict, heavy);
  const back = decodeFull(
    new ByteReader(Buffer.from(w.buf.subarray(0, w.pos))),
    dict,
    e.id,
    e.timestamp,
    JSON.parse(JSON.stringify(heavy)) as unknown[],
  );
  return JSON.stringify(back);
}

const all = (entries: Entry[]): string =>
  haystack(entries.map((e) => `${JSON.stringify(e)}\n${view.json(e)}`).join('\n'));

test('the corpus: at least 50 secret shapes, every one of them in the capture', async () => {
  const withSecrets = SECRET_CASES.filter((c) => c.secrets.length > 0);
  assert.ok(withSecrets.length >= 50, `${withSecrets.length} shapes`);
  assert.equal(new Set(SECRET_CASES.map((c) => c.name)).size, SECRET_CASES.length, 'names unique');
  const raw = corpusLeaks(all(await entriesFromCapture(capture)));
  assert.deepEqual(
    withSecrets.map((c) => c.name).filter((n) => !raw.leaked.includes(n)),
    [],
    'cases whose secret the pipeline does not keep (the test would prove nothing)',
  );
  assert.deepEqual(raw.lost, []);
});

test('defaults: zero leaks in entries, JSON views and stored forms; look-alikes kept', async () => {
  const entries = await redacted(defaults);
  const r = corpusLeaks(all(entries));
  assert.deepEqual(r.leaked, [], 'leaked');
  assert.deepEqual(r.lost, [], 'not secrets, yet redacted');
  const stored = corpusLeaks(haystack(entries.map(storedJson).join('\n')));
  assert.deepEqual(stored.leaked, []);
  for (const e of entries) {
    assert.equal(storedJson(e), JSON.stringify(e), `entry ${e.id} round-trips through the store`);
    assert.equal(view.json(e), JSON.stringify(view.build(e)));
  }
});

test('every secret is marked where it was; JSON bodies stay JSON', async () => {
  const raw = await entriesFromCapture(capture);
  const entries = await redacted(defaults);
  const marked = entries.filter((e) => e.redacted !== undefined);
  assert.ok(marked.length >= 80, `${marked.length} entries marked`);
  for (const [i, e] of entries.entries()) {
    const before = raw[i]!.record as { request?: { body?: { text?: string } } };
    const after = e.record as typeof before;
    const t = before.request?.body?.text;
    let json = false;
    try {
      JSON.parse(t ?? '');
      json = true;
    } catch {
      // not JSON before: nothing to keep
    }
    if (json) JSON.parse(after.request!.body!.text!);
  }
  const text = JSON.stringify(entries);
  assert.ok(text.includes(`postgres://app:${REDACTED}@db.internal`), 'only the password of a URL');
  assert.ok(text.includes(`Bearer ${REDACTED}`) || text.includes(`Authorization: ${REDACTED}`));
});

test('before: the exact lists alone leak most of the corpus (what names and shapes add)', async () => {
  const lists: RedactionConfig = {
    enabled: true,
    headers: defaults.headers,
    bodyFields: defaults.bodyFields,
  };
  const r = corpusLeaks(all(await redacted(lists)));
  assert.ok(r.leaked.length >= 50, `${r.leaked.length} leaked`);
  const namesOnly = corpusLeaks(all(await redacted({ ...defaults, patterns: false })));
  const shapesOnly = corpusLeaks(all(await redacted({ ...defaults, names: [] })));
  assert.ok(namesOnly.leaked.length > 0 && shapesOnly.leaked.length > 0, 'both are needed');
});

test('idempotent: a second pass changes nothing and marks nothing new', async () => {
  const entries = await redacted(defaults);
  const once = entries.map((e) => JSON.stringify(e));
  const redact = createRedactor(defaults);
  for (const e of entries) redact(e);
  assert.deepEqual(
    entries.map((e) => JSON.stringify(e)),
    once,
  );
});
