/** The options of a Pipeline, and how they are made from the engine's part of the config. */
import type { CaptureSource, Endpoint } from '../entry/model.ts';
import type { Limits } from '../util/limits.ts';
import { dissectors } from './dissectors/registry.ts';
import type { Dissector } from './dissectors/types.ts';

export interface PipelineOptions {
  /** Enabled dissectors in detection order. */
  dissectors: readonly Dissector[];
  /** Extra server ports per dissector id (`tap.portMapping`). */
  portMapping: Readonly<Record<string, readonly number[]>>;
  limits: Readonly<Limits>;
  node: { name: string; ip: string };
  worker: string;
  captureSource: CaptureSource;
  /** Emit L4 records for every connection/flow (default: only for those without L7 entries). */
  l4All: boolean;
  /**
   * Flow-hash sharding (as Zeek and Suricata balance load): this pipeline handles only the TCP
   * connections and UDP flows whose symmetric address/port hash falls in shard `index` of
   * `count`, and numbers its entries and flows `index + 1, index + 1 + count, …` so that shards
   * never collide. Absent: everything, numbered 1, 2, 3…
   */
  shard?: { index: number; count: number };
  /** Entry ids start after this (a run over several files continues numbering). */
  idBase?: number;
  /**
   * Told the two endpoints of each new TCP connection or UDP flow when its first packet is seen,
   * before anything is dissected: an identity source that polls (the local /proc resolver) looks
   * while the sockets still exist, so a connection that closes at once is still named.
   */
  onFlowStart?: (transport: 'tcp' | 'udp', client: Endpoint, server: Endpoint) => void;
}

/**
 * The capture engine's part of the resolved config (`tap.limits`, `tap.portMapping`,
 * `tap.enabledDissectors`); config/tap.ts's TapSettings is one.
 */
export interface EngineSettings {
  limits: Readonly<Limits>;
  portMapping: Readonly<Record<string, readonly number[]>>;
  enabledDissectors: readonly string[];
}

/** What differs between the pipelines of one program: where packets come from, and numbering. */
export interface PipelineRun {
  /** Node recorded on the entries; its name is also the worker's. */
  node: { name: string; ip: string };
  captureSource: CaptureSource;
  l4All: boolean;
  shard?: PipelineOptions['shard'];
  idBase?: number;
  onFlowStart?: PipelineOptions['onFlowStart'];
}

/** The registry's dissectors that the settings enable, in detection order. */
export function enabledDissectors(
  settings: Pick<EngineSettings, 'enabledDissectors'>,
): Dissector[] {
  return dissectors.filter((d) => settings.enabledDissectors.includes(d.id));
}

/** A pipeline's options: the config's settings and the run's own. */
export function pipelineOptions(settings: EngineSettings, run: PipelineRun): PipelineOptions {
  return {
    dissectors: enabledDissectors(settings),
    portMapping: settings.portMapping,
    limits: settings.limits,
    node: run.node,
    worker: run.node.name,
    captureSource: run.captureSource,
    l4All: run.l4All,
    ...(run.shard ? { shard: run.shard } : {}),
    ...(run.idBase !== undefined ? { idBase: run.idBase } : {}),
    ...(run.onFlowStart ? { onFlowStart: run.onFlowStart } : {}),
  };
}
