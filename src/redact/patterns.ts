/**
 * Secrets found by their shape in any text (a header value, a URL, a body of any type, a
 * WebSocket message), whatever the name they travel under: JWTs, PEM private keys, cloud and SaaS
 * credentials with a recognisable prefix, credentials after an authentication scheme
 * (`Bearer …`), passwords in URLs (`scheme://user:password@`), and `name=value` / `name: value` /
 * `"name": value` / `<name>value</name>` whose name is secret (names.ts).
 *
 * Only the credential is replaced (`Bearer [REDACTED]`, `postgres://app:[REDACTED]@db`), so the
 * text stays readable and, inside JSON, valid: no replaced span contains a quote or ends inside
 * an escape. Every shape is one alternative of a single expression: the cost is in the passes
 * over the text, not in the alternatives (29 passes, one per shape, cost 3–7× more).
 */
import type { NameTest } from './names.ts';

/**
 * Credentials recognisable by their own prefix, each at a word start; the whole match is the
 * secret.
 */
const TOKENS: readonly string[] = [
  // JSON Web Tokens: signed (three parts) or encrypted (five).
  String.raw`eyJ[\w-]{6,}\.[\w-]{6,}\.[\w-]*(?:\.[\w-]*\.[\w-]*)?`,
  // AWS access key ids.
  String.raw`(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)[A-Z0-9]{16}\b`,
  // GitHub (classic, OAuth, app, refresh, fine-grained), GitLab.
  String.raw`gh[pousr]_[A-Za-z0-9]{36,255}`,
  String.raw`github_pat_[A-Za-z0-9_]{22,255}`,
  String.raw`gl(?:pat|dt|ptt|rt|soat|cbt|ft|imt|oas)-[\w-]{20,}`,
  // Slack tokens.
  String.raw`xox[abposre]-[A-Za-z0-9-]{10,}`,
  String.raw`xapp-\d-[A-Za-z0-9-]{10,}`,
  // Stripe secret / restricted keys and webhook secrets.
  String.raw`[sr]k_(?:live|test)_[A-Za-z0-9]{16,}`,
  String.raw`whsec_[A-Za-z0-9+/=]{24,}`,
  // Google: API keys, OAuth access tokens, OAuth client secrets.
  String.raw`AIza[\w-]{35}`,
  String.raw`ya29\.[\w-]{20,}`,
  String.raw`GOCSPX-[\w-]{20,}`,
  // OpenAI / Anthropic style keys (`sk-…`, `sk-proj-…`, `sk-ant-api03-…`).
  // (32+ characters mixing cases and digits: `sk-ssh-ed25519-cert-v01`, an SSH algorithm, is not one.)
  String.raw`sk-(?=[\w-]{0,200}\d)(?=[\w-]{0,200}[a-z])(?=[\w-]{0,200}[A-Z])[\w-]{32,}`,
  // npm, PyPI, Hugging Face, SendGrid, Vault, DigitalOcean, Shopify, Databricks, Grafana,
  // New Relic, age, Doppler, Atlassian, Linear, Postman, Square.
  String.raw`npm_[A-Za-z0-9]{36}\b`,
  String.raw`pypi-AgE[\w-]{50,}`,
  String.raw`hf_[A-Za-z0-9]{30,}`,
  String.raw`SG\.[\w-]{16,}\.[\w-]{30,}`,
  String.raw`hv[sbr]\.[\w-]{24,}`,
  String.raw`do[por]_v1_[a-f0-9]{64}\b`,
  String.raw`shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}\b`,
  String.raw`dapi[a-f0-9]{32}(?:-\d)?\b`,
  String.raw`glc_[A-Za-z0-9+/]{32,}={0,2}`,
  String.raw`glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}`,
  String.raw`NRAK-[A-Z0-9]{27}\b`,
  String.raw`AGE-SECRET-KEY-1[0-9A-Z]{58}\b`,
  String.raw`dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,}`,
  String.raw`ATATT[\w=-]{50,}`,
  String.raw`lin_api_[A-Za-z0-9]{40}\b`,
  String.raw`PMAK-[a-f0-9]{24}-[a-f0-9]{34}\b`,
  String.raw`sq0(?:atp|csp)-[\w-]{22,}`,
];
/**
 * Credentials known by what comes before them; each alternative has one group, the secret, which
 * ends where the match ends.
 */
const AFTER: readonly string[] = [
  // Credentials after an authentication scheme: at least 8 characters, one of them a digit.
  String.raw`\b(?:Bearer|bearer|BEARER|Basic|basic|BASIC|Token|SSWS|NTLM)[ \t]+((?=[A-Za-z._~+/-]{0,512}\d)[A-Za-z0-9._~+/-]{8,}=*)`,
  // A Slack incoming-webhook path.
  String.raw`\/services\/T[A-Z0-9]{6,}\/B[A-Z0-9]{6,}\/([A-Za-z0-9]{16,})`,
  // A Kubernetes bearer token passed as a WebSocket subprotocol (`kubectl exec`).
  String.raw`base64url\.bearer\.authorization\.k8s\.io\.([\w-]+)`,
];
/**
 * PEM private keys (PKCS#1/#8, EC, OpenSSH, PGP, encrypted), to their end or to the end of the
 * string (a body cut short) — never past a quote, so a JSON string stays a string.
 */
const PEM = String.raw`-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:[^"]*?-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|[^"]*)`;

/**
 * A quoted value, or one up to a delimiter (after `=`: whitespace, `&`, `;`, `,`). A backslash
 * ends it (a JSON escape: `\n` is the end of a line) unless doubled (an escaped backslash).
 */
const EQ_VALUE = /"[^"\\\r\n]*"|'[^'\\\r\n]*'|(?:[^\s"'\\&;,<>[\]]|\\\\)+/y;
/** After `name:`, an unquoted value runs to the end of the line (or `,`, `;`, `}`). */
const COLON_VALUE = /"[^"\\\r\n]*"|'[^'\\\r\n]*'|(?:[^\r\n"'\\,;{}<>[\]]|\\\\)+/y;
/** A JSON-like value after `"name":`: a string (possibly cut), or a scalar. */
const JSON_VALUE = /"(?:[^"\\]|\\.)*"?|[^\s,}\]]+/y;
/** `<name attr…>value</name>` (XML). */
const XML_ELEMENT = /<([A-Za-z_][\w.:-]{0,63})(?:\s[^<>]*)?>([^<]{1,4096})<\/\1\s*>/g;
/** Longest name looked at around a keyword. */
const MAX_NAME = 64;
/** Values that are no secret whatever their name (`withCredentials=true`, `token: none`). */
const NOT_SECRET = /^(?:true|false|null|undefined|none|nil)$/i;

export interface Span {
  start: number;
  end: number;
}

/**
 * Which names are looked for: `none` (shapes only), `assign` (`name=value`, `name: value`),
 * `all` (also `"name": value` and XML elements: text that is not handled as JSON).
 */
export type NameScan = 'none' | 'assign' | 'all';

export interface TextScanner {
  /** Spans of secrets in `text`, sorted and merged. */
  find(text: string, names: NameScan): Span[];
  /** `text` with its secrets replaced, or undefined when it has none. */
  redact(text: string, names: NameScan): string | undefined;
}

/** `Key` → `[kK][eE][yY]`: a case-insensitive word inside a case-sensitive expression. */
function anyCase(word: string): string {
  return [...word]
    .map((c) => {
      const lo = c.toLowerCase();
      const up = c.toUpperCase();
      if (lo !== up) return `[${lo}${up}]`;
      return c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
    })
    .join('');
}

/**
 * A scanner for one configuration: `secretName` says which names are secret, `keywords` are
 * words every secret name contains (names.ts `nameKeywords`): text is searched for them, and
 * only a name around a hit is tested. Everything is one expression — tokens, credentials after
 * what precedes them, PEM keys and (for names) the keywords — so a text costs one pass, plus a
 * search for `://` (passwords in URLs) and, for `all`, `</` (XML).
 */
export function textScanner(
  secretName: NameTest,
  keywords: readonly string[],
  replacement: string,
): TextScanner {
  const shapes = [
    String.raw`\b(?:${TOKENS.map((t) => `(?:${t})`).join('|')})`,
    ...AFTER, // groups 1–3
    PEM,
  ];
  const shapesOnly = new RegExp(shapes.join('|'), 'g');
  const withNames =
    keywords.length === 0
      ? shapesOnly
      : new RegExp([...shapes, `(${keywords.map(anyCase).join('|')})`].join('|'), 'g'); // group 4

  const find = (text: string, names: NameScan): Span[] => {
    const found: Found = { text, spans: [], replacement };
    const re = names === 'none' ? shapesOnly : withNames;
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const end = m.index + m[0].length;
      if (m[4] !== undefined) {
        const next = namedValue(found, m.index, end, names === 'all', secretName);
        if (next > re.lastIndex) re.lastIndex = next;
        continue;
      }
      const g = m[1] ?? m[2] ?? m[3];
      if (g !== undefined) add(found, end - g.length, end);
      else add(found, m.index, end);
    }
    if (text.includes('://')) urlPasswords(found);
    if (names === 'all' && text.includes('</')) xmlElements(found, secretName);
    return merge(found.spans);
  };
  return {
    find,
    redact(text, names) {
      const spans = find(text, names);
      return spans.length === 0 ? undefined : replaceSpans(text, spans, replacement);
    },
  };
}

/** The secrets found so far in one text. */
interface Found {
  text: string;
  spans: Span[];
  replacement: string;
}

/** Adds text[start, end) as a secret (not one already replaced, never ending in an escape). */
function add(f: Found, start: number, end: number): void {
  const text = f.text;
  // Never end inside an escape (`\"` of JSON): drop a trailing odd backslash run.
  let e = end;
  let bs = 0;
  while (e - bs > start && text.charCodeAt(e - bs - 1) === 0x5c) bs++;
  if (bs % 2 === 1) e--;
  if (e <= start) return;
  if (e - start === f.replacement.length && text.startsWith(f.replacement, start)) return;
  f.spans.push({ start, end: e });
}

/** `[A-Za-z0-9_.-]`: the characters of a name in `name=value`. */
function nameChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x5f ||
    c === 0x2d ||
    c === 0x2e
  );
}

/** The password of `scheme://user:password@host`. */
function urlPasswords(f: Found): void {
  const text = f.text;
  for (let i = text.indexOf('://'); i >= 0; i = text.indexOf('://', i + 3)) {
    let s = i;
    while (s > 0 && i - s < 32 && /[A-Za-z0-9+.-]/.test(text[s - 1]!)) s--;
    if (s === i || !/[A-Za-z]/.test(text[s]!)) continue;
    let colon = -1;
    let j = i + 3;
    for (; j < text.length && j - i < 512; j++) {
      const c = text[j]!;
      if (c === '@' || c === '/' || c === '?' || c === '#' || c === '"' || c === "'") break;
      if (c === '\\' || c === ' ' || c === '\t' || c === '\r' || c === '\n') break;
      if (c === ':' && colon < 0) colon = j;
    }
    if (text[j] === '@' && colon >= 0 && j > colon + 1) add(f, colon + 1, j);
  }
}

/**
 * The name around a keyword found at text[k, ke): `name=value`, `name: value` or (`quoted`)
 * `"name": value` whose name is secret has its value added. Returns where the name ends (the
 * search goes on from there).
 */
function namedValue(
  f: Found,
  k: number,
  ke: number,
  quoted: boolean,
  secretName: NameTest,
): number {
  const text = f.text;
  let s = k;
  let e = ke;
  while (s > 0 && nameChar(text.charCodeAt(s - 1))) s--;
  while (e < text.length && nameChar(text.charCodeAt(e))) e++;
  if (e - s > MAX_NAME) return e;
  if (s > 0 && text.charCodeAt(s - 1) === 0x22 && text.charCodeAt(e) === 0x22) {
    if (quoted) jsonValue(f, s, e, secretName);
    return e;
  }
  let p = e;
  while (text.charCodeAt(p) === 0x20 || text.charCodeAt(p) === 0x09) p++;
  const d = text.charCodeAt(p);
  const eq = d === 0x3d;
  if (!eq && d !== 0x3a) return e;
  const d2 = text.charCodeAt(p + 1);
  // `==`, `=>`, `::`, `://`: code and URLs, not assignments.
  if (eq ? d2 === 0x3d || d2 === 0x3e : d2 === 0x3a || d2 === 0x2f) return e;
  if (!/[A-Za-z_]/.test(text[s]!) || !secretName(text.slice(s, e))) return e;
  p++;
  while (text.charCodeAt(p) === 0x20 || text.charCodeAt(p) === 0x09) p++;
  const re = eq ? EQ_VALUE : COLON_VALUE;
  re.lastIndex = p;
  const v = re.exec(text);
  if (!v) return e;
  let end = p + v[0].length;
  const q = v[0][0];
  if (q === '"' || q === "'") {
    if (v[0].length > 2 && !NOT_SECRET.test(v[0].slice(1, -1))) add(f, p + 1, end - 1);
    return e;
  }
  while (end > p && (text[end - 1] === ' ' || text[end - 1] === '\t')) end--;
  if (!NOT_SECRET.test(text.slice(p, end))) add(f, p, end);
  return e;
}

/** `"name": value` in text not handled as JSON (`name` is text[s, e)). */
function jsonValue(f: Found, s: number, e: number, secretName: NameTest): void {
  const text = f.text;
  let p = e + 1;
  while (p < text.length && /\s/.test(text[p]!)) p++;
  if (text[p] !== ':') return;
  p++;
  while (p < text.length && /\s/.test(text[p]!)) p++;
  if (!secretName(text.slice(s, e))) return;
  JSON_VALUE.lastIndex = p;
  const v = JSON_VALUE.exec(text);
  if (!v || v[0].length === 0) return;
  const raw = v[0];
  if (raw[0] === '"') {
    const closed = raw.length > 1 && raw.endsWith('"');
    add(f, p + 1, p + raw.length - (closed ? 1 : 0));
  } else if (raw !== 'null' && raw !== 'true' && raw !== 'false') add(f, p, p + raw.length);
}

function xmlElements(f: Found, secretName: NameTest): void {
  const text = f.text;
  const re = XML_ELEMENT;
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const name = m[1]!;
    if (!secretName(name.slice(name.lastIndexOf(':') + 1))) continue;
    const value = m[2]!;
    if (value.trim() === '') continue;
    const start = m.index + m[0].indexOf('>') + 1;
    add(f, start, start + value.length);
  }
}

function merge(spans: Span[]): Span[] {
  if (spans.length < 2) return spans;
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Span[] = [spans[0]!];
  for (let i = 1; i < spans.length; i++) {
    const s = spans[i]!;
    const last = out[out.length - 1]!;
    if (s.start <= last.end) last.end = Math.max(last.end, s.end);
    else out.push(s);
  }
  return out;
}

/** `text` with every span replaced. */
export function replaceSpans(text: string, spans: readonly Span[], replacement: string): string {
  let out = '';
  let at = 0;
  for (const s of spans) {
    out += text.slice(at, s.start) + replacement;
    at = s.end;
  }
  return out + text.slice(at);
}
