/**
 * A simulated worker for the hub fan-in benchmark: a real worker (store, API, live stream) whose
 * entries are ingested from templates instead of captured. Prints `port N` once listening, then
 * reads commands on stdin: `rate R SECONDS` ingests R entries/s for SECONDS (in 10 ms ticks) and
 * answers `done N`; `quit` closes.
 *
 * Usage (from scripts/bench/hub.ts): node --import tsx scripts/bench/hub-worker.ts NAME
 */
import { createInterface } from 'node:readline';
import { createWorker } from '../../src/worker/index.ts';
import { entriesFromCapture } from '../../src/tap/run.ts';
import type { Entry } from '../../src/entry/model.ts';

const name = process.argv[2] ?? 'sim';
const root = new URL('../..', import.meta.url).pathname;

async function main(): Promise<void> {
  const templates = (await entriesFromCapture(`${root}demo/shop.pcap`)).map((e) =>
    JSON.stringify(e),
  );
  const worker = await createWorker({ node: name });
  const port = await worker.listen(0, '127.0.0.1');
  process.stdout.write(`port ${port}\n`);
  let k = 0;
  const make = (): Entry => {
    const e = JSON.parse(templates[k++ % templates.length]!) as Entry;
    e.timestamp = Date.now() * 1000;
    return e;
  };
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    const [cmd, a, b] = line.trim().split(/\s+/);
    if (cmd === 'quit') break;
    if (cmd !== 'rate') continue;
    const rate = Number(a);
    const seconds = Number(b);
    const t0 = performance.now();
    let sent = 0;
    while (performance.now() - t0 < seconds * 1000) {
      const due = Math.floor(((performance.now() - t0) / 1000) * rate);
      while (sent < due) {
        worker.ingest(make());
        sent++;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    process.stdout.write(`done ${sent}\n`);
  }
  await worker.close();
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
