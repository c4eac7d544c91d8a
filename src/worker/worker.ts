/**
 * The worker role: packet sources → Pipeline → ingest stages (targeting, enrichment, redaction,
 * store, publish: src/worker/ingest.ts) → EntryStore, and the HTTP + WebSocket API over that
 * store for one node. Files are replayed at full speed (only the store's write backlog slows
 * them) and the worker keeps serving afterwards; live sources run until the worker closes.
 * Every source gets its own Pipeline (flows never span sources), all numbering entries from one
 * counter that continues the store's ids, so ids stay unique and increasing across sources and
 * restarts.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KflCompiler } from '../api/kfl.ts';
import { guardHandlers } from '../api/routes.ts';
import { accessPolicyOf, inClusterEnv, type AccessPolicy } from '../api/origin.ts';
import { RoleServer, createApiServer, nodeApi, type NodeApi } from '../api/server.ts';
import { STREAM_STATUS_INTERVAL_MS, type PeerStats } from '../api/stream.ts';
import { API_VERSION, type CaptureCounters, type EntryView, type Health } from '../api/types.ts';
import { getPath, defaultConfig, parseSize, type ConfigTree } from '../config/load.ts';
import { tapSettings, type TapSettings } from '../config/tap.ts';
import type { CaptureSource, Entry } from '../entry/model.ts';
import type { ViewBuilder } from '../entry/view.ts';
import { buildView } from '../tap/records.ts';
import { DEFAULT_MAX_BYTES, EntryStore } from '../store/store.ts';
import { openLiveCapture, type LiveCapture, type LiveCaptureOptions } from '../tap/capture/live.ts';
import { openCapture } from '../tap/capture/open.ts';
import type { PacketSink, PacketSource } from '../tap/capture/types.ts';
import { dissectors } from '../tap/dissectors/registry.ts';
import { enabledDissectors, pipelineOptions, type PipelineOptions } from '../tap/options.ts';
import { Pipeline } from '../tap/pipeline.ts';
import { pump } from '../tap/run.ts';
import { addSummary, emptySummary, type PipelineSummary } from '../tap/summary.ts';
import { KsError } from '../util/errors.ts';
import { version } from '../util/version.ts';
import { Broadcaster, type Subscription } from './broadcast.ts';
import type { HoldHooks } from './hold.ts';
import {
  Ingest,
  hookStage,
  publishStage,
  storeStage,
  targetStage,
  type IngestStage,
  type StoreStage,
  type TargetStage,
} from './ingest.ts';
import { workerHandlers } from './routes.ts';

/** How often live pipelines get a wall-clock tick (idle flows are flushed without packets). */
export const WORKER_TICK_MS = 1000;
/** How long `close()` waits for live sources to stop before closing the store anyway. */
export const WORKER_STOP_GRACE_MS = 2000;

/** Something the worker reads packets from: a capture file or a live capture. */
export interface WorkerSource {
  /** What is read (file path, interface name), as shown in `CaptureCounters.sources`. */
  name: string;
  source: PacketSource;
  /** Live sources run until stopped; file sources end, one after another, in order. */
  live: boolean;
  captureSource: CaptureSource;
  /** Drop counters reported by a live capture (kernel, interface). */
  drops?(): { dropped: number; ifDropped: number };
  /** Stops a live capture: its `packets()` then ends. */
  stop?(): void | Promise<void>;
}

/** A capture file replayed at full speed. */
export function fileSource(path: string): WorkerSource {
  return { name: path, source: openCapture(path), live: false, captureSource: 'pcap_file' };
}

/**
 * Starts a live capture and resolves its source once every interface is capturing; rejects with
 * the capture module's error (no tcpdump, no privilege, no such interface, bad filter), leaving
 * nothing running. `bufferBytes`: the kernel buffer per interface (`tap.capture.bufferSize`).
 */
export async function openLiveSource(
  opts: Omit<LiveCaptureOptions, 'bufferSizeKiB'> & { bufferBytes?: number },
): Promise<WorkerSource> {
  const { bufferBytes, ...rest } = opts;
  const capture = openLiveCapture({
    ...rest,
    ...(bufferBytes !== undefined && {
      bufferSizeKiB: Math.max(1, Math.round(bufferBytes / 1024)),
    }),
  });
  try {
    await capture.ready();
  } catch (err) {
    await capture.close().catch(() => undefined);
    throw err;
  }
  return liveSource(capture);
}

/** A live capture (tcpdump on interfaces): runs until the worker closes; kernel drops counted. */
export function liveSource(capture: LiveCapture): WorkerSource {
  return {
    name: capture.interfaces.join(','),
    source: capture,
    live: true,
    captureSource: 'af_packet',
    drops: () => {
      const s = capture.stats();
      return { dropped: s.dropped, ifDropped: s.ifDropped };
    },
    stop: () => capture.close(),
  };
}

export interface WorkerOptions {
  /** Node name recorded on entries and answered by the API (default: config `node.name`, host name). */
  node?: string;
  /** The resolved config (dissectors, port mapping, limits, macros, dbMaxSize); default: defaults. */
  config?: ConfigTree;
  /** Hosts and proxies the gate accepts (default: `accessPolicyOf(config)`, src/api/origin.ts). */
  access?: AccessPolicy;
  /** Store directory; default: a fresh temporary directory removed on close. */
  storeDir?: string;
  /** Store size before FIFO eviction (default `tap.capture.dbMaxSize`). */
  storeMaxBytes?: number;
  sources?: WorkerSource[];
  /** An L4 record for every connection and flow (as `dissect --l4`). */
  l4All?: boolean;
  /**
   * Runs first on each entry (L7 calls and L4 records); false drops it before anything else, as
   * Kubernetes pod targeting does (counted in `targetDropped`). One that throws keeps the entry.
   */
  filter?: (e: Entry) => boolean;
  /**
   * With `filter`: entries it drops that may yet be kept wait for their identity (HeldEntries):
   * `unresolved` says whether one may, `version` changes when the identity table does.
   */
  hold?: Pick<HoldHooks, 'unresolved' | 'version'>;
  /** Runs on each entry before it is stored (Kubernetes / process identity). */
  enrich?: (e: Entry) => void;
  /** Gets every raw packet of every source before dissection (the raw capture ring plugs in). */
  packetSink?: PacketSink;
  /**
   * Live sources only: each new connection's or flow's endpoints when its first packet is seen,
   * before dissection (the local resolver looks up the sockets' processes while they exist).
   */
  onFlowStart?: PipelineOptions['onFlowStart'];
  /** Runs on each entry before it is stored, after `enrich`; an entry it throws on is dropped. */
  redact?: (e: Entry) => void;
  /** Status/problem lines (default: none). */
  log?: (line: string) => void;
}

/** The worker handle: in-process API, listen/close, counters. */
export interface Worker {
  readonly node: string;
  readonly store: EntryStore;
  /** The API without HTTP (what an in-process hub calls). */
  readonly api: NodeApi;
  /** Resolves when the sources given at creation that are files have all been read. */
  readonly replayed: Promise<void>;
  /** Starts serving the API; resolves the bound port. */
  listen(port?: number, host?: string): Promise<number>;
  /** Adds a source; resolves when it ends (a file: read through). */
  addSource(s: WorkerSource): Promise<void>;
  /**
   * Stores an entry as if this worker captured it (its node, its next id; hooks run); returns
   * the id, 0 if dropped.
   */
  ingest(e: Entry): number;
  /** A live subscription without WebSocket (throws KflError on a bad filter). */
  subscribe(q: string, view: EntryView, push: (text: string) => void): Subscription;
  counters(): CaptureCounters;
  health(): Health;
  /** Per WebSocket stream client: queue, socket buffer, drops. */
  streamClients(): PeerStats[];
  close(): Promise<void>;
}

class Stopped extends Error {}

/** Temporary stores (no `storeDir`) are `<tmpdir>/kubeshark-worker-XXXXXX`. */
const TEMP_STORE_PREFIX = 'kubeshark-worker-';
/** A temporary store without a LOCK file this old is a leftover, not one being created. */
const STALE_UNLOCKED_MS = 60_000;

/**
 * Removes temporary stores left by workers that were killed (their LOCK names a process that is
 * gone), so that crashed runs do not accumulate in the temporary directory.
 */
function removeStaleTempStores(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir()).filter((n) => n.startsWith(TEMP_STORE_PREFIX));
  } catch {
    return;
  }
  for (const n of names) {
    const dir = join(tmpdir(), n);
    try {
      const lock = join(dir, 'LOCK');
      let stale: boolean;
      if (existsSync(lock)) {
        const pid = Number(readFileSync(lock, 'utf8').trim());
        stale = Number.isInteger(pid) && pid > 0 && !processAlive(pid);
      } else {
        stale = Date.now() - statSync(dir).mtimeMs > STALE_UNLOCKED_MS;
      }
      if (stale) rmSync(dir, { recursive: true, force: true });
    } catch {
      // Another process's, or gone meanwhile: leave it.
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A Pipeline numbering entries from the worker's counter. */
class WorkerPipeline extends Pipeline {
  constructor(
    opts: PipelineOptions,
    sink: (e: Entry) => void,
    private readonly nextId: () => number,
  ) {
    super(opts, sink);
  }
  override takeEntryId(): number {
    return this.nextId();
  }
}

export async function createWorker(opts: WorkerOptions = {}): Promise<Worker> {
  const config = opts.config ?? defaultConfig();
  const settings = tapSettings(
    config,
    dissectors.map((d) => d.id),
  );
  const node = opts.node || settings.nodeName;
  // Config errors (macros) before anything is opened.
  const compiler = KflCompiler.fromConfig(config);
  let dir = opts.storeDir;
  let tempDir: string | undefined;
  if (dir === undefined) {
    removeStaleTempStores();
    dir = tempDir = mkdtempSync(join(tmpdir(), TEMP_STORE_PREFIX));
  }
  const maxBytes =
    opts.storeMaxBytes ??
    parseSize(String(getPath(config, 'tap.capture.dbMaxSize'))) ??
    DEFAULT_MAX_BYTES;
  let store: EntryStore;
  try {
    store = await EntryStore.open(dir, { maxBytes, log: (l) => opts.log?.(`worker: ${l}`) });
  } catch (err) {
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    throw err;
  }
  return new WorkerImpl(node, opts, settings, store, compiler, tempDir);
}

class WorkerImpl implements Worker {
  readonly api: NodeApi;
  readonly replayed: Promise<void>;
  private readonly view: ViewBuilder;
  private readonly broadcast: Broadcaster;
  private readonly startedAt = Date.now() * 1000;
  private nextId: number;
  private streamDropped = 0;
  /** The entry path: an ordered list of stages (ingestStages), each counted. */
  private readonly ingestPath: Ingest;
  private readonly target: TargetStage | undefined;
  private readonly storing: StoreStage;
  /** The store stage's live counters (its `passed`: entries stored). */
  private readonly storeTally: Readonly<{ passed: number }>;
  private readonly problems: string[] = [];
  private readonly sources: WorkerSource[] = [];
  private readonly active = new Set<WorkerPipeline>();
  /** The pipelines of live sources (ticked on the wall clock). */
  private readonly live = new Set<WorkerPipeline>();
  private finished: PipelineSummary = emptySummary();
  /** File sources run one after another on this chain. */
  private fileChain: Promise<void> = Promise.resolve();
  private readonly running = new Set<Promise<void>>();
  private readonly server = new RoleServer('worker', () =>
    createApiServer(
      this.api,
      this.opts.access ??
        accessPolicyOf(this.opts.config ?? defaultConfig(), { inCluster: inClusterEnv() }),
    ),
  );
  private readonly statusTimer: NodeJS.Timeout;
  private tickTimer: NodeJS.Timeout | undefined;
  private lastRate = { at: Date.now(), stored: 0, perSec: 0 };
  private closing = false;
  private closed = false;

  constructor(
    readonly node: string,
    private readonly opts: WorkerOptions,
    private readonly settings: TapSettings,
    readonly store: EntryStore,
    compiler: KflCompiler,
    private readonly tempDir: string | undefined,
  ) {
    this.view = buildView(enabledDissectors(this.settings));
    this.nextId = Math.floor(store.newestId) + 1;
    this.broadcast = new Broadcaster(compiler, this.view, (n) => (this.streamDropped += n));
    const ctx = {
      node,
      store,
      compiler,
      view: this.view,
      health: () => this.health(),
    };
    this.api = nodeApi({
      role: 'worker',
      handlers: guardHandlers(workerHandlers(ctx), () => {
        if (this.closing)
          throw new KsError('KS_ERR_UNAVAILABLE', `worker ${node} is shutting down`);
      }),
      stream: this.broadcast,
    });
    if (opts.filter) {
      this.target = targetStage({
        keep: opts.filter,
        ...(opts.hold && { hold: opts.hold }),
        // Numbered as it is stored: entries that came meanwhile were stored first.
        renumber: (e) => ({ ...e, id: this.takeId() }),
      });
    }
    this.storing = storeStage(
      (e) => this.store.append(e),
      (id) => {
        if (id >= this.nextId) this.nextId = id + 1;
      },
    );
    this.ingestPath = new Ingest(this.ingestStages());
    this.storeTally = this.ingestPath.tally('store')!;
    this.statusTimer = setInterval(() => this.status(), STREAM_STATUS_INTERVAL_MS);
    this.statusTimer.unref();
    for (const s of opts.sources ?? []) void this.addSource(s);
    this.replayed = this.fileChain;
  }

  // ---------------------------------------------------------------- ingest

  /**
   * The entry path, in order. Each stage passes an entry on, drops it or holds it (and says what
   * a throw means); the runner (Ingest) counts each one. A new step is one more object here.
   */
  private ingestStages(): IngestStage[] {
    const { enrich, redact } = this.opts;
    return [
      // Pod targeting first: nothing else is spent on entries this node does not keep.
      ...(this.target ? [this.target] : []),
      // Identity is best-effort: an entry whose enrichment failed is still stored.
      ...(enrich ? [hookStage('enrich', enrich, 'keep')] : []),
      // Never store what could not be redacted.
      ...(redact ? [hookStage('redact', redact, 'drop')] : []),
      this.storing,
      publishStage((e) => this.broadcast.publish(e)),
    ];
  }

  private takeId = (): number => this.nextId++;

  private get stored(): number {
    return this.storeTally.passed;
  }

  private accept = (e: Entry): void => {
    if (this.closed) return;
    this.ingestPath.push(e);
  };

  ingest(e: Entry): number {
    const before = this.stored;
    const node = { name: this.node, ip: '' };
    this.accept({ ...e, id: this.takeId(), node_id: this.node, worker: this.node, node });
    return this.stored > before ? this.store.newestId : 0;
  }

  subscribe(q: string, view: EntryView, push: (text: string) => void): Subscription {
    return this.broadcast.subscribe(q, view, push);
  }

  addSource(s: WorkerSource): Promise<void> {
    if (this.closing) return Promise.resolve(s.stop?.()).catch(() => undefined);
    this.sources.push(s);
    let p: Promise<void>;
    if (s.live) {
      p = this.run(s);
      this.startTicks();
    } else {
      p = this.fileChain = this.fileChain.then(() => (this.closing ? undefined : this.run(s)));
    }
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
    return p;
  }

  private async run(s: WorkerSource): Promise<void> {
    const p = new WorkerPipeline(
      pipelineOptions(this.settings, {
        node: { name: this.node, ip: '' },
        captureSource: s.captureSource,
        l4All: this.opts.l4All ?? false,
        onFlowStart: s.live ? this.opts.onFlowStart : undefined,
      }),
      this.accept,
      this.takeId,
    );
    this.active.add(p);
    if (s.live) this.live.add(p);
    try {
      await pump(
        s.source,
        p,
        () => {
          if (this.closing) throw new Stopped();
          return this.store.waitForRoom();
        },
        this.opts.packetSink,
      );
    } catch (err) {
      if (!(err instanceof Stopped)) {
        const msg = `${s.name}: ${err instanceof Error ? err.message : String(err)}`;
        this.problems.push(msg);
        this.opts.log?.(`worker: source failed: ${msg}`);
      }
    } finally {
      // Entries before the end (or the damage) are still true: flush them.
      p.end();
      this.active.delete(p);
      this.live.delete(p);
      this.finished = addSummary(this.finished, p.summary());
    }
  }

  /** Wall-clock ticks for live pipelines: quiet connections are flushed without packets. */
  private startTicks(): void {
    if (this.tickTimer) return;
    this.tickTimer = setInterval(() => {
      const now = Date.now() * 1000;
      for (const p of this.live) p.tick(now);
    }, WORKER_TICK_MS);
    this.tickTimer.unref();
  }

  // ---------------------------------------------------------------- status

  private status(): void {
    const now = Date.now();
    const dt = (now - this.lastRate.at) / 1000;
    if (dt > 0) {
      this.lastRate = {
        at: now,
        stored: this.stored,
        perSec: (this.stored - this.lastRate.stored) / dt,
      };
    }
    const perSec = Math.round(this.lastRate.perSec * 10) / 10;
    this.broadcast.each((peer) => {
      peer.poke();
      peer.control({
        type: 'status',
        entriesPerSec: perSec,
        workersUp: 1,
        workersDown: [],
        dropped: peer.dropped,
      });
    });
  }

  counters(): CaptureCounters {
    const total = addSummary(emptySummary(), this.finished);
    let live = 0;
    for (const p of this.active) {
      addSummary(total, p.summary());
      live += p.liveTcpStreams();
    }
    let dropped = 0;
    let ifDropped = 0;
    for (const s of this.sources) {
      const d = s.drops?.();
      if (d) {
        dropped += d.dropped;
        ifDropped += d.ifDropped;
      }
    }
    return {
      sources: this.sources.map((s) => s.name),
      receivedPackets: total.packets,
      droppedPackets: dropped,
      ifDroppedPackets: ifDropped,
      processedBytes: total.bytes,
      liveTcpStreams: live,
      matchedPairs: this.storing.matchedPairs(),
      entries: this.stored,
      limitsHit: total.limitsHit,
      storeDropped: this.closed ? 0 : this.store.stats().droppedEntries,
      storeLost: this.closed ? 0 : this.store.stats().lostEntries,
      streamDropped: this.streamDropped,
      ...(this.target && { targetDropped: this.ingestPath.tally('target')!.dropped }),
      ...this.heldCounters(),
      ingest: this.ingestPath.counters(),
    };
  }

  private heldCounters(): Pick<
    CaptureCounters,
    'targetHeld' | 'targetHeldKept' | 'targetHeldExpired'
  > {
    const h = this.target?.holdStats();
    if (!h) return {};
    return {
      targetHeld: h.waiting,
      targetHeldKept: h.released,
      targetHeldExpired: h.expired + h.overflow,
    };
  }

  health(): Health {
    const problems = [...this.problems];
    for (const s of this.ingestPath.stages) {
      const n = this.ingestPath.tally(s.name)!.errors;
      if (n === 0) continue;
      const then = s.onError === 'keep' ? 'kept' : 'dropped';
      problems.push(`ingest stage ${s.name} failed ${n} times (the entries were ${then})`);
    }
    const h: Health = {
      role: 'worker',
      version: version(),
      apiVersion: API_VERSION,
      node: this.node,
      startedAt: this.startedAt,
      ok: problems.length === 0,
      capture: this.counters(),
    };
    if (problems.length > 0) h.problems = problems;
    return h;
  }

  streamClients(): PeerStats[] {
    return this.broadcast.peerStats();
  }

  // ---------------------------------------------------------------- serving

  async listen(port = 0, host?: string): Promise<number> {
    return this.server.listen(port, host);
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.statusTimer);
    if (this.tickTimer) clearInterval(this.tickTimer);
    await this.server.close();
    this.broadcast.closeAll();
    await Promise.all(this.sources.map(async (s) => s.stop?.())).catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.running]),
      new Promise<void>((r) => (timer = setTimeout(r, WORKER_STOP_GRACE_MS))),
    ]);
    clearTimeout(timer);
    this.ingestPath.close(); // a last decision for what still waits, while the store is open
    this.closed = true;
    await this.store.close();
    if (this.tempDir) rmSync(this.tempDir, { recursive: true, force: true });
  }
}
