/**
 * The terminal UI's entry: what commands load (lazily, through src/cmd/ui-loader.ts) to draw.
 * In the single executable this file is its own ESM bundle (Ink and yoga need top-level await,
 * which the CommonJS main bundle cannot hold).
 */
import { createElement } from 'react';
import { render } from 'ink';
import type { EntrySummary } from '../api/types.ts';
import { LiveApp } from './LiveTable.tsx';
import { LiveStore, type LiveStatus } from './store.ts';

export { LiveApp, LiveTable, MIN_HEIGHT } from './LiveTable.tsx';
export type { FilterEdit, LiveAppProps, LiveTableProps } from './LiveTable.tsx';
export { LiveStore, MAX_LIVE_ROWS, RENDER_INTERVAL_MS } from './store.ts';
export type { LiveSnapshot, LiveStatus } from './store.ts';

export interface RunLiveTableOptions {
  status: LiveStatus;
  /** Applies a filter typed after `/`: resolves to an error to show, or undefined when applied. */
  onFilter?: (q: string) => Promise<string | undefined>;
  onPause?: (paused: boolean) => void;
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
  stderr?: NodeJS.WriteStream;
  /** Fixed size instead of the terminal's. */
  width?: number;
  height?: number;
}

export interface LiveTableHandle {
  /** Appends rows (newest last). */
  add(rows: EntrySummary | readonly EntrySummary[]): void;
  setStatus(patch: Partial<LiveStatus>): void;
  clear(): void;
  /** Resolves when the user quits (q, Ctrl-C) or `close()` is called. */
  readonly exited: Promise<void>;
  /** Unmounts and restores the terminal. Idempotent. */
  close(): void;
}

/** Draws the live table on the terminal until the user quits. */
export function runLiveTable(o: RunLiveTableOptions): LiveTableHandle {
  const store = new LiveStore(o.status);
  let quit!: () => void;
  const quitted = new Promise<void>((resolve) => (quit = resolve));
  const app = render(
    createElement(LiveApp, {
      store,
      width: o.width,
      height: o.height,
      onFilter: o.onFilter,
      onPause: o.onPause,
      onQuit: () => quit(),
    }),
    {
      // Ink takes an explicit `undefined` as "no stream": pass only what was given.
      ...(o.stdout && { stdout: o.stdout }),
      ...(o.stdin && { stdin: o.stdin }),
      ...(o.stderr && { stderr: o.stderr }),
      // Ctrl-C arrives as a key in raw mode; LiveApp turns it into a quit like `q`.
      exitOnCtrlC: false,
    },
  );
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    store.dispose();
    app.unmount();
    quit();
  };
  const exited = Promise.race([quitted, app.waitUntilExit().then(() => undefined)]).then(() => {
    store.dispose();
  });
  return {
    add: (rows) => store.add(rows),
    setStatus: (patch) => store.setStatus(patch),
    clear: () => store.clear(),
    exited,
    close,
  };
}
