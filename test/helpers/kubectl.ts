/**
 * The real kubectl against a simulated cluster, for tests that check the API server the way
 * users reach it: never rejects, so a test can assert on a failing command's exit code and
 * stderr as well as on a successful one's output.
 */
import { execFile } from 'node:child_process';

export const KUBECTL = '/usr/bin/kubectl';

export interface KubectlRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `kubectl --kubeconfig=<the cluster's> ARGS…`, at most 20 s. */
export function kubectl(c: { kubeconfigPath: string }, ...args: string[]): Promise<KubectlRun> {
  return new Promise((resolve) => {
    execFile(
      KUBECTL,
      [`--kubeconfig=${c.kubeconfigPath}`, ...args],
      { timeout: 20_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
