// Public entry of the executors: create one by name, or register a new backend.
import './builtins.js';

export { createExecutor, register, registeredKinds, type Backend, type HostName } from './registry.js';
export { JobExecutor } from './executor.js';
export { JobDir, remoteJobDir } from './job-dir.js';
export { planFiles, resolveScript, usesSimulator } from './job-files.js';
export { LocalHost } from './local-host.js';
export type {
  CommandResult,
  Executor,
  ExecutorExtras,
  ExecutorKind,
  Host,
  PlannedFile,
  Scheduler,
  SchedulerContext,
  StartedJob,
  SubmissionPlan,
  Upload,
} from './types.js';
