/**
 * Worker ingest benchmark: `worker.ingest()` called N times on realistic entries (demo/shop.pcap's
 * 20 entries — DNS, HTTP with bodies and cookies, WebSocket — cloned fresh for each call, before
 * the clock starts), through the worker's ingest stages into its store and live stream.
 *
 * Scenarios:
 *   hooks  the stages of `worker --kube`: pod targeting (keeps all), enrichment (a table
 *          resolver), redaction (defaults), store, publish
 *   plain  store and publish only
 *
 * Figures per scenario (median of the rounds): entries/s counting only the time inside
 * `ingest()` (the stage path itself, store append included), entries/s of wall time until the
 * store has written everything, and entries per CPU second of the process over that time (the
 * steadiest figure on a busy machine). Each round runs in a fresh process; rounds are
 * interleaved.
 *
 * The ratio printed is to a peer run in the same invocation: `--peer DIR` (another checkout of
 * this repository, e.g. `git archive HEAD | tar -x -C /tmp/before`, with node_modules linked)
 * runs the same scenarios there; without it, `hooks` is compared to `plain`.
 *
 * `--runner` measures the stage runner alone (src/worker/ingest.ts `Ingest`): five stub stages
 * that do next to nothing, in ns per entry, against the same five functions called in a
 * straight line, and with every entry timed instead of a sample (what sampling saves).
 *
 * Usage: node --import tsx scripts/bench/ingest.ts [--n 40000] [--rounds 5] [--peer DIR]
 *        node --import tsx scripts/bench/ingest.ts --runner
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as ConfigMod from '../../src/config/load.ts';
import type * as EnrichMod from '../../src/enrich/enrich.ts';
import type { Identity } from '../../src/enrich/types.ts';
import type { Entry } from '../../src/entry/model.ts';
import type * as RedactMod from '../../src/redact/index.ts';
import type * as RunMod from '../../src/tap/run.ts';
import type * as WorkerMod from '../../src/worker/index.ts';
import { Ingest, hookStage, type StageResult } from '../../src/worker/ingest.ts';

const here = new URL('../..', import.meta.url).pathname;

interface Figures {
  /** Entries/s over the time spent inside ingest(). */
  ingestPerSec: number;
  /** Entries/s of wall time until everything is written. */
  wallPerSec: number;
  /** Entries per CPU second of the process (all threads) until everything is written: steadier
   * than wall time on a machine that is busy with other work. */
  cpuPerSec: number;
  stored: number;
  /** µs per entry in each ingest stage, as the worker estimates it (health `capture.ingest`). */
  stages?: Record<string, number>;
}

type Scenario = 'hooks' | 'plain';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

/** One round in this process, against the checkout at `root`. */
async function child(root: string, scenario: Scenario, n: number): Promise<Figures> {
  const imp = <T>(p: string): Promise<T> =>
    import(pathToFileURL(resolve(root, p)).href) as Promise<T>;
  const { createWorker } = await imp<typeof WorkerMod>('src/worker/index.ts');
  const { entriesFromCapture } = await imp<typeof RunMod>('src/tap/run.ts');
  const { enrichEntry } = await imp<typeof EnrichMod>('src/enrich/enrich.ts');
  const { createRedactor, redactionConfig } = await imp<typeof RedactMod>('src/redact/index.ts');
  const { defaultConfig } = await imp<typeof ConfigMod>('src/config/load.ts');

  const templates = await entriesFromCapture(resolve(here, 'demo/shop.pcap'));
  const table = new Map<string, Identity>([
    [
      '127.0.0.1',
      {
        name: 'shop-1',
        namespace: 'shop',
        pod: { name: 'shop-1', namespace: 'shop' },
        labels: { app: 'shop' },
      },
    ],
  ]);
  const resolver = { lookup: (ip: string) => table.get(ip) };
  const config = defaultConfig();
  const worker = await createWorker({
    node: 'bench',
    config,
    ...(scenario === 'hooks' && {
      filter: (e: Entry) => e.src.ip !== '192.0.2.1',
      hold: { unresolved: () => false, version: () => 0 },
      enrich: (e: Entry) => enrichEntry(e, resolver),
      redact: createRedactor(redactionConfig(config)),
    }),
  });
  // Fresh entries (redaction works in place), made before the clock starts.
  const entries: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const e = structuredClone(templates[i % templates.length]!);
    e.timestamp += i;
    entries.push(e);
  }
  // Warm up (JIT), then measure.
  for (let i = 0; i < 2000; i++) worker.ingest(structuredClone(templates[i % templates.length]!));
  await worker.store.waitForRoom();
  let inIngest = 0n;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const BATCH = 256;
  for (let i = 0; i < n; i += BATCH) {
    const s = process.hrtime.bigint();
    const end = Math.min(n, i + BATCH);
    for (let j = i; j < end; j++) worker.ingest(entries[j]!);
    inIngest += process.hrtime.bigint() - s;
    const w = worker.store.waitForRoom();
    if (w) await w;
  }
  await worker.store.flush();
  const wall = process.hrtime.bigint() - t0;
  const cpu = process.cpuUsage(cpu0);
  const c = worker.counters();
  const stored = c.entries - 2000;
  const stages = c.ingest && Object.fromEntries(c.ingest.map((s) => [s.name, s.timeUs / s.in]));
  await worker.close();
  return {
    ingestPerSec: n / (Number(inIngest) / 1e9),
    wallPerSec: n / (Number(wall) / 1e9),
    cpuPerSec: n / ((cpu.user + cpu.system) / 1e6),
    stored,
    ...(stages && { stages }),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function fmt(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}

function main(): void {
  const n = Number(arg('n') ?? 40000);
  const rounds = Number(arg('rounds') ?? 5);
  const peer = arg('peer');
  const runs: { label: string; root: string; scenario: Scenario }[] = peer
    ? [
        { label: 'peer  hooks', root: resolve(peer), scenario: 'hooks' },
        { label: 'this  hooks', root: here, scenario: 'hooks' },
        { label: 'peer  plain', root: resolve(peer), scenario: 'plain' },
        { label: 'this  plain', root: here, scenario: 'plain' },
      ]
    : [
        { label: 'plain', root: here, scenario: 'plain' },
        { label: 'hooks', root: here, scenario: 'hooks' },
      ];
  const results = new Map<string, Figures[]>(runs.map((r) => [r.label, []]));
  for (let round = 0; round < rounds; round++) {
    for (const r of runs) {
      const out = spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          new URL(import.meta.url).pathname,
          '--child',
          r.root,
          r.scenario,
          String(n),
        ],
        { encoding: 'utf8', cwd: here, maxBuffer: 1 << 20 },
      );
      if (out.status !== 0) throw new Error(`${r.label}: ${out.stderr}`);
      results.get(r.label)!.push(JSON.parse(out.stdout.trim().split('\n').pop()!) as Figures);
    }
  }
  console.log(`worker ingest: ${fmt(n)} entries per round, ${rounds} rounds (median)`);
  const med = new Map<string, { ingest: number; wall: number; cpu: number }>();
  for (const r of runs) {
    const fs = results.get(r.label)!;
    const m = {
      ingest: median(fs.map((f) => f.ingestPerSec)),
      wall: median(fs.map((f) => f.wallPerSec)),
      cpu: median(fs.map((f) => f.cpuPerSec)),
    };
    med.set(r.label, m);
    const all = fs.map((f) => fmt(f.cpuPerSec)).join(' ');
    const stages = fs[0]!.stages;
    const per = stages
      ? Object.keys(stages)
          .map((k) => `${k} ${median(fs.map((f) => f.stages![k]!)).toFixed(2)}`)
          .join(', ')
      : '';
    console.log(
      `  ${r.label.padEnd(12)} ingest() ${fmt(m.ingest).padStart(7)}/s   wall ${fmt(m.wall).padStart(7)}/s   per CPU s ${fmt(m.cpu).padStart(7)}   stored ${fs[0]!.stored}   [CPU: ${all}]`,
    );
    if (per) console.log(`  ${''.padEnd(12)} µs per entry by stage (worker's estimate): ${per}`);
  }
  const ratio = (a: string, b: string): string => {
    const x = med.get(a)!;
    const y = med.get(b)!;
    const r = (k: 'ingest' | 'wall' | 'cpu'): string => (x[k] / y[k]).toFixed(3);
    return `ingest() ${r('ingest')}, wall ${r('wall')}, per CPU second ${r('cpu')}`;
  };
  if (peer) {
    console.log(`  ratio this/peer, hooks: ${ratio('this  hooks', 'peer  hooks')}`);
    console.log(`  ratio this/peer, plain: ${ratio('this  plain', 'peer  plain')}`);
  } else {
    console.log(`  ratio hooks/plain: ${ratio('hooks', 'plain')}`);
  }
}

/** The runner's own cost: stub stages, ns per entry. */
function runner(): void {
  const N = 2_000_000;
  const entries = Array.from(
    { length: 64 },
    (_, i) => ({ id: i, src: { ip: '10.0.0.1', port: 1 } }) as unknown as Entry,
  );
  let sink = 0;
  const fns: ((e: Entry) => void)[] = [
    (e) => (sink += e.id & 1),
    (e) => (sink += e.id & 2),
    (e) => (sink += e.id & 4),
    (e) => (sink += e.id & 8),
    (e) => (sink += e.id & 16),
  ];
  const stages = (): ReturnType<typeof hookStage>[] =>
    fns.map((f, i) => hookStage(`s${i}`, f, i === 2 ? 'drop' : 'keep'));
  const keep = (e: Entry): StageResult => (e.src.ip === '192.0.2.1' ? 'drop' : 'pass');
  const straight = (e: Entry): boolean => {
    if (keep(e) !== 'pass') return false;
    for (const f of fns) f(e);
    return true;
  };
  const sampled = new Ingest(stages());
  const everyEntry = new Ingest(stages(), 1);
  const variants: [string, (e: Entry) => unknown][] = [
    ['straight calls (peer)', straight],
    ['Ingest, sampled time', (e) => sampled.push(e)],
    ['Ingest, every entry timed', (e) => everyEntry.push(e)],
  ];
  const res = new Map<string, number[]>(variants.map(([n]) => [n, []]));
  for (let round = 0; round < 8; round++) {
    for (const [name, f] of variants) {
      const t = process.hrtime.bigint();
      for (let i = 0; i < N; i++) f(entries[i & 63]!);
      const ns = Number(process.hrtime.bigint() - t) / N;
      if (round > 0) res.get(name)!.push(ns); // the first round warms up
    }
  }
  console.log(`ingest stage runner: 5 stub stages, ${fmt(N)} entries, 7 rounds (median)`);
  const peer = median(res.get(variants[0]![0])!);
  for (const [name, xs] of res) {
    const m = median(xs);
    console.log(
      `  ${name.padEnd(26)} ${m.toFixed(1).padStart(6)} ns/entry   ratio ${(m / peer).toFixed(2)}`,
    );
  }
  if (sink < 0) console.log(sink);
}

if (process.argv.includes('--runner')) {
  runner();
} else if (process.argv[2] === '--child') {
  const [, , , root, scenario, n] = process.argv;
  child(root!, scenario as Scenario, Number(n)).then(
    (f) => process.stdout.write(`${JSON.stringify(f)}\n`),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
} else {
  main();
}
