/**
 * A token stream over KFL text with the same lexical rules as the CEL parser (cel-js): the KFL1
 * translation, macro expansion and dotted-name resolution rewrite tokens, never raw text, so
 * nothing inside a string literal is ever touched. Every token remembers where it came from in
 * the user's filter so that errors found later point at what the user wrote.
 */
import { KflError } from './errors.ts';

export type TokKind = 'ident' | 'int' | 'float' | 'string' | 'bytes' | 'op';

export interface Tok {
  kind: TokKind;
  /** Text as written to the compiled expression. */
  text: string;
  /** Whitespace and comments before the token (kept so translations read like the input). */
  ws: string;
  /** Span in the user's filter this token came from (errors point here). */
  start: number;
  end: number;
  /** `text` is exactly the source slice `start..end` (positions inside the token map 1:1). */
  verbatim: boolean;
  /** String literals: the decoded value (undefined when an escape is invalid). */
  value?: string;
  /** String literals: the quote prefix (`r`, `R`, `b`, `B`) or "". */
  prefix?: string;
  /** Name of the macro this token was expanded from. */
  macro?: string;
}

export interface Lexed {
  toks: Tok[];
  /** Whitespace and comments after the last token. */
  tail: string;
}

const OPS2 = new Set(['==', '!=', '<=', '>=', '&&', '||']);
const OPS1 = new Set(['<', '>', '!', '+', '-', '*', '/', '%', '(', ')', '[', ']', '{', '}']);
const OPS1_MORE = new Set(['.', ',', ':', '?']);

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);
export const isIdentStart = (c: string | undefined): boolean =>
  c !== undefined && /^[A-Za-z_]$/.test(c);
const isIdentChar = (c: string | undefined): boolean => c !== undefined && /^[A-Za-z0-9_]$/.test(c);

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  '?': '?',
  '"': '"',
  "'": "'",
  '`': '`',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/** Decodes the body of a non-raw CEL string literal; undefined when an escape is invalid. */
export function decodeEscapes(body: string): string | undefined {
  if (!body.includes('\\')) return body;
  let out = '';
  for (let i = 0; i < body.length;) {
    const c = body[i]!;
    if (c !== '\\') {
      out += c;
      i++;
      continue;
    }
    const n = body[i + 1];
    if (n === undefined) return undefined;
    const simple = SIMPLE_ESCAPES[n];
    if (simple !== undefined) {
      out += simple;
      i += 2;
    } else if (n === 'u' || n === 'U') {
      const len = n === 'u' ? 4 : 8;
      const hex = body.slice(i + 2, i + 2 + len);
      if (hex.length !== len || !/^[0-9a-fA-F]+$/.test(hex)) return undefined;
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
      out += String.fromCodePoint(cp);
      i += 2 + len;
    } else if (n === 'x' || n === 'X') {
      const hex = body.slice(i + 2, i + 4);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return undefined;
      out += String.fromCharCode(parseInt(hex, 16));
      i += 4;
    } else if (n >= '0' && n <= '7') {
      const oct = body.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(oct) || parseInt(oct, 8) > 0xff) return undefined;
      out += String.fromCharCode(parseInt(oct, 8));
      i += 4;
    } else {
      return undefined;
    }
  }
  return out;
}

/** A CEL string literal whose value is `s` (JSON escapes are valid CEL escapes). */
export function stringLiteral(s: string): string {
  return JSON.stringify(s);
}

/**
 * Splits `input` into tokens. `base` is added to positions (macro bodies are lexed on their own
 * and re-pointed by the caller). Throws KflError(KS_ERR_KFL_SYNTAX) for characters CEL does not
 * know and for unterminated strings, reporting positions in `reportSource`.
 */
export function lex(input: string, reportSource: string = input, base = 0): Lexed {
  const toks: Tok[] = [];
  let i = 0;
  let wsStart = 0;
  const fail = (summary: string, at: number, length = 1): never => {
    throw new KflError({
      code: 'KS_ERR_KFL_SYNTAX',
      summary,
      source: reportSource,
      offset: base + at,
      length,
    });
  };
  const push = (kind: TokKind, start: number, end: number, extra?: Partial<Tok>): void => {
    toks.push({
      kind,
      text: input.slice(start, end),
      ws: input.slice(wsStart, start),
      start: base + start,
      end: base + end,
      verbatim: true,
      ...extra,
    });
    i = end;
    wsStart = end;
  };

  while (i < input.length) {
    const c = input[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '/' && input[i + 1] === '/') {
      while (i < input.length && input[i] !== '\n') i++;
      continue;
    }
    const two = input.slice(i, i + 2);
    if (OPS2.has(two)) {
      push('op', i, i + 2);
      continue;
    }
    if (OPS1.has(c) || OPS1_MORE.has(c)) {
      push('op', i, i + 1);
      continue;
    }
    if (c === '"' || c === "'") {
      readString(i, '');
      continue;
    }
    if ((c === 'r' || c === 'R' || c === 'b' || c === 'B') && /["']/.test(input[i + 1] ?? '')) {
      readString(i, c);
      continue;
    }
    if (isDigit(c)) {
      readNumber(i);
      continue;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (isIdentChar(input[j])) j++;
      push('ident', i, j);
      continue;
    }
    if (c === '=' || c === '&' || c === '|') {
      fail(`unexpected \`${c}\` (did you mean \`${c}${c}\`?)`, i);
    }
    fail(`unexpected character \`${c}\``, i);
  }
  return { toks, tail: input.slice(wsStart) };

  function readString(start: number, prefix: string): void {
    const q0 = start + prefix.length;
    const quote = input[q0]!;
    const triple = input[q0 + 1] === quote && input[q0 + 2] === quote;
    const open = triple ? 3 : 1;
    let j = q0 + open;
    for (;;) {
      if (j >= input.length) {
        fail('unterminated string literal', start, input.length - start);
      }
      const ch = input[j]!;
      if (ch === '\\') {
        j += 2;
        continue;
      }
      if (!triple && (ch === '\n' || ch === '\r')) {
        fail('newline in a single-quoted string literal', j);
      }
      if (ch === quote && (!triple || (input[j + 1] === quote && input[j + 2] === quote))) break;
      j++;
    }
    const body = input.slice(q0 + open, j);
    const end = j + open;
    const raw = prefix === 'r' || prefix === 'R';
    const bytes = prefix === 'b' || prefix === 'B';
    push(bytes ? 'bytes' : 'string', start, end, {
      prefix,
      value: raw ? body : decodeEscapes(body),
    });
  }

  function readNumber(start: number): void {
    let j = start;
    if (input[j] === '0' && (input[j + 1] === 'x' || input[j + 1] === 'X')) {
      j += 2;
      while (isHex(input[j])) j++;
      if ((input[j] === 'u' || input[j] === 'U') && !isIdentChar(input[j + 1])) j++;
      push('int', start, j);
      return;
    }
    while (isDigit(input[j])) j++;
    let float = false;
    if (input[j] === '.' && isDigit(input[j + 1])) {
      float = true;
      j++;
      while (isDigit(input[j])) j++;
    }
    if (
      (input[j] === 'e' || input[j] === 'E') &&
      (isDigit(input[j + 1]) || (/[+-]/.test(input[j + 1] ?? '') && isDigit(input[j + 2])))
    ) {
      float = true;
      j += 2;
      while (isDigit(input[j])) j++;
    }
    // `250u` is an unsigned literal, but `250us` is a number with a unit (KFL1 latency).
    if (!float && (input[j] === 'u' || input[j] === 'U') && !isIdentChar(input[j + 1])) j++;
    push(float ? 'float' : 'int', start, j);
  }
}

/** Writes tokens back as text (their whitespace included). */
export function render(toks: readonly Tok[], tail = ''): string {
  let s = '';
  for (const t of toks) s += t.ws + t.text;
  return s + tail;
}

/** A token made by a rewrite, pointing at the source span it replaces. */
export function synth(
  kind: TokKind,
  text: string,
  from: { start: number; end: number; macro?: string },
  ws = '',
  extra?: Partial<Tok>,
): Tok {
  return {
    kind,
    text,
    ws,
    start: from.start,
    end: from.end,
    verbatim: false,
    ...(from.macro !== undefined ? { macro: from.macro } : {}),
    ...extra,
  };
}

export const isOp = (t: Tok | undefined, ...ops: string[]): boolean =>
  t !== undefined && t.kind === 'op' && ops.includes(t.text);

export const isIdent = (t: Tok | undefined, name?: string): boolean =>
  t !== undefined && t.kind === 'ident' && (name === undefined || t.text === name);

/** Index of the bracket matching the opener at `i` (`(`, `[`, `{`), or -1. */
export function matchForward(toks: readonly Tok[], i: number): number {
  const open = toks[i]?.text;
  const close = open === '(' ? ')' : open === '[' ? ']' : '}';
  let depth = 0;
  for (let j = i; j < toks.length; j++) {
    const t = toks[j]!;
    if (t.kind !== 'op') continue;
    if (t.text === open) depth++;
    else if (t.text === close && --depth === 0) return j;
  }
  return -1;
}

/** Index of the opener matching the closer at `i` (`)`, `]`, `}`), or -1. */
export function matchBackward(toks: readonly Tok[], i: number): number {
  const close = toks[i]?.text;
  const open = close === ')' ? '(' : close === ']' ? '[' : '{';
  let depth = 0;
  for (let j = i; j >= 0; j--) {
    const t = toks[j]!;
    if (t.kind !== 'op') continue;
    if (t.text === close) depth++;
    else if (t.text === open && --depth === 0) return j;
  }
  return -1;
}

/**
 * The postfix expression ending at token `end` (inclusive): a literal or identifier followed by
 * `.name`, `(...)`, `[...]` suffixes — `src.name`, `request.headers["x"]`, `f(x).y`, `(a + b)`.
 * Returns its first token index, or -1 when `end` does not close such an expression.
 */
export function postfixStart(toks: readonly Tok[], end: number): number {
  let j = end;
  for (;;) {
    const t = toks[j];
    if (!t) return -1;
    if (isOp(t, ')', ']', '}')) {
      const open = matchBackward(toks, j);
      if (open < 0) return -1;
      const before = toks[open - 1];
      if (t.text === ']' && before && (before.kind !== 'op' || isOp(before, ')', ']'))) {
        j = open - 1; // `x[...]`: continue with x
        continue;
      }
      if (t.text === ')' && before?.kind === 'ident') {
        j = open - 1; // `f(...)` or `x.f(...)`: continue with f
      } else {
        return open; // `( … )`, `[ … ]`, `{ … }` literals and groups
      }
    } else if (t.kind === 'op') {
      return -1;
    }
    // toks[j] is an identifier or a literal: extend over a `.` selection.
    if (isOp(toks[j - 1], '.')) {
      j -= 2;
      continue;
    }
    return j;
  }
}

/**
 * The postfix expression starting at token `start`: returns the index of its last token, or -1.
 */
export function postfixEnd(toks: readonly Tok[], start: number): number {
  const t = toks[start];
  if (!t) return -1;
  let j: number;
  if (isOp(t, '(', '[', '{')) {
    j = matchForward(toks, start);
    if (j < 0) return -1;
  } else if (t.kind === 'op') {
    return -1;
  } else {
    j = start;
  }
  for (;;) {
    const n = toks[j + 1];
    if (isOp(n, '.') && toks[j + 2] && toks[j + 2]!.kind === 'ident') {
      j += 2;
    } else if (isOp(n, '(', '[')) {
      const close = matchForward(toks, j + 1);
      if (close < 0) return -1;
      j = close;
    } else {
      return j;
    }
  }
}

/** The dotted identifier chain starting at `i` (`a.b.c`), as token indices of its names. */
export function chainAt(toks: readonly Tok[], i: number): number[] {
  const idx = [i];
  let j = i;
  while (isOp(toks[j + 1], '.') && isIdent(toks[j + 2])) {
    j += 2;
    idx.push(j);
  }
  return idx;
}
