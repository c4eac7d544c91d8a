/**
 * KFL on the browser side: what the filter bar and click-to-filter need without the engine
 * (the hub compiles; `/api/kfl` reports errors). A light scanner that knows CEL's strings and
 * comments, literals for values, clause building, and completion from the field catalogue.
 */
import type { FieldInfo } from '../../../api/types.ts';

/** A field of the catalogue (`GET /api/fields`). */
export type Field = FieldInfo;

type TokKind = 'ident' | 'string' | 'number' | 'op';
interface Tok {
  kind: TokKind;
  text: string;
  start: number;
  end: number;
}

const OPS2 = ['==', '!=', '<=', '>=', '&&', '||'];
const isIdentStart = (c: string): boolean => /[A-Za-z_]/.test(c);
const isIdentChar = (c: string): boolean => /[A-Za-z0-9_]/.test(c);

/**
 * Tokens of `src`, tolerant of anything (an unterminated string runs to the end): the bar scans
 * what the user is typing, which is invalid most of the time.
 */
export function scan(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '/') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    const prefixed = /[rRbB]/.test(c) && (src[i + 1] === '"' || src[i + 1] === "'");
    if (c === '"' || c === "'" || prefixed) {
      const start = i;
      const q = prefixed ? i + 1 : i;
      const quote = src[q]!;
      const triple = src[q + 1] === quote && src[q + 2] === quote;
      let j = q + (triple ? 3 : 1);
      const raw = prefixed && /[rR]/.test(c);
      for (;;) {
        if (j >= src.length) break;
        const ch = src[j]!;
        if (ch === '\\' && !raw) {
          j += 2;
          continue;
        }
        if (triple ? src.startsWith(quote.repeat(3), j) : ch === quote) {
          j += triple ? 3 : 1;
          break;
        }
        j++;
      }
      j = Math.min(j, src.length);
      toks.push({ kind: 'string', text: src.slice(start, j), start, end: j });
      i = j;
      continue;
    }
    if (/[0-9]/.test(c)) {
      let j = i + 1;
      while (j < src.length && /[0-9a-zA-Z_.]/.test(src[j]!)) j++;
      toks.push({ kind: 'number', text: src.slice(i, j), start: i, end: j });
      i = j;
      continue;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < src.length && isIdentChar(src[j]!)) j++;
      toks.push({ kind: 'ident', text: src.slice(i, j), start: i, end: j });
      i = j;
      continue;
    }
    const two = src.slice(i, i + 2);
    const len = OPS2.includes(two) ? 2 : 1;
    toks.push({ kind: 'op', text: src.slice(i, i + len), start: i, end: i + len });
    i += len;
  }
  return toks;
}

/** A CEL string literal whose value is `s` (JSON escapes are valid CEL escapes). */
export function kflString(s: string): string {
  return JSON.stringify(s);
}

/** The literal for a value of a field of KFL type `type`. */
export function kflLiteral(value: string | number | boolean, type: string): string {
  if (type === 'int' && typeof value === 'number' && Number.isInteger(value)) return String(value);
  if (type === 'int' && typeof value === 'string' && /^-?\d+$/.test(value)) return value;
  if (type === 'bool') return value === true || value === 'true' ? 'true' : 'false';
  if (type === 'timestamp') return `timestamp(${kflString(String(value))})`;
  return kflString(String(value));
}

/**
 * The condition "field has this value", written the way a person would: `status_code == 404`,
 * `"A" in dns_question_types`, `request.headers["content-type"] == "text/html"`, `http`.
 * `key` selects a map entry. Undefined when the type has no equality (bytes, whole maps).
 */
export function clauseFor(
  field: Pick<Field, 'name' | 'type'>,
  value: string | number | boolean,
  key?: string,
): string | undefined {
  const t = field.type;
  if (t.startsWith('map<')) {
    if (key === undefined) return undefined;
    const lhs = `${field.name}[${kflString(key)}]`;
    return `${lhs} == ${kflString(String(value))}`;
  }
  if (t.startsWith('list<')) return `${kflString(String(value))} in ${field.name}`;
  if (t === 'bool') return value === true || value === 'true' ? field.name : `!${field.name}`;
  if (t === 'bytes') return undefined;
  if (t === 'int') {
    const n = typeof value === 'number' ? value : Number(value);
    if (!Number.isInteger(n)) return undefined;
  }
  return `${field.name} == ${kflLiteral(value, t)}`;
}

/** Top-level (outside parentheses/brackets) tokens of `toks`, with their depth. */
function topLevel(toks: Tok[]): Tok[] {
  const out: Tok[] = [];
  let depth = 0;
  for (const t of toks) {
    if (t.kind === 'op' && (t.text === '(' || t.text === '[' || t.text === '{')) depth++;
    else if (t.kind === 'op' && (t.text === ')' || t.text === ']' || t.text === '}'))
      depth = Math.max(0, depth - 1);
    else if (depth === 0) out.push(t);
  }
  return out;
}

/** The top-level `&&` operands of `q`, trimmed (comments kept as written). */
export function conjuncts(q: string): string[] {
  const toks = scan(q);
  const cuts = topLevel(toks).filter((t) => t.kind === 'op' && t.text === '&&');
  const parts: string[] = [];
  let from = 0;
  for (const c of cuts) {
    parts.push(q.slice(from, c.start).trim());
    from = c.end;
  }
  parts.push(q.slice(from).trim());
  return parts.filter((p) => p !== '');
}

/**
 * `q && clause`: parenthesises `q` when it has a top-level `||` or `?:` (which bind looser than
 * `&&`), and leaves `q` alone when the clause is already one of its conjuncts.
 */
export function appendClause(q: string, clause: string): string {
  const base = q.trim();
  if (base === '') return clause;
  if (conjuncts(base).includes(clause)) return base;
  const loose = topLevel(scan(base)).some(
    (t) => t.kind === 'op' && (t.text === '||' || t.text === '?'),
  );
  return `${loose ? `(${base})` : base} && ${clause}`;
}

/** The dotted name being typed at `cursor` (for completion), or undefined inside a literal. */
export function wordAt(
  src: string,
  cursor: number,
): { start: number; end: number; text: string } | undefined {
  for (const t of scan(src)) {
    if (t.kind === 'string' && cursor > t.start && cursor <= t.end) {
      // Inside a string (or just after a closed one, where no name can be typed).
      return undefined;
    }
    if (t.kind === 'number' && cursor > t.start && cursor <= t.end) return undefined;
  }
  let start = cursor;
  while (start > 0 && /[A-Za-z0-9_.]/.test(src[start - 1]!)) start--;
  let end = cursor;
  while (end < src.length && /[A-Za-z0-9_.]/.test(src[end]!)) end++;
  const text = src.slice(start, cursor);
  if (text === '' || !isIdentStart(text[0]!)) return undefined;
  // A member access on an expression (`request.headers["x"].size`) is not a field name.
  if (start > 0 && /[\])]/.test(src[start - 1]!)) return undefined;
  return { start, end, text };
}

export interface Suggestion {
  /** What is inserted. */
  insert: string;
  /** `field`, `macro` or `flag` (bool fields named like protocols). */
  kind: 'field' | 'macro' | 'flag';
  type: string;
  doc: string;
}

/** Completion order: prefix matches first (shorter first), then names containing the text. */
export function suggest(
  prefix: string,
  fields: readonly Field[],
  macros: Readonly<Record<string, string>>,
  limit: number,
): Suggestion[] {
  const p = prefix.toLowerCase();
  if (p === '') return [];
  const all: Suggestion[] = [
    ...fields.map((f): Suggestion => ({
      insert: f.name,
      kind: f.type === 'bool' && !f.name.includes('_') && !f.name.includes('.') ? 'flag' : 'field',
      type: f.type,
      doc: f.doc,
    })),
    ...Object.entries(macros).map(([name, body]): Suggestion => ({
      insert: name,
      kind: 'macro',
      type: 'macro',
      doc: body,
    })),
  ];
  const scored: { s: Suggestion; rank: number }[] = [];
  for (const s of all) {
    const n = s.insert.toLowerCase();
    if (n === p) continue;
    if (n.startsWith(p)) scored.push({ s, rank: 0 });
    else if (n.split(/[._]/).some((part) => part.startsWith(p))) scored.push({ s, rank: 1 });
    else if (p.length >= 2 && n.includes(p)) scored.push({ s, rank: 2 });
  }
  scored.sort(
    (a, b) =>
      a.rank - b.rank ||
      a.s.insert.length - b.s.insert.length ||
      (a.s.insert < b.s.insert ? -1 : a.s.insert > b.s.insert ? 1 : 0),
  );
  return scored.slice(0, limit).map((x) => x.s);
}

/** Replaces `src[start..end]` with `insert`; returns the text and the cursor after the insert. */
export function applySuggestion(
  src: string,
  start: number,
  end: number,
  insert: string,
): { text: string; cursor: number } {
  return { text: src.slice(0, start) + insert + src.slice(end), cursor: start + insert.length };
}
