/**
 * Compile-time KFL errors. Every error carries a stable code, the position in the filter the user
 * wrote (line and column, 1-based) and `caret()` to show it:
 *
 *     unknown field `respnse.status` at 1:1; did you mean `status_code`?
 *     respnse.status >= 500
 *     ^
 *
 * A KsError (stable code, usage exit code); the CLI prints `caret()` under the message.
 */
import { KsError, type KflErrorCode } from '../util/errors.ts';

/** The codes and what each means are listed once, in util/errors.ts. */
export type { KflErrorCode };

export interface KflErrorInit {
  code: KflErrorCode;
  /** The message without the position, e.g. "unknown field `x`". */
  summary: string;
  /** The filter as the user wrote it. */
  source: string;
  /** 0-based offset in `source` (clamped to its length). */
  offset: number;
  /** Characters the error spans (≥ 1 for the caret line; 0 at the end of input). */
  length?: number;
  /** Appended after the position: "; did you mean `status_code`?". */
  hint?: string;
  /** The older-syntax translation that was applied before the error, if any. */
  translation?: { from: string; to: string; notes: string[] };
  cause?: unknown;
}

export class KflError extends KsError {
  declare readonly code: KflErrorCode;
  readonly summary: string;
  readonly source: string;
  readonly offset: number;
  readonly length: number;
  /** 1-based line and column of `offset` in `source` (column counts UTF-16 units). */
  readonly line: number;
  readonly column: number;
  readonly hint: string | undefined;
  readonly translation: { from: string; to: string; notes: string[] } | undefined;

  constructor(init: KflErrorInit) {
    const offset = Math.max(0, Math.min(init.offset, init.source.length));
    const { line, column } = lineColumn(init.source, offset);
    super(init.code, `${init.summary} at ${line}:${column}${init.hint ?? ''}`, {
      cause: init.cause,
    });
    this.name = 'KflError';
    this.summary = init.summary;
    this.source = init.source;
    this.offset = offset;
    this.length = Math.max(0, init.length ?? 1);
    this.line = line;
    this.column = column;
    this.hint = init.hint;
    this.translation = init.translation;
  }

  override detail(): string {
    return this.caret();
  }

  /** The source line of the error and a caret line under it (`^~~~` over the span). */
  caret(): string {
    const lines = this.source.split('\n');
    const text = (lines[this.line - 1] ?? '').replace(/\r$/, '');
    const room = Math.max(1, text.length - (this.column - 1));
    const width = Math.max(1, Math.min(this.length, room));
    const pad = text.slice(0, this.column - 1).replace(/[^\t]/g, ' ');
    return `${text}\n${pad}^${'~'.repeat(width - 1)}`;
  }
}

export function isKflError(e: unknown): e is KflError {
  return e instanceof KflError;
}

export function lineColumn(source: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < source.length; i++) {
    if (source.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
