// Bridge from ExecutorSettings to the option object today's executors take (src/executors/registry.ts):
// explicit fields where they exist, and the resolved values (env file included) as the env they read.
// Goes away once the executors take ExecutorSettings themselves.
import type { ResolvedOptions } from './options.js';

export interface LegacyExecutorOptions {
  env: NodeJS.ProcessEnv;
  ssh: ResolvedOptions['ssh'];
  partition?: string;
  account?: string;
  launcher?: 'sbatch' | 'submit.py';
  resources?: 'config' | 'single';
  scriptDir?: string;
}

export function legacyExecutorOptions(options: ResolvedOptions): LegacyExecutorOptions {
  const s = options.executorSettings;
  const env: NodeJS.ProcessEnv = { ...s.childEnv };
  const set = (name: string, value: string | undefined): void => {
    if (value === undefined) delete env[name];
    else env[name] = value;
  };
  set('SCRIPT_DIR', s.scriptSearchDirs[0]);
  set('DISAGG_SCRIPT_DIR', s.kind === 'ssh' ? s.remoteScriptDir : s.scriptDir);
  set('DISAGG_SSH_KNOWN_HOSTS', s.ssh.knownHostsPaths?.join(':'));
  set('DISAGG_SSH_PROXY_JUMP', s.ssh.proxyJump);
  set('DISAGG_SSH_CONFIG', s.ssh.sshConfigPath);
  set('SSH_AUTH_SOCK', s.ssh.agent || undefined);
  set('USER', s.localUser);
  set('HOME', s.homeDir);
  return {
    env,
    ssh: { ...options.ssh, knownHostsPath: undefined },
    partition: s.partition,
    account: s.account,
    launcher: s.launcher,
    resources: s.resources,
    scriptDir: s.kind === 'ssh' ? undefined : s.scriptDir,
  };
}

/** What createExecutor takes today; the one place to change when executors take ExecutorSettings. */
export function executorInput(options: ResolvedOptions): ResolvedOptions & LegacyExecutorOptions {
  return { ...options, ...legacyExecutorOptions(options) };
}
