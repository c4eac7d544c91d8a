/**
 * Pod volumes on the host: configMap and secret volumes become files in a per-pod directory
 * (rewritten when their source changes), emptyDir an empty directory, hostPath the host path
 * itself. Processes run in the host's mount namespace, so there is nothing at a mountPath such
 * as /etc/kubeshark; instead env values and arguments naming a path under a mountPath are
 * rewritten to the volume's host directory (see rewriteMountPaths).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Store } from './store.ts';
import { findResource } from './resources.ts';

interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}
export interface VolumeSpec {
  name: string;
  configMap?: { name: string; items?: KeyToPath[]; optional?: boolean; defaultMode?: number };
  secret?: { secretName: string; items?: KeyToPath[]; optional?: boolean; defaultMode?: number };
  emptyDir?: Record<string, unknown>;
  hostPath?: { path: string };
}
export interface VolumeMount {
  name: string;
  mountPath: string;
  subPath?: string;
  readOnly?: boolean;
}

/** A mountPath and the host path that stands in for it. */
export interface MountMapping {
  mountPath: string;
  hostPath: string;
}

export class PodVolumes {
  private readonly cmRes = findResource('', 'v1', 'configmaps')!;
  private readonly secretRes = findResource('', 'v1', 'secrets')!;

  constructor(
    private readonly store: Store,
    private readonly dir: string,
    private readonly namespace: string,
    private readonly volumes: VolumeSpec[],
  ) {}

  /** Host directory (or file, for hostPath) backing a volume; undefined for unsupported types. */
  hostPathOf(v: VolumeSpec): string | undefined {
    if (v.hostPath) return v.hostPath.path;
    if (v.configMap || v.secret || v.emptyDir) return join(this.dir, v.name);
    return undefined;
  }

  /** Whether a change of this ConfigMap/Secret concerns the pod. */
  uses(kind: 'ConfigMap' | 'Secret', name: string): boolean {
    return this.volumes.some((v) =>
      kind === 'ConfigMap' ? v.configMap?.name === name : v.secret?.secretName === name,
    );
  }

  /**
   * Writes every volume's content; returns the kubelet's FailedMount message for the first
   * volume whose (non-optional) source is missing, or undefined when all are in place.
   */
  sync(): string | undefined {
    let failure: string | undefined;
    for (const v of this.volumes) {
      const path = join(this.dir, v.name);
      if (v.emptyDir) mkdirSync(path, { recursive: true });
      const src = v.configMap
        ? { kind: 'configmap', name: v.configMap.name, o: v.configMap, res: this.cmRes }
        : v.secret
          ? { kind: 'secret', name: v.secret.secretName, o: v.secret, res: this.secretRes }
          : undefined;
      if (!src) continue;
      const obj = this.store.get(src.res, this.namespace, src.name);
      if (!obj && !src.o.optional) {
        failure ??= `MountVolume.SetUp failed for volume "${v.name}" : ${src.kind} "${src.name}" not found`;
        continue;
      }
      const files = new Map<string, Buffer>();
      const data = (obj?.data ?? {}) as Record<string, string>;
      const binary = (obj?.binaryData ?? {}) as Record<string, string>;
      const value = (k: string): Buffer | undefined =>
        v.secret
          ? data[k] !== undefined
            ? Buffer.from(data[k], 'base64')
            : undefined
          : data[k] !== undefined
            ? Buffer.from(data[k], 'utf8')
            : binary[k] !== undefined
              ? Buffer.from(binary[k], 'base64')
              : undefined;
      const keys = [...Object.keys(data), ...(v.secret ? [] : Object.keys(binary))];
      if (src.o.items) {
        for (const it of src.o.items) {
          const b = value(it.key);
          if (b !== undefined) files.set(it.path, b);
        }
      } else for (const k of keys) files.set(k, value(k)!);
      mkdirSync(path, { recursive: true });
      for (const old of listFiles(path)) if (!files.has(old)) rmSync(join(path, old));
      for (const [rel, b] of files) {
        const f = join(path, rel);
        mkdirSync(dirname(f), { recursive: true });
        if (!existsSync(f) || !readFileSync(f).equals(b)) writeFileSync(f, b);
      }
    }
    return failure;
  }

  /** The mount mappings of one container (longest mountPath first, so nested mounts win). */
  mappings(mounts: VolumeMount[]): MountMapping[] {
    const out: MountMapping[] = [];
    for (const m of mounts) {
      const v = this.volumes.find((x) => x.name === m.name);
      const host = v ? this.hostPathOf(v) : undefined;
      if (host === undefined) continue;
      out.push({
        mountPath: m.mountPath.replace(/\/+$/, '') || '/',
        hostPath: m.subPath ? join(host, m.subPath) : host,
      });
    }
    return out.sort((a, b) => b.mountPath.length - a.mountPath.length);
  }
}

function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(join(dir, e.name), rel));
    else out.push(rel);
  }
  return out;
}

/** `value` with a leading mountPath (whole path component) replaced by its host path. */
export function rewriteMountPaths(value: string, maps: MountMapping[]): string {
  for (const m of maps) {
    if (value === m.mountPath) return m.hostPath;
    if (value.startsWith(`${m.mountPath}/`)) return m.hostPath + value.slice(m.mountPath.length);
  }
  return value;
}
