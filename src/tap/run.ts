/** Drives a PacketSource through a Pipeline (the same loop for files and live capture). */
import type { PacketSource } from './capture/types.ts';
import type { Pipeline } from './pipeline.ts';

/**
 * Feeds every packet of `source` to `pipeline`. Errors from the source (a truncated or corrupt
 * capture) propagate after every packet before the damage was processed; the caller decides
 * whether to call `pipeline.end()` (it should: entries before the damage are still true).
 * `afterBatch` lets the consumer apply backpressure (e.g. wait for stdout to drain).
 */
export async function pump(
  source: PacketSource,
  pipeline: Pipeline,
  afterBatch?: () => Promise<void> | undefined,
): Promise<void> {
  for await (const batch of source.packets()) {
    for (const pkt of batch) pipeline.packet(pkt);
    const wait = afterBatch?.();
    if (wait) await wait;
  }
}
