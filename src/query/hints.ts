/**
 * Index hints from a compiled filter: the conditions a store can check on its columns before it
 * runs the filter (`http && status_code >= 500` → protocol `http`, status ≥ 500). Only top-level
 * conjuncts are used, and only where the hint is implied by the filter (sound: an entry the filter
 * matches always passes the hint); anything else yields no hint and the filter decides alone.
 */
import type { CompiledFilter } from './compile.ts';
import type { Entry } from '../entry/model.ts';
import { lex, type Tok } from './lexer.ts';
import { dissectors } from '../tap/dissectors/registry.ts';

export interface IndexHints {
  /** `Entry.protocol` must be one of these. */
  protocols?: string[];
  /** The entry's status (HTTP status / DNS RCODE) is within [min, max]; only given with min ≥ 1. */
  status?: { min?: number; max?: number };
  /**
   * The hints say everything the filter says (`http`, `(http || dns) && status_code >= 500`):
   * an entry passing them matches, so the filter need not run at all.
   */
  exact?: boolean;
}

/** What a store needs to select a filter's entries: index conditions, and the filter if needed. */
export interface Selection {
  protocols?: string[];
  status?: { min?: number; max?: number };
  filter?: (e: Entry) => boolean;
}

/**
 * Protocol flags whose truth means exactly `Entry.protocol === value`: each dissector's flag (its
 * id: true exactly when `Entry.protocol` is that id, src/tap/records.test.ts checks it), and the
 * L4 ones.
 */
const FLAG_PROTOCOL: Record<string, string> = {
  ...Object.fromEntries(dissectors.map((d) => [d.id, d.id])),
  conn: 'tcp',
  tcp_conn: 'tcp',
  flow: 'udp',
  udp_flow: 'udp',
};

/** Splits tokens at depth-0 occurrences of `op`; undefined if `otherOp` also occurs at depth 0. */
function splitTop(toks: readonly Tok[], op: string, otherOps: string[]): Tok[][] | undefined {
  const parts: Tok[][] = [[]];
  let depth = 0;
  for (const t of toks) {
    if (t.kind === 'op' && (t.text === '(' || t.text === '[' || t.text === '{')) depth++;
    if (t.kind === 'op' && (t.text === ')' || t.text === ']' || t.text === '}')) depth--;
    if (depth === 0 && t.kind === 'op' && t.text === op) {
      parts.push([]);
      continue;
    }
    if (depth === 0 && t.kind === 'op' && otherOps.includes(t.text)) return undefined;
    parts[parts.length - 1]!.push(t);
  }
  return parts;
}

/** A conjunct that is a flag, or a parenthesised `flag || flag …`: the protocols it allows. */
function protocolsOf(c: Tok[]): string[] | undefined {
  if (c.length === 1 && c[0]!.kind === 'ident') {
    const p = FLAG_PROTOCOL[c[0]!.text];
    return p ? [p] : undefined;
  }
  if (c.length >= 3 && c[0]!.text === '(' && c[c.length - 1]!.text === ')') {
    const inner = splitTop(c.slice(1, -1), '||', ['&&', '?']);
    if (!inner) return undefined;
    const out: string[] = [];
    for (const alt of inner) {
      const p = protocolsOf(alt);
      if (!p) return undefined;
      out.push(...p);
    }
    return out;
  }
  return undefined;
}

const FLIP: Record<string, string> = { '<': '>', '>': '<', '<=': '>=', '>=': '<=', '==': '==' };

/** `status_code OP n` or `n OP status_code`: the range it allows. */
function statusOf(c: Tok[]): { min: number; max: number } | undefined {
  if (c.length !== 3) return undefined;
  const op = c[1]!;
  let [a, b] = [c[0]!, c[2]!];
  let opText = op.text;
  if (a.kind === 'int' && b.kind === 'ident') {
    [a, b] = [b, a];
    opText = FLIP[opText] ?? '';
  }
  if (a.kind !== 'ident' || a.text !== 'status_code' || b.kind !== 'int') return undefined;
  const n = Number(b.text);
  if (!Number.isSafeInteger(n)) return undefined;
  switch (opText) {
    case '==':
      return { min: n, max: n };
    case '>=':
      return { min: n, max: Infinity };
    case '>':
      return { min: n + 1, max: Infinity };
    case '<=':
      return { min: -Infinity, max: n };
    case '<':
      return { min: -Infinity, max: n - 1 };
    default:
      return undefined;
  }
}

export function indexHints(f: CompiledFilter): IndexHints {
  let toks: Tok[];
  try {
    toks = lex(f.kfl2).toks;
  } catch {
    return {};
  }
  if (toks.length === 0) return {};
  const conjuncts = splitTop(toks, '&&', ['||', '?']);
  if (!conjuncts) return {};
  let protocols: string[] | undefined;
  let min = -Infinity;
  let max = Infinity;
  let covered = 0;
  let statusConjuncts = 0;
  for (const c of conjuncts) {
    const p = protocolsOf(c);
    if (p) {
      protocols = protocols ? protocols.filter((x) => p.includes(x)) : [...new Set(p)];
      covered++;
    }
    const s = statusOf(c);
    if (s) {
      min = Math.max(min, s.min);
      max = Math.min(max, s.max);
      covered++;
      statusConjuncts++;
    }
  }
  const hints: IndexHints = {};
  if (protocols) hints.protocols = protocols;
  // Entries without a status read as 0 in KFL but have none in the index: a range that admits 0
  // cannot be checked on the index.
  if (min >= 1) hints.status = max === Infinity ? { min } : { min, max };
  // Exact when every conjunct became a hint. The status column holds what `status_code` reads
  // (HTTP status, DNS RCODE) for every protocol, and none (never matching) where it reads 0.
  const statusExact = statusConjuncts === 0 || hints.status !== undefined;
  if (covered === conjuncts.length && statusExact) hints.exact = true;
  return hints;
}

/**
 * The store selection for a compiled filter: its index hints, plus the filter itself unless the
 * hints decide alone. An empty filter selects everything.
 */
export function selectionOf(f: CompiledFilter): Selection {
  if (f.kfl2.trim() === '') return {};
  const h = indexHints(f);
  const sel: Selection = {};
  if (h.protocols) sel.protocols = h.protocols;
  if (h.status) sel.status = h.status;
  if (!h.exact) sel.filter = (e) => f.matches(e);
  return sel;
}
