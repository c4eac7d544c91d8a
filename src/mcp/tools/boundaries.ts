/**
 * The time range the data covers: get_l7_data_boundaries (dissected entries) and
 * get_data_boundaries (raw capture).
 */
import type { Boundaries } from '../../api/types.ts';
import { bytes, isoOfUs, table, timeOfUs } from '../format.ts';
import { unavailableNote } from './shared.ts';
import { tool } from './tool.ts';

function boundariesData(b: Boundaries): Record<string, unknown> {
  return {
    oldest: timeOfUs(b.oldest),
    newest: timeOfUs(b.newest),
    entries: b.entries,
    nodes: b.nodes.map((n) => ({
      node: n.node,
      oldest: timeOfUs(n.oldest),
      newest: timeOfUs(n.newest),
      entries: n.entries,
      bytes: n.bytes,
    })),
    ...(b.unavailable ? { unavailable: b.unavailable } : {}),
  };
}

export const l7Boundaries = tool({
  name: 'get_l7_data_boundaries',
  title: 'Time range of dissected data',
  description:
    'Oldest and newest dissected entry, cluster-wide and per node (UTC ISO-8601 and Unix ms): the window list_api_calls and get_api_stats can see.',
  inputSchema: {},
  async run(_args, ctx) {
    const b = await (await ctx.api()).boundaries();
    const text = [
      `Cluster: ${b.entries} entries from ${isoOfUs(b.oldest)} to ${isoOfUs(b.newest)}${b.oldest !== null ? ` (ms ${Math.floor(b.oldest / 1000)} – ${Math.floor(b.newest! / 1000)})` : ''}`,
      table(
        ['NODE', 'OLDEST (UTC)', 'NEWEST (UTC)', 'ENTRIES', 'STORE'],
        b.nodes.map((n) => [
          n.node,
          isoOfUs(n.oldest),
          isoOfUs(n.newest),
          n.entries,
          bytes(n.bytes),
        ]),
      ),
    ].join('\n');
    return { text: text + unavailableNote(b.unavailable), data: boundariesData(b) };
  },
});

export const dataBoundaries = tool({
  name: 'get_data_boundaries',
  title: 'Time range of raw capture',
  description:
    'Oldest and newest raw captured packets, cluster-wide and per node, with what each node captured.',
  inputSchema: {},
  async run(_args, ctx) {
    const api = await ctx.api();
    const [health, b] = await Promise.all([api.health(), api.boundaries()]);
    const byNode = new Map(b.nodes.map((n) => [n.node, n]));
    const nodes = (health.workers ?? []).map((w) => {
      const n = w.node !== undefined ? byNode.get(w.node) : undefined;
      return {
        node: w.node ?? w.name,
        worker: w.name,
        up: w.up,
        // No raw-packet ring in this build: only the dissected window is known.
        raw_oldest: null,
        raw_newest: null,
        received_packets: w.capture?.receivedPackets ?? null,
        processed_bytes: w.capture?.processedBytes ?? null,
        sources: w.capture?.sources ?? [],
        dissected_oldest: timeOfUs(n?.oldest),
        dissected_newest: timeOfUs(n?.newest),
      };
    });
    const text = [
      'Raw capture: workers in this build keep dissected entries and L4 records, not a raw-packet ring, so raw boundaries are null; the dissected window per node is below (what every query can see).',
      table(
        ['NODE', 'STATE', 'PACKETS', 'BYTES', 'DISSECTED FROM (UTC)', 'TO (UTC)', 'SOURCES'],
        nodes.map((n) => [
          n.node,
          n.up ? 'up' : 'down',
          n.received_packets,
          n.processed_bytes === null ? null : bytes(n.processed_bytes),
          n.dissected_oldest?.iso,
          n.dissected_newest?.iso,
          n.sources.join(' '),
        ]),
      ),
    ].join('\n');
    return {
      text,
      data: {
        raw_capture: false,
        oldest: null,
        newest: null,
        dissected: { oldest: timeOfUs(b.oldest), newest: timeOfUs(b.newest) },
        nodes,
      },
    };
  },
});
