/** Enrichment: who is behind an ip:port (see types.ts). */
export type { Identity, Resolver } from './types.ts';
export { enrichEntry } from './enrich.ts';
export {
  createLocalResolver,
  LOCAL_IDENTITY_TTL_MS,
  LOCAL_MAX_REMEMBERED,
  LOCAL_REFRESH_MS,
  type LocalResolver,
  type LocalResolverOptions,
  type LocalResolverStats,
} from './local.ts';
