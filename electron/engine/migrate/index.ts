// Migration experiments: promote/demote with move_pages, whole-process moves, lazy (migrate-on-touch)
// rebinds, and the kernel's own balancing switches. See docs/migration.md.
export {
  BatchPlanner,
  RateLimiter,
  THP_BLOCK_BYTES,
  batchEnd,
  parseRate,
  realClock,
  type BatchPlannerOptions,
  type Clock,
} from './batches.js';
export {
  BALANCING_COUNTERS,
  BalancingOverride,
  parseBalancingMode,
  readBalancing,
  type BalancingChange,
  type BalancingRoots,
  type BalancingState,
} from './balancing.js';
export { lastNumber, runBenchmark, type BenchmarkRun } from './benchmark.js';
export { newExperimentId, type CommonOptions, type ExperimentEvent, type SessionTiming } from './context.js';
export {
  PAGE_OUTCOME,
  executeMove,
  nativeBridge,
  type ExecuteMoveOptions,
  type ExecuteMoveResult,
  type MoveBridge,
  type MoveProgress,
} from './execute.js';
export {
  addReconciliation,
  describeHistogram,
  emptyHistogram,
  histogramFailed,
  histogramOnTarget,
  histogramPages,
  mergeHistograms,
} from './histogram.js';
export {
  DEFAULT_LAZY_INTERVAL_MS,
  PendingPages,
  runLazyRebind,
  type LazyRebindOptions,
  type LazyRebindResult,
} from './lazy.js';
export { choosePageSource, countsFromModel, countsFromRuns, measure, type PageCounts } from './measure.js';
export {
  remapNode,
  runProcessMigration,
  type ProcessMigrationOptions,
  type ProcessMigrationResult,
  type ProcessMoveMethod,
} from './migrateProcess.js';
export {
  DEFAULT_MEASUREMENT,
  planMove,
  runMoveExperiment,
  type Measurement,
  type MoveExperimentOptions,
  type MoveExperimentResult,
  type MovePlan,
} from './moveExperiment.js';
export { checkTargetNode, formatNodeList, readNodeSets, type NodeSets } from './nodes.js';
export { ExperimentRegistry, rangesOverlap, type Claim, type ClaimRecord } from './registry.js';
export {
  parseAddress,
  parseRange,
  resolvePieces,
  selectPages,
  type AddressRange,
  type HotnessFilter,
  type SelectionRequest,
} from './selection.js';
export { lastWindowRuns, linkSession, type SessionLink } from './sessionLink.js';
