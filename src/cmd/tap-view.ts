/**
 * The terminal side of `tap`, shared by local mode (tap-runner.ts) and cluster mode
 * (tap-cluster.ts): the live stream of a front/hub URL through ApiClient, shown as the Ink live
 * table on a terminal or as one KFL JSON view per line otherwise, until Ctrl-C, `q`, or the
 * stream ending. In cluster mode the stream runs through a port-forward that may drop (the front
 * pod replaced): `reconnect` reopens it instead of ending the run.
 */
import type { Writable } from 'node:stream';
import { ApiClient, type StreamHandle } from '../api/client.ts';
import type { EntrySummary, StreamMessage } from '../api/types.ts';
import { KsError } from '../util/errors.ts';
import type { LiveTableHandle } from '../ui/index.ts';
import type { UiModule } from './ui-loader.ts';

/**
 * jsonl bytes waiting for a slow stdout: past it, a live stream drops further entries (counted);
 * a replay (`openReplayView`) makes the capture files wait instead.
 */
export const TAP_JSONL_MAX_PENDING_BYTES = 16 * 1024 * 1024;
/** Pause before reopening a dropped live stream (cluster mode). */
export const TAP_STREAM_RECONNECT_MS = 1000;

export interface LiveViewOptions {
  client: ApiClient;
  /** The dashboard URL shown in the table's status line. */
  url: string;
  /** KFL filter for the terminal ('' = everything). */
  filter: string;
  output: 'table' | 'jsonl';
  stdout: Writable;
  stderr: Writable;
  /** The terminal UI (required for `table`). */
  loadUi?: () => Promise<UiModule>;
  /** Terminal streams for the table (default: the process's). */
  tty?: { stdin?: NodeJS.ReadStream; stdout?: NodeJS.WriteStream };
  /** Workers known before the stream's first status message. */
  initialWorkers?: { up: number; down: string[] };
  /** Reopen the stream when it closes (instead of ending the run). */
  reconnect?: boolean;
}

export interface LiveView {
  /** Resolves on the stream's first `hello` (it reached the server). */
  readonly hello: Promise<void>;
  /** The table, when drawing one. */
  readonly table: LiveTableHandle | undefined;
  /** A problem while running: the table's notice line, or a line on stderr. */
  problem(line: string): void;
  /**
   * Runs until `until` settles ('stop') or the user quits the table ('quit'); a stream that
   * ends (without `reconnect`) fails with KS_ERR_UNAVAILABLE.
   */
  run(until: Promise<unknown>): Promise<'stop' | 'quit'>;
  /** Flushes the jsonl output and reports entries that could not be printed. */
  finish(): Promise<void>;
  /** Closes the stream and the table. Idempotent. */
  close(): void;
}

/** What a `tap` run's live view takes besides the URL, local or cluster mode alike. */
export type TapViewOptions = Pick<
  LiveViewOptions,
  'filter' | 'output' | 'stdout' | 'stderr' | 'loadUi' | 'tty'
>;

/** The terminal side of a `tap` run's options, local (tap-runner) or cluster (tap-cluster). */
export interface TapTerminal extends TapViewOptions {
  quiet: boolean;
  /** Stops the run (SIGINT/SIGTERM in the command). */
  until: Promise<unknown>;
  /** Opens the dashboard in a browser; absent: not opened. */
  openBrowser?: (url: string) => Promise<unknown>;
}

/** openLiveView on the dashboard at `url` (its API client included) for a `tap` run's terminal. */
export function openTapView(
  url: string,
  t: TapViewOptions,
  more: Pick<LiveViewOptions, 'initialWorkers' | 'reconnect'>,
): Promise<LiveView> {
  return openLiveView({
    client: new ApiClient(url),
    url,
    filter: t.filter,
    output: t.output,
    stdout: t.stdout,
    stderr: t.stderr,
    loadUi: t.loadUi,
    tty: t.tty,
    ...more,
  });
}

/**
 * Opens the dashboard in a browser when `open` is given (`tap --open`), without waiting; a
 * browser that cannot be started is a problem line with the URL to open by hand, not an error.
 */
export function openInBrowser(
  url: string,
  open: ((url: string) => Promise<unknown>) | undefined,
  problem: (line: string) => void,
): void {
  if (!open) return;
  open(url).catch((e: unknown) =>
    problem(
      `could not open a browser (${e instanceof Error ? e.message : String(e)}); open ${url}`,
    ),
  );
}

/** Opens the live stream and, for `table`, draws the table (its filter checked by /api/kfl). */
export async function openLiveView(o: LiveViewOptions): Promise<LiveView> {
  if (o.output === 'table' && !o.loadUi) throw new KsError('KS_ERR_INTERNAL', 'table without UI');
  let table: LiveTableHandle | undefined;
  const problem = (line: string): void => {
    if (table) table.setStatus({ notice: line });
    else o.stderr.write(`kubeshark: ${line}\n`);
  };
  const out = o.output === 'jsonl' ? jsonlWriter(o.stdout) : undefined;
  let helloed!: () => void;
  const hello = new Promise<void>((r) => (helloed = r));
  let streamEnded!: (why: string) => void;
  const ended = new Promise<string>((r) => (streamEnded = r));
  /** Entries the server dropped for this (slow) client. */
  let serverDropped = 0;
  let filter = o.filter;
  let closing = false;
  let stream: StreamHandle | undefined;
  let retry: NodeJS.Timeout | undefined;

  const onMessage = (m: StreamMessage) => {
    switch (m.type) {
      case 'hello':
        helloed();
        break;
      case 'entry':
        if (out) out.write(m.entry);
        else table?.add(m.entry as EntrySummary);
        break;
      case 'status':
        table?.setStatus({
          workersUp: m.workersUp,
          workersDown: m.workersDown,
          entriesPerSec: m.entriesPerSec,
          dropped: m.dropped,
        });
        break;
      case 'dropped':
        serverDropped = m.total;
        table?.setStatus({ dropped: m.total });
        break;
      case 'error':
        problem(`live stream: ${m.error.message} [${m.error.code}]`);
        break;
    }
  };
  let opened = false;
  const open = (): void => {
    stream = o.client.stream({ q: filter, view: out ? 'full' : 'summary' }, onMessage, {
      onOpen: () => {
        if (opened && o.reconnect) problem('live stream reconnected');
        opened = true;
      },
      onClose: (code, reason) => {
        if (closing) return;
        const why = `live stream closed (${code}${reason ? ` ${reason}` : ''})`;
        if (!o.reconnect) return streamEnded(why);
        problem(`${why}; reconnecting`);
        retry = setTimeout(open, TAP_STREAM_RECONNECT_MS);
      },
    });
  };

  // The table first: messages that arrive before it exists (the first status) would be lost.
  if (o.output === 'table') {
    const ui = await o.loadUi!();
    table = ui.runLiveTable({
      status: {
        workersUp: o.initialWorkers?.up ?? 0,
        workersDown: o.initialWorkers?.down ?? [],
        entriesPerSec: 0,
        dropped: 0,
        paused: false,
        filter: o.filter.trim(),
        url: o.url,
      },
      stdin: o.tty?.stdin,
      stdout: o.tty?.stdout,
      onFilter: async (q) => {
        const check = await o.client.kfl(q);
        if (!check.ok) {
          const e = check.error;
          const at = e?.line !== undefined ? `${e.line}:${e.column ?? 0}: ` : '';
          return `${at}${e?.message ?? 'invalid filter'}`;
        }
        filter = q;
        stream?.setFilter(q);
        return undefined;
      },
    });
  }
  open();

  const close = (): void => {
    closing = true;
    if (retry) clearTimeout(retry);
    table?.close();
    stream?.close();
  };
  return {
    hello: Promise.race([hello, ended.then(() => undefined)]),
    get table() {
      return table;
    },
    problem,
    async run(until) {
      const stopped = await Promise.race([
        until.then(() => 'stop' as const),
        ended.then((why) => why),
        ...(table ? [table.exited.then(() => 'quit' as const)] : []),
      ]);
      if (stopped !== 'stop' && stopped !== 'quit') {
        throw new KsError('KS_ERR_UNAVAILABLE', `${stopped}; stopping`);
      }
      return stopped;
    },
    async finish() {
      await out?.end();
      const lost = (out?.dropped ?? 0) + (out ? serverDropped : 0);
      if (lost > 0) {
        o.stderr.write(
          `kubeshark: ${lost} entries were not printed (output too slow); the store had them all (${o.url}/api/entries)\n`,
        );
      }
    },
    close,
  };
}

/** An in-process subscription to a worker's stored entries (`Worker.subscribe`). */
export type EntrySubscribe = (push: (message: string) => void) => { close(): void };

/** A replay's jsonl output: the view, and the wait the capture files go through. */
export interface ReplayView extends LiveView {
  /**
   * Undefined while stdout has room; else a promise that resolves once it drained (or closed,
   * or the view closed). The capture files' reader awaits it between batches.
   */
  room(): Promise<void> | undefined;
}

/** `{"type":"entry","entry":…}`: the stream message a worker's subscription pushes. */
const ENTRY_MESSAGE = '{"type":"entry","entry":';

/**
 * jsonl of a replay (`tap --pcap -o jsonl`): every entry the worker stores is printed, straight
 * from an in-process subscription (no WebSocket, no queue that drops). Replayed input has no
 * deadline, so nothing is dropped: the capture files wait (`room`) while stdout is behind. Only
 * live capture may drop (openLiveView).
 */
export function openReplayView(o: {
  subscribe: EntrySubscribe;
  stdout: Writable;
  stderr: Writable;
}): ReplayView {
  const w = o.stdout;
  let closed = false;
  let waiting: Promise<void> | undefined;
  const gone = (): boolean => closed || w.destroyed || w.writableEnded;
  const sub = o.subscribe((message) => {
    if (gone()) return;
    const line =
      message.startsWith(ENTRY_MESSAGE) && message.endsWith('}')
        ? message.slice(ENTRY_MESSAGE.length, -1)
        : JSON.stringify((JSON.parse(message) as { entry: unknown }).entry);
    w.write(line + '\n');
  });
  let wake: (() => void) | undefined;
  const close = (): void => {
    if (closed) return;
    closed = true;
    sub.close();
    wake?.();
  };
  return {
    hello: Promise.resolve(),
    table: undefined,
    problem: (line) => void o.stderr.write(`kubeshark: ${line}\n`),
    async run(until) {
      await until;
      return 'stop';
    },
    room() {
      if (gone() || w.writableLength <= TAP_JSONL_MAX_PENDING_BYTES) return undefined;
      waiting ??= new Promise<void>((resolve) => {
        const done = (): void => {
          w.off('drain', done);
          w.off('close', done);
          w.off('error', done);
          wake = undefined;
          waiting = undefined;
          resolve();
        };
        wake = done;
        w.on('drain', done);
        w.on('close', done);
        w.on('error', done);
      });
      return waiting;
    },
    async finish() {
      if (gone() || w.writableLength === 0) return;
      await new Promise<void>((r) => {
        const done = (): void => {
          w.off('drain', done);
          w.off('close', done);
          r();
        };
        w.on('drain', done);
        w.on('close', done);
      });
    },
    close,
  };
}

interface JsonlWriter {
  write(view: unknown): void;
  /** Resolves when what was written is flushed. */
  end(): Promise<void>;
  readonly dropped: number;
}

/** One JSON view per line, dropping (and counting) past TAP_JSONL_MAX_PENDING_BYTES. */
function jsonlWriter(w: Writable): JsonlWriter {
  let dropped = 0;
  return {
    write(view) {
      if (w.writableLength > TAP_JSONL_MAX_PENDING_BYTES) {
        dropped++;
        return;
      }
      w.write(JSON.stringify(view) + '\n');
    },
    end() {
      if (w.writableLength === 0) return Promise.resolve();
      return new Promise((r) => w.once('drain', () => r()));
    },
    get dropped() {
      return dropped;
    },
  };
}
