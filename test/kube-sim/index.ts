/** Simulated Kubernetes API server for tests (see README.md). */
export {
  startSimCluster,
  SimApiServer,
  MAX_BODY_BYTES,
  DEFAULT_BOOKMARK_INTERVAL_MS,
  DEFAULT_NAMESPACE_FINALIZE_MS,
  DEFAULT_WATCH_TIMEOUT_S,
} from './server.ts';
export type { SimCluster, SimClusterOptions } from './server.ts';
export { Store, ApiError, DEFAULT_HISTORY_LIMIT } from './store.ts';
export type { KObj, StoredEvent } from './store.ts';
export { RESOURCES, findResource } from './resources.ts';
export type { ResourceDef } from './resources.ts';
export { Controllers, MAX_RECONCILE_PASSES } from './controllers.ts';
export type { PodRuntime } from './controllers.ts';
export { ProcessKubelet, LOG_LIMIT_BYTES } from './kubelet.ts';
