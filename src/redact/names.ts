/**
 * Which names are secret: header names, query parameters, JSON / form / multipart fields and
 * `name=value` in text. Two kinds of rule (`tap.redaction.*`):
 *
 * - exact lists (`headers`, `bodyFields`), compared lower-cased, as given;
 * - `names`: patterns compared with the name lower-cased without `-`, `_`, `.` and spaces, where
 *   `*` matches anything: `*token` is every name ending in "token" (`X-Amz-Security-Token`,
 *   `refreshToken`, `id_token`), `*secret*` every name containing "secret".
 *
 * Decisions are cached per raw name (a bounded map): the same few names recur on every entry.
 */

/** Cached decisions before the cache is cleared. */
export const NAME_CACHE_MAX = 4096;

export type NameTest = (name: string) => boolean;

/**
 * Words one of which every secret name contains (case-insensitively, whatever its separators):
 * text is searched for these first, and only a name around a hit is tested. A pattern or exact
 * name that contains none of them brings its own.
 */
const KEYWORDS = [
  'pass',
  'pwd',
  'secret',
  'credential',
  'key',
  'token',
  'auth',
  'sig',
  'jwt',
  'session',
  'cookie',
];

/** `X-Amz-Security_Token` → `xamzsecuritytoken`. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_. ]/g, '');
}

interface Glob {
  exact?: string;
  prefix?: string;
  suffix?: string;
  contains?: string;
  /** A `*` in the middle (`x*y`): the general form. */
  re?: RegExp;
}

function compile(pattern: string): Glob | undefined {
  const p = normalizeName(pattern);
  const parts = p.split('*');
  const core = parts.join('');
  if (core === '') return undefined; // `*` alone would redact everything: ignored
  const lead = parts[0] === '';
  const trail = parts[parts.length - 1] === '';
  const inner = parts.slice(lead ? 1 : 0, trail ? -1 : undefined);
  if (inner.length > 1 || inner.some((s) => s === '')) {
    const esc = parts.map((s) => s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&'));
    return { re: new RegExp(`^${esc.join('.*')}$`) };
  }
  if (lead && trail) return { contains: core };
  if (lead) return { suffix: core };
  if (trail) return { prefix: core };
  return { exact: core };
}

/**
 * Words (to be searched case-insensitively) one of which every name `nameTest(exact, patterns)`
 * accepts contains (see KEYWORDS); empty when there are no names.
 */
export function nameKeywords(exact: readonly string[], patterns: readonly string[] = []): string[] {
  const words = new Set<string>();
  const pick = (core: string, raw: string): void => {
    if (core === '') return;
    words.add(KEYWORDS.find((k) => core.includes(k)) ?? raw);
  };
  for (const n of exact) pick(normalizeName(n), n.toLowerCase());
  for (const p of patterns) {
    const g = compile(p);
    if (!g) continue;
    // The longest literal part of the pattern (contiguous in any name it accepts).
    const parts = normalizeName(p).split('*');
    const longest = parts.reduce((a, b) => (b.length > a.length ? b : a), '');
    pick(normalizeName(p).replace(/\*/g, ''), longest);
  }
  return [...words];
}

/**
 * A test for names: `exact` (lower-cased names) or one of `patterns` (see above). Never throws;
 * an empty name is not secret.
 */
export function nameTest(exact: readonly string[], patterns: readonly string[] = []): NameTest {
  const lower = new Set(exact.map((n) => n.toLowerCase()));
  const globs = patterns.map(compile).filter((g): g is Glob => g !== undefined);
  const exactNorm = new Set(globs.filter((g) => g.exact).map((g) => g.exact!));
  const prefixes = globs.filter((g) => g.prefix).map((g) => g.prefix!);
  const suffixes = globs.filter((g) => g.suffix).map((g) => g.suffix!);
  const contains = globs.filter((g) => g.contains).map((g) => g.contains!);
  const general = globs.filter((g) => g.re).map((g) => g.re!);
  const cache = new Map<string, boolean>();
  const decide = (name: string): boolean => {
    if (lower.has(name.toLowerCase())) return true;
    if (globs.length === 0) return false;
    const n = normalizeName(name);
    if (n === '') return false;
    if (exactNorm.has(n)) return true;
    for (const s of suffixes) if (n.endsWith(s)) return true;
    for (const s of prefixes) if (n.startsWith(s)) return true;
    for (const s of contains) if (n.includes(s)) return true;
    for (const r of general) if (r.test(n)) return true;
    return false;
  };
  return (name: string): boolean => {
    let v = cache.get(name);
    if (v === undefined) {
      v = decide(name);
      if (cache.size >= NAME_CACHE_MAX) cache.clear();
      cache.set(name, v);
    }
    return v;
  };
}
