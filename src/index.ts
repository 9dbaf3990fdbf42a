// The public surface of vitest-disagg (`import … from 'vitest-disagg'`): the plugin for vitest.config.ts,
// the test function with its fixtures for hand-written tests, the summary reporter, and their types.
// Subpaths `vitest-disagg/plugin`, `/fixtures` and `/reporter` export the same parts separately.
export {
  disagg,
  CATEGORY_TAGS,
  DISAGG_PROJECT,
  DisaggSummaryReporter,
  type DisaggConfigPlugin,
  type DisaggOptions,
  type ResolvedOptions,
} from './plugin/index.js';
export {
  disaggTest,
  type AccuracyResult,
  type BrokerHandle,
  type ConfigFileRef,
  type DisaggMeta,
  type DisaggReport,
  type DisaggTest,
  type PerfResult,
} from '../fixtures/index.js';
export type { ConfigEntry, DatasetVerdict, DisaggConfig, JobOutcome, LoadedConfig } from './types.js';
