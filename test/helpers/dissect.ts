/** Test helper: run the real dissect runner in-process and collect entries as KFL views. */
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/load.ts';
import { runDissect } from '../../src/cmd/dissect-runner.ts';
import type { PipelineSummary } from '../../src/tap/summary.ts';

export class Collect extends Writable {
  chunks: string[] = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.chunks.push(chunk.toString());
    cb();
  }
  text(): string {
    return this.chunks.join('');
  }
}

export interface DissectResult {
  views: Record<string, unknown>[];
  summary: PipelineSummary;
  stderr: string;
  error?: unknown;
}

/** Dissects files with a fixed node name and no config file; `sets` are `--set` values. */
export async function dissectViews(
  files: string[],
  opts: { l4All?: boolean; sets?: string[]; filter?: string } = {},
): Promise<DissectResult> {
  const stdout = new Collect();
  const stderr = new Collect();
  const config = loadConfig({
    configPath: '/dev/null',
    env: {},
    sets: ['node.name=test-node', ...(opts.sets ?? [])],
  });
  let summary: PipelineSummary | undefined;
  let error: unknown;
  try {
    summary = await runDissect({
      files,
      format: 'jsonl',
      l4All: opts.l4All ?? false,
      summary: true,
      config,
      stdout,
      stderr,
      ...(opts.filter !== undefined && { filter: opts.filter }),
    });
  } catch (e) {
    error = e;
  }
  const views = stdout
    .text()
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    views,
    summary: summary ?? (undefined as unknown as PipelineSummary),
    stderr: stderr.text(),
    error,
  };
}
