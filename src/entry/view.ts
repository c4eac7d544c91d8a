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
interface Detail {
  msg: object;
  ts?: number;
  extra?: Obj;
}

/** Keys of a message that the view does not show (the raw µs time is shown as `time`). */
const HIDDEN_KEYS: ReadonlySet<string> = new Set(['ts', 'kind', 'fromClient']);

function details(e: Entry): { request?: Detail; response?: Detail } {
  const r = e.record;
  switch (r.kind) {
    case 'http':
      return {
        request: r.request && { msg: r.request, ts: r.request.ts },
        response: r.response && { msg: r.response, ts: r.response.ts },
      };
    case 'dns':
      return {
        request: r.request && {
          msg: r.request,
          ts: r.request.ts,
          // Repeats of an unanswered query are folded into the call and counted here.
          extra: r.retransmissions ? { retransmissions: r.retransmissions } : undefined,
        },
        response: r.response && { msg: r.response, ts: r.response.ts },
      };
    case 'ws':
      return r.fromClient ? { request: { msg: r } } : { response: { msg: r } };
    default:
      return {};
  }
}

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
function detailJson(d: Detail, overrides: Map<string, string>): string {
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

  constructor(catalogue: readonly FieldDef[]) {
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
    const d = details(e);
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
    const d = details(e);
    let s = '';
    // The detail groups come first, as in build(); their KFL children merge into them.
    for (const [key, detail] of [
      ['request', d.request],
      ['response', d.response],
    ] as const) {
      if (!detail) continue;
      const node = this.treeFor(e.record.kind).find((n) => n.key === key);
      const overrides = new Map<string, string>();
      let added = '';
      for (const child of node?.children ?? []) {
        const v = this.nodeJson(child, e);
        if (v === undefined) continue;
        if (Object.hasOwn(detail.msg, child.key) && !HIDDEN_KEYS.has(child.key)) {
          overrides.set(child.key, v);
        } else {
          added += ',' + child.keyJson + v;
        }
      }
      const body = detailJson(detail, overrides);
      s += (s ? ',"' : '"') + key + '":{' + (body ? body + added : added.slice(1)) + '}';
    }
    for (const node of this.treeFor(e.record.kind)) {
      if ((node.key === 'request' && d.request) || (node.key === 'response' && d.response))
        continue;
      const v = this.nodeJson(node, e);
      if (v !== undefined) s += (s ? ',' : '') + node.keyJson + v;
    }
    if (e.error) s += (s ? ',' : '') + '"error":' + JSON.stringify(e.error);
    return '{' + s + '}';
  }

  /** JSON of a node's value, or undefined when nothing in it applies. */
  private nodeJson(node: Node, e: Entry): string | undefined {
    if (node.field) {
      // A field and a group of the same name: the group's object wins in build(); fields only.
      if (!node.children) return enc(this.value(node.field, e));
    }
    let s = '';
    for (const child of node.children ?? []) {
      const v = this.nodeJson(child, e);
      if (v !== undefined) s += (s ? ',' : '') + child.keyJson + v;
    }
    return s ? '{' + s + '}' : undefined;
  }
}
