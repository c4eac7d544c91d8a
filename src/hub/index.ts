/** The hub role: the API for every worker at once (fan-out, merge, live stream fan-in). */
export { createHub, type Hub, type HubOptions, type HubWorkerSpec } from './hub.ts';
export {
  HUB_BACKOFF_INITIAL_MS,
  HUB_BACKOFF_MAX_MS,
  HUB_HEALTH_INTERVAL_MS,
  HUB_REQUEST_TIMEOUT_MS,
} from './link.ts';
