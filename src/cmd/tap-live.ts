/**
 * `tap --local`: this machine's interfaces through the capture process (src/tap/capture/live.ts),
 * as a worker source. Its own dashboard port is left out of the capture: otherwise every entry
 * streamed to the dashboard or the table would be captured again as WebSocket traffic, which
 * would be streamed again — a loop.
 */
import { openLiveSource, type WorkerSource } from '../worker/index.ts';

export interface LiveSourceOptions {
  /** Interfaces (default: all, tcpdump's `any`). */
  interfaces: readonly string[];
  /** `tap.bpfOverride`: a capture filter ('' = everything). */
  bpf: string;
  /** The dashboard's port, excluded from the capture. */
  ownPort: number;
  /** Kernel capture buffer per interface in bytes (`tap.capture.bufferSize`). */
  bufferBytes?: number;
  /** The tcpdump program (tests: a wrapper such as `ip netns exec NS tcpdump`). */
  tcpdump?: string | readonly string[];
}

/** The BPF filter: the user's, without our own port. */
export function liveFilter(bpf: string, ownPort: number): string {
  const self = `not (tcp port ${ownPort})`;
  return bpf.trim() ? `(${bpf.trim()}) and ${self}` : self;
}

/**
 * Starts capturing and resolves once every interface is capturing; rejects with the capture
 * module's error (tcpdump missing, no privilege, unknown interface, bad filter).
 */
export async function openLiveSources(o: LiveSourceOptions): Promise<WorkerSource[]> {
  const source = await openLiveSource({
    ...(o.interfaces.length > 0 && { interfaces: o.interfaces }),
    bpf: liveFilter(o.bpf, o.ownPort),
    ...(o.bufferBytes !== undefined && { bufferBytes: o.bufferBytes }),
    ...(o.tcpdump !== undefined && { tcpdump: o.tcpdump }),
  });
  return [source];
}
