/**
 * `tap --local`: this machine's interfaces through the capture process (src/tap/capture/live.ts),
 * as a worker source. Its own dashboard port is left out of the capture: otherwise every entry
 * streamed to the dashboard or the table would be captured again as WebSocket traffic, which
 * would be streamed again — a loop.
 */
import { openLiveCapture } from '../tap/capture/live.ts';
import { liveSource, type WorkerSource } from '../worker/index.ts';

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
  const cap = openLiveCapture({
    interfaces: o.interfaces.length > 0 ? o.interfaces : undefined,
    bpf: liveFilter(o.bpf, o.ownPort),
    ...(o.bufferBytes !== undefined && {
      bufferSizeKiB: Math.max(1, Math.round(o.bufferBytes / 1024)),
    }),
    ...(o.tcpdump !== undefined && { tcpdump: o.tcpdump }),
  });
  try {
    await cap.ready();
  } catch (err) {
    await cap.close();
    throw err;
  }
  return [liveSource(cap)];
}
