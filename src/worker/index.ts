/** The worker role: capture → dissect → store, and the API for one node. */
export {
  createWorker,
  fileSource,
  liveSource,
  openLiveSource,
  WORKER_STOP_GRACE_MS,
  WORKER_TICK_MS,
  type Worker,
  type WorkerOptions,
  type WorkerSource,
} from './worker.ts';
export type { Subscription } from './broadcast.ts';
