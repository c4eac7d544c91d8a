/**
 * `kubeshark dissect`: capture files → entries on stdout, summary on stderr. Takes its
 * dependencies as parameters so tests run it in-process with real streams.
 */
import { writeSync } from 'node:fs';
import type { Writable } from 'node:stream';
import type { ConfigTree } from '../config/load.ts';
import type { CompiledFilter } from '../query/index.ts';
import { KflCompiler } from '../api/kfl.ts';
import { tapSettings } from '../config/tap.ts';
import { buildView } from '../tap/records.ts';
import { createPrinter, type OutputFormat } from '../output/printer.ts';
import type { Entry } from '../entry/model.ts';
import { StatsAccumulator, formatStatsTable, type StatsGroupBy } from '../store/stats/index.ts';
import { formatSummary } from '../output/summary.ts';
import { checkCaptureFile, openCapture } from '../tap/capture/open.ts';
import { dissectors } from '../tap/dissectors/registry.ts';
import { enabledDissectors, pipelineOptions } from '../tap/options.ts';
import { Pipeline } from '../tap/pipeline.ts';
import { pump } from '../tap/run.ts';
import { KsError } from '../util/errors.ts';
import type { TapSettings } from '../config/tap.ts';
import { runSharded } from './dissect-shards.ts';
import { addSummary, emptySummary, type PipelineSummary } from '../tap/summary.ts';

export interface DissectOptions {
  files: string[];
  format: OutputFormat;
  l4All: boolean;
  summary: boolean;
  config: ConfigTree;
  stdout: Writable;
  stderr: Writable;
  width?: number;
  color?: (kind: 'dim' | 'err' | 'ok', s: string) => string;
  /** Processes for jsonl runs over files (flow-hash shards); 1 = this process only. */
  workers?: number;
  /** How to start this program again, and the arguments children need (parallel runs). */
  self?: string[];
  childArgs?: string[];
  /** Child mode: dissect only this shard, number entries after idBase, report on summaryFd. */
  shard?: { index: number; count: number };
  idBase?: number;
  summaryFd?: number;
  /** Print API statistics grouped this way instead of the entries. */
  stats?: StatsGroupBy;
  /** KFL filter: only matching entries are printed (or counted in --stats). */
  filter?: string;
}

/** Checks the files up front so a typo fails before any output. */
function checkFiles(files: string[]): void {
  if (files.length === 0)
    throw new KsError('KS_ERR_USAGE', 'no capture file given (use - for stdin)');
  if (files.filter((f) => f === '-').length > 1) {
    throw new KsError('KS_ERR_USAGE', 'stdin (-) can be read only once');
  }
  for (const f of files) {
    if (f !== '-') checkCaptureFile(f);
  }
}

/** One file through one in-process pipeline. Entries before any damage are flushed either way. */
async function dissectFile(
  file: string,
  o: DissectOptions,
  settings: TapSettings,
  sink: (e: Entry) => void,
  idBase: number,
): Promise<{ summary: PipelineSummary; lastId: number; error?: unknown }> {
  const pipeline = new Pipeline(
    pipelineOptions(settings, {
      node: { name: settings.nodeName, ip: '' },
      captureSource: 'pcap_file',
      l4All: o.l4All,
      shard: o.shard,
      idBase,
    }),
    sink,
  );
  let error: unknown;
  try {
    await pump(openCapture(file), pipeline, () => waitDrain(o.stdout));
  } catch (e) {
    error = e;
  }
  pipeline.end();
  const stride = o.shard?.count ?? 1;
  return { summary: pipeline.summary(), lastId: pipeline.nextEntryId - stride, error };
}

export async function runDissect(o: DissectOptions): Promise<PipelineSummary> {
  // A bad filter fails with its position before any file is read.
  const filter = o.filter?.trim() ? compileFilter(o.filter, o.config) : undefined;
  if (filter?.translation && o.summary && !o.shard) {
    o.stderr.write(
      `kfl: older syntax translated: ${filter.translation.from}  →  ${filter.translation.to}\n`,
    );
  }
  checkFiles(o.files);
  if ((o.workers ?? 1) > 1 && o.stats) {
    throw new KsError('KS_ERR_USAGE', '--stats runs in one process: drop --workers');
  }
  if ((o.workers ?? 1) > 1 && o.format !== 'jsonl') {
    throw new KsError(
      'KS_ERR_USAGE',
      '--workers needs -o jsonl (parallel output is one line per entry)',
    );
  }
  const settings = tapSettings(
    o.config,
    dissectors.map((d) => d.id),
  );
  const view = buildView(enabledDissectors(settings));
  const printer = createPrinter({
    format: o.format,
    out: o.stdout,
    view,
    width: o.width,
    color: o.color,
  });
  const stats = o.stats ? new StatsAccumulator({ groupBy: o.stats, bucketSec: 0 }) : undefined;
  const emit = stats ? (e: Entry) => void stats.add(e) : (e: Entry) => printer.entry(e);
  const sink = filter ? (e: Entry) => void (filter.matches(e) && emit(e)) : emit;
  const started = performance.now();
  const summaries: PipelineSummary[] = [];
  let lastId = o.idBase ?? 0;
  let sharded = false;
  let failure: unknown;
  for (const file of o.files) {
    const parallel = (o.workers ?? 1) > 1 && !o.shard && o.self && file !== '-';
    let r: { summary: PipelineSummary; lastId: number; error?: unknown };
    if (parallel) {
      sharded = true;
      printer.end(); // flush what earlier files printed before children write
      r = await runSharded({
        file,
        workers: o.workers!,
        idBase: lastId,
        self: o.self!,
        childArgs: [
          ...(o.childArgs ?? []),
          ...(filter ? ['--filter', o.filter!] : []),
          '--dissectors',
          settings.enabledDissectors.join(','),
          ...(o.l4All ? ['--l4'] : []),
        ],
        stdout: o.stdout,
      });
    } else {
      r = await dissectFile(file, o, settings, sink, lastId);
    }
    summaries.push(r.summary);
    lastId = Math.max(lastId, r.lastId);
    if (r.error) {
      failure = r.error;
      break;
    }
  }
  if (stats) {
    const result = stats.result({ series: 'none' });
    o.stdout.write(
      o.format === 'table'
        ? formatStatsTable(result, { width: o.width })
        : JSON.stringify(result) + '\n',
    );
  } else {
    printer.end();
  }
  const total = summaries.reduce((acc, s) => addSummary(acc, s), emptySummary());
  if (o.summaryFd !== undefined) {
    writeSync(o.summaryFd, JSON.stringify({ summary: total, lastId }));
  }
  if (o.summary) {
    o.stderr.write(
      formatSummary(total, (performance.now() - started) / 1000, o.files.length) + '\n',
    );
    if (filter && !sharded) {
      // (With --workers the children filtered; their match counts are in the entries printed.)
      const c = filter.counters;
      o.stderr.write(
        `filter: ${filter.kfl2}  matched ${c.matched} of ${c.evaluated} entries` +
          (c.runtimeErrors ? ` (${c.runtimeErrors} evaluation errors counted as no match)` : '') +
          '\n',
      );
    }
  }
  if (failure) throw failure;
  return total;
}

/** Compiles the user's KFL against every dissector's fields, with the config's macros. */
function compileFilter(source: string, config: ConfigTree): CompiledFilter {
  return KflCompiler.fromConfig(config).compile(source);
}

function waitDrain(w: Writable): Promise<void> | undefined {
  if (!w.writableNeedDrain) return undefined;
  return new Promise((resolve) => w.once('drain', () => resolve()));
}
