/**
 * Program-level errors carry a stable code and an exit code. `bin/` catches once and prints once;
 * `--debug` adds the stack. On the data path errors are values (see entry/model.ts EntryError).
 */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  input: 3,
  config: 4,
} as const;

/**
 * KFL compile errors (query/errors.ts) with their exit codes, the one list of them: usage errors,
 * but a bad macro is a configuration error.
 */
const KFL_ERROR_EXIT = {
  /** Not a KFL expression (CEL syntax error, unterminated string, number with a unit…). */
  KS_ERR_KFL_SYNTAX: ExitCode.usage,
  /** A name that is not a declared field (with a "did you mean"). */
  KS_ERR_KFL_UNKNOWN_FIELD: ExitCode.usage,
  /** Operands or function arguments of the wrong type (`status_code == "200"`). */
  KS_ERR_KFL_TYPE: ExitCode.usage,
  /** The filter is valid but is not a condition (`method`, `status_code + 1`). */
  KS_ERR_KFL_NOT_BOOL: ExitCode.usage,
  /** Older (KFL1) syntax that cannot be translated without guessing. */
  KS_ERR_KFL_AMBIGUOUS: ExitCode.usage,
  /** A regular expression outside the RE2 subset that JavaScript evaluates the same way. */
  KS_ERR_KFL_REGEX: ExitCode.usage,
  /** A macro definition (`tap.customMacros`) is invalid or macros expand in a cycle. */
  KS_ERR_KFL_MACRO: ExitCode.config,
  /** The filter is longer than `MAX_FILTER_LENGTH` (query/compile.ts): refused before parsing. */
  KS_ERR_KFL_TOO_LONG: ExitCode.usage,
} as const;

export type KflErrorCode = keyof typeof KFL_ERROR_EXIT;
/** Every KFL error code, in the order the docs list them. */
export const KFL_ERROR_CODES = Object.keys(KFL_ERROR_EXIT) as readonly KflErrorCode[];

export type ErrorCode =
  | 'KS_ERR_USAGE'
  | 'KS_ERR_CONFIG_UNKNOWN_KEY'
  | 'KS_ERR_CONFIG_TYPE'
  | 'KS_ERR_CONFIG_FILE'
  | 'KS_ERR_FILE_NOT_FOUND'
  | 'KS_ERR_FILE_READ'
  | 'KS_ERR_CAPTURE_EMPTY'
  | 'KS_ERR_CAPTURE_FORMAT'
  | 'KS_ERR_CAPTURE_TRUNCATED'
  | 'KS_ERR_CAPTURE_CORRUPT'
  | 'KS_ERR_LINKTYPE'
  | 'KS_ERR_CAPTURE_TOOL'
  | 'KS_ERR_CAPTURE_PRIVILEGE'
  | 'KS_ERR_CAPTURE_INTERFACE'
  | 'KS_ERR_CAPTURE_FILTER'
  | 'KS_ERR_CAPTURE_FAILED'
  | KflErrorCode
  /** API: unknown route, entry or node. */
  | 'KS_ERR_NOT_FOUND'
  /** API: refused by the access checks (foreign Host, cross-origin or cross-site request). */
  | 'KS_ERR_FORBIDDEN'
  /** API: a server (hub, worker) cannot be reached, timed out, or answered something else. */
  | 'KS_ERR_UNAVAILABLE'
  /** A server cannot listen on its address (port in use, no permission). */
  | 'KS_ERR_LISTEN'
  /** Local process identity: no readable /proc socket tables (not Linux). */
  | 'KS_ERR_PROC_UNAVAILABLE'
  /** No usable kubeconfig (none found, unreadable, unknown context). */
  | 'KS_ERR_KUBECONFIG'
  /** The Kubernetes API refused a request or cannot be reached. */
  | 'KS_ERR_KUBE_API'
  /** The release's pods did not become ready in time, or the release is not deployed. */
  | 'KS_ERR_KUBE_NOT_READY'
  | 'KS_ERR_INTERNAL';

const exitFor: Record<ErrorCode, number> = {
  KS_ERR_USAGE: ExitCode.usage,
  KS_ERR_CONFIG_UNKNOWN_KEY: ExitCode.config,
  KS_ERR_CONFIG_TYPE: ExitCode.config,
  KS_ERR_CONFIG_FILE: ExitCode.config,
  KS_ERR_FILE_NOT_FOUND: ExitCode.input,
  KS_ERR_FILE_READ: ExitCode.input,
  KS_ERR_CAPTURE_EMPTY: ExitCode.input,
  KS_ERR_CAPTURE_FORMAT: ExitCode.input,
  KS_ERR_CAPTURE_TRUNCATED: ExitCode.input,
  KS_ERR_CAPTURE_CORRUPT: ExitCode.input,
  KS_ERR_LINKTYPE: ExitCode.input,
  KS_ERR_CAPTURE_TOOL: ExitCode.failure,
  KS_ERR_CAPTURE_PRIVILEGE: ExitCode.failure,
  KS_ERR_CAPTURE_INTERFACE: ExitCode.usage,
  KS_ERR_CAPTURE_FILTER: ExitCode.usage,
  KS_ERR_CAPTURE_FAILED: ExitCode.failure,
  ...KFL_ERROR_EXIT,
  KS_ERR_NOT_FOUND: ExitCode.input,
  KS_ERR_FORBIDDEN: ExitCode.failure,
  KS_ERR_UNAVAILABLE: ExitCode.failure,
  KS_ERR_LISTEN: ExitCode.failure,
  KS_ERR_PROC_UNAVAILABLE: ExitCode.failure,
  KS_ERR_KUBECONFIG: ExitCode.config,
  KS_ERR_KUBE_API: ExitCode.failure,
  KS_ERR_KUBE_NOT_READY: ExitCode.failure,
  KS_ERR_INTERNAL: ExitCode.failure,
};

export class KsError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  /** Lines printed under the one-line message (e.g. the filter with a caret at the error). */
  detail(): string | undefined {
    return undefined;
  }
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KsError';
    this.code = code;
    this.exitCode = exitFor[code] ?? ExitCode.failure;
  }
}

export function isKsError(e: unknown): e is KsError {
  return e instanceof KsError;
}
