// The settings core: the only place options, env vars and the env file are read.
export { parseEnvFile, readEnvFile } from './env-file.js';
export type { DisaggOptions, ResolvedOptions } from './options.js';
export {
  DEFAULT_OUTPUT_PATH,
  envFileOf,
  resolveConfigDir,
  resolveSettings,
  withFlags,
  type Env,
  type SettingFlags,
} from './resolve.js';
export type * from './types.js';
