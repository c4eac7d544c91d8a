/**
 * The KFL view of an entry: what `-o json|jsonl`, the API and queries see.
 * - every catalogue field that applies, under its KFL name: flat names as top-level keys, dotted
 *   names as nested objects (`src.ip` → {"src":{"ip":…}});
 * - boolean flags only when true (a missing flag reads as false, as in KFL);
 * - `timestamp` as RFC 3339 UTC with µs;
 * - the full request/response detail merged under `request` / `response`.
 * This shape is a contract (docs/output.md): fields are added, never renamed.
 *
 * `build` gives the view as an object; `json` writes the same view straight to JSON text
 * (identical to `JSON.stringify(build(e))`, key order included) without the intermediate
 * objects — it is the hot path of `dissect -o jsonl`.
 */
import type { FieldDef } from './fields.ts';
import type { Entry } from './model.ts';
import { isoMicros } from './time.ts';

type Obj = Record<string, unknown>;

interface CompiledField {
  def: FieldDef;
  path: string[];
  isTime: boolean;
  isBool: boolean;
}

/**
 * A request/response detail: the record's message as is, minus its `ts` (written last as an
 * RFC 3339 `time`), plus extra keys.
 */
export interface Detail {
  msg: object;
  ts?: number;
  extra?: Obj;
}

/** The detail groups of an entry (its record view's, src/tap/records.ts `detailsOf`). */
export type DetailsOf = (e: Entry) => { request?: Detail; response?: Detail };

/** Keys of a message that the view does not show (the raw µs time is shown as `time`). */
const HIDDEN_KEYS: ReadonlySet<string> = new Set(['ts', 'kind', 'fromClient']);

function detailObject(d: Detail): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(d.msg)) if (!HIDDEN_KEYS.has(k)) out[k] = v;
  if (d.ts !== undefined) out.time = isoMicros(d.ts);
  if (d.extra) Object.assign(out, d.extra);
  return out;
}

/** JSON of one value as JSON.stringify writes it inside an object; undefined: key omitted. */
function enc(v: unknown): string | undefined {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    default:
      return JSON.stringify(v);
  }
}

/** Writes the detail's keys (without braces), letting KFL values override same-named keys. */
function detailJson(d: Detail, overrides: ReadonlyMap<string, string>): string {
  let s = '';
  for (const k in d.msg) {
    if (HIDDEN_KEYS.has(k)) continue;
    const v = overrides.get(k) ?? enc((d.msg as Obj)[k]);
    if (v === undefined) continue;
    s += (s ? ',"' : '"') + k + '":' + v;
  }
  if (d.ts !== undefined) s += (s ? ',' : '') + '"time":"' + isoMicros(d.ts) + '"';
  if (d.extra) {
    for (const k in d.extra) {
      const v = enc(d.extra[k]);
      if (v !== undefined) s += (s ? ',"' : '"') + k + '":' + v;
    }
  }
  return s;
}

/** The static shape of the view for one record kind: a tree of groups and fields. */
interface Node {
  key: string;
  /** JSON of the key, with quotes and colon: `"src":`. */
  keyJson: string;
  field?: CompiledField;
  children?: Node[];
}

export class ViewBuilder {
  private readonly fields: CompiledField[];
  /** Fields that can apply, per record kind (computed on first use of a kind). */
  private readonly byKind = new Map<string, CompiledField[]>();
  private readonly trees = new Map<string, Node[]>();

  constructor(
    catalogue: readonly FieldDef[],
    private readonly details: DetailsOf,
  ) {
    this.fields = catalogue.map((def) => ({
      def,
      path: def.name.split('.'),
      isTime: def.type === 'timestamp',
      isBool: def.type === 'bool',
    }));
  }

  private fieldsFor(kind: string): CompiledField[] {
    let list = this.byKind.get(kind);
    if (!list) {
      list = this.fields.filter((f) => !f.def.kinds || f.def.kinds.includes(kind));
      this.byKind.set(kind, list);
    }
    return list;
  }

  private treeFor(kind: string): Node[] {
    let tree = this.trees.get(kind);
    if (tree) return tree;
    tree = [];
    for (const f of this.fieldsFor(kind)) {
      let level = tree;
      for (let i = 0; i < f.path.length; i++) {
        const key = f.path[i]!;
        let node = level.find((n) => n.key === key);
        if (!node) {
          node = { key, keyJson: JSON.stringify(key) + ':' };
          level.push(node);
        }
        if (i === f.path.length - 1) node.field = f;
        else level = node.children ??= [];
      }
    }
    this.trees.set(kind, tree);
    return tree;
  }

  private value(f: CompiledField, e: Entry): unknown {
    const v = f.def.get(e);
    if (v === undefined || (f.isBool && v === false)) return undefined;
    return f.isTime && typeof v === 'number' ? isoMicros(v) : v;
  }

  build(e: Entry): Obj {
    const out: Obj = {};
    const d = this.details(e);
    if (d.request) out.request = detailObject(d.request);
    if (d.response) out.response = detailObject(d.response);
    for (const f of this.fieldsFor(e.record.kind)) {
      const v = this.value(f, e);
      if (v === undefined) continue;
      const p = f.path;
      let cur = out;
      for (let i = 0; i < p.length - 1; i++) {
        const k = p[i]!;
        let next = cur[k];
        if (typeof next !== 'object' || next === null) {
          next = {};
          cur[k] = next;
        }
        cur = next as Obj;
      }
      cur[p[p.length - 1]!] = v;
    }
    if (e.error) out.error = e.error;
    return out;
  }

  /** The view as JSON text: exactly `JSON.stringify(this.build(e))`. */
  json(e: Entry): string {
    const kind = e.record.kind;
    let c = this.compiled.get(kind);
    if (!c) {
      c = this.compile(kind);
      this.compiled.set(kind, c);
    }
    const d = this.details(e);
    let s = '';
    // The detail groups come first, as in build(); their KFL children merge into them.
    if (d.request) s = '"request":' + this.detailGroup(d.request, c.request, e);
    if (d.response) {
      s += (s ? ',"response":' : '"response":') + this.detailGroup(d.response, c.response, e);
    }
    const rest = c.rest(e, !d.request, !d.response);
    if (rest) s += (s ? ',' : '') + rest;
    if (e.error) s += (s ? ',' : '') + '"error":' + JSON.stringify(e.error);
    return '{' + s + '}';
  }

  private readonly compiled = new Map<string, Compiled>();

  private detailGroup(detail: Detail, children: Node[], e: Entry): string {
    let overrides: Map<string, string> | undefined;
    let added = '';
    for (const child of children) {
      const v = this.nodeJson(child, e);
      if (v === undefined) continue;
      if (Object.hasOwn(detail.msg, child.key) && !HIDDEN_KEYS.has(child.key)) {
        (overrides ??= new Map()).set(child.key, v);
      } else {
        added += ',' + child.keyJson + v;
      }
    }
    const body = detailJson(detail, overrides ?? NO_OVERRIDES);
    return '{' + (body ? body + added : added.slice(1)) + '}';
  }

  /** JSON of a node's value, or undefined when nothing in it applies (detail children only). */
  private nodeJson(node: Node, e: Entry): string | undefined {
    if (node.field && !node.children) return enc(this.value(node.field, e));
    let s = '';
    for (const child of node.children ?? []) {
      const v = this.nodeJson(child, e);
      if (v !== undefined) s += (s ? ',' : '') + child.keyJson + v;
    }
    return s ? '{' + s + '}' : undefined;
  }

  /**
   * Generates, per record kind, one straight-line function that writes every top-level field
   * and group (this is the per-entry hot path: no tree walk, no type dispatch). Groups `src` and
   * `dst` depend only on their Endpoint object, which a flow shares by all its entries: their
   * JSON is memoised per Endpoint.
   */
  private compile(kind: string): Compiled {
    const tree = this.treeFor(kind);
    const getters: ((e: Entry) => unknown)[] = [];
    let tmp = 0;
    const emit = (nodes: Node[], out: string, entry: string): string => {
      let code = '';
      for (const node of nodes) {
        const key = JSON.stringify(node.keyJson);
        const sep = `(${out} ? ',' : '') + ${key}`;
        if (node.field && !node.children) {
          const f = node.field;
          getters.push(f.def.get);
          code += `v = g[${getters.length - 1}](${entry});\n`;
          if (f.isBool) {
            code += `if (v === true) ${out} += ${sep} + 'true'; else if (v !== undefined && v !== false) { x = enc(v); if (x !== undefined) ${out} += ${sep} + x; }\n`;
          } else if (f.isTime) {
            code += `if (typeof v === 'number') ${out} += ${sep} + '"' + iso(v) + '"'; else if (v !== undefined) { x = enc(v); if (x !== undefined) ${out} += ${sep} + x; }\n`;
          } else if (f.def.type === 'int') {
            code += `if (typeof v === 'number' && Number.isFinite(v)) ${out} += ${sep} + v; else if (v !== undefined) { x = enc(v); if (x !== undefined) ${out} += ${sep} + x; }\n`;
          } else if (f.def.type === 'string') {
            code += `if (typeof v === 'string') ${out} += ${sep} + JSON.stringify(v); else if (v !== undefined) { x = enc(v); if (x !== undefined) ${out} += ${sep} + x; }\n`;
          } else {
            code += `if (v !== undefined) { x = enc(v); if (x !== undefined) ${out} += ${sep} + x; }\n`;
          }
        } else {
          const t = `t${tmp++}`;
          const inner = emit(node.children ?? [], t, entry);
          const group = `let ${t} = '';\n${inner}`;
          if (node.key === 'src' || node.key === 'dst') {
            // Memoised per Endpoint object (see above).
            code += `{ const ep = ${entry}.${node.key}; let ${t}m = memo.get(ep);\n`;
            code += `if (${t}m === undefined) { ${group} ${t}m = ${t}; memo.set(ep, ${t}m); }\n`;
            code += `if (${t}m) ${out} += ${sep} + '{' + ${t}m + '}'; }\n`;
          } else {
            // Top-level request/response are written by detailGroup when the entry has that
            // detail; here only when it has not.
            const guard =
              out === 's' && node.key === 'request'
                ? 'if (noReq) '
                : out === 's' && node.key === 'response'
                  ? 'if (noResp) '
                  : '';
            code += `${guard}{ ${group} if (${t}) ${out} += ${sep} + '{' + ${t} + '}'; }\n`;
          }
        }
      }
      return code;
    };
    const body = emit(tree, 's', 'e');
    const factory = new Function(
      'g',
      'enc',
      'iso',
      'memo',
      `return function rest(e, noReq, noResp) { let s = '', v, x;\n${body}return s; };`,
    ) as (
      g: ((e: Entry) => unknown)[],
      encode: typeof enc,
      iso: typeof isoMicros,
      memo: WeakMap<object, string>,
    ) => Compiled['rest'];
    return {
      rest: factory(getters, enc, isoMicros, new WeakMap()),
      request: tree.find((n) => n.key === 'request')?.children ?? [],
      response: tree.find((n) => n.key === 'response')?.children ?? [],
    };
  }
}

interface Compiled {
  /** Every top-level node but the detail groups present on the entry. */
  rest: (e: Entry, noReq: boolean, noResp: boolean) => string;
  request: Node[];
  response: Node[];
}

const NO_OVERRIDES: ReadonlyMap<string, string> = new Map();
