/** Drives a PacketSource through a Pipeline (the same loop for files and live capture). */
import type { Entry } from '../entry/model.ts';
import { defaultLimits } from '../util/limits.ts';
import { openCapture } from './capture/open.ts';
import type { PacketSink, PacketSource } from './capture/types.ts';
import { dissectors } from './dissectors/registry.ts';
import { pipelineOptions } from './options.ts';
import { Pipeline } from './pipeline.ts';

/**
 * Feeds every packet of `source` to `pipeline`. Errors from the source (a truncated or corrupt
 * capture) propagate after every packet before the damage was processed; the caller decides
 * whether to call `pipeline.end()` (it should: entries before the damage are still true).
 * `afterBatch` lets the consumer apply backpressure (e.g. wait for stdout to drain); `sink`
 * gets every raw packet first, in capture order (none: nothing extra per packet).
 */
export async function pump(
  source: PacketSource,
  pipeline: Pipeline,
  afterBatch?: () => Promise<void> | undefined,
  sink?: PacketSink,
): Promise<void> {
  for await (const batch of source.packets()) {
    if (sink) {
      for (const pkt of batch) {
        sink.packet(pkt);
        pipeline.packet(pkt);
      }
    } else for (const pkt of batch) pipeline.packet(pkt);
    const wait = afterBatch?.();
    if (wait) await wait;
  }
}

export interface CollectOptions {
  /** Emit L4 records for every connection/flow (as `dissect --l4`). */
  l4All?: boolean;
  /** Extra server ports per dissector id (`tap.portMapping`). */
  portMapping?: Record<string, number[]>;
  /** Node recorded on the entries (default `node-1`, 10.0.0.1). */
  node?: { name: string; ip: string };
}

/**
 * Every entry of a capture file through the real pipeline (all dissectors, default limits),
 * collected in memory: for tests, benchmarks and tools that work on a capture's entries.
 */
export async function entriesFromCapture(file: string, o: CollectOptions = {}): Promise<Entry[]> {
  const out: Entry[] = [];
  const node = o.node ?? { name: 'node-1', ip: '10.0.0.1' };
  const pipeline = new Pipeline(
    pipelineOptions(
      {
        limits: defaultLimits,
        portMapping: o.portMapping ?? {},
        enabledDissectors: dissectors.map((d) => d.id),
      },
      { node, captureSource: 'pcap_file', l4All: o.l4All ?? false },
    ),
    (e) => out.push(e),
  );
  try {
    await pump(openCapture(file), pipeline);
  } finally {
    pipeline.end();
  }
  return out;
}
