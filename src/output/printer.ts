/**
 * Entry printers: `table` (human, TTY), `json` (one array), `jsonl` (one view per line).
 * JSON shapes are the KFL view (entry/view.ts) — a documented contract (docs/output.md).
 */
import type { Writable } from 'node:stream';
import type { Entry } from '../entry/model.ts';
import type { ViewBuilder } from '../entry/view.ts';
import { isoMicros } from '../entry/time.ts';
import { viewOf } from '../tap/records.ts';
import { DURATION_SHORT, formatDuration } from '../util/format.ts';

export type OutputFormat = 'table' | 'json' | 'jsonl';
export const outputFormats: readonly OutputFormat[] = ['table', 'json', 'jsonl'];

export interface Printer {
  entry(e: Entry): void;
  end(): void;
}

/** Buffered writer: one write per ~64 KiB instead of one per entry. */
class Out {
  private buf: string[] = [];
  private size = 0;
  constructor(private readonly w: Writable) {}
  write(s: string): void {
    this.buf.push(s);
    this.size += s.length;
    if (this.size >= 65536) this.flush();
  }
  flush(): void {
    if (this.buf.length === 0) return;
    this.w.write(this.buf.join(''));
    this.buf = [];
    this.size = 0;
  }
}

function endpoint(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Method/summary column (the record view's). */
export function summaryOf(e: Entry): string {
  return viewOf(e).summary(e.record, e);
}

/** Status column (the record view's). */
export function statusOf(e: Entry): string {
  return viewOf(e).statusText(e.record, e);
}

/** Elapsed column: empty for one-way messages. */
function elapsedOf(e: Entry): string {
  if (!viewOf(e).timed) return '';
  return formatDuration(e.elapsed_time, DURATION_SHORT);
}

/** A row is shown as a failure: a client or server error status, or an unanswered call. */
function failed(e: Entry): boolean {
  const v = viewOf(e);
  const s = v.status(e.record);
  if (s !== undefined) {
    const c = v.statusClass(s);
    return c === 'client' || c === 'server';
  }
  return e.error !== undefined && NO_ANSWER.has(e.error.code);
}

/** Error codes of a call that got no answer. */
const NO_ANSWER: ReadonlySet<string> = new Set(['KS_NO_RESPONSE', 'KS_LIMIT_PENDING']);

const COLUMNS = [
  'TIME',
  'PROTO',
  'SOURCE',
  '',
  'DESTINATION',
  'SUMMARY',
  'STATUS',
  'ELAPSED',
] as const;

/** Column widths (0: the summary, which takes what the terminal leaves). */
const WIDTHS = [15, 5, 21, 1, 21, 0, 11, 8];
const FIXED = WIDTHS.reduce((a, b) => a + b, 0) + WIDTHS.length - 1;

class TablePrinter implements Printer {
  private readonly out: Out;
  private header = false;
  constructor(
    w: Writable,
    private readonly width: number,
    private readonly color: (kind: 'dim' | 'err' | 'ok', s: string) => string,
  ) {
    this.out = new Out(w);
  }
  entry(e: Entry): void {
    const cells = [
      isoMicros(e.timestamp).slice(11, 26),
      e.protocol,
      endpoint(e.src.ip, e.src.port),
      '→',
      endpoint(e.dst.ip, e.dst.port),
      summaryOf(e),
      statusOf(e),
      elapsedOf(e),
    ];
    if (!this.header) {
      this.header = true;
      this.out.write(this.color('dim', this.line([...COLUMNS])) + '\n');
    }
    const line = this.line(cells);
    this.out.write((failed(e) ? this.color('err', line) : line) + '\n');
  }
  private line(cells: string[]): string {
    const summaryWidth = Math.max(16, this.width - FIXED);
    return cells
      .map((c, i) => {
        const w = i === 5 ? summaryWidth : WIDTHS[i]!;
        const t = c.length > w ? c.slice(0, w - 1) + '…' : c;
        return i === cells.length - 1 ? t : t.padEnd(w);
      })
      .join(' ')
      .trimEnd();
  }
  end(): void {
    this.out.flush();
  }
}

class JsonlPrinter implements Printer {
  private readonly out: Out;
  constructor(
    w: Writable,
    private readonly view: ViewBuilder,
  ) {
    this.out = new Out(w);
  }
  entry(e: Entry): void {
    this.out.write(this.view.json(e) + '\n');
  }
  end(): void {
    this.out.flush();
  }
}

class JsonPrinter implements Printer {
  private readonly out: Out;
  private first = true;
  constructor(
    w: Writable,
    private readonly view: ViewBuilder,
  ) {
    this.out = new Out(w);
  }
  entry(e: Entry): void {
    const body = JSON.stringify(this.view.build(e), null, 2).replace(/^/gm, '  ');
    this.out.write((this.first ? '[\n' : ',\n') + body);
    this.first = false;
  }
  end(): void {
    this.out.write(this.first ? '[]\n' : '\n]\n');
    this.out.flush();
  }
}

export interface PrinterOptions {
  format: OutputFormat;
  out: Writable;
  view: ViewBuilder;
  width?: number;
  color?: (kind: 'dim' | 'err' | 'ok', s: string) => string;
}

export function createPrinter(o: PrinterOptions): Printer {
  switch (o.format) {
    case 'table':
      return new TablePrinter(o.out, o.width ?? 120, o.color ?? ((_k, s) => s));
    case 'json':
      return new JsonPrinter(o.out, o.view);
    case 'jsonl':
      return new JsonlPrinter(o.out, o.view);
  }
}
