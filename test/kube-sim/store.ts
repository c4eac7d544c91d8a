/** Object storage of the simulated API server: one global resourceVersion counter, a bounded event history for watches. */
import { randomUUID } from 'node:crypto';
import type { ResourceDef } from './resources.ts';
import { apiVersionOf } from './resources.ts';

export type KObj = Record<string, unknown> & {
  metadata: Record<string, unknown> & {
    name: string;
    namespace?: string;
    resourceVersion?: string;
  };
};

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoredEvent {
  rv: number;
  type: EventType;
  res: ResourceDef;
  object: KObj;
}

/** Default number of past events kept for watch resumption; older resourceVersions get 410 Gone. */
export const DEFAULT_HISTORY_LIMIT = 1000;

export interface StatusError {
  code: number;
  reason: string;
  message: string;
  details?: Record<string, unknown>;
}

/** Thrown by store operations; the server turns it into a Status object. */
export class ApiError extends Error {
  constructor(readonly status: StatusError) {
    super(status.message);
  }
}

function resName(res: ResourceDef): string {
  return res.group === '' ? res.plural : `${res.plural}.${res.group}`;
}

export function notFound(res: ResourceDef, name: string): ApiError {
  return new ApiError({
    code: 404,
    reason: 'NotFound',
    message: `${resName(res)} "${name}" not found`,
    details: { name, group: res.group, kind: res.plural },
  });
}

function key(res: ResourceDef, ns: string | undefined, name: string): string {
  return `${res.group}/${res.plural}/${ns ?? ''}/${name}`;
}

type Listener = (ev: StoredEvent) => void;

export class Store {
  private rv = 0;
  private readonly objects = new Map<string, { res: ResourceDef; obj: KObj }>();
  private readonly history: StoredEvent[] = [];
  private readonly listeners = new Set<Listener>();

  constructor(readonly historyLimit = DEFAULT_HISTORY_LIMIT) {}

  get resourceVersion(): number {
    return this.rv;
  }

  /** Oldest resourceVersion a watch may resume from (events after it are all retained). */
  get oldestResumable(): number {
    const first = this.history[0];
    return first === undefined ? this.rv : first.rv - 1;
  }

  get(res: ResourceDef, ns: string | undefined, name: string): KObj | undefined {
    const e = this.objects.get(key(res, ns, name));
    return e ? structuredClone(e.obj) : undefined;
  }

  mustGet(res: ResourceDef, ns: string | undefined, name: string): KObj {
    const o = this.get(res, ns, name);
    if (!o) throw notFound(res, name);
    return o;
  }

  /** Objects of a kind (copies; `clone = false`: the stored objects themselves, read-only). */
  list(res: ResourceDef, ns?: string, clone = true, sort = true): KObj[] {
    const out: KObj[] = [];
    for (const { res: r, obj } of this.objects.values()) {
      if (r !== res) continue;
      if (ns !== undefined && res.namespaced && obj.metadata.namespace !== ns) continue;
      out.push(clone ? structuredClone(obj) : obj);
    }
    if (sort)
      out.sort((a, b) =>
        `${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(
          `${b.metadata.namespace ?? ''}/${b.metadata.name}`,
        ),
      );
    return out;
  }

  /** Events with rv > since, for a watch resuming at `since`. */
  eventsSince(since: number): StoredEvent[] {
    return this.history.filter((e) => e.rv > since);
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private record(type: EventType, res: ResourceDef, obj: KObj): void {
    const ev: StoredEvent = { rv: this.rv, type, res, object: structuredClone(obj) };
    this.history.push(ev);
    while (this.history.length > this.historyLimit) this.history.shift();
    for (const l of this.listeners) l(ev);
  }

  create(res: ResourceDef, input: KObj): KObj {
    const obj = structuredClone(input);
    const meta = obj.metadata;
    if (!meta.name && typeof meta.generateName === 'string') {
      meta.name = `${meta.generateName}${randomUUID().slice(0, 5)}`;
    }
    const k = key(res, meta.namespace, meta.name);
    if (this.objects.has(k)) {
      throw new ApiError({
        code: 409,
        reason: 'AlreadyExists',
        message: `${resName(res)} "${meta.name}" already exists`,
        details: { name: meta.name, group: res.group, kind: res.plural },
      });
    }
    obj.apiVersion = apiVersionOf(res);
    obj.kind = res.kind;
    meta.uid = randomUUID();
    meta.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    if (res.tracksGeneration) meta.generation = 1;
    else delete meta.generation;
    delete meta.deletionTimestamp;
    meta.resourceVersion = String(++this.rv);
    this.objects.set(k, { res, obj });
    this.record('ADDED', res, obj);
    return structuredClone(obj);
  }

  /**
   * Replaces an object. A non-empty resourceVersion on `input` must equal the stored one (optimistic
   * concurrency, 409 Conflict otherwise). `statusOnly` writes only .status (the /status subresource);
   * otherwise .status is kept from the stored object for kinds with a status subresource.
   */
  update(res: ResourceDef, input: KObj, statusOnly = false): KObj {
    const meta = input.metadata;
    const k = key(res, meta.namespace, meta.name);
    const cur = this.objects.get(k);
    if (!cur) throw notFound(res, meta.name);
    const old = cur.obj;
    if (meta.resourceVersion && meta.resourceVersion !== old.metadata.resourceVersion) {
      throw new ApiError({
        code: 409,
        reason: 'Conflict',
        message: `Operation cannot be fulfilled on ${resName(res)} "${meta.name}": the object has been modified; please apply your changes to the latest version and try again`,
        details: { name: meta.name, group: res.group, kind: res.plural },
      });
    }
    let next: KObj;
    if (statusOnly) {
      next = structuredClone(old);
      if (input.status === undefined) delete next.status;
      else next.status = structuredClone(input.status);
    } else {
      next = structuredClone(input);
      if (res.hasStatus) {
        if (old.status === undefined) delete next.status;
        else next.status = structuredClone(old.status);
      }
      // Server-owned metadata cannot be changed by clients.
      next.metadata.uid = old.metadata.uid;
      next.metadata.creationTimestamp = old.metadata.creationTimestamp;
      if (res.tracksGeneration) {
        const strip = (o: KObj): string => {
          const { metadata: _m, status: _s, ...rest } = o;
          return JSON.stringify(rest);
        };
        const gen = Number(old.metadata.generation ?? 1);
        next.metadata.generation = strip(next) === strip(old) ? gen : gen + 1;
      } else delete next.metadata.generation;
    }
    next.apiVersion = apiVersionOf(res);
    next.kind = res.kind;
    if (
      JSON.stringify({ ...next, metadata: { ...next.metadata, resourceVersion: '' } }) ===
      JSON.stringify({ ...old, metadata: { ...old.metadata, resourceVersion: '' } })
    ) {
      // No-op writes do not bump resourceVersion or emit events (as the real server).
      return structuredClone(old);
    }
    next.metadata.resourceVersion = String(++this.rv);
    this.objects.set(k, { res, obj: next });
    this.record('MODIFIED', res, next);
    return structuredClone(next);
  }

  delete(res: ResourceDef, ns: string | undefined, name: string): KObj {
    const k = key(res, ns, name);
    const cur = this.objects.get(k);
    if (!cur) throw notFound(res, name);
    this.objects.delete(k);
    const obj = cur.obj;
    obj.metadata.resourceVersion = String(++this.rv);
    this.record('DELETED', res, obj);
    this.cascade(obj.metadata.uid as string);
    return structuredClone(obj);
  }

  /** Garbage collection: objects whose ownerReferences name a deleted uid go too. */
  private cascade(uid: string): void {
    for (const { res, obj } of [...this.objects.values()]) {
      const owners = (obj.metadata.ownerReferences ?? []) as { uid?: string }[];
      if (owners.some((o) => o.uid === uid)) {
        if (this.objects.has(key(res, obj.metadata.namespace, obj.metadata.name))) {
          this.delete(res, obj.metadata.namespace, obj.metadata.name);
        }
      }
    }
  }

  /** Deletes every namespaced object in `ns` (namespace deletion). */
  deleteNamespaceContents(ns: string): void {
    for (const { res, obj } of [...this.objects.values()]) {
      if (res.namespaced && obj.metadata.namespace === ns) {
        if (this.objects.has(key(res, ns, obj.metadata.name)))
          this.delete(res, ns, obj.metadata.name);
      }
    }
  }
}
