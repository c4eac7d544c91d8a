/**
 * Config resolution: defaults < config file (~/.kubeshark/config.yaml) < KUBESHARK_* env <
 * --set key=value < flags. Every source is validated against the schema: an unknown key or a
 * value of the wrong type is a KsError naming the key and the source.
 */
import { readFileSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { KsError } from '../util/errors.ts';
import { schema, type Group, type LeafType, type Node } from './schema.ts';

export type ConfigTree = { [key: string]: unknown };

export function defaultConfigPath(): string {
  return join(homedir(), '.kubeshark', 'config.yaml');
}

function defaultsOf(node: Node): unknown {
  if (node.kind === 'leaf') return structuredClone(node.default);
  if (node.kind === 'map') return structuredClone(node.default);
  return Object.fromEntries(Object.entries(node.children).map(([k, c]) => [k, defaultsOf(c)]));
}

export function defaultConfig(): ConfigTree {
  return defaultsOf(schema) as ConfigTree;
}

const SIZE_RE = /^(\d+(?:\.\d+)?)\s*(|k|Ki|M|Mi|G|Gi|T|Ti)(?:B)?$/;
const SIZE_MULT: Record<string, number> = {
  '': 1,
  k: 1e3,
  Ki: 1024,
  M: 1e6,
  Mi: 1024 ** 2,
  G: 1e9,
  Gi: 1024 ** 3,
  T: 1e12,
  Ti: 1024 ** 4,
};

/** Parses Kubernetes-style sizes (`500Mi`, `5Gi`, `1000`) to bytes. */
export function parseSize(v: string): number | undefined {
  const m = SIZE_RE.exec(v.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (SIZE_MULT[m[2] ?? ''] ?? 1));
}

function typeError(key: string, source: string, type: LeafType, got: unknown): KsError {
  return new KsError(
    'KS_ERR_CONFIG_TYPE',
    `config key \`${key}\` (from ${source}) must be ${describe(type)}, got ${JSON.stringify(got)}`,
  );
}

function describe(t: LeafType): string {
  switch (t) {
    case 'int':
      return 'an integer';
    case 'bool':
      return 'true or false';
    case 'size':
      return 'a size such as 500Mi or 5Gi';
    case 'list<string>':
      return 'a list of strings (a,b,c)';
    case 'list<int>':
      return 'a list of integers (80,8080)';
    default:
      return 'a string';
  }
}

/** Coerces a typed value (from YAML) or a string (from env / --set / flags) to the leaf type. */
function coerce(
  type: LeafType,
  raw: unknown,
  key: string,
  source: string,
  fromString: boolean,
): unknown {
  const fail = () => typeError(key, source, type, raw);
  if (fromString && typeof raw === 'string') {
    const s = raw.trim();
    switch (type) {
      case 'int': {
        if (!/^-?\d+$/.test(s)) throw fail();
        return Number(s);
      }
      case 'bool':
        if (s === 'true') return true;
        if (s === 'false') return false;
        throw fail();
      case 'size':
        if (parseSize(s) === undefined) throw fail();
        return s;
      case 'list<string>':
      case 'list<int>': {
        const inner = s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
        const items =
          inner === '' ? [] : inner.split(',').map((x) => x.trim().replace(/^["']|["']$/g, ''));
        return coerce(type, items, key, source, false);
      }
      default:
        return raw;
    }
  }
  switch (type) {
    case 'int':
      if (typeof raw !== 'number' || !Number.isInteger(raw)) throw fail();
      return raw;
    case 'bool':
      if (typeof raw !== 'boolean') throw fail();
      return raw;
    case 'size':
      if (typeof raw === 'number' && Number.isInteger(raw) && raw >= 0) return String(raw);
      if (typeof raw !== 'string' || parseSize(raw) === undefined) throw fail();
      return raw;
    case 'string':
      if (typeof raw !== 'string') throw fail();
      return raw;
    case 'list<string>':
      if (!Array.isArray(raw) || raw.some((x) => typeof x !== 'string')) throw fail();
      return raw;
    case 'list<int>': {
      if (!Array.isArray(raw)) throw fail();
      return raw.map((x) => {
        const n = typeof x === 'string' && /^\d+$/.test(x.trim()) ? Number(x) : x;
        if (typeof n !== 'number' || !Number.isInteger(n)) throw fail();
        return n;
      });
    }
  }
}

interface Resolved {
  node: Node;
  /** For keys inside an open map: the map and the user key. */
  parentMap?: { path: string[]; key: string };
}

/** Finds the schema node of a dotted key; undefined when unknown. */
function lookup(path: string[]): Resolved | undefined {
  let node: Node = schema;
  for (let i = 0; i < path.length; i++) {
    const part = path[i]!;
    if (node.kind === 'group') {
      const next: Node | undefined = Object.hasOwn(node.children, part)
        ? node.children[part]
        : undefined;
      if (!next) return undefined;
      node = next;
    } else if (node.kind === 'map') {
      if (i !== path.length - 1) return undefined;
      return {
        node: { kind: 'leaf', type: node.value, default: undefined, doc: node.doc },
        parentMap: { path: path.slice(0, i), key: part },
      };
    } else {
      return undefined;
    }
  }
  return { node };
}

function suggest(path: string[]): string {
  // Offer the known keys at the deepest existing level.
  let node: Node = schema;
  const found: string[] = [];
  for (const part of path) {
    if (node.kind !== 'group' || !Object.hasOwn(node.children, part)) break;
    node = node.children[part]!;
    found.push(part);
  }
  if (node.kind !== 'group') return '';
  const keys = Object.keys(node.children).map((k) => [...found, k].join('.'));
  return keys.length ? ` (known keys here: ${keys.join(', ')})` : '';
}

function setPath(tree: ConfigTree, path: string[], value: unknown): void {
  let cur: ConfigTree = tree;
  for (const part of path.slice(0, -1)) {
    const next = cur[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cur[part] = {};
    cur = cur[part] as ConfigTree;
  }
  cur[path[path.length - 1]!] = value;
}

export function getPath(tree: ConfigTree, key: string): unknown {
  let cur: unknown = tree;
  for (const part of key.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as ConfigTree)[part];
  }
  return cur;
}

/** Sets one dotted key from a string or typed value, validating it. */
export function setKey(
  tree: ConfigTree,
  key: string,
  raw: unknown,
  source: string,
  fromString: boolean,
): void {
  const path = key.split('.');
  if (path.some((p) => p === ''))
    throw new KsError(
      'KS_ERR_CONFIG_UNKNOWN_KEY',
      `invalid config key \`${key}\` (from ${source})`,
    );
  const r = lookup(path);
  if (!r) {
    throw new KsError(
      'KS_ERR_CONFIG_UNKNOWN_KEY',
      `unknown config key \`${key}\` (from ${source})${suggest(path)}`,
    );
  }
  if (r.node.kind === 'leaf') {
    setPath(tree, path, coerce(r.node.type, raw, key, source, fromString));
    return;
  }
  // A group or map given as a whole (YAML object): recurse into its keys.
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new KsError(
      'KS_ERR_CONFIG_TYPE',
      `config key \`${key}\` (from ${source}) must be a mapping, got ${JSON.stringify(raw)}`,
    );
  }
  if (r.node.kind === 'map') {
    // Map keys are taken whole: they may contain dots (`kubernetes.io/os` in tap.nodeSelector).
    const m: ConfigTree = {};
    for (const [k, v] of Object.entries(raw as ConfigTree))
      m[k] = coerce(r.node.value, v, `${key}.${k}`, source, fromString);
    setPath(tree, path, m);
    return;
  }
  for (const [k, v] of Object.entries(raw as ConfigTree))
    setKey(tree, `${key}.${k}`, v, source, fromString);
}

function mergeObject(tree: ConfigTree, obj: ConfigTree, source: string): void {
  for (const [k, v] of Object.entries(obj)) setKey(tree, k, v, source, false);
}

/** `tap.proxy.front.port` → `KUBESHARK_TAP_PROXY_FRONT_PORT` (camelCase split by `_`). */
export function envName(key: string): string {
  return (
    'KUBESHARK_' +
    key
      .split('.')
      .map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase())
      .join('_')
  );
}

function leafKeys(node: Group, prefix: string[] = []): { key: string; map: boolean }[] {
  const out: { key: string; map: boolean }[] = [];
  for (const [k, c] of Object.entries(node.children)) {
    const p = [...prefix, k];
    if (c.kind === 'group') out.push(...leafKeys(c, p));
    else out.push({ key: p.join('.'), map: c.kind === 'map' });
  }
  return out;
}

/** Env variables that are not config keys but belong to us. */
const RESERVED_ENV = new Set(['KUBESHARK_CONFIG', 'KUBESHARK_DEBUG', 'KUBESHARK_NO_BROWSER']);

function applyEnv(tree: ConfigTree, env: NodeJS.ProcessEnv): void {
  const keys = leafKeys(schema);
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('KUBESHARK_') || RESERVED_ENV.has(name) || value === undefined) continue;
    const exact = keys.find((k) => !k.map && envName(k.key) === name);
    if (exact) {
      setKey(tree, exact.key, value, `env ${name}`, true);
      continue;
    }
    const mapKey = keys.find((k) => k.map && name.startsWith(envName(k.key) + '_'));
    if (mapKey) {
      const sub = name.slice(envName(mapKey.key).length + 1).toLowerCase();
      setKey(tree, `${mapKey.key}.${sub}`, value, `env ${name}`, true);
      continue;
    }
    throw new KsError(
      'KS_ERR_CONFIG_UNKNOWN_KEY',
      `unknown config variable ${name} in the environment (config keys map to KUBESHARK_<KEY_PATH>, e.g. ${envName('tap.proxy.front.port')})`,
    );
  }
}

export interface ConfigSources {
  /** Path of the config file; when absent, the default path if it exists. */
  configPath?: string;
  env?: NodeJS.ProcessEnv;
  /** `--set key=value` in order. */
  sets?: string[];
  /** Command flags mapped to config keys (only the flags the user gave). */
  flags?: Record<string, unknown>;
}

export function loadConfig(src: ConfigSources = {}): ConfigTree {
  const tree = defaultConfig();
  const path = src.configPath ?? defaultConfigPath();
  if (src.configPath !== undefined || existsSync(path)) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new KsError(
        'KS_ERR_CONFIG_FILE',
        `cannot read config file ${path}: ${(e as Error).message}`,
      );
    }
    let obj: unknown;
    try {
      obj = parseYaml(text);
    } catch (e) {
      throw new KsError(
        'KS_ERR_CONFIG_FILE',
        `config file ${path} is not valid YAML: ${(e as Error).message}`,
      );
    }
    if (obj !== null && obj !== undefined) {
      if (typeof obj !== 'object' || Array.isArray(obj)) {
        throw new KsError(
          'KS_ERR_CONFIG_FILE',
          `config file ${path} must hold a mapping at the top level`,
        );
      }
      mergeObject(tree, obj as ConfigTree, path);
    }
  }
  applyEnv(tree, src.env ?? {});
  for (const s of src.sets ?? []) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new KsError('KS_ERR_USAGE', `--set takes key=value, got "${s}"`);
    setKey(tree, s.slice(0, eq).trim(), s.slice(eq + 1), `--set ${s.slice(0, eq).trim()}`, true);
  }
  for (const [k, v] of Object.entries(src.flags ?? {})) {
    if (v !== undefined) setKey(tree, k, v, `flag for ${k}`, typeof v === 'string');
  }
  return tree;
}
