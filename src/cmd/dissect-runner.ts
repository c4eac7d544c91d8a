/**
 * `kubeshark dissect`: capture files → entries on stdout, summary on stderr. Takes its
 * dependencies as parameters so tests run it in-process with real streams.
 */
import { existsSync, statSync } from 'node:fs';
import type { Writable } from 'node:stream';
import type { ConfigTree } from '../config/load.ts';
import { tapSettings } from '../config/tap.ts';
import { ViewBuilder } from '../entry/view.ts';
import { createPrinter, type OutputFormat } from '../output/printer.ts';
import { formatSummary } from '../output/summary.ts';
import { openCapture } from '../tap/capture/open.ts';
import { buildCatalogue, dissectors } from '../tap/dissectors/registry.ts';
import { Pipeline, type PipelineSummary } from '../tap/pipeline.ts';
import { pump } from '../tap/run.ts';
import { KsError } from '../util/errors.ts';

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
}

function addSummary(into: PipelineSummary, s: PipelineSummary): void {
  for (const k of [
    'packets',
    'bytes',
    'decoded',
    'tcpConnections',
    'udpFlows',
    'gaps',
    'gapBytes',
    'violations',
    'detached',
  ] as const) {
    into[k] += s[k];
  }
  for (const key of ['entries', 'skipped', 'limitsHit'] as const) {
    for (const [k, v] of Object.entries(s[key])) into[key][k] = (into[key][k] ?? 0) + v;
  }
}

/** Checks the files up front so a typo fails before any output. */
function checkFiles(files: string[]): void {
  if (files.length === 0)
    throw new KsError('KS_ERR_USAGE', 'no capture file given (use - for stdin)');
  if (files.filter((f) => f === '-').length > 1)
    throw new KsError('KS_ERR_USAGE', 'stdin (-) can be read only once');
  for (const f of files) {
    if (f === '-') continue;
    if (!existsSync(f)) throw new KsError('KS_ERR_FILE_NOT_FOUND', `capture file not found: ${f}`);
    if (statSync(f).isDirectory())
      throw new KsError('KS_ERR_FILE_READ', `${f} is a directory, not a capture file`);
  }
}

export async function runDissect(o: DissectOptions): Promise<PipelineSummary> {
  checkFiles(o.files);
  const settings = tapSettings(
    o.config,
    dissectors.map((d) => d.id),
  );
  const enabled = dissectors.filter((d) => settings.enabledDissectors.includes(d.id));
  const view = new ViewBuilder(buildCatalogue(enabled));
  const printer = createPrinter({
    format: o.format,
    out: o.stdout,
    view,
    width: o.width,
    color: o.color,
  });
  const started = performance.now();
  const total: PipelineSummary = {
    packets: 0,
    bytes: 0,
    decoded: 0,
    skipped: {},
    tcpConnections: 0,
    udpFlows: 0,
    entries: {},
    gaps: 0,
    gapBytes: 0,
    violations: 0,
    detached: 0,
    limitsHit: {},
  };
  let nextId = 1;
  let failure: unknown;
  for (const file of o.files) {
    const pipeline = new Pipeline(
      {
        dissectors: enabled,
        portMapping: settings.portMapping,
        limits: settings.limits,
        node: { name: settings.nodeName, ip: '' },
        worker: settings.nodeName,
        captureSource: 'pcap_file',
        l4All: o.l4All,
      },
      (e) => printer.entry(e),
    );
    pipeline.nextEntryId = nextId;
    try {
      await pump(openCapture(file), pipeline, () => waitDrain(o.stdout));
    } catch (e) {
      failure = e;
    }
    // Entries before any damage are true: flush them either way.
    pipeline.end();
    nextId = pipeline.nextEntryId;
    addSummary(total, pipeline.summary());
    if (failure) break;
  }
  printer.end();
  if (o.summary)
    o.stderr.write(
      formatSummary(total, (performance.now() - started) / 1000, o.files.length) + '\n',
    );
  if (failure) throw failure;
  return total;
}

function waitDrain(w: Writable): Promise<void> | undefined {
  if (!w.writableNeedDrain) return undefined;
  return new Promise((resolve) => w.once('drain', () => resolve()));
}
