/**
 * `kubeshark tap --local | --pcap FILE...`: worker, hub and front in one process on the local
 * machine. The worker captures (live) or replays (files) into its store; the hub serves the API
 * over it; the front serves the dashboard and the API on one port. The terminal gets the same
 * live stream the dashboard gets (`/api/stream` through ApiClient): a live table on a terminal,
 * one KFL JSON view per line otherwise. Runs until `until` settles or the user quits the table.
 *
 * Dependencies come in as parameters (the UI loader, the browser opener, live capture) so tests
 * run the real servers in-process without a terminal, a browser or privileges.
 */
import { checkCaptureFile } from '../tap/capture/open.ts';
import { KflCompiler } from '../api/kfl.ts';
import { accessPolicyOf } from '../api/origin.ts';
import type { ConfigTree } from '../config/load.ts';
import { createFront, type Front } from '../front/server.ts';
import { createHub, type Hub } from '../hub/index.ts';
import { ExitCode, KsError } from '../util/errors.ts';
import { createWorker, fileSource, type Worker, type WorkerSource } from '../worker/index.ts';
import type { PacketSource } from '../tap/capture/types.ts';
import { createLocalResolver, enrichEntry, type LocalResolver } from '../enrich/index.ts';
import { createRedactor, redactionConfig } from '../redact/index.ts';
import type { Endpoint, Entry } from '../entry/model.ts';
import {
  openInBrowser,
  openReplayView,
  openTapView,
  type LiveView,
  type ReplayView,
  type TapTerminal,
} from './tap-view.ts';

export { TAP_JSONL_MAX_PENDING_BYTES } from './tap-view.ts';
/** How long to wait for the live stream to reach the worker before replay starts anyway. */
export const TAP_STREAM_READY_TIMEOUT_MS = 5000;

export interface TapLocalOptions extends TapTerminal {
  /** Capture files to replay (`--pcap`); empty with `live`. */
  files: string[];
  /**
   * Opens the live capture sources (`--local`), given the dashboard's port to leave out; the
   * capture module's errors (no tcpdump, no privilege…) pass through before the URL is printed.
   */
  live?: (ownPort: number) => Promise<WorkerSource[]>;
  host: string;
  /** 0 = any free port (the URL printed says which). */
  port: number;
  /** Store directory kept after exit; undefined: a temporary one removed on exit. */
  storeDir?: string;
  config: ConfigTree;
}

export interface TapResult {
  url: string;
  /** Non-zero when a source failed (it was reported when it happened). */
  exitCode: number;
}

/** Fails before anything starts: a bad filter (with its position) or a missing file. */
export function validateTap(o: Pick<TapLocalOptions, 'files' | 'filter' | 'config'>): void {
  if (o.filter.trim()) {
    KflCompiler.fromConfig(o.config).compile(o.filter);
  }
  for (const f of o.files) {
    if (f === '-') throw new KsError('KS_ERR_USAGE', '--pcap reads files, not stdin (-)');
    checkCaptureFile(f);
  }
}

/** The URL a browser on this machine uses for `host`. */
export function urlHost(host: string): string {
  if (host === '' || host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

export async function runTapLocal(o: TapLocalOptions): Promise<TapResult> {
  validateTap(o);
  if (o.output === 'table' && !o.loadUi) throw new KsError('KS_ERR_INTERNAL', 'table without UI');
  const say = (line: string) => {
    if (!o.quiet) o.stderr.write(`kubeshark: ${line}\n`);
  };
  let view: LiveView | undefined;
  /** Problems while running: a line on stderr, or the table's notice line. */
  const problem = (line: string) => {
    if (view) view.problem(line);
    else o.stderr.write(`kubeshark: ${line}\n`);
  };
  let sources: WorkerSource[] = [];
  let worker: Worker | undefined;
  let hub: Hub | undefined;
  let front: Front | undefined;
  let resolver: LocalResolver | undefined;
  try {
    // Live on this machine: each socket's process names the endpoints (/proc). Capture files come
    // from elsewhere, so local processes say nothing about them.
    if (o.live) resolver = createLocalResolver();
    const local = resolver;
    worker = await createWorker({
      config: o.config,
      storeDir: o.storeDir,
      log: (line) => problem(line.replace(/^worker: /, '')),
      ...(local
        ? {
            enrich: (e: Entry) => enrichEntry(e, local),
            // Looked up at the connection's first packet: a short-lived client is gone by the
            // time its call is complete.
            onFlowStart: (t: 'tcp' | 'udp', a: Endpoint, b: Endpoint) =>
              local.prefetchFlow(t, a, b),
          }
        : {}),
      // Secrets are replaced before anything is stored (`tap.redaction.*`), as in the worker.
      redact: createRedactor(redactionConfig(o.config)),
    });
    hub = createHub({ workers: [{ name: worker.node, worker }], config: o.config });
    front = createFront({ hub: hub.api, access: accessPolicyOf(o.config) });
    const port = await front.listen(o.port, o.host);
    if (o.live) sources = await o.live(port);
    const url = `http://${urlHost(o.host)}:${port}`;
    // Always printed (also with -q): it is how to reach the dashboard, and with --port 0 the
    // only way to learn the port.
    o.stderr.write(`kubeshark: dashboard at ${url}\n`);
    if (front.assets.kind === 'none')
      say(`the dashboard is not built (npm run build); the API works`);
    await hub.ready;

    const w = worker;
    // Replayed files as jsonl: printed from the worker itself, and the files wait for stdout
    // (nothing is dropped). Live capture goes through the stream as the dashboard sees it (and
    // may drop for a slow stdout, counted).
    let replay: ReplayView | undefined;
    if (o.output === 'jsonl' && !o.live) {
      replay = openReplayView({
        subscribe: (push) => w.subscribe(o.filter, 'full', push),
        stdout: o.stdout,
        stderr: o.stderr,
      });
      view = replay;
    } else {
      view = await openTapView(url, o, {
        // Until the stream's first status message: what the hub knows now.
        initialWorkers: {
          up: hub.workers().filter((x) => x.up).length,
          down: hub
            .workers()
            .filter((x) => !x.up)
            .map((x) => x.name),
        },
      });
    }
    const v = view;

    // Sources start once the stream reaches the worker, so the output misses nothing.
    await v.hello;
    if (!replay) await upstreamReady(hub, TAP_STREAM_READY_TIMEOUT_MS);
    const room = replay ? replay.room.bind(replay) : undefined;
    const files = o.files.map((f) => (room ? paced(fileSource(f), room) : fileSource(f)));
    // A source that fails is reported through the worker's log (above) and its health.
    const runs = [...sources, ...files].map((src) => w.addSource(src));
    if (o.files.length > 0) {
      void Promise.all(runs).then(() => {
        if (!w.health().ok) return;
        const c = w.counters();
        const line = `replayed ${o.files.length === 1 ? o.files[0] : `${o.files.length} files`}: ${c.entries} entries; serving ${url} until Ctrl-C`;
        if (v.table) v.table.setStatus({ notice: line });
        else say(line);
      });
    }
    openInBrowser(url, o.openBrowser, problem);

    await v.run(o.until);
    await v.finish();
    // A source that failed (reported when it happened): a capture file that could not be read
    // through is an input error, a live capture that stopped a failure.
    const exitCode = w.health().ok
      ? ExitCode.ok
      : o.files.length > 0
        ? ExitCode.input
        : ExitCode.failure;
    return { url, exitCode };
  } finally {
    view?.close();
    await front?.close();
    await hub?.close();
    await worker?.close();
    for (const src of sources) await src.stop?.();
    resolver?.close();
  }
}

/**
 * A file source that waits for `room` after each batch of packets it hands over (a replay's
 * output that is behind): the reader, not the output, gives way.
 */
function paced(src: WorkerSource, room: () => Promise<void> | undefined): WorkerSource {
  const inner = src.source;
  const source: PacketSource = {
    name: inner.name,
    info: () => inner.info(),
    async *packets() {
      for await (const batch of inner.packets()) {
        yield batch;
        const wait = room();
        if (wait) await wait;
      }
    },
  };
  return { ...src, source };
}

/** Waits until the hub's stream client has its upstream to the worker (or the timeout). */
async function upstreamReady(hub: Hub, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (hub.streamClients().some((c) => c.upstreams > 0)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}
