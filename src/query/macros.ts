/**
 * KFL macros (`tap.customMacros`, e.g. `https: tls && http`): a name in a filter is replaced by
 * its expression, in parentheses, before compiling. Whole tokens only (never inside strings or
 * after a `.`), recursively (a macro may use macros), with a cycle check. Expanded tokens point
 * at the macro name in the user's filter, so errors inside a macro are reported there.
 */
import { KflError } from './errors.ts';
import { isOp, lex, synth, type Tok } from './lexer.ts';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Depth limit, far above any sensible nesting (the cycle check catches loops). */
const MAX_DEPTH = 32;
const RESERVED = new Set(['true', 'false', 'null', 'in', 'and', 'or', 'not', 'exists']);

export interface MacroOptions {
  macros: Readonly<Record<string, string>>;
  /** Declared field names (a macro may not hide one). */
  isField: (name: string) => boolean;
  /** The whole filter (errors are reported against it). */
  source: string;
}

/**
 * Checks every macro definition up front (the config layer calls this when it loads
 * `tap.customMacros`): names are identifiers, not fields or keywords, bodies lex. Throws
 * KflError(KS_ERR_KFL_MACRO) whose source is the offending definition.
 */
export function validateMacros(
  macros: Readonly<Record<string, string>>,
  isField: (name: string) => boolean,
): void {
  for (const [name, body] of Object.entries(macros)) {
    const def = `${name}: ${body}`;
    const bad = (summary: string, offset = 0, length = name.length): never => {
      throw new KflError({ code: 'KS_ERR_KFL_MACRO', summary, source: def, offset, length });
    };
    if (!NAME.test(name)) bad(`macro name \`${name}\` is not an identifier`);
    if (RESERVED.has(name)) bad(`macro name \`${name}\` is a KFL keyword`);
    if (isField(name)) bad(`macro \`${name}\` has the name of a field; rename it`);
    if (body.trim() === '') bad(`macro \`${name}\` is empty`);
    try {
      lex(body);
    } catch (e) {
      if (e instanceof KflError)
        bad(`in macro \`${name}\`: ${e.summary}`, name.length + 2 + e.offset, e.length);
      throw e;
    }
  }
}

export function expandMacros(
  toks: readonly Tok[],
  o: MacroOptions,
): { toks: Tok[]; used: string[] } {
  const used = new Set<string>();
  const names = new Set(Object.keys(o.macros));
  if (names.size === 0) return { toks: [...toks], used: [] };

  const expand = (input: readonly Tok[], stack: string[]): Tok[] => {
    const out: Tok[] = [];
    for (let i = 0; i < input.length; i++) {
      const t = input[i]!;
      if (t.kind !== 'ident' || !names.has(t.text) || isOp(input[i - 1], '.')) {
        out.push(t);
        continue;
      }
      const name = t.text;
      const fail = (summary: string): never => {
        throw new KflError({
          code: 'KS_ERR_KFL_MACRO',
          summary,
          source: o.source,
          offset: t.start,
          length: t.end - t.start,
        });
      };
      if (stack.includes(name)) fail(`macros expand in a cycle: ${[...stack, name].join(' → ')}`);
      if (stack.length >= MAX_DEPTH) fail(`macros nest deeper than ${MAX_DEPTH}`);
      if (o.isField(name)) fail(`macro \`${name}\` has the name of a field; rename it`);
      const body = o.macros[name]!;
      let lexed: Tok[];
      try {
        lexed = lex(body).toks;
      } catch (e) {
        if (e instanceof KflError) fail(`in macro \`${name}\`: ${e.summary}`);
        throw e;
      }
      if (lexed.length === 0) fail(`macro \`${name}\` is empty`);
      used.add(name);
      // Body tokens keep their own spacing but point at the macro name in the filter.
      const at = { start: t.start, end: t.end, macro: t.macro ?? name };
      const body2 = lexed.map((b) => ({
        ...b,
        start: at.start,
        end: at.end,
        verbatim: false,
        macro: at.macro,
      }));
      const expanded = expand(body2, [...stack, name]);
      if (expanded.length === 1) {
        out.push({ ...expanded[0]!, ws: t.ws });
      } else {
        out.push(
          synth('op', '(', at, t.ws),
          { ...expanded[0]!, ws: '' },
          ...expanded.slice(1),
          synth('op', ')', at),
        );
      }
    }
    return out;
  };
  return { toks: expand(toks, []), used: [...used] };
}
