/**
 * Parallel dissection of one large capture file: N child processes of this same program each
 * read the whole file and dissect only their share of the flows (flow-hash sharding, as Zeek and
 * Suricata spread load over cores). Their jsonl goes through this process, whole lines at a
 * time, so the output stays valid jsonl; their summaries come back on fd 3 and are merged.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import { KsError, type ErrorCode } from '../util/errors.ts';
import { addSummary, emptySummary, type PipelineSummary } from '../tap/summary.ts';

export interface ShardReport {
  summary: PipelineSummary;
  /** Highest entry id handed out by the shard (0 when none). */
  lastId: number;
}

export interface ShardedRun {
  file: string;
  workers: number;
  idBase: number;
  /** argv prefix that starts this program again: [command, ...args]. */
  self: string[];
  /** Arguments every child gets (global options, dissect flags). */
  childArgs: string[];
  stdout: Writable;
}

/** Every shard reads every packet: packet-level counts come from shard 0, flow counts add up. */
function mergeShardSummaries(reports: PipelineSummary[]): PipelineSummary {
  const [first, ...rest] = reports;
  const out = first ? addSummary(emptySummary(), first) : emptySummary();
  for (const s of rest) addSummary(out, s, true);
  return out;
}

const ERROR_LINE = /^kubeshark: (.*) \[(KS_ERR_[A-Z_]+)\]$/m;

export async function runSharded(
  run: ShardedRun,
): Promise<{ summary: PipelineSummary; lastId: number; error?: KsError }> {
  const [command, ...prefix] = run.self;
  const children: ChildProcess[] = [];
  for (let i = 0; i < run.workers; i++) {
    children.push(
      spawn(
        command!,
        [
          ...prefix,
          'dissect',
          run.file,
          ...run.childArgs,
          '-o',
          'jsonl',
          '-q',
          '--shard',
          `${i}/${run.workers}`,
          '--id-base',
          String(run.idBase),
          '--summary-fd',
          '3',
        ],
        { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] },
      ),
    );
  }
  let paused = false;
  const resumeAll = () => {
    paused = false;
    for (const c of children) c.stdout!.resume();
  };
  const results = children.map(
    (child) =>
      new Promise<{ code: number; stderr: string; report?: ShardReport }>((resolve) => {
        let carry: Buffer | undefined;
        let stderr = '';
        let fd3 = '';
        child.stdout!.on('data', (chunk: Buffer) => {
          const data = carry ? Buffer.concat([carry, chunk]) : chunk;
          const nl = data.lastIndexOf(10);
          if (nl < 0) {
            carry = data;
            return;
          }
          carry = nl === data.length - 1 ? undefined : data.subarray(nl + 1);
          if (!run.stdout.write(data.subarray(0, nl + 1)) && !paused) {
            paused = true;
            for (const c of children) c.stdout!.pause();
            run.stdout.once('drain', resumeAll);
          }
        });
        child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
        (child.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => (fd3 += d.toString()));
        child.on('close', (code) => {
          if (carry) run.stdout.write(carry); // a child that died mid-line: keep what it said
          let report: ShardReport | undefined;
          try {
            report = fd3 ? (JSON.parse(fd3) as ShardReport) : undefined;
          } catch {
            report = undefined;
          }
          resolve({ code: code ?? 1, stderr, report });
        });
        child.on('error', (e) =>
          resolve({
            code: 1,
            stderr: `kubeshark: cannot start a dissect worker: ${e.message} [KS_ERR_INTERNAL]`,
          }),
        );
      }),
  );
  const done = await Promise.all(results);
  const reports = done.map((d) => d.report).filter((r): r is ShardReport => !!r);
  const summary = mergeShardSummaries(reports.map((r) => r.summary));
  const lastId = Math.max(run.idBase, ...reports.map((r) => r.lastId));
  const failed = done.find((d) => d.code !== 0);
  if (!failed) return { summary, lastId };
  const m = ERROR_LINE.exec(failed.stderr);
  const error = m
    ? new KsError(m[2] as ErrorCode, m[1]!)
    : new KsError(
        'KS_ERR_INTERNAL',
        `a dissect worker failed (exit ${failed.code}): ${failed.stderr.trim().split('\n')[0] ?? ''}`,
      );
  return { summary, lastId, error };
}
