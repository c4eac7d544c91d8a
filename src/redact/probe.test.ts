/**
 * What a live probe of issue 12 found unredacted, sent again by real clients (testdata/probe.ts
 * made probe.pcap with curl and Node): multipart fields, cloud-provider token headers, JSON keys
 * such as privateKey / credentials / client_secret / refresh_token, secrets in text/plain bodies.
 * Every secret is in the capture; none survives redaction with the defaults.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultConfig } from '../config/load.ts';
import type { Entry } from '../entry/model.ts';
import { buildCatalogue } from '../tap/dissectors/registry.ts';
import { buildView } from '../tap/records.ts';
import { entriesFromCapture } from '../tap/run.ts';
import { redactionConfig } from './config.ts';
import { createRedactor } from './redact.ts';
import { haystack } from './testdata/corpus.ts';
import { PROBE_SECRETS } from './testdata/probe.ts';

const CAPTURE = new URL('./testdata/probe.pcap', import.meta.url).pathname;
const view = buildView(undefined, buildCatalogue());
const text = (entries: Entry[]): string =>
  haystack(entries.map((e) => `${JSON.stringify(e)}\n${view.json(e)}`).join('\n'));

test('the probe capture carries every secret', async () => {
  const raw = text(await entriesFromCapture(CAPTURE));
  for (const s of PROBE_SECRETS) assert.ok(raw.includes(s), s);
});

test('none survives the default redaction; each entry says what was redacted', async () => {
  const entries = await entriesFromCapture(CAPTURE);
  const redact = createRedactor(redactionConfig(defaultConfig()));
  for (const e of entries) redact(e);
  const out = text(entries);
  assert.deepEqual(
    PROBE_SECRETS.filter((s) => out.includes(s)),
    [],
  );
  assert.equal(out.match(/s3cr3t/gi), null);
  const marks = entries.flatMap((e) => e.redacted ?? []);
  for (const m of [
    'request.body.password',
    'request.body.token',
    'request.headers.x-amz-security-token',
    'request.headers.x-goog-iam-authorization-token',
    'request.body.privateKey',
    'request.body.app.clientSecret',
    'response.body.Credentials',
    'request.body',
    'response.body',
  ])
    assert.ok(marks.includes(m), m);
});
