/**
 * Entries of a capture file through the real pipeline (all dissectors, default limits): what the
 * query-over-captures tests and the benchmark evaluate filters on.
 */
import type { Entry } from '../entry/model.ts';
import { openCapture } from '../tap/capture/open.ts';
import { dissectors } from '../tap/dissectors/registry.ts';
import { Pipeline } from '../tap/pipeline.ts';
import { pump } from '../tap/run.ts';
import { defaultLimits } from '../util/limits.ts';

export interface EntriesOptions {
  /** Emit L4 records for every connection/flow (as `dissect --l4`). */
  l4All?: boolean;
  /** Extra server ports per dissector id (`tap.portMapping`). */
  portMapping?: Record<string, number[]>;
}

export async function entriesFromCapture(file: string, o: EntriesOptions = {}): Promise<Entry[]> {
  const out: Entry[] = [];
  const pipeline = new Pipeline(
    {
      dissectors,
      portMapping: o.portMapping ?? {},
      limits: defaultLimits,
      node: { name: 'node-1', ip: '10.0.0.1' },
      worker: 'node-1',
      captureSource: 'pcap_file',
      l4All: o.l4All ?? false,
    },
    (e) => out.push(e),
  );
  try {
    await pump(openCapture(file), pipeline);
  } finally {
    pipeline.end();
  }
  return out;
}
