// Public surface of the config layer: discovery, loading, validation, selection, placeholders, naming.
export {
  categoryOfFolder,
  DEFAULT_CONFIG_DIR,
  discoverConfigs,
  entryForFile,
  isCategory,
  makeEntry,
  type DiscoveryResult,
  type Env,
} from './discover.js';
export { parseYaml, type ParsedYaml, type Position } from './load.js';
export { type ConfigLimits, DEFAULT_CONFIG_LIMITS } from './limits.js';
export {
  loadAll,
  loadConfig,
  readYamlFile,
  validateFiles,
  type LoadAllResult,
  type LoadContext,
  type ReadYaml,
  type ValidateResult,
} from './loader.js';
export { configSchema, schemaPath, validateSchema } from './schema.js';
export { toUpstreamFormat, upstreamFormatNotice, type UpstreamFormat } from './upstream-format.js';
export { parseConcurrencyList, semanticChecks } from './checks.js';
export {
  assertSubmittable,
  findUnresolved,
  PLACEHOLDER_VARIABLES,
  resolvePlaceholders,
  type PlaceholderResult,
  type UnresolvedPlaceholder,
} from './placeholders.js';
export {
  applyTestList,
  DEFAULT_GPU_TYPE,
  DEFAULT_SUPPORTED_GPUS,
  filterGpuType,
  gpuSkipReason,
  parseTestListLine,
  readTestList,
  supportedGpus,
  type TestList,
  type TestListLine,
  type TestListResult,
} from './select.js';
export {
  CATEGORY_TIMEOUT_MS,
  FOLDER_CATEGORIES,
  pytestMethodFor,
  pytestMethodOf,
  pytestNodeId,
  tagsFor,
  testIdFor,
} from './naming.js';
export {
  displayFile,
  errorsOf,
  formatPath,
  formatProblem,
  hasErrors,
  sortProblems,
  warningsOf,
  type PathSegments,
} from './problems.js';
