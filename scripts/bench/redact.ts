/**
 * Redaction cost per entry on real entries (captures through the real pipeline), with the
 * default `tap.redaction.*` next to a peer run in the same invocation: the same redactor with
 * only the exact header and field lists (no name patterns, no search by shape). A program, not a
 * test:
 *
 *   node --import tsx scripts/bench/redact.ts [capture.pcap ...]
 *
 * Default: two sets. "api": demo/shop.pcap, the redaction testdata, the HTTP and WebSocket
 * dissectors' testdata and ../shared/corpus websocket files (JSON APIs, forms, messages);
 * "browser": ../shared/corpus/http (web browsing: HTML, scripts, style sheets, images). Each
 * entry is redacted on a fresh copy (copies made before the clock starts); figures are the
 * median of several rounds (the machine may be shared).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { defaultConfig } from '../../src/config/load.ts';
import type { Entry } from '../../src/entry/model.ts';
import { createRedactor, redactionConfig, type RedactionConfig } from '../../src/redact/index.ts';
import { entriesFromCapture } from '../../src/tap/run.ts';

const root = new URL('../../', import.meta.url).pathname;
const corpus = join(root, '../shared/corpus');

function captures(dirs: string[]): string[] {
  const files: string[] = [];
  for (const d of dirs) {
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d).sort()) if (/\.pcap(ng)?$/.test(f)) files.push(join(d, f));
  }
  return files;
}

const sets: Record<string, string[]> =
  process.argv.length > 2
    ? { given: process.argv.slice(2) }
    : {
        api: [
          join(root, 'demo/shop.pcap'),
          join(root, 'src/redact/testdata/secrets.pcap'),
          ...captures([
            ...['http', 'ws'].map((d) => join(root, 'src/tap/dissectors', d, 'testdata')),
            join(corpus, 'websocket'),
          ]),
        ],
        browser: captures([join(corpus, 'http')]),
      };

async function load(files: string[]): Promise<Entry[]> {
  const entries: Entry[] = [];
  for (const f of files) {
    try {
      entries.push(...(await entriesFromCapture(f)));
    } catch {
      // A damaged capture: its entries before the damage are not returned; skip it.
    }
  }
  return entries;
}

function bodyChars(entries: readonly Entry[]): number {
  let n = 0;
  for (const e of entries) {
    const r = e.record as { request?: { body?: { text?: string } }; response?: typeof r.request };
    n += (r.request?.body?.text?.length ?? 0) + (r.response?.body?.text?.length ?? 0);
  }
  return n;
}

interface Figures {
  /** Mean µs per entry: the median over rounds of (pass time / entries). */
  mean: number;
  /** Median over entries of each entry's best time, µs. */
  median: number;
  /** 90th percentile of the same. */
  p90: number;
}

/**
 * Figures for each config, over `rounds` passes on fresh copies of every entry; the configs take
 * turns round by round, so a busy moment of the machine hits them alike.
 */
function measure(entries: readonly Entry[], cfgs: RedactionConfig[], rounds = 21): Figures[] {
  const redactors = cfgs.map((c) => createRedactor(c));
  const passes: number[][] = cfgs.map(() => []);
  const best: number[][] = cfgs.map(() => entries.map(() => Infinity));
  for (let r = 0; r < rounds + 2; r++) {
    redactors.forEach((redact, i) => {
      const batch = entries.map((e) => structuredClone(e));
      const each = best[i]!;
      const t0 = process.hrtime.bigint();
      let prev = t0;
      batch.forEach((e, j) => {
        redact(e);
        const now = process.hrtime.bigint();
        each[j] = Math.min(each[j]!, Number(now - prev) / 1000);
        prev = now;
      });
      const us = Number(prev - t0) / 1000 / batch.length;
      if (r >= 2) passes[i]!.push(us); // two warm-up rounds
    });
  }
  const at = (xs: number[], q: number): number =>
    [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * q)]!;
  return cfgs.map((_, i) => ({
    mean: at(passes[i]!, 0.5),
    median: at(best[i]!, 0.5),
    p90: at(best[i]!, 0.9),
  }));
}

const show = (f: Figures): string =>
  `mean ${f.mean.toFixed(2)}, median ${f.median.toFixed(2)}, p90 ${f.p90.toFixed(2)} µs/entry`;

const defaults = redactionConfig(defaultConfig());
const listsOnly: RedactionConfig = {
  enabled: true,
  headers: defaults.headers,
  bodyFields: defaults.bodyFields,
};
for (const [name, files] of Object.entries(sets)) {
  const entries = await load(files);
  if (entries.length === 0) continue;
  const [full, peer] = measure(entries, [defaults, listsOnly]) as [Figures, Figures];
  console.log(
    `${name}: ${entries.length} entries from ${files.length} captures, ${(bodyChars(entries) / entries.length).toFixed(0)} body chars/entry`,
  );
  console.log(`  defaults (names + shapes): ${show(full)}`);
  console.log(`  exact lists only (peer):   ${show(peer)}`);
  console.log(
    `  ratio: mean ${(full.mean / peer.mean).toFixed(2)}, median ${(full.median / peer.median).toFixed(2)}`,
  );
}
