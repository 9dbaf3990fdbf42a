// Executor registry: 'slurm' and 'ssh' are built in; other kinds (the 'local' executor) register a
// factory. SSH code is only reached when an 'ssh' executor is created.

import { LocalHost } from './local-host.js';
import type { Launcher, ResourceMode } from './sbatch.js';
import { SlurmExecutor, type RetryPolicy, type Upload } from './slurm.js';
import { SshHost, type SshHostOptions } from './ssh-host.js';
import { resolveSshSettings, type SshOptions } from './ssh-settings.js';
import type { Executor, ExecutorKind } from './types.js';

/** Options for creating an executor; the plugin's ResolvedOptions fits (unknown fields are ignored). */
export interface ExecutorOptions {
  /** Environment for settings (DISAGG_*, SSH_AUTH_SOCK) and, for 'slurm', the SLURM commands. */
  env?: NodeJS.ProcessEnv;
  /** SSH settings (executor 'ssh'); env DISAGG_SSH_* fill what is missing. */
  ssh?: SshOptions;
  /** Tuning of the SSH connection (channel limit, retries). */
  sshHost?: SshHostOptions;
  /** Job dirs go under this dir on the submit host (ssh default: `<remote home>/vitest-disagg`). */
  remoteDir?: string;
  /** Extra files uploaded into every job dir. */
  uploads?: Upload[];
  launcher?: Launcher;
  resources?: ResourceMode;
  /** Where submit.py lives (default `$SCRIPT_DIR` on the submit host). */
  scriptDir?: string;
  partition?: string;
  account?: string;
  /** Force sacct on/off (default: auto-detect). */
  accounting?: boolean;
  submitRetry?: RetryPolicy;
  smallFileBytes?: number;
  tailBytes?: number;
  log?: (message: string) => void;
}

export type ExecutorFactory = (options: ExecutorOptions) => Executor | Promise<Executor>;

const factories = new Map<ExecutorKind, ExecutorFactory>();

/** Register (or replace) the factory for an executor kind. */
export function register(kind: ExecutorKind, factory: ExecutorFactory): void {
  factories.set(kind, factory);
}

function shared(options: ExecutorOptions, env: NodeJS.ProcessEnv) {
  return {
    uploads: options.uploads,
    launcher: options.launcher,
    resources: options.resources,
    scriptDir: options.scriptDir,
    partition: options.partition ?? (env.DISAGG_PARTITION || undefined),
    account: options.account ?? (env.DISAGG_ACCOUNT || undefined),
    accounting: options.accounting,
    submitRetry: options.submitRetry,
    smallFileBytes: options.smallFileBytes,
    tailBytes: options.tailBytes,
    log: options.log,
    env,
  };
}

register('slurm', (options) => {
  const env = options.env ?? process.env;
  return new SlurmExecutor({
    kind: 'slurm',
    host: new LocalHost({ env }),
    // Unset: each job runs in its local log dir, so there is nothing to fetch.
    baseDir: options.remoteDir,
    ...shared(options, env),
  });
});

register('ssh', (options) => {
  const env = options.env ?? process.env;
  const settings = resolveSshSettings(options.ssh ?? {}, env);
  return new SlurmExecutor({
    kind: 'ssh',
    host: new SshHost(settings, options.sshHost),
    baseDir: options.remoteDir ?? settings.remoteDir,
    ...shared(options, env),
  });
});

/** Create the executor of `kind`. Creating never connects: an SSH connection opens on first use. */
export async function createExecutor(kind: ExecutorKind, options: ExecutorOptions = {}): Promise<Executor> {
  const factory = factories.get(kind);
  if (!factory) {
    throw new Error(
      `no executor registered for '${kind}' (known: ${[...factories.keys()].join(', ')}); ` +
        `import the module that calls register('${kind}', …) first`,
    );
  }
  return factory(options);
}
