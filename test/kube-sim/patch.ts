/** The PATCH flavours kubectl and client libraries send: JSON patch, merge patch, strategic merge. */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

export class PatchError extends Error {}

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObj(patch)) return clone(patch);
  const out: Obj = isObj(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k] ?? null, v);
  }
  return out;
}

function unescapePointer(seg: string): string {
  return seg.replace(/~1/g, '/').replace(/~0/g, '~');
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new PatchError(`invalid JSON pointer: ${path}`);
  return path.slice(1).split('/').map(unescapePointer);
}

function getAt(doc: Json, segs: string[]): Json | undefined {
  let cur: Json | undefined = doc;
  for (const s of segs) {
    if (Array.isArray(cur)) cur = cur[Number(s)];
    else if (isObj(cur)) cur = cur[s];
    else return undefined;
  }
  return cur;
}

function parentOf(doc: Json, segs: string[], path: string): { parent: Obj | Json[]; key: string } {
  const parent = getAt(doc, segs.slice(0, -1));
  if (!Array.isArray(parent) && !isObj(parent)) throw new PatchError(`path not found: ${path}`);
  return { parent, key: segs[segs.length - 1]! };
}

/** RFC 6902 JSON patch (add, remove, replace, move, copy, test). */
export function jsonPatch(doc: Json, ops: unknown): Json {
  if (!Array.isArray(ops)) throw new PatchError('JSON patch must be an array of operations');
  let out = clone(doc);
  for (const raw of ops) {
    if (!isObj(raw)) throw new PatchError('invalid JSON patch operation');
    const op = raw.op;
    const path = String(raw.path ?? '');
    const segs = pointer(path);
    const remove = (p: string, s: string[]): Json => {
      const { parent, key } = parentOf(out, s, p);
      if (Array.isArray(parent)) {
        const i = Number(key);
        if (!(i >= 0 && i < parent.length)) throw new PatchError(`path not found: ${p}`);
        return parent.splice(i, 1)[0]!;
      }
      if (!(key in parent)) throw new PatchError(`path not found: ${p}`);
      const v = parent[key]!;
      delete parent[key];
      return v;
    };
    const add = (p: string, s: string[], value: Json): void => {
      if (s.length === 0) {
        out = value;
        return;
      }
      const { parent, key } = parentOf(out, s, p);
      if (Array.isArray(parent)) {
        const i = key === '-' ? parent.length : Number(key);
        if (!(i >= 0 && i <= parent.length)) throw new PatchError(`index out of range: ${p}`);
        parent.splice(i, 0, value);
      } else parent[key] = value;
    };
    switch (op) {
      case 'add':
        add(path, segs, clone(raw.value ?? null));
        break;
      case 'remove':
        remove(path, segs);
        break;
      case 'replace':
        remove(path, segs);
        add(path, segs, clone(raw.value ?? null));
        break;
      case 'move': {
        const from = String(raw.from ?? '');
        const v = remove(from, pointer(from));
        add(path, segs, v);
        break;
      }
      case 'copy': {
        const from = String(raw.from ?? '');
        const v = getAt(out, pointer(from));
        if (v === undefined) throw new PatchError(`path not found: ${from}`);
        add(path, segs, clone(v));
        break;
      }
      case 'test': {
        const v = getAt(out, segs);
        if (JSON.stringify(v) !== JSON.stringify(raw.value)) {
          throw new PatchError(`test operation failed at ${path}`);
        }
        break;
      }
      default:
        throw new PatchError(`unknown JSON patch operation: ${String(op)}`);
    }
  }
  return out;
}

/**
 * Merge keys for lists of objects, by field name. The real server reads these from the Go types'
 * `patchMergeKey` tags; this is the subset the simulated resources use. `ports` is contextual
 * (containerPort in containers, port in services), so it is resolved by which key the items carry.
 */
const MERGE_KEYS: Record<string, string[]> = {
  containers: ['name'],
  initContainers: ['name'],
  ephemeralContainers: ['name'],
  env: ['name'],
  volumes: ['name'],
  volumeMounts: ['mountPath'],
  volumeDevices: ['devicePath'],
  ports: ['containerPort', 'port'],
  conditions: ['type'],
  imagePullSecrets: ['name'],
  tolerations: [],
  hostAliases: ['ip'],
};

function mergeKeyFor(field: string, items: Json[]): string | undefined {
  const keys = MERGE_KEYS[field];
  if (!keys) return undefined;
  return keys.find((k) => items.some((it) => isObj(it) && k in it));
}

function smpList(field: string, target: Json[], patch: Json[], order: Json[] | undefined): Json[] {
  const key = mergeKeyFor(field, [...patch, ...target]);
  if (key === undefined) return clone(patch.filter((p) => !(isObj(p) && '$patch' in p)));
  const out = clone(target);
  for (const item of patch) {
    if (!isObj(item)) continue;
    const idx = out.findIndex((t) => isObj(t) && t[key] === item[key]);
    if (item.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = strategicMergePatch(out[idx]!, item);
    else out.push(strategicMergePatch({}, item));
  }
  if (order) {
    const rank = new Map(order.map((o, i) => [isObj(o) ? JSON.stringify(o[key]) : '', i]));
    out.sort((a, b) => {
      const ra = rank.get(isObj(a) ? JSON.stringify(a[key]) : '') ?? Infinity;
      const rb = rank.get(isObj(b) ? JSON.stringify(b[key]) : '') ?? Infinity;
      return ra - rb;
    });
  }
  return out;
}

/**
 * Strategic merge patch: a merge patch in which lists with a known merge key merge item by item,
 * plus the directives kubectl's three-way apply emits ($patch, $setElementOrder,
 * $deleteFromPrimitiveList, $retainKeys).
 */
export function strategicMergePatch(target: Json, patch: Json): Json {
  if (!isObj(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const rest = { ...patch };
    delete rest.$patch;
    return clone(rest);
  }
  if (patch.$patch === 'delete') return {};
  let out: Obj = isObj(target) ? clone(target) : {};
  if (Array.isArray(patch.$retainKeys)) {
    const keep = new Set(patch.$retainKeys.map(String));
    out = Object.fromEntries(Object.entries(out).filter(([k]) => keep.has(k)));
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const cur = out[field];
      if (Array.isArray(cur) && Array.isArray(v)) {
        const drop = new Set(v.map((x) => JSON.stringify(x)));
        out[field] = cur.filter((x) => !drop.has(JSON.stringify(x)));
      }
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    const cur = out[k];
    if (Array.isArray(v)) {
      const order = patch[`$setElementOrder/${k}`];
      out[k] = smpList(
        k,
        Array.isArray(cur) ? cur : [],
        v,
        Array.isArray(order) ? order : undefined,
      );
    } else if (isObj(v)) {
      out[k] = strategicMergePatch(cur ?? null, v);
    } else out[k] = v;
  }
  // $setElementOrder without a matching patch list still reorders (and drops unlisted items).
  for (const [k, v] of Object.entries(patch)) {
    if (!k.startsWith('$setElementOrder/') || !Array.isArray(v)) continue;
    const field = k.slice('$setElementOrder/'.length);
    const cur = out[field];
    if (field in patch || !Array.isArray(cur)) continue;
    out[field] = smpList(field, cur, [], v);
  }
  return out;
}
