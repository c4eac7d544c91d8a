/** API statistics (calls per endpoint/service/namespace/node/protocol) and L4 aggregation. */
export {
  StatsAccumulator,
  accumulateStats,
  DEFAULT_BUCKET_SEC,
  MAX_STATS_GROUPS,
  OTHER_GROUP,
  STATS_FORMAT,
  STATS_VERSION,
} from './accumulator.ts';
export type {
  BucketStats,
  GroupStats,
  LatencyStats,
  ResultOptions,
  SerializedBucket,
  SerializedCounters,
  SerializedGroup,
  SerializedStats,
  Stats,
  StatsOptions,
  StatsResult,
} from './accumulator.ts';
export {
  ERROR_CLASSES,
  ERROR_CLASS_NAMES,
  NO_RESPONSE_CODES,
  PROTOCOL_STATS,
  GENERIC_STATS,
} from './classify.ts';
export type { EndpointParts, ErrorClass, ProtocolStatsSpec } from './classify.ts';
export { STATS_GROUP_BY, groupKey, groupLabels } from './groups.ts';
export type { GroupLabels, StatsGroupBy } from './groups.ts';
export { L4Aggregation, L4_GROUP_BY, aggregateL4, l4KeyOf } from './l4.ts';
export type {
  DirectionTotals,
  L4Group,
  L4GroupBy,
  L4Options,
  L4Totals,
  SerializedL4,
} from './l4.ts';
export {
  normalizePath,
  normalizeDnsName,
  isIdSegment,
  ID_PLACEHOLDER,
} from '../../util/normalize.ts';
export { DEFAULT_RELATIVE_ACCURACY, EXACT_SAMPLES, LatencySketch } from './sketch.ts';
export type { SerializedSketch } from './sketch.ts';
export { formatStatsTable, formatL4Table, DEFAULT_TABLE_WIDTH } from './table.ts';
export type { TableOptions } from './table.ts';
