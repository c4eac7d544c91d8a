/**
 * Entry ⇄ bytes. From the schemas in schema.ts this module generates, once, straight-line code
 * (no per-field dispatch at run time, as the JSON view writer in entry/view.ts does), one small
 * function per object schema, in three modes:
 *
 * - encode: the summary row (varints, dictionary ids, inline strings) + the heavy values, pushed
 *   to an array that the caller writes as one JSON text; throws MISFIT for an entry the schema
 *   does not describe (an unknown key or an unexpected value type);
 * - full: a plain, caller-owned Entry equal to what was appended (same JSON text);
 * - lazy: an Entry built from the row alone, for filters and statistics. It is a read-only Proxy
 *   whose `skip` sub-objects are placeholders decoded on first access, and objects with heavy
 *   fields are Proxies whose heavy keys are placeholders: reading one loads the full entry once
 *   (synchronously, through FullSource) and answers from it. Key listing (`in`, Reflect.ownKeys,
 *   JSON.stringify, for…in) sees exactly the full object's keys, in order; Object.keys and
 *   Object.entries also ask for each property's descriptor, which loads heavy values.
 *
 * See store.ts for the measurements behind this.
 */
import type { Entry } from '../entry/model.ts';
import { ByteReader, ByteWriter } from './bytes.ts';
import type { Dict } from './dict.ts';
import { ENTRY, type Field } from './schema.ts';
import { viewOfRecord } from '../tap/records.ts';

/** Thrown (preallocated, no stack cost) when an entry does not fit the schema. */
export const MISFIT = new Error('entry does not fit the store schema');

/** Placeholder of a heavy value inside a lazy object's target. */
const LAZY: unique symbol = Symbol('lazy');

/** What a lazy entry loads its full form from. */
export interface FullSource {
  /** The full entry (loaded once); throws when it can no longer be read (evicted, corrupt). */
  full(): Entry;
}

type Obj = Record<string | symbol, unknown>;
type Pick = (e: Entry) => Obj;

/** Placeholder of an object whose row bytes are decoded on first access (`skip` fields). */
const ROW: unique symbol = Symbol('row');

/**
 * Proxy traps of a lazy object. Two kinds of placeholders: ROW (a `skip` field: decoded from
 * the row by `sub`, which generated subclasses implement, then kept) and LAZY (a heavy field:
 * read from the full entry, found with `pick`).
 */
class LazyTraps implements ProxyHandler<Obj> {
  // Assigned, not class fields: one of these is created per lazy object, and V8 runs
  // define-semantics field initialisers several times slower (31% of a filtered count).
  declare readonly st: FullSource;
  declare readonly pick: Pick | undefined;

  constructor(st: FullSource, pick: Pick | undefined) {
    (this as { st: FullSource }).st = st;
    (this as { pick: Pick | undefined }).pick = pick;
  }

  sub(_k: string | symbol): unknown {
    return undefined;
  }

  private resolve(t: Obj, k: string | symbol, v: unknown): unknown {
    if (v === ROW) {
      const x = this.sub(k);
      t[k] = x;
      return x;
    }
    return this.pick!(this.st.full())[k];
  }

  get(t: Obj, k: string | symbol): unknown {
    const v = t[k];
    return v === ROW || v === LAZY ? this.resolve(t, k, v) : v;
  }

  getOwnPropertyDescriptor(t: Obj, k: string | symbol): PropertyDescriptor | undefined {
    const d = Reflect.getOwnPropertyDescriptor(t, k);
    if (d !== undefined && (d.value === ROW || d.value === LAZY))
      d.value = this.resolve(t, k, d.value);
    return d;
  }

  set(): boolean {
    return false;
  }

  defineProperty(): boolean {
    return false;
  }

  deleteProperty(): boolean {
    return false;
  }
}

/** The writer of a `shared` group (one at a time: groups do not nest). */
const scratchWriter = new ByteWriter(256);
function scratch(): ByteWriter {
  scratchWriter.reset();
  return scratchWriter;
}

/** Sets an own property, also for keys like `__proto__` (as JSON.parse does). */
function setOwn(o: Obj, k: string, v: unknown): void {
  if (k === '__proto__')
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

/** Keys whose value is not undefined (JSON's view of an object). */
function definedKeys(o: Obj): number {
  let n = 0;
  for (const k in o) if (o[k] !== undefined) n++;
  return n;
}

// ------------------------------------------------------------------ code generation

/**
 * One generated function per object schema (an endpoint, a body, a DNS message… shared by every
 * place that schema appears). Small functions matter: a single 450-line encoder took TurboFan
 * 290 ms to compile and was deoptimised on the first new map, leaving the first ~80 k appends at
 * 3× the steady-state cost.
 */
interface Gen {
  mode: 'enc' | 'full' | 'lazy';
  /** Schema → its number (for per-path keys). */
  fns: Map<readonly Field[], string>;
  /** Schema, or "schema number:path" in lazy mode → generated function name. */
  names: Map<unknown, string>;
  code: string[];
  picks: string[];
}

const isOpt = (f: Field): boolean => 'opt' in f && f.opt === true;

/** Allocates presence/value bits in field order; encoder and decoders walk fields identically. */
class Bits {
  private next = 0;
  take(): number {
    if (this.next >= 30)
      throw new Error('store schema: too many optional/bool fields in one object');
    return 2 ** this.next++;
  }
  get used(): boolean {
    return this.next > 0;
  }
}

/** Whether an object schema has heavy fields, directly or below. */
function hasHeavy(fields: readonly Field[]): boolean {
  return fields.some(
    (f) =>
      f.t === 'heavy' ||
      (f.t === 'obj' && hasHeavy(f.fields)) ||
      (f.t === 'record' && f.kinds.some((k) => hasHeavy(k.fields))),
  );
}

/**
 * The generated function's name for an object schema (generating it on first use). In lazy
 * mode an object with heavy fields below it gets one function per path, with its pick (full
 * entry → this object) as a constant, so a decode allocates nothing to find its way back.
 */
function fnFor(fields: readonly Field[], g: Gen, path: readonly string[], part = false): string {
  const perPath = g.mode === 'lazy' && hasHeavy(fields);
  const key = perPath ? `${g.fns.get(fields) ?? g.fns.size}:${path.join('.')}` : fields;
  let name = g.names.get(key);
  if (name !== undefined) return name;
  name = `${g.mode}${g.names.size}`;
  g.names.set(key, name);
  if (!g.fns.has(fields)) g.fns.set(fields, String(g.fns.size));
  let pick = '';
  if (perPath && fields.some((f) => f.t === 'heavy')) {
    pick = `P${g.picks.length}`;
    g.picks.push(`const ${pick} = (e) => e${path.map((k) => `[${JSON.stringify(k)}]`).join('')};`);
  }
  const body = g.mode === 'enc' ? encBody(fields, g, part) : decBody(fields, g, path, pick);
  const params =
    g.mode === 'enc' ? 'o, w, d, H, T' : g.mode === 'full' ? 'r, d, I, T, h' : 'r, d, I, T, st';
  g.code.push(`function ${name}(${params}) {\n${body}}\n`);
  return name;
}

const objCheck = (v: string): string =>
  `if (typeof ${v} !== 'object' || ${v} === null || Array.isArray(${v})) throw F;`;

/**
 * An object encoder. A `part` (the fields of a `shared` group) writes to the group's scratch
 * writer and returns how many keys it found; its object's encoder checks the key count.
 */
function encBody(fields: readonly Field[], g: Gen, part = false): string {
  let pre = part ? 'let c = 0, b = 0;\n' : 'let n = 0; for (const k in o) n++; let c = 0, b = 0;\n';
  let vals = '';
  const bits = new Bits();
  for (const f of fields) {
    const acc = `o.${f.key}`;
    if (f.t === 'shared') {
      if (f !== fields[fields.length - 1]) throw new Error('store schema: shared group not last');
      vals += `{ const w2 = W2(); c += ${fnFor(f.fields, g, [], true)}(o, w2, d, H, T); w.uv(d.ref(w2.latin1())); }\n`;
      continue;
    }
    if (f.t === 'kind') {
      pre += 'c++;\n';
      continue;
    }
    if (f.t === 'id' || f.t === 'time') {
      pre += `c++; if (typeof ${acc} !== 'number') throw F;\n`;
      continue;
    }
    if (f.t === 'bool') {
      if (isOpt(f)) {
        const p = bits.take();
        const val = bits.take();
        pre += `if (${acc} !== undefined) { c++; b |= ${p}; if (${acc} === true) b |= ${val}; else if (${acc} !== false) throw F; }\n`;
      } else {
        const val = bits.take();
        pre += `c++; if (${acc} === true) b |= ${val}; else if (${acc} !== false) throw F;\n`;
      }
      continue;
    }
    let guard = '';
    if (isOpt(f)) {
      const p = bits.take();
      pre += `if (${acc} !== undefined) { c++; b |= ${p}; }\n`;
      guard = `if (b & ${p}) `;
    } else {
      pre += 'c++;\n';
    }
    const skip = (f.t === 'obj' || f.t === 'record' || f.t === 'list') && f.skip === true;
    vals += skip
      ? `${guard}{ const at = w.beginLen(); ${encValue(f, acc, g)} w.endLen(at, F); }\n`
      : `${guard}{ ${encValue(f, acc, g)} }\n`;
  }
  if (bits.used) pre += 'w.uv(b);\n';
  if (part) return `${pre}${vals}return c;\n`;
  // The key check comes last: a shared group counts its keys while it is written.
  return `${pre}${vals}if (n !== c && definedKeys(o) !== c) throw F;\n`;
}

function encValue(f: Field, acc: string, g: Gen): string {
  switch (f.t) {
    case 'num':
      return `w.num(${acc}, F);`;
    case 'tsd':
      return `w.tsd(${acc}, T, F);`;
    case 'str':
      return `w.str(${acc}, F);`;
    case 'sym':
      return `const s = ${acc}; if (typeof s !== 'string') throw F; w.uv(d.ref(s));`;
    case 'json':
      return `const s = JSON.stringify(${acc}); if (typeof s !== 'string') throw F; w.uv(d.ref(s));`;
    case 'heavy':
      return `const x = ${acc}; if (x === undefined) throw F; H.push(x);`;
    case 'map':
      return (
        `const m = ${acc}; ${objCheck('m')} ` +
        `let n = 0; for (const k in m) n++; w.uv(n); ` +
        `for (const k in m) { const x = m[k]; if (typeof x !== 'string') throw F; w.uv(d.ref(k)); w.uv(d.ref(x)); }`
      );
    case 'strs':
      return (
        `const a = ${acc}; if (!Array.isArray(a)) throw F; w.uv(a.length); ` +
        `for (let i = 0; i < a.length; i++) { const x = a[i]; if (typeof x !== 'string') throw F; w.uv(d.ref(x)); }`
      );
    case 'list':
      return (
        `const a = ${acc}; if (!Array.isArray(a)) throw F; w.uv(a.length); ` +
        `for (let i = 0; i < a.length; i++) { const x = a[i]; ${objCheck('x')} ${fnFor(f.fields, g, [])}(x, w, d, H, T); }`
      );
    case 'prefix':
      return (
        `const s = ${acc}, u = o.${f.of}; if (typeof s !== 'string') throw F; ` +
        `if (typeof u === 'string' && u.startsWith(s)) w.uv(s.length * 2); else { w.u8(1); w.str(s, F); }`
      );
    case 'stream':
      return (
        `const s = ${acc}; if (typeof s !== 'string') throw F; ` +
        `if (s === o.transport + '-' + o.flow_id) w.u8(0); else { w.u8(1); w.str(s, F); }`
      );
    case 'obj':
      return `const x = ${acc}; ${objCheck('x')} ${fnFor(f.fields, g, [])}(x, w, d, H, T);`;
    case 'record': {
      let s = `const x = ${acc}; ${objCheck('x')}\nswitch (x.kind) {\n`;
      f.kinds.forEach((k) => {
        s += `case ${JSON.stringify(k.kind)}: w.u8(${k.code}); ${fnFor(k.fields, g, [])}(x, w, d, H, T); break;\n`;
      });
      return s + 'default: throw F;\n}';
    }
    default:
      throw new Error(`store schema: unexpected field type ${f.t}`);
  }
}

function decBody(fields: readonly Field[], g: Gen, path: readonly string[], pick: string): string {
  const lazy = g.mode === 'lazy';
  const bits = new Bits();
  let code = '';
  const temps = new Map<string, string>();
  const slots: { key: string; tmp: string; present?: string }[] = [];
  const skips: { key: string; pos: string; fn: { stmts: string; expr: string } }[] = [];
  let shared = '';
  let t = 0;
  for (const f of fields) {
    if (f.t === 'shared') {
      const fn = fnFor(f.fields, g, path, true);
      shared = lazy
        ? `d.blob(r.uv(), ${fn}, I, T)`
        : `${fn}(new Reader(d.bytes(r.uv())), d, I, T, h)`;
      continue;
    }
    if (f.t === 'id' || f.t === 'time' || f.t === 'kind') {
      slots.push({
        key: f.key,
        tmp: f.t === 'kind' ? JSON.stringify(f.value) : f.t === 'id' ? 'I' : 'T',
      });
      continue;
    }
    if (f.t === 'bool') {
      const p = isOpt(f) ? bits.take() : 0;
      const val = bits.take();
      slots.push({
        key: f.key,
        tmp: `((b & ${val}) !== 0)`,
        present: p ? `(b & ${p})` : undefined,
      });
      continue;
    }
    const p = isOpt(f) ? bits.take() : 0;
    const tmp = `t${t++}`;
    temps.set(f.key, tmp);
    const skip = (f.t === 'obj' || f.t === 'record' || f.t === 'list') && f.skip === true;
    if (skip && lazy) {
      // Decoded on first access: remember where its bytes are, skip them.
      skips.push({ key: f.key, pos: `${tmp}p`, fn: decValue(f, g, temps, path, tmp) });
      code += p
        ? `let ${tmp}p = -1; if (b & ${p}) { const n = r.uv(); ${tmp}p = r.pos; r.pos += n; }\n`
        : `const ${tmp}n = r.uv(); const ${tmp}p = r.pos; r.pos += ${tmp}n;\n`;
      slots.push({ key: f.key, tmp: 'R', present: p ? `(b & ${p})` : undefined });
      continue;
    }
    const dv = decValue(f, g, temps, path, tmp);
    const stmts = skip ? `r.uv();\n${dv.stmts}` : dv.stmts;
    const expr = dv.expr;
    if (p) code += `let ${tmp}; if (b & ${p}) { ${stmts}${tmp} = ${expr}; }\n`;
    else code += `${stmts}const ${tmp} = ${expr};\n`;
    slots.push({ key: f.key, tmp, present: p ? `(b & ${p})` : undefined });
  }
  let lead = 0;
  while (lead < slots.length && slots[lead]!.present === undefined) lead++;
  const lit = slots
    .slice(0, lead)
    .map((s) => `${JSON.stringify(s.key)}: ${s.tmp}`)
    .join(', ');
  let build = `const o = { ${lit} };\n`;
  for (const s of slots.slice(lead)) {
    const set = `o[${JSON.stringify(s.key)}] = ${s.tmp};`;
    build += s.present !== undefined ? `if (${s.present}) ${set}\n` : `${set}\n`;
  }
  if (shared) code += `const sh = ${shared};\n`;
  if (shared) build += 'Object.assign(o, sh);\n';
  const head = `let x;${bits.used ? ' const b = r.uv();' : ''}\n`;
  if (skips.length > 0) {
    // A Traps class for this object: decodes a skipped field from its position on first read.
    const cls = `Sub${g.picks.length}`;
    const pos = skips.map((k) => k.pos).join(', ');
    const cases = skips
      .map(
        (k) =>
          `case ${JSON.stringify(k.key)}: { const r = new Reader(this.buf, this.${k.pos}); const d = this.d, I = this.I, T = this.T, st = this.st; let x;\n${k.fn.stmts}return ${k.fn.expr}; }`,
      )
      .join('\n');
    g.picks.push(
      `class ${cls} extends Traps {\n` +
        `constructor(st, pick, buf, d, I, T, ${pos}) { super(st, pick); this.buf = buf; this.d = d; this.I = I; this.T = T; ${skips.map((k) => `this.${k.pos} = ${k.pos};`).join(' ')} }\n` +
        `sub(k) { switch (k) {\n${cases}\ndefault: return undefined; } }\n}`,
    );
    return `${head}${code}${build}return new Proxy(o, new ${cls}(st, ${pick || 'undefined'}, r.buf, d, I, T, ${pos}));\n`;
  }
  if (lazy && pick) return `${head}${code}${build}return new Proxy(o, new Traps(st, ${pick}));\n`;
  return `${head}${code}${build}return o;\n`;
}

function decValue(
  f: Field,
  g: Gen,
  temps: ReadonlyMap<string, string>,
  path: readonly string[],
  v: string,
): { stmts: string; expr: string } {
  const lazy = g.mode === 'lazy';
  const args = lazy ? 'r, d, I, T, st' : 'r, d, I, T, h';
  switch (f.t) {
    case 'num':
      return { stmts: '', expr: 'r.num()' };
    case 'tsd':
      return { stmts: '', expr: 'r.tsd(T)' };
    case 'str':
      return { stmts: '', expr: 'r.str()' };
    case 'sym':
      return { stmts: '', expr: 'd.s(r.uv())' };
    case 'json':
      return { stmts: '', expr: lazy ? 'd.frozen(r.uv())' : 'd.fresh(r.uv())' };
    case 'heavy':
      return { stmts: '', expr: lazy ? 'L' : 'h.a[h.i++]' };
    case 'map':
      return {
        stmts: `const ${v}m = {}; for (let n = r.uv(); n > 0; n--) { const k = d.s(r.uv()); setOwn(${v}m, k, d.s(r.uv())); }\n`,
        expr: `${v}m`,
      };
    case 'strs':
      return {
        stmts: `const ${v}a = []; for (let n = r.uv(); n > 0; n--) ${v}a.push(d.s(r.uv()));\n`,
        expr: `${v}a`,
      };
    case 'list': {
      // List elements never have heavy fields (no pick path reaches into an array).
      const fn = fnFor(f.fields, g, [...path, f.key]);
      return {
        stmts: `const ${v}a = []; for (let n = r.uv(); n > 0; n--) ${v}a.push(${fn}(${args}));\n`,
        expr: `${v}a`,
      };
    }
    case 'prefix': {
      const of = temps.get(f.of);
      if (of === undefined) throw new Error(`store schema: prefix ${f.key} before ${f.of}`);
      return { stmts: '', expr: `((x = r.uv()) === 1 ? r.str() : ${of}.slice(0, x / 2))` };
    }
    case 'stream': {
      const tr = temps.get('transport');
      const fl = temps.get('flow_id');
      if (tr === undefined || fl === undefined) throw new Error('store schema: stream before flow');
      return { stmts: '', expr: `(r.u8() === 0 ? ${tr} + '-' + ${fl} : r.str())` };
    }
    case 'obj': {
      return { stmts: '', expr: `${fnFor(f.fields, g, [...path, f.key])}(${args})` };
    }
    case 'record': {
      let s = `let ${v}k;\nswitch (r.u8()) {\n`;
      f.kinds.forEach((k) => {
        s += `case ${k.code}: ${v}k = ${fnFor(k.fields, g, [...path, f.key])}(${args}); break;\n`;
      });
      s += `default: throw new RangeError('store: unknown record kind code');\n}\n`;
      return { stmts: s, expr: `${v}k` };
    }
    default:
      throw new Error(`store schema: unexpected field type ${f.t}`);
  }
}

// ------------------------------------------------------------------ the generated functions

type EncodeFn = (e: Entry, w: ByteWriter, d: Dict, H: unknown[], T: number) => void;
type DecodeFullFn = (
  r: ByteReader,
  d: Dict,
  I: number,
  T: number,
  h: { a: unknown[]; i: number },
) => Entry;
type DecodeLazyFn = (r: ByteReader, d: Dict, I: number, T: number, st: FullSource) => Entry;

function generate(mode: Gen['mode']): { fn: unknown; source: string } {
  const g: Gen = { mode, fns: new Map(), names: new Map(), code: [], picks: [] };
  const top = fnFor(ENTRY, g, []);
  const source = `${g.picks.join('\n')}\n${g.code.join('\n')}\nreturn ${top};`;
  const fn = new Function('F', 'definedKeys', 'setOwn', 'Traps', 'L', 'R', 'Reader', 'W2', source)(
    MISFIT,
    definedKeys,
    setOwn,
    LazyTraps,
    LAZY,
    ROW,
    ByteReader,
    scratch,
  ) as unknown;
  return { fn, source };
}

const gEnc = generate('enc');
const gFull = generate('full');
const gLazy = generate('lazy');
const encodeFn = gEnc.fn as EncodeFn;
const decodeFullFn = gFull.fn as DecodeFullFn;
const decodeLazyFn = gLazy.fn as DecodeLazyFn;

/**
 * Writes `e`'s summary row to `w` (dictionary ids from `d`) and pushes its heavy values to `heavy`.
 * Throws MISFIT when the entry has a key or value type the schema does not describe; `w`, `heavy`
 * are then in an undefined state (the caller resets them), `d` may hold new strings (still valid).
 */
export function encodeRow(e: Entry, w: ByteWriter, d: Dict, heavy: unknown[]): void {
  encodeFn(e, w, d, heavy, e.timestamp);
}

/** A plain Entry from its row and parsed heavy array (`id`, `timestamp` from the index). */
export function decodeFull(
  r: ByteReader,
  d: Dict,
  id: number,
  ts: number,
  heavy: unknown[],
): Entry {
  return decodeFullFn(r, d, id, ts, { a: heavy, i: 0 });
}

/** A summary Entry from its row; heavy values load through `src` on first access. */
export function decodeLazy(r: ByteReader, d: Dict, id: number, ts: number, src: FullSource): Entry {
  return decodeLazyFn(r, d, id, ts, src);
}

/** The index's status column: the record view's status (HTTP status, DNS RCODE); 0xffff: none. */
export const NO_STATUS = 0xffff;

export function statusOf(e: Entry): number {
  const r = e.record as Entry['record'] | undefined;
  if (typeof r !== 'object' || r === null) return NO_STATUS;
  const s: unknown = viewOfRecord(r).status(r);
  return typeof s === 'number' && Number.isInteger(s) && s >= 0 && s < NO_STATUS ? s : NO_STATUS;
}
