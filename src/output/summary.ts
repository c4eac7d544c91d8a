/** One-line-per-topic summary printed on stderr after a dissect run. */
import type { PipelineSummary } from '../tap/pipeline.ts';

function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

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
    `files: ${files}  packets: ${s.packets}  bytes: ${fmtBytes(s.bytes)}  seconds: ${seconds.toFixed(3)}`,
    `connections: tcp ${s.tcpConnections}, udp flows ${s.udpFlows}`,
    `entries: ${total}${entries ? ` (${entries})` : ''}`,
    `gaps: ${s.gaps} (${fmtBytes(s.gapBytes)})  violations: ${s.violations}  detached: ${s.detached}`,
    `limits hit: ${limits || 'none'}`,
  ];
  if (skipped) lines.push(`not decoded: ${skipped}`);
  return lines.join('\n');
}
