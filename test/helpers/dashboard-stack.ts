/**
 * The server side of test/dashboard.test.ts, in its own process so that pushing thousands of
 * entries per second never starves the test's browser driver: two real workers (`shop` over
 * demo/shop.pcap, linked to the hub in-process; `golden` over every dissector's golden capture,
 * linked over HTTP), a real hub, and the real front server serving the built dashboard from
 * argv[2] with `/api` proxied to the hub over HTTP. Default redaction, as the product.
 *
 * Protocol: prints one line `{"url": "http://127.0.0.1:PORT/"}` when ready; then reads JSON
 * commands, one per line, on stdin and answers each with one JSON line:
 * - `{"op":"push","count":N}` → stores N entries (the shop capture's, re-timed) into `shop` now;
 * - `{"op":"push","rate":R,"seconds":S}` → R entries per second for S seconds;
 *   both answer `{"pushed":N,"seconds":S}`; with `"node":"golden"` they go to `golden`;
 * - `{"op":"stop-golden"}` closes the `golden` worker (its store stays), answers `{"stopped":true}`;
 * - `{"op":"start-golden"}` starts it again on the same port over the same store, answers
 *   `{"started":true}`.
 * stdin closing stops everything.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { defaultConfig } from '../../src/config/load.ts';
import type { Entry } from '../../src/entry/model.ts';
import { dirAssets } from '../../src/front/assets.ts';
import { createFront } from '../../src/front/server.ts';
import { createHub } from '../../src/hub/index.ts';
import { createRedactor, redactionConfig } from '../../src/redact/index.ts';
import { dissectorTestCaptures } from './dissector-captures.ts';
import { entriesFromCapture } from '../../src/tap/run.ts';
import { createWorker, fileSource } from '../../src/worker/index.ts';

/** Entries stored per timer tick at most, so the process keeps serving while it pushes. */
const PUSH_MAX_PER_TICK = 100;
const PUSH_TICK_MS = 2;

const assetsDir = process.argv[2];
if (assetsDir === undefined) throw new Error('usage: dashboard-stack.ts ASSETS_DIR');
const root = new URL('../..', import.meta.url).pathname;

const redact = createRedactor(redactionConfig(defaultConfig()));
const shop = await createWorker({
  node: 'shop',
  sources: [fileSource(`${root}demo/shop.pcap`)],
  redact,
});
const goldenStore = mkdtempSync(join(tmpdir(), 'ks-dash-golden-'));
let golden = await createWorker({
  node: 'golden',
  storeDir: goldenStore,
  sources: dissectorTestCaptures().map((c) => fileSource(c.file)),
  redact,
});
await Promise.all([shop.replayed, golden.replayed]);
const gp = await golden.listen(0, '127.0.0.1');
const hub = createHub({
  workers: [
    { name: 'shop', worker: shop },
    { name: 'golden', url: `http://127.0.0.1:${gp}` },
  ],
});
await hub.ready;
const hp = await hub.listen(0, '127.0.0.1');
const front = createFront({ hub: `http://127.0.0.1:${hp}`, assets: dirAssets(assetsDir) });
const fp = await front.listen(0, '127.0.0.1');
const templates: Entry[] = await entriesFromCapture(`${root}demo/shop.pcap`, {
  node: { name: 'shop', ip: '' },
});

let next = 0;
let target = shop;
function pushOne(): void {
  target.ingest({ ...templates[next++ % templates.length]!, timestamp: Date.now() * 1000 });
}

function pushAtRate(rate: number, seconds: number): Promise<{ pushed: number; seconds: number }> {
  const total = Math.round(rate * seconds);
  const t0 = performance.now();
  let pushed = 0;
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
      const until = Math.min(due, pushed + PUSH_MAX_PER_TICK);
      while (pushed < until) {
        pushOne();
        pushed++;
      }
      if (pushed >= total) {
        clearInterval(timer);
        resolve({ pushed, seconds: (performance.now() - t0) / 1000 });
      }
    }, PUSH_TICK_MS);
  });
}

const lines = createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on('line', (line) => {
  queue = queue.then(async () => {
    const cmd = JSON.parse(line) as {
      op: string;
      count?: number;
      rate?: number;
      seconds?: number;
      node?: string;
    };
    if (cmd.op === 'stop-golden') {
      await golden.close();
      process.stdout.write(JSON.stringify({ stopped: true }) + '\n');
      return;
    }
    if (cmd.op === 'start-golden') {
      golden = await createWorker({ node: 'golden', storeDir: goldenStore, redact });
      await golden.listen(gp, '127.0.0.1');
      process.stdout.write(JSON.stringify({ started: true }) + '\n');
      return;
    }
    if (cmd.op !== 'push') throw new Error(`unknown command ${line}`);
    target = cmd.node === 'golden' ? golden : shop;
    if (cmd.count !== undefined) {
      for (let i = 0; i < cmd.count; i++) pushOne();
      process.stdout.write(JSON.stringify({ pushed: cmd.count, seconds: 0 }) + '\n');
    } else {
      const r = await pushAtRate(cmd.rate ?? 0, cmd.seconds ?? 0);
      process.stdout.write(JSON.stringify(r) + '\n');
    }
  });
});
lines.on('close', () => {
  void queue.then(async () => {
    await front.close();
    await hub.close();
    await Promise.all([shop.close(), golden.close()]);
    rmSync(goldenStore, { recursive: true, force: true });
    process.exit(0);
  });
});
process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${fp}/` }) + '\n');
