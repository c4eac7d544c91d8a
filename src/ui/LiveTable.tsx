/**
 * The live table of calls: a header, the newest rows at the bottom, a status line. `LiveTable`
 * draws exactly what its props say (width, height, rows, status); `LiveApp` adds the keys
 * (pause, filter, quit) and reads rows from a `LiveStore`.
 */
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { Box, Text, useApp, useInput, useStdout } from 'ink';
import type { EntrySummary } from '../api/types.ts';
import {
  GAP,
  STATUS_COLOR,
  cell,
  columnWidths,
  compactNumber,
  formatLatency,
  formatTime,
  routeText,
  statusClass,
  statusText,
  type Columns,
} from './format.ts';
import type { LiveStatus, LiveStore } from './store.ts';

/** Fewest lines the table is laid out for: header, one row, status line. */
export const MIN_HEIGHT = 3;

export interface FilterEdit {
  text: string;
  /** Why the last submitted filter was refused (with the position, as the server said). */
  error?: string;
  /** Waiting for the runner to apply it. */
  busy?: boolean;
}

export interface LiveTableProps {
  rows: readonly EntrySummary[];
  width: number;
  /** Lines the whole table may use (header + rows + status + prompt). */
  height: number;
  status: LiveStatus;
  /** Present while the `/` filter prompt is open. */
  edit?: FilterEdit;
}

const sp = ' '.repeat(GAP);

function Header({ c, narrow }: { c: Columns; narrow: boolean }) {
  const text = [
    cell(narrow ? 'TIME' : 'TIME (UTC)', c.time),
    cell('PROTO', c.proto),
    cell('SRC → DST', c.route),
    cell('SUMMARY', c.summary),
    cell('STATUS', c.status),
    cell(narrow ? 'LAT' : 'LATENCY', c.latency, true),
  ].join(sp);
  return (
    <Text bold dimColor wrap="truncate-end">
      {text}
    </Text>
  );
}

function Row({ r, c, narrow }: { r: EntrySummary; c: Columns; narrow: boolean }) {
  const cls = statusClass(r);
  const left = [
    cell(formatTime(r.ts, narrow), c.time),
    cell(r.protocol, c.proto),
    cell(routeText(r.src, r.dst, c.route), c.route),
    cell(r.summary, c.summary),
  ].join(sp);
  return (
    <Text wrap="truncate-end">
      {left}
      {sp}
      <Text color={STATUS_COLOR[cls]} bold={cls === 'server' || cls === 'error'}>
        {cell(statusText(r), c.status)}
      </Text>
      {sp}
      {cell(formatLatency(r.elapsed), c.latency, true)}
    </Text>
  );
}

function StatusLine({ s, narrow }: { s: LiveStatus; narrow: boolean }) {
  const down = s.workersDown.length;
  return (
    <Text wrap="truncate-end">
      {/* Most important first: narrow terminals cut the end. */}
      {s.paused && (
        <Text inverse color="yellow">
          {' PAUSED '}
        </Text>
      )}
      {s.paused && ' '}
      <Text color={down ? 'yellow' : 'green'}>●</Text>
      {narrow ? ` ${s.workersUp} up` : ` workers ${s.workersUp} up`}
      {down > 0 && <Text color="red">{`, ${down} down (${s.workersDown.join(', ')})`}</Text>}
      {` · ${compactNumber(s.entriesPerSec)}${narrow ? '/s' : ' entries/s'} · `}
      <Text
        color={s.dropped > 0 ? 'yellow' : undefined}
      >{`${compactNumber(s.dropped)} dropped`}</Text>
      {' · '}
      {s.filter ? (
        <Text color="cyan">{narrow ? s.filter : `filter: ${s.filter}`}</Text>
      ) : (
        <Text dimColor>no filter</Text>
      )}
      {s.url && ` · ${s.url}`}
      <Text dimColor>{' · p pause · / filter · q quit'}</Text>
    </Text>
  );
}

function Prompt({ edit }: { edit: FilterEdit }) {
  return (
    <Text wrap="truncate-start">
      <Text color="cyan">{'filter › '}</Text>
      {edit.text}
      <Text inverse> </Text>
      <Text dimColor>{edit.busy ? '  checking…' : '  enter apply · esc cancel'}</Text>
    </Text>
  );
}

/** Lines the prompt adds (it replaces the status line): its error. */
function promptLines(edit: FilterEdit | undefined): number {
  return edit?.error ? 1 : 0;
}

export function LiveTable({ rows, width, height, status, edit }: LiveTableProps) {
  const c = columnWidths(width);
  const narrow = c.time < 12;
  const notice = status.notice ? 1 : 0;
  const body = Math.max(1, Math.max(MIN_HEIGHT, height) - 2 - promptLines(edit) - notice);
  const shown = rows.length > body ? rows.slice(rows.length - body) : rows;
  return (
    <Box flexDirection="column" width={width}>
      <Header c={c} narrow={narrow} />
      {shown.length === 0 ? (
        <Text dimColor wrap="truncate-end">
          {status.filter
            ? `waiting for traffic matching ${status.filter} …`
            : 'waiting for traffic …'}
        </Text>
      ) : (
        shown.map((r) => <Row key={`${r.node}/${r.id}`} r={r} c={c} narrow={narrow} />)
      )}
      {/* Keep the status line at the bottom of the given height. */}
      {shown.length < body && <Box height={body - Math.max(1, shown.length)} />}
      {status.notice && (
        <Text color="yellow" wrap="truncate-end">
          {status.notice}
        </Text>
      )}
      {edit?.error && (
        <Text color="red" wrap="truncate-end">
          {edit.error}
        </Text>
      )}
      {edit ? <Prompt edit={edit} /> : <StatusLine s={status} narrow={narrow} />}
    </Box>
  );
}

export interface LiveAppProps {
  store: LiveStore;
  /** Fixed size (tests); otherwise the terminal's, following resizes. */
  width?: number;
  height?: number;
  /**
   * Applies a new filter; resolves to an error message to show (the filter is then not
   * applied) or undefined when it took effect.
   */
  onFilter?: (q: string) => Promise<string | undefined>;
  onPause?: (paused: boolean) => void;
  onQuit: () => void;
}

/**
 * Text typed at the prompt. Keys that arrive together (a paste, fast typing) come as one
 * string: DEL/BS erase, Enter submits what came before it, other control characters are dropped.
 */
export function typing(text: string, input: string): { text: string; submit: boolean } {
  const chars = Array.from(text);
  for (const c of input) {
    if (c === '\r' || c === '\n') return { text: chars.join(''), submit: true };
    if (c === '\x7f' || c === '\b') chars.pop();
    else if (c >= ' ') chars.push(c);
  }
  return { text: chars.join(''), submit: false };
}

/** The terminal's size, following resizes. */
function useTerminalSize(fixedW?: number, fixedH?: number): { width: number; height: number } {
  const { stdout } = useStdout();
  const read = () => ({
    // One line less than the terminal: a frame as tall as the screen makes Ink redraw it all.
    width: fixedW ?? (stdout.columns || 100),
    height: fixedH ?? Math.max(MIN_HEIGHT, (stdout.rows || 24) - 1),
  });
  const [size, setSize] = useState(read);
  useEffect(() => {
    if (fixedW !== undefined && fixedH !== undefined) return undefined;
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout, fixedW, fixedH]);
  return size;
}

export function LiveApp({ store, width, height, onFilter, onPause, onQuit }: LiveAppProps) {
  const snap = useSyncExternalStore(store.subscribe, store.snapshot, store.snapshot);
  const size = useTerminalSize(width, height);
  const { exit } = useApp();
  const [edit, setEditState] = useState<FilterEdit | undefined>(undefined);
  // Keys can arrive faster than renders (a paste, a test): read the latest edit from a ref.
  const editRef = useRef<FilterEdit | undefined>(undefined);
  const setEdit = (e: FilterEdit | undefined) => {
    editRef.current = e;
    setEditState(e);
  };
  // Rows on screen when pause was pressed: the table holds still while entries keep arriving.
  const frozen = useRef<readonly EntrySummary[] | undefined>(undefined);

  const quit = () => {
    onQuit();
    exit();
  };

  const submit = (text: string) => {
    const q = text.trim();
    if (!onFilter) {
      setEdit(undefined);
      return;
    }
    setEdit({ text, busy: true });
    onFilter(q).then(
      (error) => {
        if (error) {
          setEdit({ text, error });
          return;
        }
        setEdit(undefined);
        if (frozen.current) frozen.current = [];
        store.clear();
        store.setStatus({ filter: q });
      },
      (e: unknown) => setEdit({ text, error: e instanceof Error ? e.message : String(e) }),
    );
  };

  useInput((input, key) => {
    if (key.ctrl && input === 'c') return quit();
    const edit = editRef.current;
    if (edit) {
      if (edit.busy) return;
      if (key.escape) return setEdit(undefined);
      if (key.return) return submit(edit.text);
      if (key.backspace || key.delete) {
        return setEdit({ text: Array.from(edit.text).slice(0, -1).join('') });
      }
      if (input && !key.ctrl && !key.meta && !key.tab && !key.upArrow && !key.downArrow) {
        const typed = typing(edit.text, input);
        return typed.submit ? submit(typed.text) : setEdit({ text: typed.text });
      }
      return;
    }
    if (input === 'q') return quit();
    if (input === 'p' || input === ' ') {
      const now = store.snapshot();
      const paused = !now.status.paused;
      frozen.current = paused ? now.rows : undefined;
      store.setStatus({ paused });
      onPause?.(paused);
      return;
    }
    if (input === '/') setEdit({ text: store.snapshot().status.filter });
  });

  return (
    <LiveTable
      rows={frozen.current ?? snap.rows}
      width={size.width}
      height={size.height}
      status={snap.status}
      edit={edit}
    />
  );
}
