/**
 * The tap runner in table mode, in-process, on a pretend terminal: the live table gets the
 * demo's calls through the hub's /api/stream (ApiClient), `/` applies a filter checked by
 * /api/kfl (a bad one shows its position), `q` ends the run cleanly.
 */
// Ink draws only the last frame when it thinks it runs in CI; this test reads the live frames.
process.env.CI = '0';
delete process.env.CONTINUOUS_INTEGRATION;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import { defaultConfig } from '../src/config/load.ts';
import { runTapLocal } from '../src/cmd/tap-runner.ts';
import { loadUi } from '../src/cmd/ui-loader.ts';
import { FakeTerminal, fakeKeyboard } from './helpers/fake-terminal.ts';

const root = new URL('..', import.meta.url).pathname;
const demo = join(root, 'demo/shop.pcap');

async function waitFor(what: string, test: () => boolean, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!test()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('tap runner draws the live table, applies a filter from `/`, quits on q', async () => {
  const term = new FakeTerminal();
  const keys = fakeKeyboard();
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const run = runTapLocal({
    files: [demo],
    filter: '',
    host: '127.0.0.1',
    port: 0,
    output: 'table',
    quiet: false,
    config: defaultConfig(),
    stdout: new PassThrough(),
    stderr,
    until: new Promise(() => {}),
    loadUi,
    tty: { stdin: keys, stdout: term as unknown as NodeJS.WriteStream },
  });
  let failed: unknown;
  run.catch((e: unknown) => (failed = e));

  await waitFor('the replay note', () => /replayed .*shop\.pcap: 20 entries/.test(term.plain()));
  const frame = term.plain();
  assert.match(err, /dashboard at http:\/\/127\.0\.0\.1:\d+/);
  assert.match(frame, /TIME \(UTC\)\s+PROTO\s+SRC → DST\s+SUMMARY\s+STATUS\s+LATENCY/);
  assert.match(frame, /POST \/api\/checkout\s+503/);
  assert.match(frame, /A missing\.demo\.local\s+NXDOMAIN/);
  assert.match(frame, /workers 1 up/);
  for (const line of frame.split('\n')) assert.ok(Array.from(line).length <= 100, line);

  // A bad filter: the server's message with its position; the prompt stays open.
  let mark = term.text.length;
  keys.write('/');
  await waitFor('the prompt', () => /filter › /.test(term.plain(mark)));
  keys.write('http && nope');
  keys.write('\r');
  await waitFor('the filter error', () => /1:9: .*nope/.test(term.plain(mark)));

  // Fix it: the table starts over with the new filter.
  for (let i = 0; i < 'http && nope'.length; i++) keys.write('\x7f');
  keys.write('dns');
  await waitFor('the edited prompt', () => /filter › dns/.test(term.plain(mark)));
  mark = term.text.length;
  keys.write('\r');
  await waitFor('the applied filter', () => /filter: dns/.test(term.plain(mark)));
  assert.match(term.plain(mark), /waiting for traffic matching dns/);

  keys.write('q');
  const r = await run;
  assert.equal(failed, undefined);
  assert.equal(r.exitCode, 0);
  assert.match(r.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  // Everything is closed: the port no longer answers.
  await assert.rejects(fetch(r.url + '/api/health'));
});
