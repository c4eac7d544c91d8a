/**
 * KFL compiler: compile once, evaluate per entry.
 *
 *   filter ──lex──▶ tokens ──macros──▶ ──KFL1→KFL2──▶ kfl2 ──names→CEL ids──▶ CEL text
 *          ──cel-js parse + type check (environment from the catalogue)──▶ RE2 check ──▶ matches()
 *
 * Every token remembers its span in the filter the user wrote, so parse and type errors found by
 * cel-js in the internal CEL text are reported at the user's line:column with a caret.
 */
import {
  type ASTNode,
  type Environment,
  ParseError,
  TypeError as CelTypeError,
} from '@marcbachmann/cel-js';
import type { FieldDef } from '../entry/fields.ts';
import type { Entry } from '../entry/model.ts';
import { KflError, type KflErrorCode } from './errors.ts';
import {
  INTERNAL_PREFIX,
  MATCHES_FN,
  kflEnvironment,
  type FieldBinding,
  type KflEnvironment,
} from './env.ts';
import { KFL1_NAMES, translateKfl1 } from './kfl1.ts';
import { chainAt, isIdent, isOp, lex, render, stringLiteral, type Tok } from './lexer.ts';
import { expandMacros } from './macros.ts';
import { Re2Error, translateRe2 } from './re2.ts';
import { closest, missingFamilyReason, type Candidate } from './suggest.ts';

/**
 * The longest filter compiled (UTF-16 units). Compile cost grows with the text (and a few steps,
 * such as "did you mean", with its names), so a longer one is refused before it is read: a
 * 1 MB filter sent to the API once held the process for 17 s. Hand-written filters stay far
 * below this; a list of values belongs in `in [...]`, which is still short.
 */
export const MAX_FILTER_LENGTH = 16 * 1024;

/** The start of a filter refused for its length, shown instead of all of it. */
const TOO_LONG_SHOWN = 60;

function refuseTooLong(source: string): void {
  if (source.length <= MAX_FILTER_LENGTH) return;
  throw new KflError({
    code: 'KS_ERR_KFL_TOO_LONG',
    summary: `filter of ${source.length} characters is longer than the limit of ${MAX_FILTER_LENGTH} (MAX_FILTER_LENGTH)`,
    // Only its start, so the error (and its caret line) stays small.
    source: `${source.slice(0, TOO_LONG_SHOWN).split(/\r?\n/)[0]}…`,
    offset: 0,
    length: 0,
  });
}

export interface CompileOptions {
  /** The KFL field catalogue (`buildCatalogue()`): names, types, getters. */
  catalogue: readonly FieldDef[];
  /** `tap.customMacros`: name → KFL expression. */
  macros?: Readonly<Record<string, string>>;
  /** What `now()` returns (fixed when the filter is compiled); default: the current time. */
  now?: Date;
}

export interface Translation {
  from: string;
  to: string;
  notes: string[];
}

export interface FilterCounters {
  evaluated: number;
  matched: number;
  /** Evaluations that failed (e.g. `request.headers["x"]` without that header): no match. */
  runtimeErrors: number;
}

export interface CompiledFilter {
  /** The filter as given. */
  readonly source: string;
  /** The KFL2 expression compiled: after KFL1 translation and macro expansion. */
  readonly kfl2: string;
  /** Present when older (KFL1) syntax was translated — show it to the user. */
  readonly translation?: Translation;
  /** KFL names the filter reads, in order of first use. */
  readonly fields: readonly string[];
  /** Macros that were expanded. */
  readonly macros: readonly string[];
  readonly counters: FilterCounters;
  /** The first runtime error's message (evaluation errors are no-matches; this says why). */
  readonly firstRuntimeError: string | undefined;
  /** Whether the entry passes the filter. Never throws. */
  matches(e: Entry): boolean;
  resetCounters(): void;
}

/** Compiles a KFL filter. Throws KflError (with line:column and `caret()`) when it is invalid. */
export function compileKfl(source: string, opts: CompileOptions): CompiledFilter {
  refuseTooLong(source);
  const kenv = kflEnvironment(opts.catalogue);
  const lexed = lex(source);
  if (lexed.toks.length === 0) return matchAll(source);

  const expanded = expandMacros(lexed.toks, {
    macros: opts.macros ?? {},
    isField: (n) => kenv.byName.has(n),
    source,
  });
  const k1 = translateKfl1(expanded.toks, source);
  const kfl2 = render(k1.toks).trim();
  const translation = k1.notes.length > 0 ? { from: source, to: kfl2, notes: k1.notes } : undefined;

  try {
    return compileTokens(source, kfl2, k1.toks, kenv, opts, translation, expanded.used);
  } catch (e) {
    if (e instanceof KflError && translation && !e.translation) {
      throw new KflError({
        code: e.code,
        summary: e.summary,
        source: e.source,
        offset: e.offset,
        length: e.length,
        hint: e.hint,
        translation,
        cause: e.cause,
      });
    }
    throw e;
  }
}

/** Translates older (KFL1) syntax only: for showing what a filter means in KFL2. */
export function translateToKfl2(source: string): { kfl2: string; notes: string[] } {
  refuseTooLong(source);
  const lexed = lex(source);
  const k1 = translateKfl1(lexed.toks, source);
  return { kfl2: render(k1.toks).trim(), notes: k1.notes };
}

function matchAll(source: string): CompiledFilter {
  const counters: FilterCounters = { evaluated: 0, matched: 0, runtimeErrors: 0 };
  return {
    source,
    kfl2: '',
    fields: [],
    macros: [],
    counters,
    firstRuntimeError: undefined,
    matches() {
      counters.evaluated++;
      counters.matched++;
      return true;
    },
    resetCounters() {
      counters.evaluated = counters.matched = counters.runtimeErrors = 0;
    },
  };
}

/** A token of the CEL text and where it came from. */
interface Placed {
  tok: Tok;
  celStart: number;
  celEnd: number;
}

function compileTokens(
  source: string,
  kfl2: string,
  toks: readonly Tok[],
  kenv: KflEnvironment,
  opts: CompileOptions,
  translation: Translation | undefined,
  macrosUsed: readonly string[],
): CompiledFilter {
  const fields: string[] = [];
  const resolved = resolveNames(toks, kenv, fields, source);
  lowerProtocolLiterals(resolved, kenv);

  // The CEL text, remembering each token's place.
  let cel = '';
  const placed: Placed[] = [];
  for (const t of resolved) {
    cel += t.ws;
    placed.push({ tok: t, celStart: cel.length, celEnd: cel.length + t.text.length });
    cel += t.text;
  }

  const errorAt: ErrorAt = (code, summary, range, hint, cause, direct) => {
    const span = direct ?? mapRange(placed, range, source);
    const macro = span.macro;
    return new KflError({
      code,
      summary: macro ? `${summary} (in macro \`${macro}\`)` : summary,
      source,
      offset: span.start,
      length: span.end - span.start,
      hint,
      translation,
      cause,
    });
  };

  const env: Environment = kenv.env.clone();
  const now = opts.now ?? new Date();
  env.registerFunction('now(): google.protobuf.Timestamp', () => now, {
    description: 'the time the filter was compiled',
  });

  // The parser and checker recurse: a filter nested thousands deep (`!!!…!http`, `1 + 1 + …`)
  // runs out of stack there. That is a syntax error like any other, not a crash.
  const tooDeep = (cause: unknown): KflError =>
    errorAt(
      'KS_ERR_KFL_SYNTAX',
      'syntax error: the filter nests too deeply',
      { start: 0, end: cel.length },
      undefined,
      cause,
    );
  let parsed: ReturnType<Environment['parse']>;
  try {
    parsed = env.parse(cel);
  } catch (e) {
    if (e instanceof RangeError) throw tooDeep(e);
    if (e instanceof ParseError) {
      throw errorAt(
        'KS_ERR_KFL_SYNTAX',
        `syntax error: ${demangle(e.summary, kenv)}`,
        e.range,
        undefined,
        e,
      );
    }
    throw e;
  }
  let checked: ReturnType<typeof parsed.check>;
  try {
    checked = parsed.check();
  } catch (e) {
    if (e instanceof RangeError) throw tooDeep(e);
    throw e;
  }
  if (!checked.valid) {
    const e = checked.error!;
    if (/Maximum call stack size exceeded/.test(e.message)) throw tooDeep(e);
    if (e instanceof CelTypeError && e.code === 'unknown_variable') {
      throw unknownName(e, placed, kenv, errorAt, source);
    }
    if (e instanceof ParseError) {
      throw errorAt(
        'KS_ERR_KFL_SYNTAX',
        `syntax error: ${demangle(e.summary, kenv)}`,
        e.range,
        undefined,
        e,
      );
    }
    const { summary, hint } = typeMessage(e, kenv);
    throw errorAt('KS_ERR_KFL_TYPE', summary, e.range, hint, e);
  }
  if (checked.type !== 'bool' && checked.type !== 'dyn') {
    throw errorAt(
      'KS_ERR_KFL_NOT_BOOL',
      `the filter is ${article(checked.type ?? 'value')}, not a condition`,
      { start: placed[0]!.celStart, end: cel.length },
      notBoolHint(resolved, kenv),
    );
  }
  checkRegexLiterals(parsed.ast, placed, errorAt, source);

  return evaluator(source, kfl2, translation, fields, macrosUsed, parsed, kenv);
}

/**
 * Dotted and flat field names → CEL identifiers (longest catalogue name of each `a.b.c` chain),
 * `matches` → the RE2 implementation. Unknown names are left for the type checker to report.
 */
function resolveNames(
  toks: readonly Tok[],
  kenv: KflEnvironment,
  fields: string[],
  source: string,
): Tok[] {
  const out: Tok[] = [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.kind !== 'ident') {
      out.push(t);
      continue;
    }
    const afterDot = isOp(toks[i - 1], '.');
    if (isOp(toks[i + 1], '(')) {
      // A function or method call.
      out.push(t.text === 'matches' ? { ...t, text: MATCHES_FN, verbatim: false } : t);
      continue;
    }
    if (afterDot) {
      out.push(t);
      continue;
    }
    if (t.text.startsWith(INTERNAL_PREFIX)) {
      throw new KflError({
        code: 'KS_ERR_KFL_UNKNOWN_FIELD',
        summary: `unknown field \`${t.text}\``,
        source,
        offset: t.start,
        length: t.end - t.start,
      });
    }
    // Longest declared name along the chain `a.b.c` (no longer than the longest declared one:
    // a chain of thousands of names is not tried at every length).
    const chain = chainAt(toks, i);
    let binding: FieldBinding | undefined;
    let last = i;
    for (let n = Math.min(chain.length, kenv.maxNameParts); n >= 1; n--) {
      const end = chain[n - 1]!;
      // A name followed by `(` is a method call, not part of the field name.
      if (n > 1 && isOp(toks[end + 1], '(')) continue;
      const name = chain
        .slice(0, n)
        .map((k) => toks[k]!.text)
        .join('.');
      const b = kenv.byName.get(name);
      if (b) {
        binding = b;
        last = end;
        break;
      }
    }
    if (!binding) {
      out.push(t);
      continue;
    }
    if (!fields.includes(binding.name)) fields.push(binding.name);
    const end = toks[last]!;
    out.push({
      ...t,
      text: binding.id,
      end: t.macro === undefined ? end.end : t.end,
      verbatim: t.verbatim && last === i && binding.id === t.text,
    });
    i = last;
  }
  return out;
}

/**
 * `protocol == "DNS"`, `"DNS" != protocol`, `protocol in ["DNS", "HTTP"]`: the literals are
 * lower-cased (protocol values are lower-cased when read), so these compare case-insensitively.
 */
function lowerProtocolLiterals(toks: Tok[], kenv: KflEnvironment): void {
  const id = kenv.byName.get('protocol')?.id;
  if (id === undefined) return;
  const lower = (k: number): void => {
    const s = toks[k];
    if (s?.kind === 'string' && s.value !== undefined && s.value !== s.value.toLowerCase()) {
      toks[k] = {
        ...s,
        text: stringLiteral(s.value.toLowerCase()),
        value: s.value.toLowerCase(),
        verbatim: false,
      };
    }
  };
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.kind !== 'ident' || t.text !== id || isOp(toks[i - 1], '.')) continue;
    if (isOp(toks[i + 1], '==', '!=')) lower(i + 2);
    if (isOp(toks[i - 1], '==', '!=')) lower(i - 2);
    if (isIdent(toks[i + 1], 'in') && isOp(toks[i + 2], '[')) {
      for (let k = i + 3; k < toks.length && !isOp(toks[k], ']'); k++) lower(k);
    }
  }
}

/** Source span of a CEL-text range (through the token that produced it). */
function mapRange(
  placed: readonly Placed[],
  range: { start: number; end: number } | undefined,
  source: string,
): { start: number; end: number; macro?: string } {
  const last = placed.at(-1);
  if (!last || !range) return { start: 0, end: source.length };
  // Errors at the end of the input (a parse error after the last token) point just past it.
  if (range.start >= last.celEnd)
    return { start: last.tok.end, end: last.tok.end, macro: last.tok.macro };
  /** Source offset of a CEL offset: exact inside verbatim tokens, else the token's start/end. */
  const at = (off: number, isEnd: boolean): { pos: number; macro?: string } => {
    for (let i = 0; i < placed.length; i++) {
      const p = placed[i]!;
      const t = p.tok;
      if (off < p.celStart) {
        // In the whitespace before this token: a start belongs to it, an end to the one before.
        const prev = placed[i - 1]?.tok;
        return isEnd && prev
          ? { pos: prev.end, macro: prev.macro }
          : { pos: t.start, macro: t.macro };
      }
      if (off < p.celEnd || (isEnd && off === p.celEnd)) {
        if (t.verbatim) return { pos: t.start + (off - p.celStart), macro: t.macro };
        return { pos: isEnd ? t.end : t.start, macro: t.macro };
      }
    }
    return { pos: last.tok.end, macro: last.tok.macro };
  };
  const s = at(range.start, false);
  const e = at(Math.max(range.end, range.start), true);
  return { start: s.pos, end: Math.max(e.pos, s.pos + 1), macro: s.macro };
}

type ErrorAt = (
  code: KflErrorCode,
  summary: string,
  range: { start: number; end: number } | undefined,
  hint?: string,
  cause?: unknown,
  /** A span in the user's filter, when known exactly (instead of `range` in the CEL text). */
  direct?: { start: number; end: number; macro?: string },
) => KflError;

/** Names a user might have meant: fields, KFL1 names (suggesting their translation). */
function candidates(kenv: KflEnvironment): Candidate[] {
  const c: Candidate[] = [...kenv.byName.keys()].map((n) => ({ name: n, suggest: n }));
  for (const [k1, k2] of Object.entries(KFL1_NAMES)) {
    if (kenv.byName.has(k2)) c.push({ name: k1, suggest: k2 });
  }
  return c;
}

/** An unknown identifier: the whole dotted name the user wrote, with a suggestion. */
function unknownName(
  e: CelTypeError,
  placed: readonly Placed[],
  kenv: KflEnvironment,
  errorAt: ErrorAt,
  source: string,
): KflError {
  const start = e.range?.start ?? 0;
  const k = placed.findIndex((p) => p.celStart <= start && start < p.celEnd);
  let name = e.summary.replace(/^Unknown variable: /, '');
  let end = e.range?.end ?? start + name.length;
  if (k >= 0) {
    const parts = [placed[k]!.tok.text];
    let j = k;
    while (
      isOp(placed[j + 1]?.tok, '.') &&
      isIdent(placed[j + 2]?.tok) &&
      !isOp(placed[j + 3]?.tok, '(')
    ) {
      j += 2;
      parts.push(placed[j]!.tok.text);
    }
    name = parts.join('.');
    end = placed[j]!.celEnd;
  }
  const reason = missingFamilyReason(name) ?? missingFamilyReason(name.split('.')[0]!);
  const suggestion = closest(name, candidates(kenv));
  let hint: string | undefined;
  if (reason !== undefined && suggestion === undefined) hint = `: ${reason}`;
  else if (suggestion !== undefined) hint = `; did you mean \`${suggestion}\`?`;
  // A name produced by the KFL1 translation: say what the user wrote.
  let summary = `unknown field \`${name}\``;
  const tok = k >= 0 ? placed[k]!.tok : undefined;
  if (tok && !tok.verbatim && tok.macro === undefined) {
    const wrote = source.slice(tok.start, tok.end);
    if (wrote !== name) summary += ` (translated from \`${wrote}\`)`;
  }
  return errorAt('KS_ERR_KFL_UNKNOWN_FIELD', summary, { start, end }, hint, e);
}

/** Internal identifiers back to KFL names in cel-js messages. */
function demangle(msg: string, kenv: KflEnvironment): string {
  return msg
    .replace(/Unexpected token: EOF/, 'unexpected end of the filter')
    .replace(/got EOF\b/, 'got the end of the filter')
    .replace(/google\.protobuf\.(Timestamp|Duration)/g, (_, t: string) => t.toLowerCase())
    .replace(/\bkfl__[A-Za-z0-9_]+/g, (id) =>
      id === MATCHES_FN ? 'matches' : (kenv.byId.get(id)?.name ?? id),
    );
}

const KFL_TYPE_NAMES: Record<string, string> = {
  'google.protobuf.Timestamp': 'timestamp',
  'google.protobuf.Duration': 'duration',
};
const typeName = (t: string): string => KFL_TYPE_NAMES[t] ?? t;
const article = (t: string): string => {
  const n = typeName(t);
  return /^[aeiou]/.test(n) ? `an ${n}` : `a ${n}`;
};

function celTypeOfValue(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'bigint':
      return 'int';
    case 'number':
      return 'double';
    case 'boolean':
      return 'bool';
    default:
      return v === null ? 'null' : 'value';
  }
}

/** A type error, phrased with KFL names; a hint when a field meets a literal of another type. */
function typeMessage(
  e: Error & { summary?: string; node?: ASTNode },
  kenv: KflEnvironment,
): { summary: string; hint?: string } {
  const base = `type error: ${demangle(e.summary ?? e.message, kenv)}`;
  if (/has\(\) invalid argument/.test(base)) {
    return {
      summary: base,
      hint: '; has() tests a map key (`has(request.headers.host)`); fields always have a value (a missing one reads as its default: "", 0, false, [], {})',
    };
  }
  const node = e.node;
  if (!node || !Array.isArray(node.args) || node.args.length !== 2) return { summary: base };
  const [l, r] = node.args as unknown[];
  const isNode = (x: unknown): x is ASTNode => typeof x === 'object' && x !== null && 'op' in x;
  if (!isNode(l) || !isNode(r)) return { summary: base };
  const pick = (a: ASTNode, b: ASTNode): { f: FieldBinding; lit: unknown } | undefined => {
    if (a.op !== 'id' || b.op !== 'value') return undefined;
    const f = kenv.byId.get(a.args);
    return f ? { f, lit: b.args } : undefined;
  };
  const m = pick(l, r) ?? pick(r, l);
  if (!m) return { summary: base };
  const ft = m.f.def.type;
  const lt = celTypeOfValue(m.lit);
  const litText = typeof m.lit === 'string' ? JSON.stringify(m.lit) : String(m.lit);
  if (node.op === 'in') {
    return { summary: `\`${m.f.name}\` is ${article(ft)}; \`in\` needs a list or a map` };
  }
  const summary = `\`${m.f.name}\` is ${article(ft)} and cannot be compared with ${article(lt)} (${litText})`;
  let hint: string | undefined;
  if (ft === 'int' && typeof m.lit === 'string' && /^-?\d+$/.test(m.lit)) {
    hint = `; write \`${m.f.name} ${node.op} ${m.lit}\``;
  } else if (ft === 'string' && (typeof m.lit === 'bigint' || typeof m.lit === 'number')) {
    hint = `; write \`${m.f.name} ${node.op} "${String(m.lit)}"\``;
  }
  return { summary, hint };
}

function notBoolHint(toks: readonly Tok[], kenv: KflEnvironment): string | undefined {
  if (toks.length !== 1) return undefined;
  const f = kenv.byId.get(toks[0]!.text);
  if (!f) return undefined;
  const examples: Partial<Record<string, string>> = {
    string: `${f.name} == "…"`,
    int: `${f.name} > 0`,
    timestamp: `${f.name} > now() - duration("5m")`,
    'list<string>': `"…" in ${f.name}`,
    'map<string,string>': `"key" in ${f.name}`,
    'map<string,dyn>': `"key" in ${f.name}`,
    bytes: `size(${f.name}) > 0`,
  };
  const ex = examples[f.def.type];
  return ex ? `; compare it, e.g. \`${ex}\`` : undefined;
}

/** RE2 check of every literal pattern given to `matches`, positioned inside the literal. */
function checkRegexLiterals(
  ast: ASTNode,
  placed: readonly Placed[],
  errorAt: ErrorAt,
  source: string,
): void {
  const seen = new Set<object>();
  const visit = (n: unknown): void => {
    if (typeof n !== 'object' || n === null || seen.has(n)) return;
    seen.add(n);
    if (Array.isArray(n)) {
      for (const x of n) visit(x);
      return;
    }
    const node = n as ASTNode;
    if (!('op' in node)) return;
    let pattern: ASTNode | undefined;
    if (node.op === 'rcall' && node.args[0] === MATCHES_FN) pattern = node.args[2][0];
    if (node.op === 'call' && node.args[0] === MATCHES_FN) pattern = node.args[1][1];
    if (pattern && pattern.op === 'value' && typeof pattern.args === 'string') {
      try {
        translateRe2(pattern.args);
      } catch (e) {
        if (!(e instanceof Re2Error)) throw e;
        throw regexError(e, pattern, placed, errorAt, source);
      }
    }
    if (Array.isArray(node.args)) visit(node.args);
    else visit(node.args);
  };
  visit(ast);
}

/**
 * A regex error positioned inside the literal the user wrote when the pattern is the literal's
 * text as is (a raw string, or no escapes) — also for a KFL1 `r"…"` translated to a string.
 */
function regexError(
  e: Re2Error,
  lit: ASTNode,
  placed: readonly Placed[],
  errorAt: ErrorAt,
  source: string,
): KflError {
  const p = placed.find((x) => x.celStart <= lit.start && lit.start < x.celEnd);
  const summary = `invalid regular expression: ${e.message}`;
  const t = p?.tok;
  if (t && t.macro === undefined && typeof lit.args === 'string') {
    const m = /^([rRbB]?)("""|'''|"|')([\s\S]*)\2$/.exec(source.slice(t.start, t.end));
    if (m) {
      const raw = m[1] === 'r' || m[1] === 'R';
      const body = m[3]!;
      if ((raw || !body.includes('\\')) && body === lit.args) {
        const at = t.start + m[1]!.length + m[2]!.length + e.offset;
        return errorAt('KS_ERR_KFL_REGEX', summary, undefined, undefined, e, {
          start: at,
          end: at + Math.max(1, e.length),
        });
      }
    }
  }
  return errorAt('KS_ERR_KFL_REGEX', summary, { start: lit.start, end: lit.end }, undefined, e);
}

/**
 * The per-entry evaluation: one reusable context object whose prototype has a lazy getter per
 * referenced field (only fields the evaluation reaches are read), values converted to CEL types
 * with KFL defaults for missing values.
 */
function evaluator(
  source: string,
  kfl2: string,
  translation: Translation | undefined,
  fields: readonly string[],
  macros: readonly string[],
  run: (ctx: object) => unknown,
  kenv: KflEnvironment,
): CompiledFilter {
  const proto: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const name of fields) {
    const b = kenv.byName.get(name)!;
    const read = b.read;
    Object.defineProperty(proto, b.id, {
      get(this: { e: Entry }) {
        return read(this.e);
      },
    });
  }
  const ctx = Object.create(proto) as { e: Entry | undefined };
  ctx.e = undefined;
  const counters: FilterCounters = { evaluated: 0, matched: 0, runtimeErrors: 0 };
  let firstRuntimeError: string | undefined;
  const fail = (msg: string): false => {
    counters.runtimeErrors++;
    firstRuntimeError ??= msg;
    return false;
  };
  return {
    source,
    kfl2,
    ...(translation ? { translation } : {}),
    fields,
    macros,
    counters,
    get firstRuntimeError() {
      return firstRuntimeError;
    },
    matches(e: Entry): boolean {
      counters.evaluated++;
      ctx.e = e;
      let r: unknown;
      try {
        r = run(ctx);
      } catch (err) {
        const msg =
          err instanceof Error
            ? ((err as { summary?: string }).summary ?? err.message)
            : String(err);
        return fail(demangle(msg, kenv));
      } finally {
        ctx.e = undefined;
      }
      if (r === true) {
        counters.matched++;
        return true;
      }
      return r === false ? false : fail(`the filter gave ${typeof r}, not a boolean`);
    },
    resetCounters() {
      counters.evaluated = counters.matched = counters.runtimeErrors = 0;
      firstRuntimeError = undefined;
    },
  };
}
