// The executor registry. A backend is a scheduler factory plus the host it runs over; the built-in
// ones ('local', 'slurm', 'ssh') register themselves in their scheduler modules (local.ts, slurm.ts),
// and a new scheduler is one module with one `register` call. SSH code loads only for the 'ssh' host.

import { SettingsError } from '../errors.js';
import type { ExecutorSettings } from '../settings/types.js';
import { JobExecutor } from './executor.js';
import { LocalHost } from './local-host.js';
import type { ExecutorExtras, ExecutorKind, Host, Scheduler, SchedulerContext } from './types.js';

/** A host by name: this machine, or the login node of `settings.ssh`. */
export type HostName = 'local' | 'ssh';

export type HostFactory = (settings: ExecutorSettings, extras: ExecutorExtras) => Host | Promise<Host>;

export interface Backend {
  /** Builds the scheduler for one executor (one per run: it may keep per-job state). */
  scheduler: (context: SchedulerContext) => Scheduler;
  /** Where its commands run and job dirs live. Default 'local'. */
  host?: HostName | HostFactory;
  /**
   * Job dirs live under a base dir on the host and logs are fetched back (default: true for 'ssh').
   * Otherwise each job runs in its local log dir.
   */
  remoteJobDirs?: boolean;
}

const backends = new Map<ExecutorKind, Backend>();

/** Register (or replace) the backend behind an executor name. */
export function register(kind: ExecutorKind, backend: Backend): void {
  backends.set(kind, backend);
}

/** Names of the registered backends. */
export function registeredKinds(): ExecutorKind[] {
  return [...backends.keys()];
}

const HOSTS: Record<HostName, HostFactory> = {
  local: (settings) => new LocalHost({ env: settings.childEnv }),
  ssh: async (settings, extras) => {
    const [{ SshHost }, { resolveSshSettings }] = await Promise.all([
      import('./ssh-host.js'),
      import('./ssh-settings.js'),
    ]);
    const ssh = resolveSshSettings(
      settings.ssh,
      { home: settings.homeDir, localUser: settings.localUser },
      { requireCredentials: !extras.planOnly },
    );
    return new SshHost(ssh, extras.sshHost);
  },
};

/**
 * The executor named `kind`, built from `settings` (nothing is read from the environment). Creating
 * never connects: an SSH connection opens on first use.
 */
export async function createExecutor(
  kind: ExecutorKind,
  settings: ExecutorSettings,
  extras: ExecutorExtras = {},
): Promise<JobExecutor> {
  const backend = backends.get(kind);
  if (!backend) {
    throw new SettingsError(
      `no executor registered for '${kind}' (known: ${registeredKinds().join(', ')}); ` +
        `import the module that calls register('${kind}', …) first`,
    );
  }
  const hostSpec = backend.host ?? 'local';
  const host =
    extras.host ?? (await (typeof hostSpec === 'function' ? hostSpec : HOSTS[hostSpec])(settings, extras));
  const remoteJobDirs = backend.remoteJobDirs ?? hostSpec === 'ssh';
  const withDir: ExecutorExtras = {
    ...extras,
    remoteDir: extras.remoteDir ?? (remoteJobDirs ? settings.ssh.remoteDir : undefined),
  };
  return new JobExecutor({
    kind,
    scheduler: backend.scheduler({ settings, host, extras: withDir }),
    host,
    remoteJobDirs,
    extras: withDir,
  });
}
