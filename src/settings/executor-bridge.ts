// Bridge until the settings core resolves ExecutorSettings itself: builds them from the plugin's
// resolved options and the environment, with the same variables and precedence the executors used to
// read. The only place executor settings touch `process.env`.

import os from 'node:os';
import { SettingsError } from '../errors.js';
import type { ExecutorKind, ExecutorSettings, Launcher, ResourceMode } from './types.js';

/** The part of the plugin's resolved options that concerns executors. */
export interface ExecutorOptionsInput {
  ssh?: {
    host?: string;
    port?: number;
    username?: string;
    privateKeyPath?: string;
    knownHostsPath?: string;
    remoteDir?: string;
  };
}

function nonEmpty(v: string | undefined): string | undefined {
  const t = v?.trim();
  return t ? t : undefined;
}

function oneOf<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  const v = nonEmpty(value);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v))
    throw new SettingsError(`${name} must be ${allowed.join(' or ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

function localUserName(env: NodeJS.ProcessEnv): string {
  try {
    return os.userInfo().username;
  } catch {
    return env.USER ?? 'root';
  }
}

const BUILTIN_KINDS: readonly ExecutorKind[] = ['local', 'slurm', 'ssh'];

/** `kind` may name a registered custom backend; its settings then carry kind 'local'. */
export function executorSettingsFrom(
  name: string,
  options: ExecutorOptionsInput = {},
  env: NodeJS.ProcessEnv = process.env,
): ExecutorSettings {
  const scriptDir = nonEmpty(env.SCRIPT_DIR);
  const port = options.ssh?.port ?? (nonEmpty(env.DISAGG_SSH_PORT) ? Number(env.DISAGG_SSH_PORT) : undefined);
  const knownHosts = options.ssh?.knownHostsPath ?? nonEmpty(env.DISAGG_SSH_KNOWN_HOSTS);
  return {
    kind: BUILTIN_KINDS.find((k) => k === name) ?? 'local',
    partition: nonEmpty(env.DISAGG_PARTITION),
    account: nonEmpty(env.DISAGG_ACCOUNT),
    launcher: oneOf<Launcher>('DISAGG_LAUNCHER', env.DISAGG_LAUNCHER, ['sbatch', 'submit.py']),
    resources: oneOf<ResourceMode>('DISAGG_SBATCH_RESOURCES', env.DISAGG_SBATCH_RESOURCES, [
      'config',
      'single',
    ]),
    // submit.py's folder: unset means `$SCRIPT_DIR` expanded on the submit host.
    scriptDir: nonEmpty(env.DISAGG_SCRIPT_DIR),
    scriptSearchDirs: scriptDir ? [scriptDir] : [],
    // Over SSH a script not found here is taken from the launcher folder on the cluster.
    remoteScriptDir: name === 'ssh' ? (nonEmpty(env.DISAGG_SCRIPT_DIR) ?? scriptDir) : undefined,
    ssh: {
      host: options.ssh?.host ?? nonEmpty(env.DISAGG_SSH_HOST),
      port,
      username: options.ssh?.username ?? nonEmpty(env.DISAGG_SSH_USER),
      privateKeyPath: options.ssh?.privateKeyPath ?? nonEmpty(env.DISAGG_SSH_KEY),
      agent: nonEmpty(env.SSH_AUTH_SOCK),
      knownHostsPaths: knownHosts ? knownHosts.split(':') : undefined,
      proxyJump: nonEmpty(env.DISAGG_SSH_PROXY_JUMP),
      remoteDir: options.ssh?.remoteDir ?? nonEmpty(env.DISAGG_REMOTE_DIR),
      sshConfigPath: nonEmpty(env.DISAGG_SSH_CONFIG),
    },
    localUser: localUserName(env),
    homeDir: os.homedir(),
    childEnv: { ...env },
  };
}
