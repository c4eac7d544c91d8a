/** Run totals of a pipeline, and how totals of several runs (files, shards) add up. */

/** What a pipeline counted over its run (`Pipeline.summary()`), or several runs added up. */
export interface PipelineSummary {
  packets: number;
  bytes: number;
  decoded: number;
  skipped: Record<string, number>;
  tcpConnections: number;
  udpFlows: number;
  entries: Record<string, number>;
  gaps: number;
  gapBytes: number;
  violations: number;
  detached: number;
  limitsHit: Record<string, number>;
}

export function emptySummary(): PipelineSummary {
  return {
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
}

/**
 * Adds `s` into `into`. With `flowsOnly`, packet-level counts (packets, bytes, decoded, skipped)
 * are left alone: shards of one file each read every packet, so those are taken once.
 */
export function addSummary(
  into: PipelineSummary,
  s: PipelineSummary,
  flowsOnly = false,
): PipelineSummary {
  if (!flowsOnly) {
    into.packets += s.packets;
    into.bytes += s.bytes;
    into.decoded += s.decoded;
    for (const [k, v] of Object.entries(s.skipped)) into.skipped[k] = (into.skipped[k] ?? 0) + v;
  }
  for (const k of [
    'tcpConnections',
    'udpFlows',
    'gaps',
    'gapBytes',
    'violations',
    'detached',
  ] as const) {
    into[k] += s[k];
  }
  for (const key of ['entries', 'limitsHit'] as const) {
    for (const [k, v] of Object.entries(s[key])) into[key][k] = (into[key][k] ?? 0) + v;
  }
  return into;
}
