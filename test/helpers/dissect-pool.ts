/**
 * Test helper: run the dissect runner in a worker thread with a wall-clock bound. A hang, even a
 * synchronous endless loop that a Promise.race in the same thread could never interrupt, is
 * detected: the worker is terminated and the call rejects with DissectTimeout. An exception that
 * escapes the runner (an uncaught error in the worker) rejects with DissectCrash.
 */
import { Worker } from 'node:worker_threads';
import type { PipelineSummary } from '../../src/tap/summary.ts';

export interface PoolRequest {
  id: number;
  files: string[];
  l4All: boolean;
  sets: string[];
}

export interface PoolError {
  ksError: boolean;
  name: string;
  code: string | undefined;
  message: string;
  stack: string | undefined;
}

export interface PoolResult {
  id: number;
  views: Record<string, unknown>[];
  summary: PipelineSummary | undefined;
  stderr: string;
  /** What runDissect threw, if anything. */
  error?: PoolError;
  /** The helper itself failed (unparseable output…). */
  helperFailure?: string;
}

export class DissectTimeout extends Error {
  override name = 'DissectTimeout';
}
export class DissectCrash extends Error {
  override name = 'DissectCrash';
}

export class DissectPool {
  private worker: Worker | undefined;
  private nextId = 1;
  private waiting:
    { id: number; resolve: (r: PoolResult) => void; reject: (e: Error) => void } | undefined;

  private start(): Worker {
    // Node 20 workers do not get tsx's loader hooks from the parent's --import, so the entry is
    // a one-line script that loads the TypeScript worker through tsx's API.
    const entry = new URL('./dissect-worker.ts', import.meta.url).href;
    const w = new Worker(
      `import('tsx/esm/api').then((t) => t.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(import.meta.url)}))`,
      { eval: true, execArgv: [] },
    );
    w.on('message', (r: PoolResult) => {
      const p = this.waiting;
      if (p && p.id === r.id) {
        this.waiting = undefined;
        p.resolve(r);
      }
    });
    w.on('error', (e) => {
      const p = this.waiting;
      this.waiting = undefined;
      this.worker = undefined;
      p?.reject(new DissectCrash(`worker crashed: ${e.stack ?? e.message}`));
    });
    w.on('exit', (code) => {
      if (this.worker === w) this.worker = undefined;
      const p = this.waiting;
      this.waiting = undefined;
      p?.reject(new DissectCrash(`worker exited with code ${code}`));
    });
    w.unref();
    return w;
  }

  /** Dissects `files` (one call at a time); rejects after `timeoutMs` and restarts the worker. */
  async run(
    files: string[],
    opts: { l4All?: boolean; sets?: string[]; timeoutMs: number },
  ): Promise<PoolResult> {
    if (this.waiting) throw new Error('DissectPool.run is not reentrant');
    const w = (this.worker ??= this.start());
    const id = this.nextId++;
    const req: PoolRequest = { id, files, l4All: opts.l4All ?? false, sets: opts.sets ?? [] };
    let timer: NodeJS.Timeout | undefined;
    try {
      return await new Promise<PoolResult>((resolve, reject) => {
        this.waiting = { id, resolve, reject };
        timer = setTimeout(() => {
          this.waiting = undefined;
          this.worker = undefined;
          void w.terminate();
          reject(new DissectTimeout(`dissect did not finish within ${opts.timeoutMs} ms`));
        }, opts.timeoutMs);
        w.postMessage(req);
      });
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}
