/**
 * `kubeshark logs`: one zip with what a bug report needs from the cluster — every release pod's
 * log per container (and the previous instance's for containers that restarted), the pods as
 * the API server sees them, and the release namespace's events (readable text and JSON).
 */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { CoreV1Api, type CoreV1Event, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { ZipFile } from 'yazl';
import { listReleasePods } from './apply.ts';
import { kubeError } from './config.ts';
import { KsError } from '../util/errors.ts';

export const DEFAULT_LOGS_FILE = 'kubeshark_logs.zip';

export interface LogsOptions {
  kc: KubeConfig;
  namespace: string;
  release: string;
  /** The zip to write. */
  file: string;
}

export interface LogsEntry {
  /** Path inside the zip. */
  name: string;
  bytes: number;
  /** Why a log could not be read (the entry then holds that message). */
  error?: string;
}

export interface LogsReport {
  file: string;
  pods: number;
  entries: LogsEntry[];
}

/** Collects the logs and events and writes the zip. */
export async function collectLogs(o: LogsOptions): Promise<LogsReport> {
  const core = o.kc.makeApiClient(CoreV1Api);
  const server = o.kc.getCurrentCluster()?.server;
  let pods: V1Pod[];
  try {
    pods = await listReleasePods(core, o.namespace, o.release);
  } catch (e) {
    throw kubeError(e, `listing the pods of ${o.release} in ${o.namespace}`, server);
  }
  const zip = new ZipFile();
  const entries: LogsEntry[] = [];
  const add = (name: string, text: string, error?: string): void => {
    const buf = Buffer.from(text);
    zip.addBuffer(buf, name);
    entries.push({ name, bytes: buf.length, ...(error ? { error } : {}) });
  };

  for (const pod of pods) {
    const podName = pod.metadata?.name ?? '';
    const restarts = new Map(
      (pod.status?.containerStatuses ?? []).map((s) => [s.name, s.restartCount] as const),
    );
    const containers = [
      ...(pod.spec?.initContainers ?? []).map((c) => c.name),
      ...(pod.spec?.containers ?? []).map((c) => c.name),
    ];
    for (const c of containers) {
      const instances = (restarts.get(c) ?? 0) > 0 ? [false, true] : [false];
      for (const previous of instances) {
        const name = `pods/${podName}/${c}${previous ? '.previous' : ''}.log`;
        try {
          const text = await core.readNamespacedPodLog({
            name: podName,
            namespace: o.namespace,
            container: c,
            previous,
          });
          add(name, String(text));
        } catch (e) {
          const why = kubeError(e, `log of ${podName}/${c}`, server).message;
          add(name, `${why}\n`, why);
        }
      }
    }
  }
  add('pods.json', JSON.stringify(pods, null, 2) + '\n');

  let events: CoreV1Event[] = [];
  try {
    events = (await core.listNamespacedEvent({ namespace: o.namespace })).items;
  } catch (e) {
    const why = kubeError(e, `events of ${o.namespace}`, server).message;
    add('events.txt', `${why}\n`, why);
  }
  if (!entries.some((e) => e.name === 'events.txt')) add('events.txt', formatEvents(events));
  add('events.json', JSON.stringify(events, null, 2) + '\n');

  zip.end();
  try {
    await pipeline(zip.outputStream, createWriteStream(o.file));
  } catch (e) {
    throw new KsError(
      'KS_ERR_FILE_READ',
      `cannot write ${o.file}: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
  return { file: o.file, pods: pods.length, entries };
}

/** Events oldest first: `TIME  TYPE  REASON  KIND/NAME  MESSAGE (×COUNT)`. */
export function formatEvents(events: readonly CoreV1Event[]): string {
  const time = (e: CoreV1Event): string => {
    const t = e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp;
    return t ? new Date(t).toISOString() : '-';
  };
  const sorted = [...events].sort((a, b) => time(a).localeCompare(time(b)));
  if (sorted.length === 0) return 'no events\n';
  return (
    sorted
      .map((e) =>
        [
          time(e),
          e.type ?? '-',
          e.reason ?? '-',
          `${e.involvedObject?.kind ?? '?'}/${e.involvedObject?.name ?? '?'}`,
          `${e.message ?? ''}${e.count && e.count > 1 ? ` (×${e.count})` : ''}`,
        ].join('  '),
      )
      .join('\n') + '\n'
  );
}
