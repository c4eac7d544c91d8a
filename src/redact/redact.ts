/**
 * Redaction before storage (on by default, `tap.redaction.*`): secrets in an entry are replaced
 * by the constant `[REDACTED]` and the entry lists what was replaced in `redacted` (paths of its
 * JSON view). The original value is not kept anywhere. Secrets are found two ways:
 *
 * - **by name** (names.ts): headers (map, list and trailers), cookie maps, query parameters (map
 *   and URL), URL user info, JSON bodies at any depth, form and multipart fields, WebSocket JSON
 *   messages, and `name=value` / `name: value` / `"name": value` / `<name>` in any other text;
 * - **by shape** (patterns.ts, `tap.redaction.patterns`): JWTs, PEM private keys, cloud and SaaS
 *   credentials, `Bearer …` credentials, passwords in URLs — in every header value, the URL, every
 *   body whatever its type (binary bodies too: scanned as bytes) and every WebSocket message.
 *
 * Body sizes stay as captured: they describe the wire.
 *
 * Per record kind: each record view redacts its own record (`RecordView.redact`) with the kit
 * made here, so protocols that carry credentials (PostgreSQL, MySQL, Redis AUTH) add theirs in
 * their own folder.
 */
import type { Body, Entry } from '../entry/model.ts';
import type { RedactKit } from '../tap/dissectors/types.ts';
import { viewOf } from '../tap/records.ts';
import { redactJsonText } from './json.ts';
import { multipartBoundary, redactMultipart } from './multipart.ts';
import { nameKeywords, nameTest, type NameTest } from './names.ts';
import { textScanner, type NameScan, type TextScanner } from './patterns.ts';

/** What a redacted value is replaced with. */
export const REDACTED = '[REDACTED]';

export interface RedactionConfig {
  enabled: boolean;
  /** Header names (case-insensitive). */
  headers: readonly string[];
  /** JSON / form body fields, WebSocket JSON fields and query parameters (case-insensitive). */
  bodyFields: readonly string[];
  /**
   * Name patterns for headers and fields alike, matched without case, `-`, `_`, `.` and spaces;
   * `*` matches anything (`*token`, `*secret*`). Absent: none.
   */
  names?: readonly string[];
  /** Also find secrets by their shape in every value (patterns.ts). Absent: off. */
  patterns?: boolean;
}

export type Redactor = (e: Entry) => void;

interface Tests {
  header: NameTest;
  field: NameTest;
  patterns: boolean;
  /** Secrets by shape, and `name=value` in text with a header or a field name. */
  text: TextScanner;
}

/** Marks found while redacting one entry (paths; duplicates dropped at the end). */
type Marks = string[];

/**
 * Static assets served to browsers — scripts, style sheets, fonts, images, audio, video,
 * WebAssembly — are not scanned by shape: they are public by design, and a 1 MB script bundle
 * costs ~15 ms to scan (scripts/bench/redact.ts).
 */
const ASSET = /^\s*(?:image|audio|video|font)\/|javascript|ecmascript|\/css\b|wasm|x-font/i;

/**
 * Headers of a fixed format that never carries a credential: not scanned by shape (a header
 * value costs ~1 µs to scan, and an entry has dozens), nor secret by a name pattern
 * (`Access-Control-Allow-Credentials: true`).
 */
const PLAIN_HEADERS = new Set([
  'accept',
  'accept-encoding',
  'accept-language',
  'accept-ranges',
  'access-control-allow-credentials',
  'access-control-allow-headers',
  'access-control-allow-methods',
  'access-control-max-age',
  'age',
  'cache-control',
  'connection',
  'content-encoding',
  'content-language',
  'content-length',
  'content-type',
  'date',
  'etag',
  'expires',
  'if-modified-since',
  'if-none-match',
  'keep-alive',
  'last-modified',
  'pragma',
  'sec-ch-ua',
  'sec-ch-ua-mobile',
  'sec-ch-ua-platform',
  'sec-fetch-dest',
  'sec-fetch-mode',
  'sec-fetch-site',
  'sec-fetch-user',
  'sec-websocket-accept',
  'sec-websocket-extensions',
  'sec-websocket-key',
  'sec-websocket-version',
  'strict-transport-security',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'upgrade-insecure-requests',
  'vary',
  'x-content-type-options',
  'x-frame-options',
]);

/** A header value's secrets by shape, or undefined (memo: the map and the list repeat values). */
function headerValue(name: string, v: string, t: Tests, memo: Memo): string | undefined {
  if (!t.patterns || v.length < 8 || v === REDACTED) return undefined;
  if (PLAIN_HEADERS.has(name.toLowerCase())) return undefined;
  let r = memo.get(v);
  if (r === undefined) {
    r = t.text.redact(v, 'assign') ?? null;
    memo.set(v, r);
  }
  return r ?? undefined;
}

/** Header values scanned in the current entry. */
type Memo = Map<string, string | null>;

function redactHeaderMap(
  map: Record<string, string> | undefined,
  t: Tests,
  at: string,
  marks: Marks,
  memo: Memo,
): void {
  if (!map) return;
  for (const k of Object.keys(map)) {
    const v = map[k]!;
    if (t.header(k)) {
      if (v === REDACTED) continue;
      map[k] = REDACTED;
    } else {
      const r = headerValue(k, v, t, memo);
      if (r === undefined) continue;
      map[k] = r;
    }
    marks.push(`${at}.${k.toLowerCase()}`);
  }
}

function redactHeaderList(
  list: [string, string][],
  t: Tests,
  at: string,
  marks: Marks,
  memo: Memo,
): void {
  for (const h of list) {
    if (t.header(h[0])) {
      if (h[1] === REDACTED) continue;
      h[1] = REDACTED;
    } else {
      const r = headerValue(h[0], h[1], t, memo);
      if (r === undefined) continue;
      h[1] = r;
    }
    marks.push(`${at}.${h[0].toLowerCase()}`);
  }
}

/** Every value of a cookie map (its header is redacted, so its values are too). */
function redactCookies(map: Record<string, string>, at: string, marks: Marks): void {
  for (const k of Object.keys(map)) {
    if (map[k] !== REDACTED) {
      map[k] = REDACTED;
      marks.push(`${at}.${k}`);
    }
  }
}

function decodeComponent(s: string): string {
  const spaced = s.replaceAll('+', ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

/**
 * `a=1&password=x` → `a=1&password=[REDACTED]` for the secret fields (names compared
 * percent-decoded). The other parts stay as sent.
 */
function redactUrlEncoded(qs: string, field: NameTest, at: string, marks: Marks): string {
  let changed = false;
  const parts = qs.split('&').map((part) => {
    const eq = part.indexOf('=');
    if (eq < 0) return part;
    const key = decodeComponent(part.slice(0, eq));
    if (!field(key) || part.slice(eq + 1) === REDACTED) return part;
    changed = true;
    marks.push(`${at}.${key}`);
    return `${part.slice(0, eq)}=${REDACTED}`;
  });
  return changed ? parts.join('&') : qs;
}

/**
 * The query part of a request-target, `user:password@` of an absolute-form URL, and (by shape)
 * secrets anywhere in the URL, the path and the query values.
 */
function redactUrl(
  req: { url: string; query: Record<string, string>; path?: string },
  t: Tests,
  marks: Marks,
): void {
  let url = req.url;
  const scheme = url.indexOf('://');
  if (scheme > 0) {
    const authEnd = url.slice(scheme + 3).search(/[/?#]/);
    const authority =
      authEnd < 0 ? url.slice(scheme + 3) : url.slice(scheme + 3, scheme + 3 + authEnd);
    const at = authority.lastIndexOf('@');
    const colon = authority.indexOf(':');
    if (at >= 0 && colon >= 0 && colon < at && authority.slice(colon + 1, at) !== REDACTED) {
      url =
        url.slice(0, scheme + 3) +
        authority.slice(0, colon + 1) +
        REDACTED +
        url.slice(scheme + 3 + at);
      marks.push('request.url');
    }
  }
  const q = url.indexOf('?');
  if (q >= 0) {
    const hash = url.indexOf('#', q);
    const end = hash < 0 ? url.length : hash;
    const qs = redactUrlEncoded(url.slice(q + 1, end), t.field, 'request.query', marks);
    url = url.slice(0, q + 1) + qs + url.slice(end);
  }
  if (t.patterns) {
    const r = t.text.redact(url, 'assign');
    if (r !== undefined) {
      url = r;
      marks.push('request.url');
    }
    if (req.path !== undefined) {
      const p = t.text.redact(req.path, 'assign');
      if (p !== undefined) {
        req.path = p;
        marks.push('request.path');
      }
    }
  }
  req.url = url;
  for (const k of Object.keys(req.query)) {
    const v = req.query[k]!;
    if (t.field(k)) {
      if (v === REDACTED) continue;
      req.query[k] = REDACTED;
    } else {
      const r = t.patterns && v.length >= 8 ? t.text.redact(v, 'assign') : undefined;
      if (r === undefined) continue;
      req.query[k] = r;
    }
    marks.push(`request.query.${k}`);
  }
}

const isJsonType = (ct: string): boolean => /[/+]json\b/.test(ct) || ct.startsWith('text/json');
const looksLikeJson = (text: string): boolean => /^\s*[{[]/.test(text);

/** Bytes sampled to tell text with some binary framing from binary data. */
const SAMPLE_BYTES = 4096;

/**
 * Whether a binary body (base64) holds text among its bytes — a STOMP frame, a protobuf message
 * with strings: at least half of its first 4 KiB printable. Compressed, encrypted and media data
 * are not scanned (they hold no credential as text; scanning 1 MiB of them costs ~3 ms).
 */
function textLike(base64: string): boolean {
  const head = Buffer.from(base64.slice(0, (SAMPLE_BYTES / 3) * 4 + 4), 'base64');
  let printable = 0;
  for (const b of head)
    if ((b >= 0x20 && b < 0x7f) || b === 0x09 || b === 0x0a || b === 0x0d) printable++;
  return printable * 2 >= head.length;
}

/** Secrets by shape in a body's kept text, or in its bytes when it was kept as base64. */
function shapes(body: Body, t: Tests, names: NameScan, at: string, marks: Marks): void {
  if (!t.patterns) return;
  if (body.text !== undefined) {
    if (body.text === '') return;
    const r = t.text.redact(body.text, names);
    if (r === undefined) return;
    body.text = r;
    marks.push(at);
  } else if (body.base64 !== undefined && body.base64 !== '' && textLike(body.base64)) {
    // Byte for byte as latin1: offsets in the text are offsets in the bytes.
    const bytes = Buffer.from(body.base64, 'base64').toString('latin1');
    const r = t.text.redact(bytes, 'all');
    if (r === undefined) return;
    body.base64 = Buffer.from(r, 'latin1').toString('base64');
    marks.push(at);
  }
}

/**
 * A body: a URL-encoded form, a multipart body, JSON (by type, or by shape when untyped), by
 * name; then every body, whatever its type, by shape.
 */
function redactBody(
  body: Body,
  contentType: string | undefined,
  t: Tests,
  at: string,
  marks: Marks,
): void {
  const ct = (contentType ?? '').toLowerCase();
  const text = body.text;
  let json = false;
  if (text !== undefined && text !== '') {
    const boundary = multipartBoundary(contentType ?? '');
    if (ct.startsWith('application/x-www-form-urlencoded')) {
      body.text = redactUrlEncoded(text, t.field, at, marks);
    } else if (boundary !== undefined) {
      const r = redactMultipart(text, boundary, t.field, REDACTED);
      if (r) {
        body.text = r.text;
        for (const p of r.paths) marks.push(`${at}.${p}`);
      }
    } else if (isJsonType(ct) || looksLikeJson(text)) {
      json = true;
      const r = redactJsonText(text, t.field, REDACTED);
      if (r) {
        body.text = r.text;
        for (const p of r.paths) marks.push(`${at}.${p}`);
      }
    }
  }
  if (ASSET.test(ct)) return;
  shapes(body, t, json ? 'assign' : 'all', at, marks);
}

/**
 * A function that redacts an entry in place before it is stored, and records the paths of what
 * it replaced in `e.redacted`. Idempotent: a value already `[REDACTED]` is left (and not marked
 * again). With `enabled: false` it does nothing.
 */
export function createRedactor(cfg: RedactionConfig): Redactor {
  if (!cfg.enabled) return () => {};
  const names = cfg.names ?? [];
  const every = [...cfg.headers, ...cfg.bodyFields];
  const header = nameTest(cfg.headers, names);
  const listed = new Set(cfg.headers.map((h) => h.toLowerCase()));
  const t: Tests = {
    // A header listed is secret; one a pattern names, unless its format is known (PLAIN_HEADERS).
    header: (name) => {
      const lower = name.toLowerCase();
      return listed.has(lower) || (header(name) && !PLAIN_HEADERS.has(lower));
    },
    field: nameTest(cfg.bodyFields, names),
    patterns: cfg.patterns ?? false,
    text: textScanner(nameTest(every, names), nameKeywords(every, names), REDACTED),
  };
  const marks: Marks = [];
  const memo: Memo = new Map();
  const kit: RedactKit = {
    headerMap: (map, at) => redactHeaderMap(map, t, at, marks, memo),
    headerList: (list, at) => {
      if (list) redactHeaderList(list, t, at, marks, memo);
    },
    secretHeader: (name) => t.header(name),
    allValues: (map, at) => {
      if (map) redactCookies(map, at, marks);
    },
    url: (req) => redactUrl(req, t, marks),
    body: (body, contentType, at) => redactBody(body, contentType, t, at, marks),
    jsonText(body, at) {
      const text = body.text;
      if (text === undefined || !looksLikeJson(text)) return;
      const out = redactJsonText(text, t.field, REDACTED);
      if (!out) return;
      body.text = out.text;
      for (const p of out.paths) marks.push(`${at}.${p}`);
    },
    text: (body, at) => shapes(body, t, 'all', at, marks),
  };
  return (e: Entry): void => {
    const redact = viewOf(e).redact;
    if (!redact) return;
    marks.length = 0;
    memo.clear();
    redact(e.record, kit);
    if (marks.length === 0) return;
    e.redacted = [...new Set([...(e.redacted ?? []), ...marks])];
  };
}
