/**
 * Worker-thread side of dissect-pool.ts: runs the real dissect runner (test/helpers/dissect.ts)
 * on the files it is sent and posts back a structured-clone-safe result.
 */
import { parentPort } from 'node:worker_threads';
import { isKsError } from '../../src/util/errors.ts';
import { dissectViews } from './dissect.ts';
import type { PoolRequest, PoolResult } from './dissect-pool.ts';

const port = parentPort;
if (!port) throw new Error('dissect-worker.ts runs in a worker thread');

port.on('message', (req: PoolRequest) => {
  void (async () => {
    let res: PoolResult;
    try {
      const r = await dissectViews(req.files, { l4All: req.l4All, sets: req.sets });
      const e = r.error;
      res = {
        id: req.id,
        views: r.views,
        summary: r.summary,
        stderr: r.stderr,
        error:
          e === undefined
            ? undefined
            : {
                ksError: isKsError(e),
                name: e instanceof Error ? e.name : typeof e,
                code: isKsError(e) ? e.code : undefined,
                message: e instanceof Error ? e.message : String(e),
                stack: e instanceof Error ? e.stack : undefined,
              },
      };
    } catch (e) {
      // dissectViews itself failed (e.g. a line on stdout that is not JSON).
      res = {
        id: req.id,
        views: [],
        summary: undefined,
        stderr: '',
        helperFailure: e instanceof Error ? (e.stack ?? e.message) : String(e),
      };
    }
    port.postMessage(res);
  })();
});
