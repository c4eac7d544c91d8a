/** Label and field selectors as the API server parses them from `labelSelector` / `fieldSelector`. */

type LabelReq =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'notexists'; key: string };

export type Matcher = (obj: Record<string, unknown>) => boolean;

export class SelectorError extends Error {}

/** Splits on commas that are not inside parentheses (`a in (x,y),b=c`). */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t !== '');
}

function parseLabelTerm(term: string): LabelReq {
  let m = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
  if (m) {
    const values = m[3]!
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v !== '');
    return { op: m[2] as 'in' | 'notin', key: m[1]!, values };
  }
  m = /^([^\s!=]+)\s*(==|=|!=)\s*([^\s]*)$/.exec(term);
  if (m) return { op: m[2] === '!=' ? 'neq' : 'eq', key: m[1]!, value: m[3]! };
  m = /^!\s*([^\s!=]+)$/.exec(term);
  if (m) return { op: 'notexists', key: m[1]! };
  m = /^([^\s!=()]+)$/.exec(term);
  if (m) return { op: 'exists', key: m[1]! };
  throw new SelectorError(`unable to parse requirement: ${term}`);
}

export function parseLabelSelector(s: string | null): Matcher {
  if (s === null || s.trim() === '') return () => true;
  const reqs = splitTerms(s).map(parseLabelTerm);
  return (obj) => {
    const meta = (obj.metadata ?? {}) as { labels?: Record<string, string> };
    const labels = meta.labels ?? {};
    return reqs.every((r) => {
      const has = Object.prototype.hasOwnProperty.call(labels, r.key);
      const v = labels[r.key];
      switch (r.op) {
        case 'eq':
          return has && v === r.value;
        case 'neq':
          return !has || v !== r.value;
        case 'in':
          return has && r.values.includes(v!);
        case 'notin':
          return !has || !r.values.includes(v!);
        case 'exists':
          return has;
        case 'notexists':
          return !has;
      }
      return false;
    });
  };
}

/** Field paths a selector may use; the real server allows only a per-kind set, we allow these. */
const FIELD_PATHS = new Set([
  'metadata.name',
  'metadata.namespace',
  'spec.nodeName',
  'status.phase',
  'spec.serviceAccountName',
  'involvedObject.name',
  'involvedObject.kind',
  'involvedObject.namespace',
  'involvedObject.uid',
  'involvedObject.apiVersion',
  'involvedObject.fieldPath',
  'reason',
  'reportingComponent',
  'status.podIP',
  'spec.hostNetwork',
  'type',
]);

function fieldValue(obj: Record<string, unknown>, path: string): string {
  let cur: unknown = obj;
  for (const p of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur === undefined || cur === null ? '' : String(cur);
}

export function parseFieldSelector(s: string | null): Matcher {
  if (s === null || s.trim() === '') return () => true;
  const reqs = splitTerms(s).map((term) => {
    const m = /^([^\s!=]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw new SelectorError(`invalid field selector: ${term}`);
    if (!FIELD_PATHS.has(m[1]!)) {
      throw new SelectorError(`field label not supported: ${m[1]!}`);
    }
    return { path: m[1]!, neg: m[2] === '!=', value: m[3]!.trim() };
  });
  return (obj) => reqs.every((r) => (fieldValue(obj, r.path) === r.value) !== r.neg);
}
