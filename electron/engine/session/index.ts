// The session store: see docs/session-format.md.
export {
  addExperimentToSession,
  compactSession,
  type CompactOptions,
  type CompactResult,
} from './compact.js';
export { SESSION_FORMAT_VERSION } from './format.js';
export type { OpenOptions, Recovered } from './groups.js';
export type {
  CountRunColumns,
  CounterSeries,
  HeatColumns,
  HeatRows,
  IntervalColumns,
  IntervalTotals,
  SampleColumns,
  SampleRows,
  Session,
  VmaSeries,
} from './model.js';
export { openSession, readSessionRecords } from './reader.js';
export { OLDEST_READABLE_VERSION, UPGRADERS } from './upgrade.js';
export {
  createSessionWriter,
  type SessionCloseResult,
  type SessionWriter,
  type SessionWriterOptions,
} from './writer.js';
