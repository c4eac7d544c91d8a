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
export {
  Controllers,
  MAX_RECONCILE_PASSES,
  SCHEDULER_RETRY_MS,
  DAEMONSET_TOLERATIONS,
} from './controllers.ts';
export type { PodRuntime } from './controllers.ts';
export {
  ProcessKubelet,
  LOG_LIMIT_BYTES,
  PROBE_INTERVAL_MS,
  RESTART_BACKOFF_MS,
  RESTART_BACKOFF_MAX_MS,
  SETUP_RETRY_MS,
} from './kubelet.ts';
export type { KubeletOptions, LogResult } from './kubelet.ts';
export { EventRecorder, EVENT_REPEAT_WRITE_MS } from './events.ts';
export {
  NETWORK_LEASE_PORT,
  POD_IP_MAX,
  MAX_NODES,
  CLUSTER_DOMAIN,
  SimNetwork,
  leaseNetwork,
  isolationAvailable,
} from './network.ts';
export { expandVars, imageRepository } from './expand.ts';
export { SIM_USER, ALLOWED_REASON } from './authz.ts';
export type { DenyRule } from './authz.ts';
export { unfitReason, unschedulableMessage } from './scheduler.ts';
