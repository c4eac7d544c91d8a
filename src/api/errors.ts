/**
 * Errors on the API: a thrown error → HTTP status + `ApiErrorBody` (servers), and an error
 * answer → `ApiError`, a KsError with the server's code (clients). KFL errors keep their
 * position and caret lines both ways, so a CLI prints the same caret the server computed.
 */
import { isKflError } from '../query/errors.ts';
import { KsError, type ErrorCode } from '../util/errors.ts';
import type { ApiErrorBody } from './types.ts';

/** HTTP status of each program-level error code (others: 500). */
function statusOfCode(code: string): number {
  if (code === 'KS_ERR_NOT_FOUND') return 404;
  if (code === 'KS_ERR_UNAVAILABLE') return 503;
  if (code === 'KS_ERR_FORBIDDEN') return 403;
  if (code === 'KS_ERR_USAGE' || code.startsWith('KS_ERR_KFL_')) return 400;
  return 500;
}

/** The answer for a thrown error. Anything that is not a KsError is a bug: 500, no details. */
export function errorOf(err: unknown): { status: number; body: ApiErrorBody } {
  if (err instanceof ApiError) return { status: err.status, body: { error: err.body() } };
  if (isKflError(err)) {
    return {
      status: 400,
      body: {
        error: {
          code: err.code,
          message: err.message,
          line: err.line,
          column: err.column,
          detail: err.caret().split('\n'),
        },
      },
    };
  }
  if (err instanceof KsError) {
    return {
      status: statusOfCode(err.code),
      body: { error: { code: err.code, message: err.message } },
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  return {
    status: 500,
    body: { error: { code: 'KS_ERR_INTERNAL', message: `internal error: ${message}` } },
  };
}

/** An error answer of an API server, as a KsError carrying the server's code and status. */
export class ApiError extends KsError {
  readonly status: number;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly detailLines: string[] | undefined;

  constructor(status: number, e: ApiErrorBody['error']) {
    // Codes this build does not know (a newer server's) still travel; their exit code is 1.
    super(e.code as ErrorCode, e.message);
    this.name = 'ApiError';
    this.status = status;
    this.line = e.line;
    this.column = e.column;
    this.detailLines = e.detail;
  }

  override detail(): string | undefined {
    return this.detailLines?.join('\n');
  }

  body(): ApiErrorBody['error'] {
    const b: ApiErrorBody['error'] = { code: this.code, message: this.message };
    if (this.line !== undefined) b.line = this.line;
    if (this.column !== undefined) b.column = this.column;
    if (this.detailLines !== undefined) b.detail = this.detailLines;
    return b;
  }
}

export function isApiErrorBody(x: unknown): x is ApiErrorBody {
  const e = (x as ApiErrorBody | null)?.error;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.code === 'string' &&
    typeof e.message === 'string'
  );
}

/** Whether an error means "that server is not there" (as opposed to "your request is wrong"). */
export function isUnavailable(err: unknown): boolean {
  if (err instanceof ApiError) return err.status >= 500;
  return err instanceof KsError && err.code === 'KS_ERR_UNAVAILABLE';
}
