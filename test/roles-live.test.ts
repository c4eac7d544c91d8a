/**
 * The worker on a live capture: tcpdump on the loopback of a network namespace made for the
 * test, real HTTP traffic inside it; the entries reach the store and the live stream as they
 * happen, the counters move, and closing the worker stops the capture.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { ApiClient } from '../src/api/client.ts';
import type { EntrySummary, StreamMessage } from '../src/api/types.ts';
import { openLiveCapture } from '../src/tap/capture/live.ts';
import { createWorker, liveSource, type Worker } from '../src/worker/index.ts';
import { configFor, until } from './helpers/roles-kit.ts';

const ns = `ksroles${process.pid}`;
const inNs = (...cmd: string[]): string[] => ['netns', 'exec', ns, ...cmd];
let server: ChildProcess;
let worker: Worker;

before(async () => {
  execFileSync('ip', ['netns', 'add', ns]);
  execFileSync('ip', inNs('ip', 'link', 'set', 'lo', 'up'));
  server = spawn(
    'ip',
    inNs(
      process.execPath,
      '-e',
      "require('http').createServer((q,s)=>{s.setHeader('content-type','text/plain');s.end('live '+q.url)}).listen(8080,'127.0.0.1',()=>console.log('up'))",
    ),
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve) => server.stdout!.once('data', () => resolve()));
});
after(async () => {
  await worker?.close();
  server.kill();
  execFileSync('ip', ['netns', 'del', ns]);
});

test('live capture: entries are stored and streamed as traffic happens', async () => {
  const capture = openLiveCapture({
    interfaces: ['lo'],
    bpf: 'tcp port 8080',
    tcpdump: ['ip', ...inNs('tcpdump')],
  });
  await capture.ready();
  worker = await createWorker({ config: configFor('live-node'), sources: [liveSource(capture)] });
  const api = new ApiClient(`http://127.0.0.1:${await worker.listen(0, '127.0.0.1')}`);
  const msgs: StreamMessage[] = [];
  const s = api.stream({ q: 'http && path.startsWith("/live/")' }, (m) => msgs.push(m));
  await until(() => worker.streamClients().length === 1, 5000, 'stream client');
  for (const i of [1, 2, 3]) {
    execFileSync('ip', inNs('curl', '-s', `http://127.0.0.1:8080/live/${i}`));
  }
  execFileSync('ip', inNs('curl', '-s', 'http://127.0.0.1:8080/other'));
  await until(() => msgs.filter((m) => m.type === 'entry').length === 3, 10_000, 'live entries');
  const got = msgs.flatMap((m) => (m.type === 'entry' ? [m.entry as EntrySummary] : []));
  assert.deepEqual(
    got.map((e) => `${e.method} ${e.path} ${e.status}`),
    ['GET /live/1 200', 'GET /live/2 200', 'GET /live/3 200'],
  );
  assert.ok(got.every((e) => e.node === 'live-node'));
  const all = await api.entries({ q: 'http', count: true });
  assert.equal(all.total, 4);
  const full = await api.entry(all.entries[0]!.id);
  assert.equal((full.entry as { capture_source: string }).capture_source, 'af_packet');
  const h = await api.health();
  assert.deepEqual(h.capture!.sources, ['lo']);
  assert.ok(h.capture!.receivedPackets >= 4 * 6, `${h.capture!.receivedPackets} packets`);
  assert.equal(h.capture!.droppedPackets, 0);
  s.close();
  await worker.close();
  assert.ok(capture.stats().captured >= h.capture!.receivedPackets);
  // The capture process is gone with the worker.
  const left = execFileSync('ip', ['netns', 'pids', ns])
    .toString()
    .trim()
    .split('\n')
    .filter(Boolean);
  assert.deepEqual(left, [String(server.pid)], 'only the test server is left in the namespace');
});
