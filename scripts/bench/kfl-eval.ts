/**
 * KFL evaluation speed: evaluations per second of compiled filters over real entries (from
 * captures through the real pipeline), next to a hand-written JavaScript predicate as the peer.
 * A program, not a test:
 *
 *   node --import tsx scripts/bench/kfl-eval.ts [capture.pcap ...]
 *
 * Default captures: demo/shop.pcap, the dissectors' testdata and ../shared/corpus http, dns and
 * websocket files (whatever exists).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Entry } from '../../src/entry/model.ts';
import { buildCatalogue } from '../../src/tap/dissectors/registry.ts';
import { compileKfl } from '../../src/query/compile.ts';
import { entriesFromCapture } from '../../src/tap/run.ts';

const root = new URL('../../', import.meta.url).pathname;
const corpus = join(root, '../shared/corpus');

function defaultFiles(): string[] {
  const files = [join(root, 'demo/shop.pcap')];
  const dirs = [
    ...['http', 'dns', 'ws'].map((d) => join(root, 'src/tap/dissectors', d, 'testdata')),
    ...['http', 'dns', 'websocket'].map((d) => join(corpus, d)),
  ];
  for (const d of dirs) {
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d).sort()) if (/\.pcap(ng)?$/.test(f)) files.push(join(d, f));
  }
  return files.filter((f) => existsSync(f));
}

const FILTERS = [
  'http && status_code >= 500',
  'http && method == "POST"',
  'dns && status_code == 3',
  'src.ip == "127.0.0.1" && dst.port == 80',
  'path.startsWith("/api") && elapsed_time > 500',
  'protocol == "HTTP"',
  '"content-type" in response.headers && response.headers["content-type"].contains("json")',
  'dns_questions.exists(q, q.endsWith(".local"))',
  'path.matches("^/api/products/[0-9]+$")',
  'http and response.status >= 500', // KFL1, translated
];

const PEERS: Record<string, (e: Entry) => boolean> = {
  'http && status_code >= 500': (e) =>
    e.record.kind === 'http' && (e.record.response?.statusCode ?? 0) >= 500,
  'http && method == "POST"': (e) =>
    e.record.kind === 'http' && e.record.request?.method === 'POST',
  'dns && status_code == 3': (e) => e.record.kind === 'dns' && e.record.response?.rcodeNumber === 3,
};

function measure(
  fn: (e: Entry) => boolean,
  entries: readonly Entry[],
): { perSec: number; n: number } {
  // Warm up, then run for ~0.5 s.
  for (let i = 0; i < 20_000; i++) fn(entries[i % entries.length]!);
  let n = 0;
  let matched = 0;
  const t0 = performance.now();
  let elapsed = 0;
  while (elapsed < 500) {
    for (const e of entries) if (fn(e)) matched++;
    n += entries.length;
    elapsed = performance.now() - t0;
  }
  void matched;
  return { perSec: (n / elapsed) * 1000, n };
}

async function main(): Promise<void> {
  const files = process.argv.length > 2 ? process.argv.slice(2) : defaultFiles();
  const entries: Entry[] = [];
  for (const f of files) entries.push(...(await entriesFromCapture(f, { l4All: true })));
  const kinds = new Map<string, number>();
  for (const e of entries) kinds.set(e.record.kind, (kinds.get(e.record.kind) ?? 0) + 1);
  console.log(
    `${entries.length} entries from ${files.length} captures (${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')})`,
  );
  const catalogue = buildCatalogue();
  const t0 = performance.now();
  for (let i = 0; i < 1000; i++) compileKfl(FILTERS[i % FILTERS.length]!, { catalogue });
  console.log(`compile: ${((performance.now() - t0) / 1000).toFixed(3)} ms per filter\n`);

  const w = Math.max(...FILTERS.map((f) => f.length));
  console.log(
    `${'filter'.padEnd(w)}  ${'matched'.padStart(7)}  ${'evals/s'.padStart(12)}  peer (plain JS)`,
  );
  for (const src of FILTERS) {
    const f = compileKfl(src, { catalogue });
    const r = measure((e) => f.matches(e), entries);
    f.resetCounters();
    for (const e of entries) f.matches(e);
    const peer = PEERS[src];
    let peerText = '';
    if (peer) {
      const p = measure(peer, entries);
      peerText = `${fmt(p.perSec)}  (KFL at ${((r.perSec / p.perSec) * 100).toFixed(1)}% of it)`;
    }
    console.log(
      `${src.padEnd(w)}  ${String(f.counters.matched).padStart(7)}  ${fmt(r.perSec).padStart(12)}  ${peerText}`,
    );
  }
}

const fmt = (n: number): string => `${(n / 1e6).toFixed(2)} M`;

await main();
