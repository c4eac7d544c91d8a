/**
 * The CEL environment of KFL, generated from the field catalogue (common fields + every
 * dissector's `fields.ts`): a new dissector's fields appear here without editing src/query.
 *
 * Dotted KFL names (`src.ip`, `src.pod.name`, `request.headers`) are declared as flat CEL
 * variables with internal identifiers (`kfl__src__ip`); the compiler rewrites the dotted name
 * (a whole token chain, never text inside strings) to that identifier. Each variable keeps its
 * exact type, so type checking sees `src.pod.name` as a string, and a per-entry context needs
 * only the referenced fields, each read by one getter call.
 */
import { Environment } from '@marcbachmann/cel-js';
import type { FieldDef, FieldType } from '../entry/fields.ts';
import type { Entry } from '../entry/model.ts';
import { re2RegExp } from './re2.ts';

/** CEL identifiers reserved by the parser (cel-js) — such KFL names get an internal id. */
const CEL_RESERVED = new Set([
  'as',
  'break',
  'const',
  'continue',
  'else',
  'for',
  'function',
  'if',
  'import',
  'let',
  'loop',
  'package',
  'namespace',
  'return',
  'var',
  'void',
  'while',
  'in',
  'true',
  'false',
  'null',
  '__proto__',
  'prototype',
]);

/** Prefix of internal identifiers; a user-written identifier may not start with it. */
export const INTERNAL_PREFIX = 'kfl__';
/** The `matches` the compiler calls: RE2 semantics, cached RegExp (cel-js's is JS `new RegExp`). */
export const MATCHES_FN = 'kfl__matches';

const CEL_TYPE: Record<FieldType, string> = {
  string: 'string',
  int: 'int',
  bool: 'bool',
  bytes: 'bytes',
  timestamp: 'google.protobuf.Timestamp',
  'list<string>': 'list<string>',
  'map<string,string>': 'map<string, string>',
  'map<string,dyn>': 'map<string, dyn>',
};

const EMPTY_LIST: readonly string[] = Object.freeze([]);
const EMPTY_MAP: Readonly<Record<string, never>> = Object.freeze({});
const EMPTY_BYTES = new Uint8Array(0);
/** Missing timestamps read as the Unix epoch (CEL's zero timestamp). */
export const EPOCH = new Date(0);

function toInt(v: unknown): bigint {
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) return BigInt(v);
    return Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n;
  }
  if (typeof v === 'bigint') return v;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  return 0n;
}

/** Plain JSON-like value → CEL value (integers → int, nested maps/lists converted). */
function toDyn(v: unknown): unknown {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) : v;
  if (Array.isArray(v)) return v.map(toDyn);
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array) && !(v instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = toDyn(x);
    return out;
  }
  return v ?? null;
}

/**
 * Value of a field for CEL, with the KFL.md defaults for missing values: string "", int 0,
 * bool false, list [], map {}, bytes b"", timestamp the epoch.
 */
export function converter(type: FieldType): (v: unknown) => unknown {
  switch (type) {
    case 'string':
      return (v) => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
    case 'int':
      return toInt;
    case 'bool':
      return (v) => v === true;
    case 'bytes':
      return (v) => (v instanceof Uint8Array ? v : EMPTY_BYTES);
    case 'timestamp':
      // Entries keep µs since the epoch; CEL timestamps are Dates (millisecond resolution).
      return (v) =>
        typeof v === 'number' && Number.isFinite(v)
          ? new Date(Math.floor(v / 1000))
          : v instanceof Date
            ? v
            : EPOCH;
    case 'list<string>':
      return (v) => (Array.isArray(v) ? v : EMPTY_LIST);
    case 'map<string,string>':
      return (v) => (v !== null && typeof v === 'object' ? v : EMPTY_MAP);
    case 'map<string,dyn>':
      return (v) => (v !== null && typeof v === 'object' ? toDyn(v) : EMPTY_MAP);
  }
}

export interface FieldBinding {
  /** KFL name, e.g. `src.pod.name`. */
  name: string;
  /** CEL identifier, e.g. `kfl__src__pod__name`. */
  id: string;
  def: FieldDef;
  /** The CEL value for an entry (default when the field does not apply). */
  read: (e: Entry) => unknown;
}

export interface KflEnvironment {
  /** Declares every field and the KFL functions except `now()` (per filter: see compile). */
  env: Environment;
  byName: ReadonlyMap<string, FieldBinding>;
  byId: ReadonlyMap<string, FieldBinding>;
  /** Names in the longest dotted field name (`src.pod.name`: 3). */
  maxNameParts: number;
}

const cache = new WeakMap<readonly FieldDef[], KflEnvironment>();

function internalId(name: string): string {
  if (name.includes('.')) return INTERNAL_PREFIX + name.replace(/\./g, '__');
  return CEL_RESERVED.has(name) ? INTERNAL_PREFIX + name : name;
}

function mapGet(m: unknown, k: unknown, d: unknown): unknown {
  if (m instanceof Map) return m.has(k) ? m.get(k) : d;
  if (m !== null && typeof m === 'object' && typeof k === 'string' && Object.hasOwn(m, k)) {
    const v = (m as Record<string, unknown>)[k];
    return v === undefined ? d : v;
  }
  return d;
}

/** The environment for a catalogue (built once per catalogue array and cached). */
export function kflEnvironment(catalogue: readonly FieldDef[]): KflEnvironment {
  const hit = cache.get(catalogue);
  if (hit) return hit;
  const env = new Environment();
  const byName = new Map<string, FieldBinding>();
  const byId = new Map<string, FieldBinding>();
  for (const def of catalogue) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(def.name)) {
      throw new Error(`KFL field name \`${def.name}\` is not an identifier path`);
    }
    if (byName.has(def.name)) throw new Error(`KFL field \`${def.name}\` is declared twice`);
    const id = internalId(def.name);
    if (byId.has(id))
      throw new Error(`KFL fields \`${def.name}\` and \`${byId.get(id)!.name}\` collide`);
    const conv = converter(def.type);
    const get = def.get.bind(def);
    // `protocol` compares case-insensitively (KFL.md): values are lower-cased here and string
    // literals compared with it are lower-cased by the compiler.
    const read =
      def.name === 'protocol'
        ? (e: Entry) => {
            const v = get(e);
            return typeof v === 'string' ? v.toLowerCase() : '';
          }
        : (e: Entry) => conv(get(e));
    const b: FieldBinding = { name: def.name, id, def, read };
    byName.set(def.name, b);
    byId.set(id, b);
    env.registerVariable(id, CEL_TYPE[def.type], { description: def.doc });
  }
  env.registerFunction('map_get(map<K, V>, K, V): V', mapGet, {
    description: 'map[key] when the key is present, else the default',
  });
  const re2Match = (s: string, pattern: string): boolean => re2RegExp(pattern).test(s);
  env.registerFunction(`string.${MATCHES_FN}(string): bool`, re2Match);
  env.registerFunction(`${MATCHES_FN}(string, string): bool`, re2Match);
  const maxNameParts = Math.max(1, ...catalogue.map((d) => d.name.split('.').length));
  const result: KflEnvironment = { env, byName, byId, maxNameParts };
  cache.set(catalogue, result);
  return result;
}
