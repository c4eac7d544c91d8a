/**
 * Runs `kubeshark tap …` as a child process (test/helpers/cli.ts, or the built executable),
 * with a private TMPDIR and HOME, and reads what it prints: the dashboard URL on stderr, jsonl
 * on stdout. Used by test/tap.test.ts and test/binary.test.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './cli.ts';

export const root = new URL('../..', import.meta.url).pathname;
export const demo = join(root, 'demo/shop.pcap');

export interface TapProcess {
  child: ChildProcess;
  /** The private TMPDIR (the temporary store lives under it). */
  tmp: string;
  stdout(): string;
  stderr(): string;
  /** Resolves the dashboard URL printed on stderr. */
  url: Promise<string>;
  /** Parsed jsonl lines so far. */
  lines(): Record<string, unknown>[];
  /** Resolves when `n` jsonl lines arrived (rejects after `ms`). */
  waitLines(n: number, ms?: number): Promise<Record<string, unknown>[]>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL if still running (cleanup). */
  kill(): void;
}

/** `exe`: the built executable; default: the CLI of test/helpers/cli.ts. */
export function startTap(args: string[], opts: { exe?: string } = {}): TapProcess {
  const tmp = mkdtempSync(join(tmpdir(), 'kstap-'));
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: tmp,
    TMPDIR: tmp,
    // Never a browser from tests (also: stdout is not a terminal).
    KUBESHARK_NO_BROWSER: '1',
  };
  const [cmd, argv] = opts.exe ? [opts.exe, args] : [process.execPath, [...cli, ...args]];
  const child = spawn(cmd, argv, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const poke = () => {
    for (const w of waiters) w();
  };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    poke();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    poke();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      poke();
      resolve({ code, signal });
    }),
  );
  let exited = false;
  void exit.then(() => (exited = true));
  const until = <T>(test: () => T | undefined, ms: number, what: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const v = test();
        if (v !== undefined) {
          done();
          resolve(v);
        } else if (exited) {
          done();
          reject(new Error(`tap exited before ${what}; stderr:\n${err}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `timed out waiting for ${what}; stderr:\n${err}\nstdout:\n${out.slice(0, 2000)}`,
          ),
        );
      }, ms);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  const lines = () =>
    out
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    child,
    tmp,
    stdout: () => out,
    stderr: () => err,
    url: until(() => /dashboard at (http:\/\/\S+)/.exec(err)?.[1], 30_000, 'the dashboard URL'),
    lines,
    waitLines: (n, ms = 30_000) =>
      until(
        () => {
          const complete = out.endsWith('\n') ? lines() : [];
          return complete.length >= n ? complete : undefined;
        },
        ms,
        `${n} jsonl lines`,
      ),
    exit,
    kill: () => {
      if (!exited) child.kill('SIGKILL');
    },
  };
}

/** Leftover temporary stores of the worker under `tmp`. */
export function workerStores(tmp: string): string[] {
  return readdirSync(tmp).filter((f) => f.startsWith('kubeshark-worker-'));
}
