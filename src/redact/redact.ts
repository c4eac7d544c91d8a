/**
 * Redaction before storage (on by default, `tap.redaction.*`): secrets in an entry are replaced
 * by the constant `[REDACTED]` and the entry lists what was replaced in `redacted` (paths of its
 * JSON view). The original value is not kept anywhere: headers (map and list), cookie maps,
 * query parameters (map and URL), URL user info, JSON bodies at any depth, form bodies and
 * WebSocket JSON messages. Body sizes stay as captured: they describe the wire.
 *
 * Per record kind (a switch, so protocols that carry credentials — PostgreSQL, MySQL, Redis
 * AUTH — add their case as their dissectors arrive).
 */
import type {
  Body,
  Entry,
  HttpRecord,
  HttpRequest,
  HttpResponse,
  WsRecord,
} from '../entry/model.ts';
import { redactJsonText } from './json.ts';

/** What a redacted value is replaced with. */
export const REDACTED = '[REDACTED]';

export interface RedactionConfig {
  enabled: boolean;
  /** Header names (case-insensitive). */
  headers: readonly string[];
  /** JSON / form body fields, WebSocket JSON fields and query parameters (case-insensitive). */
  bodyFields: readonly string[];
}

export type Redactor = (e: Entry) => void;

interface Sets {
  headers: ReadonlySet<string>;
  fields: ReadonlySet<string>;
}

/** Cookie maps come from these headers: redacting the header redacts the map. */
const COOKIE_HEADER = { request: 'cookie', response: 'set-cookie' } as const;

/** Marks found while redacting one entry (paths; duplicates dropped at the end). */
type Marks = string[];

function redactHeaderMap(
  map: Record<string, string> | undefined,
  sets: Sets,
  at: string,
  marks: Marks,
): void {
  if (!map) return;
  for (const k of Object.keys(map)) {
    if (sets.headers.has(k.toLowerCase()) && map[k] !== REDACTED) {
      map[k] = REDACTED;
      marks.push(`${at}.${k.toLowerCase()}`);
    }
  }
}

function redactHeaderList(list: [string, string][], sets: Sets, at: string, marks: Marks): void {
  for (const h of list) {
    const name = h[0].toLowerCase();
    if (sets.headers.has(name) && h[1] !== REDACTED) {
      h[1] = REDACTED;
      marks.push(`${at}.${name}`);
    }
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
 * `a=1&password=x` → `a=1&password=[REDACTED]` for the fields in `fields` (names compared
 * percent-decoded, case-insensitively). The other parts stay as sent.
 */
function redactUrlEncoded(
  qs: string,
  fields: ReadonlySet<string>,
  at: string,
  marks: Marks,
): string {
  let changed = false;
  const parts = qs.split('&').map((part) => {
    const eq = part.indexOf('=');
    if (eq < 0) return part;
    const key = decodeComponent(part.slice(0, eq));
    if (!fields.has(key.toLowerCase()) || part.slice(eq + 1) === REDACTED) return part;
    changed = true;
    marks.push(`${at}.${key}`);
    return `${part.slice(0, eq)}=${REDACTED}`;
  });
  return changed ? parts.join('&') : qs;
}

/** The query part of a request-target, and `user:password@` of an absolute-form URL. */
function redactUrl(req: HttpRequest, sets: Sets, marks: Marks): void {
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
    const qs = redactUrlEncoded(url.slice(q + 1, end), sets.fields, 'request.query', marks);
    url = url.slice(0, q + 1) + qs + url.slice(end);
  }
  req.url = url;
  for (const k of Object.keys(req.query)) {
    if (sets.fields.has(k.toLowerCase()) && req.query[k] !== REDACTED) {
      req.query[k] = REDACTED;
      marks.push(`request.query.${k}`);
    }
  }
}

const isJsonType = (ct: string): boolean => /[/+]json\b/.test(ct) || ct.startsWith('text/json');
const looksLikeJson = (text: string): boolean => /^\s*[{[]/.test(text);

/** A body's kept text: JSON (by type, or by shape when untyped) or a URL-encoded form. */
function redactBody(
  body: Body,
  contentType: string | undefined,
  sets: Sets,
  at: string,
  marks: Marks,
): void {
  const text = body.text;
  if (text === undefined || text === '') return;
  const ct = (contentType ?? '').toLowerCase();
  if (ct.startsWith('application/x-www-form-urlencoded')) {
    body.text = redactUrlEncoded(text, sets.fields, at, marks);
    return;
  }
  if (isJsonType(ct) || looksLikeJson(text)) {
    const r = redactJsonText(text, sets.fields, REDACTED);
    if (r) {
      body.text = r.text;
      for (const p of r.paths) marks.push(`${at}.${p}`);
    }
  }
}

function redactMessage(
  msg: HttpRequest | HttpResponse,
  side: 'request' | 'response',
  sets: Sets,
  marks: Marks,
): void {
  // The content type is read before the headers are redacted (it is never a secret anyway).
  const contentType = msg.headers['content-type'];
  redactHeaderMap(msg.headers, sets, `${side}.headers`, marks);
  redactHeaderList(msg.headersList, sets, `${side}.headers`, marks);
  redactHeaderMap(msg.trailers, sets, `${side}.trailers`, marks);
  if (sets.headers.has(COOKIE_HEADER[side])) redactCookies(msg.cookies, `${side}.cookies`, marks);
  if (side === 'request') redactUrl(msg as HttpRequest, sets, marks);
  redactBody(msg.body, contentType, sets, `${side}.body`, marks);
}

function redactHttp(r: HttpRecord, sets: Sets, marks: Marks): void {
  if (r.request) redactMessage(r.request, 'request', sets, marks);
  if (r.response) redactMessage(r.response, 'response', sets, marks);
}

function redactWs(r: WsRecord, sets: Sets, marks: Marks): void {
  const text = r.payload.text;
  if (text === undefined || !looksLikeJson(text)) return;
  const out = redactJsonText(text, sets.fields, REDACTED);
  if (!out) return;
  r.payload.text = out.text;
  const side = r.fromClient ? 'request' : 'response';
  for (const p of out.paths) marks.push(`${side}.payload.${p}`);
}

/**
 * A function that redacts an entry in place before it is stored, and records the paths of what
 * it replaced in `e.redacted`. Idempotent: a value already `[REDACTED]` is left (and not marked
 * again). With `enabled: false` it does nothing.
 */
export function createRedactor(cfg: RedactionConfig): Redactor {
  if (!cfg.enabled) return () => {};
  const sets: Sets = {
    headers: new Set(cfg.headers.map((h) => h.toLowerCase())),
    fields: new Set(cfg.bodyFields.map((f) => f.toLowerCase())),
  };
  return (e: Entry): void => {
    const marks: Marks = [];
    switch (e.record.kind) {
      case 'http':
        redactHttp(e.record, sets, marks);
        break;
      case 'ws':
        redactWs(e.record, sets, marks);
        break;
      default:
        return;
    }
    if (marks.length === 0) return;
    e.redacted = [...new Set([...(e.redacted ?? []), ...marks])];
  };
}
