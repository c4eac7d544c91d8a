/**
 * Redacts the values of named keys in JSON text by splicing the text, not by parse + stringify:
 * everything else stays byte for byte (whitespace, key order, numbers beyond 2^53, escapes), and
 * a body cut at `maxBodyBytes` (invalid JSON) is still redacted up to the cut — a value cut off
 * is redacted to the end. Text the scanner cannot follow gets a pattern pass over all of it, so
 * a secret never survives because of a syntax error.
 */

/** Deepest nesting followed; deeper values are redacted only by the pattern pass. */
export const MAX_JSON_DEPTH = 64;

export interface JsonRedaction {
  text: string;
  /** Paths of the redacted values: keys joined with `.`, array positions as numbers. */
  paths: string[];
}

/**
 * Which keys are secret: a set of lower-case names (matched case-insensitively), or a test that
 * gets the key as written (names.ts).
 */
export type SecretKeys = ReadonlySet<string> | ((key: string) => boolean);

const keyTest = (keys: SecretKeys): ((key: string) => boolean) =>
  typeof keys === 'function' ? keys : (k) => keys.has(k.toLowerCase());

interface Splice {
  start: number;
  end: number;
  path: string;
}

/** A number or literal: up to the next delimiter. */
const SCALAR = /[^,}\]\s]*/y;

class Scanner {
  pos = 0;
  readonly splices: Splice[] = [];
  /** Set when the text is not JSON past some point (not merely cut short). */
  broken = false;

  constructor(
    private readonly s: string,
    private readonly secret: (key: string) => boolean,
    private readonly replacement: string,
  ) {}

  ws(): void {
    const s = this.s;
    while (this.pos < s.length) {
      const c = s.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
      else break;
    }
  }

  private get done(): boolean {
    return this.pos >= this.s.length;
  }

  /** A string token at pos (which is `"`); returns its decoded value, or undefined if cut. */
  private string(): string | undefined {
    const s = this.s;
    const start = this.pos;
    let i = start + 1;
    let escaped = false;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c === 0x5c) escaped = true;
      else if (c === 0x22) {
        this.pos = i + 1;
        const raw = s.slice(start, i + 1);
        if (!escaped) return raw.slice(1, -1);
        try {
          return JSON.parse(raw) as string;
        } catch {
          this.broken = true;
          return raw.slice(1, -1);
        }
      }
      i += c === 0x5c ? 2 : 1;
    }
    this.pos = s.length;
    return undefined;
  }

  /** Skips one value (any kind), tolerating a cut; nested keys are not inspected. */
  skipValue(): void {
    const s = this.s;
    this.ws();
    if (this.done) return;
    const c = s[this.pos];
    if (c === '"') {
      this.string();
      return;
    }
    if (c === '{' || c === '[') {
      let depth = 0;
      while (this.pos < s.length) {
        const d = s[this.pos];
        if (d === '"') {
          this.string();
          continue;
        }
        if (d === '{' || d === '[') depth++;
        else if (d === '}' || d === ']') {
          depth--;
          if (depth === 0) {
            this.pos++;
            return;
          }
        }
        this.pos++;
      }
      return;
    }
    // number, true, false, null
    SCALAR.lastIndex = this.pos;
    SCALAR.exec(s);
    if (SCALAR.lastIndex === this.pos) {
      this.broken = true;
      this.pos++;
      return;
    }
    this.pos = SCALAR.lastIndex;
  }

  value(path: string, depth: number): void {
    this.ws();
    if (this.done) return;
    const c = this.s[this.pos];
    if (depth >= MAX_JSON_DEPTH && (c === '{' || c === '[')) {
      this.broken = true; // the pattern pass covers what is below
      this.skipValue();
    } else if (c === '{') this.object(path, depth);
    else if (c === '[') this.array(path, depth);
    else this.skipValue();
  }

  private object(path: string, depth: number): void {
    this.pos++; // {
    for (;;) {
      this.ws();
      if (this.done) return;
      if (this.s[this.pos] === '}') {
        this.pos++;
        return;
      }
      if (this.s[this.pos] !== '"') {
        this.broken = true;
        return;
      }
      const key = this.string();
      if (key === undefined) return;
      this.ws();
      if (this.done) return;
      if (this.s[this.pos] !== ':') {
        this.broken = true;
        return;
      }
      this.pos++;
      this.ws();
      const sub = path === '' ? key : `${path}.${key}`;
      if (this.secret(key)) {
        const start = this.pos;
        this.skipValue();
        if (this.pos > start && this.s.slice(start, this.pos) !== this.replacement)
          this.splices.push({ start, end: this.pos, path: sub });
      } else {
        this.value(sub, depth + 1);
      }
      this.ws();
      if (this.done) return;
      const d = this.s[this.pos];
      if (d === ',') this.pos++;
      else if (d === '}') {
        this.pos++;
        return;
      } else {
        this.broken = true;
        return;
      }
    }
  }

  private array(path: string, depth: number): void {
    this.pos++; // [
    for (let i = 0; ; i++) {
      this.ws();
      if (this.done) return;
      if (this.s[this.pos] === ']') {
        this.pos++;
        return;
      }
      this.value(path === '' ? String(i) : `${path}.${i}`, depth + 1);
      this.ws();
      if (this.done) return;
      const d = this.s[this.pos];
      if (d === ',') this.pos++;
      else if (d === ']') {
        this.pos++;
        return;
      } else {
        this.broken = true;
        return;
      }
    }
  }
}

/** `"key" :` for the pattern pass. */
const KEY = /"((?:[^"\\]|\\.)*)"\s*:\s*/g;

/**
 * The pass over text the scanner could not follow: every `"key":` whose key matches has its
 * value (a string, a bracketed value or a scalar, each possibly cut) replaced, wherever it is.
 */
function patternPass(
  text: string,
  secret: (key: string) => boolean,
  quoted: string,
): JsonRedaction {
  const paths: string[] = [];
  const splices: Splice[] = [];
  const skipper = new Scanner(text, secret, quoted);
  KEY.lastIndex = 0;
  for (let m = KEY.exec(text); m; m = KEY.exec(text)) {
    let key = m[1]!;
    try {
      key = JSON.parse(`"${key}"`) as string;
    } catch {
      // keep the raw key
    }
    if (!secret(key)) continue;
    const start = KEY.lastIndex;
    skipper.pos = start;
    skipper.skipValue();
    if (skipper.pos > start && text.slice(start, skipper.pos) !== quoted) {
      splices.push({ start, end: skipper.pos, path: key });
      paths.push(key);
    }
    KEY.lastIndex = Math.max(skipper.pos, start);
  }
  return { text: splice(text, splices, quoted), paths };
}

function splice(text: string, splices: readonly Splice[], quoted: string): string {
  let out = '';
  let at = 0;
  for (const sp of splices) {
    out += text.slice(at, sp.start) + quoted;
    at = sp.end;
  }
  return out + text.slice(at);
}

/**
 * Replaces the value of every secret key (`keys`: lower-case names matched case-insensitively,
 * or a test; at any depth) with the JSON string `replacement`. Undefined when nothing was
 * replaced.
 */
export function redactJsonText(
  text: string,
  keys: SecretKeys,
  replacement: string,
): JsonRedaction | undefined {
  const quoted = JSON.stringify(replacement);
  const secret = keyTest(keys);
  const sc = new Scanner(text, secret, quoted);
  sc.value('', 0);
  sc.ws();
  if (!sc.broken && sc.pos < text.length) sc.broken = true; // trailing content
  let out = splice(text, sc.splices, quoted);
  const paths = sc.splices.map((sp) => sp.path);
  if (sc.broken) {
    const p = patternPass(out, secret, quoted);
    out = p.text;
    paths.push(...p.paths);
  }
  return paths.length > 0 ? { text: out, paths } : undefined;
}
