/**
 * Path templates for endpoint grouping: `/api/products/42` and `/api/products/43` are one
 * endpoint, `/api/products/:id`. A segment becomes `:id` when it is
 *   - all digits (`42`),
 *   - a UUID (`123e4567-e89b-12d3-a456-426614174000`, any case),
 *   - long hex, 16+ hex digits (Mongo ObjectIds, SHA-1/256 digests, trace ids),
 *   - an opaque token, 20+ letters and digits with at least one of each (ULIDs, base62 ids).
 * Everything else is kept verbatim (`v1`, `products`, `user-42-profile`). The query string,
 * fragment and `;matrix` parameters are dropped; an empty path is `/`.
 */

export const ID_PLACEHOLDER = ':id';

/** Longest template kept; longer paths are cut (with `…`) so one odd client cannot bloat keys. */
export const MAX_TEMPLATE_LENGTH = 256;

const DIGITS = /^\d+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LONG_HEX = /^[0-9a-f]{16,}$/i;
const TOKEN = /^(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{20,}$/;

export function isIdSegment(seg: string): boolean {
  if (seg.length === 0) return false;
  return DIGITS.test(seg) || UUID.test(seg) || LONG_HEX.test(seg) || TOKEN.test(seg);
}

/** Memo of recent templates: the same few paths repeat across millions of calls. */
const MEMO_SIZE = 4096;
const memo = new Map<string, string>();

export function normalizePath(path: string): string {
  let t = memo.get(path);
  if (t === undefined) {
    t = template(path);
    if (memo.size >= MEMO_SIZE) memo.clear();
    memo.set(path, t);
  }
  return t;
}

function template(path: string): string {
  let p = path;
  const cut = p.search(/[?#]/);
  if (cut >= 0) p = p.slice(0, cut);
  if (p.length === 0) return '/';
  const segs = p.split('/');
  for (let i = 0; i < segs.length; i++) {
    let seg = segs[i]!;
    const semi = seg.indexOf(';');
    if (semi >= 0) seg = seg.slice(0, semi);
    segs[i] = isIdSegment(seg) ? ID_PLACEHOLDER : seg;
  }
  const out = segs.join('/');
  return out.length > MAX_TEMPLATE_LENGTH ? `${out.slice(0, MAX_TEMPLATE_LENGTH - 1)}…` : out;
}

/** DNS names as endpoint parts: lower case, without the trailing dot (`Example.COM.` → `example.com`). */
export function normalizeDnsName(name: string): string {
  const n = name.toLowerCase();
  return n.length > 1 && n.endsWith('.') ? n.slice(0, -1) : n;
}
