/**
 * The dissectors' golden captures (`src/tap/dissectors/<proto>/testdata/<case>.pcap[ng]`, made by
 * the generators in scripts/capture) and the demo capture: the real traffic tests replay.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const dissectors = join(root, 'src/tap/dissectors');

export interface TestCapture {
  /** Dissector folder, e.g. `http`. */
  proto: string;
  /** Case name without extension, e.g. `pipelined`. */
  name: string;
  file: string;
}

/** Every testdata capture of every dissector, in a stable order. */
export function dissectorTestCaptures(): TestCapture[] {
  const out: TestCapture[] = [];
  for (const proto of readdirSync(dissectors).sort()) {
    const td = join(dissectors, proto, 'testdata');
    if (!existsSync(td)) continue;
    for (const f of readdirSync(td).sort()) {
      const m = /^(.*)\.pcap(ng)?$/.exec(f);
      if (m) out.push({ proto, name: m[1]!, file: join(td, f) });
    }
  }
  return out;
}

/** demo/shop.pcap followed by every dissector testdata capture. */
export function replayCaptures(): string[] {
  return [join(root, 'demo/shop.pcap'), ...dissectorTestCaptures().map((c) => c.file)];
}
