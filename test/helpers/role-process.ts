/**
 * Runs one role (`kubeshark worker|hub|front …`) as a process (test/helpers/cli.ts) and waits for
 * the one line it prints when it listens. Used by test/roles-cli.test.ts and
 * test/kube-roles.test.ts.
 */
import assert from 'node:assert/strict';
import { execa, type ResultPromise } from 'execa';
import { cli } from './cli.ts';

export interface RoleProcess {
  proc: ResultPromise;
  /** The first stdout line: where the role listens. */
  line: string;
  /** The port in that line. */
  port: number;
  /** Everything the role printed on stderr so far. */
  stderr(): string;
}

/**
 * Starts a role and resolves its first stdout line and the port in it; rejects with its stderr
 * when it exits first. `env` adds to this process's environment.
 */
export async function runRole(args: string[], env?: Record<string, string>): Promise<RoleProcess> {
  const proc = execa(process.execPath, [...cli, ...args], {
    reject: false,
    env,
    buffer: { stdout: false, stderr: false },
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    void proc.then((r) => reject(new Error(`exited ${r.exitCode}: ${err}`)));
  });
  const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
  assert.ok(m, line);
  return { proc, line, port: Number(m[1]), stderr: () => err };
}
