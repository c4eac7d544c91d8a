/**
 * core/v1 Events as the real kubelet and scheduler write them: one object per (object, type,
 * reason, message, source), repeats bump `count` and `lastTimestamp` instead of adding objects,
 * and repeated writes are spaced so a failing probe every 100 ms does not flood the store.
 */
import { randomBytes } from 'node:crypto';
import type { KObj, Store } from './store.ts';
import { ApiError } from './store.ts';
import { findResource } from './resources.ts';

/** Repeats of one event are written to the store at most this often (the count stays exact). */
export const EVENT_REPEAT_WRITE_MS = 1000;

export interface InvolvedObject {
  kind: string;
  name: string;
  namespace: string;
  uid: string;
  apiVersion?: string;
  resourceVersion?: string;
  /** e.g. `spec.containers{hub}` for container events. */
  fieldPath?: string;
}

export type EventType = 'Normal' | 'Warning';

interface Tracked {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  lastWrite: number;
  flush?: NodeJS.Timeout;
  base: KObj;
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

export class EventRecorder {
  private readonly tracked = new Map<string, Tracked>();
  private readonly evRes = findResource('', 'v1', 'events')!;
  private readonly nsRes = findResource('', 'v1', 'namespaces')!;
  private closed = false;

  constructor(private readonly store: Store) {}

  /** Pod as an involvedObject (optionally one of its containers). */
  static pod(pod: KObj, container?: string): InvolvedObject {
    return {
      kind: 'Pod',
      apiVersion: 'v1',
      name: pod.metadata.name,
      namespace: pod.metadata.namespace ?? 'default',
      uid: String(pod.metadata.uid),
      ...(container !== undefined ? { fieldPath: `spec.containers{${container}}` } : {}),
    };
  }

  record(
    obj: InvolvedObject,
    type: EventType,
    reason: string,
    message: string,
    source: { component: string; host?: string },
  ): void {
    if (this.closed) return;
    // The real server refuses events in a missing or terminating namespace.
    const ns = this.store.get(this.nsRes, undefined, obj.namespace);
    if (!ns || ns.metadata.deletionTimestamp) return;
    const key = JSON.stringify([obj.uid, obj.fieldPath ?? '', type, reason, message, source]);
    const t = this.tracked.get(key);
    const ts = now();
    if (!t) {
      const name = `${obj.name}.${Date.now().toString(16)}${randomBytes(4).toString('hex')}`;
      const base: KObj = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace: obj.namespace },
        involvedObject: obj,
        reason,
        message,
        source,
        type,
        eventTime: null,
        reportingComponent: source.component,
        reportingInstance: source.host ?? '',
      };
      const fresh: Tracked = {
        name,
        namespace: obj.namespace,
        count: 1,
        firstTimestamp: ts,
        lastTimestamp: ts,
        lastWrite: 0,
        base,
      };
      this.tracked.set(key, fresh);
      this.write(fresh);
      return;
    }
    t.count++;
    t.lastTimestamp = ts;
    const wait = t.lastWrite + EVENT_REPEAT_WRITE_MS - Date.now();
    if (wait <= 0) this.write(t);
    else if (!t.flush) {
      t.flush = setTimeout(() => {
        t.flush = undefined;
        this.write(t);
      }, wait);
      t.flush.unref();
    }
  }

  /** Forget events of objects that are gone (their Event objects stay, as in a real cluster). */
  forget(uid: string): void {
    for (const [k, t] of this.tracked) {
      if (JSON.parse(k)[0] === uid) {
        clearTimeout(t.flush);
        this.tracked.delete(k);
      }
    }
  }

  close(): void {
    this.closed = true;
    for (const t of this.tracked.values()) clearTimeout(t.flush);
    this.tracked.clear();
  }

  private write(t: Tracked): void {
    if (this.closed) return;
    t.lastWrite = Date.now();
    const body: KObj = {
      ...t.base,
      metadata: { name: t.name, namespace: t.namespace },
      count: t.count,
      firstTimestamp: t.firstTimestamp,
      lastTimestamp: t.lastTimestamp,
    };
    try {
      if (this.store.get(this.evRes, t.namespace, t.name)) this.store.update(this.evRes, body);
      else this.store.create(this.evRes, body);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
    }
  }
}
