/**
 * KFL1 → KFL2. Blog posts, wikis and older docs use the first KFL; it is translated on the token
 * stream (string literals are never touched) following ../shared/KFL.md's table:
 *
 * | KFL1                                   | KFL2                                   |
 * |----------------------------------------|----------------------------------------|
 * | `and`, `or`, `not x`                   | `&&`, `||`, `!x` (`!(…)` around a comparison) |
 * | `response.status`                      | `status_code`                          |
 * | `request.method`, `request.path`       | `method`, `path`                       |
 * | `response.latency > 1000` (ms)         | `elapsed_time > 1000000` (µs)          |
 * | `response.latency > 500ms`, `> 1s`     | `elapsed_time > 500000`, `> 1000000`   |
 * | `src.name == r"cata.*"`                | `src.name.matches("cata.*")`           |
 * | `request.headers["X"] exists`          | `"x" in request.headers`               |
 * | `redis.command`, `kafka.topic`         | `redis_type`, `kafka_request_summary`  |
 * | `postgres`                             | `postgresql`                           |
 * | `request.body.size` (and `response.…`) | `request_body_size` (`response_body_size`) |
 *
 * What cannot be translated without guessing is an error (KS_ERR_KFL_AMBIGUOUS) that says why:
 * `response.latency` not compared with a number, `exists` after anything but a map key,
 * a regex literal whose other side of `==` is not a simple operand.
 */
import { KflError } from './errors.ts';
import {
  isIdent,
  chainAt,
  isOp,
  matchBackward,
  postfixEnd,
  postfixStart,
  stringLiteral,
  synth,
  type Tok,
} from './lexer.ts';

/** KFL1 dotted names with a direct KFL2 equivalent. */
export const KFL1_NAMES: Readonly<Record<string, string>> = {
  'response.status': 'status_code',
  'request.method': 'method',
  'request.path': 'path',
  'request.body.size': 'request_body_size',
  'response.body.size': 'response_body_size',
  'redis.command': 'redis_type',
  'kafka.topic': 'kafka_request_summary',
  'response.latency': 'elapsed_time',
  postgres: 'postgresql',
};

/** Names in the longest KFL1 dotted name (`request.body.size`). */
const KFL1_MAX_PARTS = Math.max(...Object.keys(KFL1_NAMES).map((n) => n.split('.').length));

const LATENCY = 'response.latency';
const COMPARE = ['==', '!=', '<', '<=', '>', '>='];
/** Duration units (Go's time.ParseDuration) in microseconds. */
const UNIT_US: Record<string, number> = {
  ns: 0.001,
  us: 1,
  ms: 1000,
  s: 1e6,
  m: 60e6,
  h: 3600e6,
};
/** Header maps have lower-case keys, so a KFL1 `["Authorization"]` key is lower-cased. */
const HEADER_MAPS = new Set(['request.headers', 'response.headers']);

export interface Kfl1Result {
  toks: Tok[];
  /** What was translated, one note per kind of rewrite (empty: nothing was KFL1). */
  notes: string[];
}

const chainName = (toks: readonly Tok[], idx: readonly number[]): string =>
  idx.map((k) => toks[k]!.text).join('.');

/** A token that starts a name (not a member after `.`). */
const startsName = (toks: readonly Tok[], i: number): boolean =>
  isIdent(toks[i]) && !isOp(toks[i - 1], '.');

/** `500`, `1.5`, `500ms` (no space before the unit), `"500ms"`: the value in µs, or undefined. */
function latencyOperand(
  toks: readonly Tok[],
  i: number,
): { us: number; len: number; text: string } | undefined {
  const t = toks[i];
  if (!t) return undefined;
  if (t.kind === 'int' || t.kind === 'float') {
    const n = Number(t.text.replace(/[uU]$/, ''));
    if (!Number.isFinite(n)) return undefined;
    const u = toks[i + 1];
    if (u && u.kind === 'ident' && u.ws === '') {
      const mult = UNIT_US[u.text];
      if (mult === undefined) return undefined;
      return { us: n * mult, len: 2, text: t.text + u.text };
    }
    return { us: n * 1000, len: 1, text: t.text };
  }
  if (t.kind === 'string' && t.value !== undefined) {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ns|us|ms|s|m|h)?\s*$/.exec(t.value);
    if (!m) return undefined;
    return { us: Number(m[1]) * UNIT_US[m[2] ?? 'ms']!, len: 1, text: t.text };
  }
  return undefined;
}

function microsToken(us: number, from: Tok, ws: string): Tok {
  const rounded = Math.round(us * 1000) / 1000;
  const isInt = Number.isInteger(rounded);
  return synth(isInt ? 'int' : 'float', String(rounded), from, ws);
}

/** Tokens `a..b` (inclusive) as one span for errors. */
const spanOf = (toks: readonly Tok[], a: number, b: number): Tok =>
  synth('op', '', { start: toks[a]!.start, end: toks[b]!.end, macro: toks[a]!.macro });

export function translateKfl1(input: readonly Tok[], source: string): Kfl1Result {
  const notes = new Set<string>();
  const err = (code: 'KS_ERR_KFL_AMBIGUOUS' | 'KS_ERR_KFL_SYNTAX', summary: string, at: Tok) =>
    new KflError({
      code,
      summary: at.macro ? `${summary} (in macro \`${at.macro}\`)` : summary,
      source,
      offset: at.start,
      length: Math.max(1, at.end - at.start),
    });

  // Pass 1: names, latency comparisons, `exists`, numbers with units.
  const out: Tok[] = [];
  for (let i = 0; i < input.length; i++) {
    const t = input[i]!;

    // Reversed latency comparison: `500ms < response.latency`.
    if (t.kind === 'int' || t.kind === 'float' || t.kind === 'string') {
      const lit = latencyOperand(input, i);
      const op = lit && input[i + lit.len];
      const after = lit && i + lit.len + 1;
      if (
        lit &&
        after !== undefined &&
        isOp(op, ...COMPARE) &&
        startsName(input, after) &&
        chainName(input, chainAt(input, after)) === LATENCY
      ) {
        const chain = chainAt(input, after);
        out.push(microsToken(lit.us, spanOf(input, i, i + lit.len - 1), t.ws));
        out.push(input[i + lit.len]!);
        out.push(
          synth('ident', 'elapsed_time', spanOf(input, after, chain.at(-1)!), input[after]!.ws),
        );
        notes.add(
          `\`response.latency\` (milliseconds, or a number with a unit) → \`elapsed_time\` (microseconds)`,
        );
        i = chain.at(-1)!;
        continue;
      }
    }

    // A number with a unit anywhere else is KFL1 latency syntax out of place.
    if ((t.kind === 'int' || t.kind === 'float') && input[i + 1]?.ws === '') {
      const u = input[i + 1]!;
      if (u.kind === 'ident' && UNIT_US[u.text] !== undefined) {
        const us = Number(t.text) * UNIT_US[u.text]!;
        throw err(
          'KS_ERR_KFL_SYNTAX',
          `\`${t.text}${u.text}\`: a number with a unit is understood only in KFL1 \`response.latency > ${t.text}${u.text}\`; KFL2 \`elapsed_time\` counts microseconds (${t.text}${u.text} = ${us}), and \`duration("${t.text}${u.text}")\` works with timestamps`,
          spanOf(input, i, i + 1),
        );
      }
    }

    if (!startsName(input, i)) {
      out.push(t);
      continue;
    }

    const chain = chainAt(input, i);
    // Longest KFL1 dotted prefix of the chain.
    let hit: { name: string; last: number } | undefined;
    for (let n = Math.min(chain.length, KFL1_MAX_PARTS); n >= 1; n--) {
      const name = chainName(input, chain.slice(0, n));
      if (KFL1_NAMES[name] !== undefined && (n > 1 || name === 'postgres')) {
        hit = { name, last: chain[n - 1]! };
        break;
      }
    }
    if (hit && hit.name === 'postgres' && isOp(input[i + 1], '(')) hit = undefined;

    if (hit?.name === LATENCY) {
      const op = input[hit.last + 1];
      const lit = isOp(op, ...COMPARE) ? latencyOperand(input, hit.last + 2) : undefined;
      if (!lit) {
        throw err(
          'KS_ERR_KFL_AMBIGUOUS',
          '`response.latency` (KFL1, milliseconds) can be translated only when compared with a number (`response.latency > 500`) or a number with a unit (`> 500ms`, `> 1s`); in KFL2 use `elapsed_time` (microseconds)',
          spanOf(input, i, hit.last),
        );
      }
      out.push(synth('ident', 'elapsed_time', spanOf(input, i, hit.last), t.ws));
      out.push(op!);
      out.push(
        microsToken(
          lit.us,
          spanOf(input, hit.last + 2, hit.last + 1 + lit.len),
          input[hit.last + 2]!.ws,
        ),
      );
      notes.add(
        `\`response.latency\` (milliseconds, or a number with a unit) → \`elapsed_time\` (microseconds)`,
      );
      i = hit.last + 1 + lit.len;
      continue;
    }
    if (hit) {
      const to = KFL1_NAMES[hit.name]!;
      out.push(synth('ident', to, spanOf(input, i, hit.last), t.ws));
      notes.add(`\`${hit.name}\` → \`${to}\``);
      i = hit.last;
      continue;
    }

    if (t.text === 'exists' && !isOp(input[i + 1], '(')) {
      out.push(...existsToIn(out, t, input[i + 1]));
      notes.add('`m["k"] exists` → `"k" in m`');
      continue;
    }
    out.push(t);
  }

  // Pass 2: regex literals compared with == / !=.
  const withRegex = regexLiterals(out, notes, err);

  // Pass 3: and / or.
  const logic = withRegex.map((t, i, a) => {
    if (!startsName(a, i) || (t.text !== 'and' && t.text !== 'or')) return t;
    const to = t.text === 'and' ? '&&' : '||';
    notes.add(`\`${t.text}\` → \`${to}\``);
    return { ...t, kind: 'op' as const, text: to, verbatim: false };
  });

  // Pass 4: not.
  const final = translateNot(logic, notes, err);
  return { toks: final, notes: [...notes] };

  /** `m[k] exists` → `k in m`, with the key lower-cased for header maps. */
  function existsToIn(o: Tok[], at: Tok, next: Tok | undefined): Tok[] {
    const close = o.length - 1;
    if (!isOp(o[close], ']')) {
      throw err(
        'KS_ERR_KFL_AMBIGUOUS',
        '`exists` (KFL1) tests a map key, as in `request.headers["x"] exists`; KFL2 has no "field is present" test — compare with the default instead (`src.name != ""`, `status_code != 0`)',
        at,
      );
    }
    const open = matchBackward(o, close);
    const mapStart = open > 0 ? postfixStart(o, open - 1) : -1;
    if (open < 0 || mapStart < 0 || open + 1 >= close) {
      throw err(
        'KS_ERR_KFL_AMBIGUOUS',
        '`exists` must follow a map key, as in `request.headers["x"] exists`',
        at,
      );
    }
    const removed = o.splice(mapStart);
    const map = removed.slice(0, open - mapStart);
    let key = removed.slice(open - mapStart + 1, close - mapStart);
    const mapName = map.map((t) => t.text).join('');
    const k0 = key[0]!;
    if (
      HEADER_MAPS.has(mapName) &&
      key.length === 1 &&
      k0.kind === 'string' &&
      k0.value !== undefined &&
      k0.value !== k0.value.toLowerCase()
    ) {
      key = [synth('string', stringLiteral(k0.value.toLowerCase()), k0, '')];
      notes.add('header names are lower-case in KFL2: the key was lower-cased');
    }
    const ws = map[0]!.ws;
    key = [{ ...key[0]!, ws: '' }, ...key.slice(1)];
    const body = [...key, synth('ident', 'in', at, ' '), { ...map[0]!, ws: ' ' }, ...map.slice(1)];
    // Parenthesise unless the neighbours bind more loosely than `in`.
    const loose = (x: Tok | undefined): boolean =>
      x === undefined ||
      isOp(x, '(', '[', ',', '&&', '||', '?', ':') ||
      isIdent(x, 'and') ||
      isIdent(x, 'or');
    const looseAfter = (x: Tok | undefined): boolean =>
      x === undefined ||
      isOp(x, ')', ']', ',', '&&', '||', '?', ':') ||
      isIdent(x, 'and') ||
      isIdent(x, 'or');
    if (loose(o[o.length - 1]) && looseAfter(next)) {
      return [{ ...body[0]!, ws }, ...body.slice(1)];
    }
    return [synth('op', '(', at, ws), ...body, synth('op', ')', at)];
  }
}

type ErrFn = (
  code: 'KS_ERR_KFL_AMBIGUOUS' | 'KS_ERR_KFL_SYNTAX',
  summary: string,
  at: Tok,
) => KflError;

/** `x == r"re"` → `x.matches("re")`; `x != r"re"` → `!x.matches("re")`; either side. */
function regexLiterals(toks: Tok[], notes: Set<string>, err: ErrFn): Tok[] {
  let out = toks;
  for (let k = 0; k < out.length; k++) {
    const r = out[k]!;
    if (r.kind !== 'string' || (r.prefix !== 'r' && r.prefix !== 'R')) continue;
    let operandStart: number;
    let operandEnd: number;
    let opIdx: number;
    if (isOp(out[k - 1], '==', '!=')) {
      opIdx = k - 1;
      operandEnd = k - 2;
      operandStart = postfixStart(out, operandEnd);
    } else if (isOp(out[k + 1], '==', '!=')) {
      opIdx = k + 1;
      operandStart = k + 2;
      operandEnd = postfixEnd(out, operandStart);
    } else {
      continue;
    }
    if (operandStart < 0 || operandEnd < 0 || r.value === undefined) {
      throw err(
        'KS_ERR_KFL_AMBIGUOUS',
        `regex literal ${r.text} (KFL1) compared with something that is not a simple field or call; write \`field.matches(${stringLiteral(r.value ?? '')})\` (or use a plain string for exact equality)`,
        r,
      );
    }
    const negate = out[opIdx]!.text === '!=';
    const operand = out.slice(operandStart, operandEnd + 1);
    const lead = Math.min(operandStart, k);
    const ws = out[lead]!.ws;
    const call: Tok[] = [
      ...(negate ? [synth('op', '!', out[opIdx]!, ws)] : []),
      { ...operand[0]!, ws: negate ? '' : ws },
      ...operand.slice(1),
      synth('op', '.', r),
      synth('ident', 'matches', r),
      synth('op', '(', r),
      synth('string', stringLiteral(r.value), r, '', { value: r.value, prefix: '' }),
      synth('op', ')', r),
    ];
    const from = lead;
    const to = Math.max(operandEnd, k);
    out = [...out.slice(0, from), ...call, ...out.slice(to + 1)];
    k = from + call.length - 1;
    notes.add(
      '`== r"…"` (KFL1 regex literal) → `.matches("…")`; for exact equality compare with a plain string',
    );
  }
  return out;
}

/**
 * `not` inside `not` deeper than this is refused: each level rescans its operand, and the CEL
 * parser refuses more than 250 levels anyway.
 */
const MAX_NOT_DEPTH = 250;

/** `not x` → `!x`, `not a == b` → `!(a == b)` (KFL1 `not` applies to the whole comparison). */
function translateNot(toks: readonly Tok[], notes: Set<string>, err: ErrFn, nested = 0): Tok[] {
  const out: Tok[] = [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (!startsName(toks, i) || t.text !== 'not') {
      out.push(t);
      continue;
    }
    // The operand runs to the next `&&`, `||`, closer, `,`, `?` or `:` at this depth.
    let depth = 0;
    let j = i + 1;
    for (; j < toks.length; j++) {
      const x = toks[j]!;
      if (isOp(x, '(', '[', '{')) depth++;
      else if (isOp(x, ')', ']', '}')) {
        if (depth === 0) break;
        depth--;
      } else if (depth === 0 && isOp(x, '&&', '||', ',', '?', ':')) break;
    }
    if (j === i + 1) throw err('KS_ERR_KFL_SYNTAX', '`not` needs an operand', t);
    if (nested >= MAX_NOT_DEPTH) {
      throw err('KS_ERR_KFL_SYNTAX', `\`not\` nested more than ${MAX_NOT_DEPTH} deep`, t);
    }
    const operand = translateNot(toks.slice(i + 1, j), notes, err, nested + 1);
    const simple = postfixEnd(operand, 0) === operand.length - 1;
    notes.add('`not` → `!`');
    if (simple) {
      out.push(synth('op', '!', t, t.ws), { ...operand[0]!, ws: '' }, ...operand.slice(1));
    } else {
      out.push(
        synth('op', '!', t, t.ws),
        synth('op', '(', t),
        { ...operand[0]!, ws: '' },
        ...operand.slice(1),
        synth('op', ')', t),
      );
    }
    i = j - 1;
  }
  return out;
}
