/** One-line-per-topic summary printed on stderr after a dissect run. */
import type { PipelineSummary } from '../tap/pipeline.ts';
import { BYTES, formatBytes } from '../util/format.ts';

export function formatSummary(s: PipelineSummary, seconds: number, files: number): string {
  const entries = Object.entries(s.entries)
    .sort((a, b) => b[1] - a[1])
    .map(([p, n]) => `${p} ${n}`)
    .join(', ');
  const total = Object.values(s.entries).reduce((a, b) => a + b, 0);
  const skipped = Object.entries(s.skipped)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const limits = Object.entries(s.limitsHit)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const lines = [
    `files: ${files}  packets: ${s.packets}  bytes: ${formatBytes(s.bytes, BYTES)}  seconds: ${seconds.toFixed(3)}`,
    `connections: tcp ${s.tcpConnections}, udp flows ${s.udpFlows}`,
    `entries: ${total}${entries ? ` (${entries})` : ''}`,
    `gaps: ${s.gaps} (${formatBytes(s.gapBytes, BYTES)})  violations: ${s.violations}  detached: ${s.detached}`,
    `limits hit: ${limits || 'none'}`,
  ];
  if (skipped) lines.push(`not decoded: ${skipped}`);
  return lines.join('\n');
}
