/**
 * KFL `matches` takes RE2 syntax (as Kubeshark's Go engine does). JavaScript regular expressions
 * look alike but differ in places, so patterns are translated to an equivalent JS RegExp (with
 * the `u` flag, so `.` and classes work on code points as RE2 does), and rejected — with the
 * offset in the pattern — where the two would disagree or RE2 itself would refuse:
 *
 * - rejected: backreferences (`\1`, `\k<n>`, `(?P=n)`), lookaround (`(?=`, `(?!`, `(?<=`,
 *   `(?<!`), atomic groups, `\A \z \Z \Q…\E \C \G`, inline flags other than a leading `(?i)`/
 *   `(?s)`, `(?m)` and `(?U)` modes, negated POSIX classes, `\S` and `\b` inside a class,
 *   repetition of an anchor or of a repetition (`a**`), counts above 1000, unknown escapes;
 * - translated: `.` → `[^\n]` (JS `.` also stops at `\r`, U+2028, U+2029), `\s` → `[\t\n\f\r ]`
 *   (JS `\s` also matches `\v` and Unicode spaces), `\a`, `\x{…}`, octal `\0nn`, `(?P<name>`,
 *   POSIX `[[:alpha:]]` (ASCII, as RE2), `\pL`/`\p{Greek}` (scripts become `\p{Script=…}`),
 *   escaped punctuation and literal `{ } ]` (invalid escapes in JS `u` mode).
 *
 * Search semantics are the same in both: `matches` is true when the pattern matches anywhere.
 */

export class Re2Error extends Error {
  constructor(
    message: string,
    /** 0-based offset in the pattern and length of the offending part. */
    readonly offset: number,
    readonly length = 1,
  ) {
    super(message);
    this.name = 'Re2Error';
  }
}

export interface Re2Translation {
  /** JavaScript pattern source (for `new RegExp(source, flags)`). */
  source: string;
  flags: string;
}

const MAX_REPEAT = 1000;
const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''));
const GENERAL_CATEGORIES = new Set(
  'L Lu Ll Lt Lm Lo M Mn Mc Me N Nd Nl No P Pc Pd Ps Pe Pi Pf Po S Sm Sc Sk So Z Zs Zl Zp C Cc Cf Cs Co'.split(
    ' ',
  ),
);
const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-\\x60\\{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};
const SPACE_CLASS = '\\t\\n\\f\\r ';

const hex2 = (n: number): string => '\\x' + n.toString(16).padStart(2, '0');
const codePoint = (n: number): string => (n < 0x100 ? hex2(n) : `\\u{${n.toString(16)}}`);

/** Translates an RE2 pattern to an equivalent JS RegExp, or throws Re2Error. */
export function translateRe2(pattern: string): Re2Translation {
  const p = pattern;
  let i = 0;
  let out = '';
  let flags = 'u';
  let dotAll = false;
  let depth = 0;
  /** The last item can take a repetition operator. */
  let canRepeat = false;
  /** The last item is a repetition (a second one is an error in RE2). */
  let repeated = false;

  const fail = (msg: string, at: number, len = 1): never => {
    throw new Re2Error(msg, at, len);
  };

  // Leading flags: (?i), (?s), (?is)…
  const lead = /^\(\?([a-zA-Z]+)\)/.exec(p);
  if (lead) {
    for (const f of lead[1]!) {
      if (f === 'i') flags += flags.includes('i') ? '' : 'i';
      else if (f === 's') dotAll = true;
      else if (f === 'm') fail('(?m) multi-line mode is not supported', 0, lead[0].length);
      else if (f === 'U') fail('(?U) ungreedy mode is not supported', 0, lead[0].length);
      else fail(`unknown flag \`${f}\``, 0, lead[0].length);
    }
    i = lead[0].length;
  }

  const atom = (s: string): void => {
    out += s;
    canRepeat = true;
    repeated = false;
  };

  while (i < p.length) {
    const c = p[i]!;
    switch (c) {
      case '\\': {
        const [s, len, kind] = escape(i, false);
        out += s;
        canRepeat = kind === 'atom';
        repeated = false;
        i += len;
        continue;
      }
      case '[':
        i = charClass(i);
        canRepeat = true;
        repeated = false;
        continue;
      case '(': {
        const start = i;
        if (p[i + 1] !== '?') {
          out += '(';
          i++;
        } else {
          const rest = p.slice(i + 2);
          const named = /^P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
          if (rest.startsWith(':')) {
            out += '(?:';
            i += 3;
          } else if (named) {
            out += `(?<${named[1]}>`;
            i += 2 + named[0].length;
          } else if (/^P?</.test(rest) && !/^<[=!]/.test(rest)) {
            fail('invalid group name', start, 3);
          } else if (/^(=|!|<=|<!)/.test(rest)) {
            fail('lookaround assertions ((?=, (?!, (?<=, (?<!) are not supported by RE2', start, 3);
          } else if (rest.startsWith('P=') || rest.startsWith('P>')) {
            fail('backreferences are not supported by RE2', start, 3);
          } else if (rest.startsWith('>')) {
            fail('atomic groups are not supported by RE2', start, 3);
          } else if (rest.startsWith('#')) {
            fail('comments are not supported by RE2', start, 3);
          } else if (/^-?[a-zA-Z]+(-[a-zA-Z]*)?[:)]/.test(rest)) {
            fail(
              'inline flags are supported only at the start of the pattern, as (?i) or (?s)',
              start,
              3,
            );
          } else {
            fail('unsupported group syntax', start, 2);
          }
        }
        depth++;
        canRepeat = false;
        repeated = false;
        continue;
      }
      case ')':
        if (depth === 0) fail('unexpected )', i);
        depth--;
        i++;
        atom(')');
        continue;
      case '|':
        out += '|';
        i++;
        canRepeat = false;
        repeated = false;
        continue;
      case '*':
      case '+':
      case '?':
        repetition(i, c, 1);
        continue;
      case '{': {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(i));
        if (!m) {
          i++;
          atom('\\{');
          continue;
        }
        const min = Number(m[1]);
        const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
        if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) {
          fail(`repetition count above ${MAX_REPEAT}`, i, m[0].length);
        }
        if (max < min) fail('invalid repetition range (min > max)', i, m[0].length);
        repetition(i, m[0], m[0].length);
        continue;
      }
      case '}':
      case ']':
        i++;
        atom('\\' + c);
        continue;
      case '.':
        i++;
        atom(dotAll ? '[^]' : '[^\\n]');
        continue;
      case '^':
      case '$':
        out += c;
        i++;
        canRepeat = false;
        repeated = false;
        continue;
      default: {
        const cp = p.codePointAt(i)!;
        const ch = String.fromCodePoint(cp);
        i += ch.length;
        atom(ch);
      }
    }
  }
  if (depth > 0) fail('missing closing )', p.length, 0);

  if (dotAll) flags += 's';
  try {
    new RegExp(out, flags);
  } catch (e) {
    fail(`invalid regular expression: ${(e as Error).message}`, 0, p.length);
  }
  return { source: out, flags };

  function repetition(at: number, text: string, len: number): void {
    if (repeated) fail(`bad repetition operator: \`${p.slice(at - 1, at + len)}\``, at, len);
    if (!canRepeat) fail(`missing argument to repetition operator \`${text}\``, at, len);
    out += text;
    i = at + len;
    if (p[i] === '?') {
      out += '?';
      i++;
    }
    repeated = true;
  }

  /**
   * An escape at `at` (p[at] is the backslash). Returns JS text, length consumed, and whether it
   * is a repeatable atom or an assertion.
   */
  function escape(at: number, inClass: boolean): [string, number, 'atom' | 'assert'] {
    const n = p[at + 1];
    if (n === undefined) fail('trailing backslash at end of pattern', at);
    const e = n!;
    switch (e) {
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        return ['\\' + e, 2, 'atom'];
      case 's':
        return [inClass ? SPACE_CLASS : `[${SPACE_CLASS}]`, 2, 'atom'];
      case 'S':
        if (inClass) fail('\\S inside a character class is not supported', at, 2);
        return [`[^${SPACE_CLASS}]`, 2, 'atom'];
      case 'b':
      case 'B':
        if (inClass) fail(`\\${e} inside a character class is not supported`, at, 2);
        return ['\\' + e, 2, 'assert'];
      case 'a':
        return ['\\x07', 2, 'atom'];
      case 'f':
      case 'n':
      case 'r':
      case 't':
      case 'v':
        return ['\\' + e, 2, 'atom'];
      case 'x': {
        const braced = /^\{([0-9a-fA-F]{1,6})\}/.exec(p.slice(at + 2));
        if (braced) {
          const v = parseInt(braced[1]!, 16);
          if (v > 0x10ffff)
            fail('invalid escape \\x{…}: beyond U+10FFFF', at, 3 + braced[0].length);
          return [codePoint(v), 2 + braced[0].length, 'atom'];
        }
        const h = p.slice(at + 2, at + 4);
        if (!/^[0-9a-fA-F]{2}$/.test(h)) fail('invalid escape \\x: needs two hex digits', at, 2);
        return ['\\x' + h, 4, 'atom'];
      }
      case '0': {
        const m = /^[0-7]{0,2}/.exec(p.slice(at + 2))![0];
        return [codePoint(parseInt('0' + m, 8)), 2 + m.length, 'atom'];
      }
      case 'p':
      case 'P': {
        let name: string;
        let len: number;
        if (p[at + 2] === '{') {
          const close = p.indexOf('}', at + 3);
          if (close < 0) fail('missing } in Unicode class', at, 3);
          name = p.slice(at + 3, close);
          len = close - at + 1;
        } else {
          const l = p[at + 2];
          if (l === undefined || !/[A-Za-z]/.test(l)) fail('invalid Unicode class', at, 2);
          name = l!;
          len = 3;
        }
        let negate = e === 'P';
        if (name.startsWith('^')) {
          negate = !negate;
          name = name.slice(1);
        }
        if (name === 'Any') {
          if (inClass && negate) fail('\\P{Any} inside a class matches nothing', at, len);
          const any = '\\u{0}-\\u{10ffff}';
          return [inClass ? any : negate ? '[^\\u{0}-\\u{10ffff}]' : `[${any}]`, len, 'atom'];
        }
        const prop = GENERAL_CATEGORIES.has(name) ? name : `Script=${name}`;
        const js = `\\${negate ? 'P' : 'p'}{${prop}}`;
        try {
          new RegExp(js, 'u');
        } catch {
          fail(`unknown Unicode class \`${name}\``, at, len);
        }
        return [js, len, 'atom'];
      }
      case 'A':
        return fail('\\A is not supported; use ^', at, 2);
      case 'z':
        return fail('\\z is not supported; use $', at, 2);
      case 'Q':
      case 'E':
        return fail('\\Q…\\E quoting is not supported; escape each character instead', at, 2);
      case 'k':
        return fail('backreferences are not supported by RE2', at, 2);
      default:
        if (e >= '1' && e <= '9') return fail('backreferences are not supported by RE2', at, 2);
        if (/[\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]/.test(e)) {
          // Escaped ASCII punctuation is a literal in RE2; JS `u` mode accepts only some.
          const keep = JS_SYNTAX.has(e) || (inClass && e === '-');
          return [keep ? '\\' + e : hex2(e.charCodeAt(0)), 2, 'atom'];
        }
        return fail(`invalid escape \\${e}`, at, 2);
    }
  }

  /** A `[...]` class starting at `at`; appends its JS form and returns the index after it. */
  function charClass(at: number): number {
    let j = at + 1;
    let s = '[';
    if (p[j] === '^') {
      s += '^';
      j++;
    }
    let first = true;
    for (;;) {
      if (j >= p.length) fail('missing closing ] in character class', at, p.length - at);
      const c = p[j]!;
      if (c === ']' && !first) break;
      first = false;
      if (c === '[' && p[j + 1] === ':') {
        const m = /^\[:(\^?)([^:\]]*):\]/.exec(p.slice(j));
        if (m) {
          if (m[1]) fail('negated POSIX classes ([:^name:]) are not supported', j, m[0].length);
          const cls = POSIX[m[2]!];
          if (cls === undefined) fail(`unknown POSIX class [:${m[2]}:]`, j, m[0].length);
          s += cls;
          j += m[0].length;
          continue;
        }
      }
      if (c === '\\') {
        const [js, len] = escape(j, true);
        s += js;
        j += len;
        continue;
      }
      if (c === '[' || c === ']' || c === '^' || c === '{' || c === '}' || c === '|') {
        s += '\\' + c;
        j++;
        continue;
      }
      const ch = String.fromCodePoint(p.codePointAt(j)!);
      s += ch;
      j += ch.length;
    }
    out += s + ']';
    return j + 1;
  }
}

const cache = new Map<string, RegExp>();
const CACHE_MAX = 512;

/**
 * The JS RegExp for an RE2 pattern (cached). Throws Re2Error for patterns outside the subset
 * (at run time, for patterns that are not literals in the filter).
 */
export function re2RegExp(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (re === undefined) {
    const t = translateRe2(pattern);
    re = new RegExp(t.source, t.flags);
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(pattern, re);
  }
  return re;
}
