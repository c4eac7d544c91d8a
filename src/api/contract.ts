/**
 * Compile-time checks that the store's statistics types are exactly the wire types of
 * src/api/types.ts (which imports nothing, so the browser compiles against the contract alone).
 * A change on either side that the other does not make fails `tsc` here. Nothing runs.
 */
import type { ErrorClass as StoreErrorClass } from '../store/stats/classify.ts';
import type {
  GroupLabels as StoreGroupLabels,
  StatsGroupBy as StoreStatsGroupBy,
} from '../store/stats/groups.ts';
import type {
  SerializedStats as StoreSerializedStats,
  StatsResult as StoreStatsResult,
} from '../store/stats/accumulator.ts';
import type {
  L4Group as StoreL4Group,
  L4GroupBy as StoreL4GroupBy,
  SerializedL4 as StoreSerializedL4,
} from '../store/stats/l4.ts';
import type { SerializedSketch as StoreSketch } from '../store/stats/sketch.ts';
import type {
  ErrorClass,
  GroupLabels,
  L4Group,
  L4GroupBy,
  SerializedL4,
  SerializedSketch,
  SerializedStats,
  StatsGroupBy,
  StatsResult,
} from './types.ts';

/** true when A and B are the same type (not merely assignable one way). */
type Same<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Check<T extends true> = T;

export type _ContractChecks = [
  Check<Same<ErrorClass, StoreErrorClass>>,
  Check<Same<StatsGroupBy, StoreStatsGroupBy>>,
  Check<Same<L4GroupBy, StoreL4GroupBy>>,
  Check<Same<GroupLabels, StoreGroupLabels>>,
  Check<Same<SerializedSketch, StoreSketch>>,
  Check<Same<SerializedStats, StoreSerializedStats>>,
  Check<Same<StatsResult, StoreStatsResult>>,
  Check<Same<L4Group, StoreL4Group>>,
  Check<Same<SerializedL4, StoreSerializedL4>>,
];
