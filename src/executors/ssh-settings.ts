// SSH settings from plugin options, then env (DISAGG_SSH_*), then ~/.ssh/config, then defaults.

import { existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import path from 'node:path';
import { parseProxyJump, resolveSshConfigHost, type SshConfigSource } from './ssh-config.js';

export interface SshSettings {
  /** What the user asked for (an alias or a host name), for messages. */
  alias: string;
  /** Host to connect to, after ~/.ssh/config resolution. */
  host: string;
  port: number;
  username: string;
  privateKeyPath?: string;
  /** ssh-agent socket (SSH_AUTH_SOCK). */
  agent?: string;
  /** known_hosts files checked in order; the first one is where the trust hint says to add the key. */
  knownHostsPaths: string[];
  /** Connect through this host first (ProxyJump). Chains nest: the first hop is the innermost. */
  proxyJump?: SshSettings;
  /** Remote work dir for job dirs; undefined → `<remote home>/vitest-disagg`. Relative → under home. */
  remoteDir?: string;
}

/** Plugin options (`disagg({ ssh: {...} })`); every field is optional. */
export interface SshOptions {
  host?: string;
  port?: number | string;
  username?: string;
  privateKeyPath?: string;
  /** Agent socket, or false to not use the agent even if SSH_AUTH_SOCK is set. */
  agent?: string | false;
  knownHostsPath?: string | string[];
  /** ProxyJump spec (`[user@]host[:port][,...]`) or `none`. */
  proxyJump?: string;
  remoteDir?: string;
  /** ssh config file (default ~/.ssh/config). */
  sshConfigPath?: string;
}

export const DEFAULT_REMOTE_DIR_NAME = 'vitest-disagg';
const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];
const MAX_JUMP_DEPTH = 8;

function nonEmpty(v: string | undefined | null): string | undefined {
  if (v === undefined || v === null) return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

function parsePort(v: number | string | undefined, what: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new Error(`${what} must be a TCP port, got ${JSON.stringify(v)}`);
  return n;
}

function expandHome(p: string, home: string): string {
  if (p === '~') return home;
  return p.startsWith('~/') ? path.join(home, p.slice(2)) : p;
}

function localUserName(env: NodeJS.ProcessEnv): string {
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? 'root';
  }
}

interface Ctx {
  env: NodeJS.ProcessEnv;
  home: string;
  src: SshConfigSource;
  knownHostsPaths: string[];
  agent?: string;
  fallbackKey?: string;
}

/** Settings for one hop or the target: explicit values win over the alias's ssh config section. */
function resolveOne(
  alias: string,
  explicit: { user?: string; port?: number; key?: string; proxyJump?: string },
  ctx: Ctx,
  depth: number,
): SshSettings {
  if (depth > MAX_JUMP_DEPTH) throw new Error(`ProxyJump chain deeper than ${MAX_JUMP_DEPTH} hops (a loop?)`);
  const cfg = resolveSshConfigHost(alias, ctx.src);
  const existingIdentity = cfg.identityFiles.find((f) => existsSync(f));
  const privateKeyPath = explicit.key ?? existingIdentity ?? ctx.fallbackKey;
  const settings: SshSettings = {
    alias,
    host: cfg.hostName,
    port: explicit.port ?? cfg.port ?? 22,
    username: explicit.user ?? cfg.user ?? localUserName(ctx.env),
    privateKeyPath,
    agent: ctx.agent,
    knownHostsPaths: ctx.knownHostsPaths,
  };
  const jumpSpec = explicit.proxyJump ?? cfg.proxyJump;
  if (jumpSpec && jumpSpec.toLowerCase() !== 'none') {
    const hops = parseProxyJump(jumpSpec);
    // a,b,c: connect to a, through it to b, through b to c, then to the target.
    let prev: SshSettings | undefined;
    for (const hop of hops) {
      const s = resolveOne(
        hop.host,
        { user: hop.user, port: hop.port, proxyJump: prev ? 'none' : undefined },
        ctx,
        depth + 1,
      );
      if (prev) s.proxyJump = prev;
      prev = s;
    }
    settings.proxyJump = prev;
  }
  return settings;
}

/**
 * Build SSH settings. Env: DISAGG_SSH_HOST, DISAGG_SSH_PORT, DISAGG_SSH_USER, DISAGG_SSH_KEY,
 * DISAGG_SSH_KNOWN_HOSTS (colon-separated list allowed), DISAGG_SSH_PROXY_JUMP, DISAGG_REMOTE_DIR,
 * SSH_AUTH_SOCK. The host may be an alias from ~/.ssh/config.
 */
export function resolveSshSettings(
  options: SshOptions = {},
  env: NodeJS.ProcessEnv = process.env,
  configSource: SshConfigSource = {},
  { requireCredentials = true }: { requireCredentials?: boolean } = {},
): SshSettings {
  const home = configSource.home ?? homedir();
  const alias = nonEmpty(options.host) ?? nonEmpty(env.DISAGG_SSH_HOST);
  if (!alias) {
    throw new Error(
      'SSH executor: no host. Set DISAGG_SSH_HOST (a host name or a ~/.ssh/config alias) or the ssh.host option.',
    );
  }
  const src: SshConfigSource = {
    ...configSource,
    home,
    configPath: configSource.configPath ?? options.sshConfigPath ?? nonEmpty(env.DISAGG_SSH_CONFIG),
  };
  const cfg = resolveSshConfigHost(alias, src);

  const khOption = options.knownHostsPath;
  const khList = Array.isArray(khOption)
    ? khOption
    : nonEmpty(khOption)
      ? [khOption as string]
      : (nonEmpty(env.DISAGG_SSH_KNOWN_HOSTS)?.split(':') ?? []);
  const knownHostsPaths = (
    khList.length > 0
      ? khList
      : cfg.userKnownHostsFiles.length > 0
        ? cfg.userKnownHostsFiles
        : [path.join(home, '.ssh', 'known_hosts'), path.join(home, '.ssh', 'known_hosts2')]
  ).map((p) => expandHome(p, home));

  const agent =
    options.agent === false
      ? undefined
      : (nonEmpty(options.agent || undefined) ?? nonEmpty(env.SSH_AUTH_SOCK));
  const explicitKey = nonEmpty(options.privateKeyPath) ?? nonEmpty(env.DISAGG_SSH_KEY);
  // Like OpenSSH: with no key configured anywhere, try the default identities.
  const fallbackKey =
    explicitKey ?? DEFAULT_IDENTITIES.map((n) => path.join(home, '.ssh', n)).find((f) => existsSync(f));

  const ctx: Ctx = { env, home, src, knownHostsPaths, agent, fallbackKey };
  const settings = resolveOne(
    alias,
    {
      user: nonEmpty(options.username) ?? nonEmpty(env.DISAGG_SSH_USER),
      port: parsePort(options.port, 'ssh port') ?? parsePort(env.DISAGG_SSH_PORT, 'DISAGG_SSH_PORT'),
      key: explicitKey ? expandHome(explicitKey, home) : undefined,
      proxyJump: nonEmpty(options.proxyJump) ?? nonEmpty(env.DISAGG_SSH_PROXY_JUMP),
    },
    ctx,
    0,
  );
  if (requireCredentials && !settings.privateKeyPath && !settings.agent) {
    throw new Error(
      `SSH executor: no credentials for ${settings.username}@${settings.host}. Set DISAGG_SSH_KEY (a private key file), ` +
        'an IdentityFile in ~/.ssh/config, or run an ssh-agent (SSH_AUTH_SOCK).',
    );
  }
  settings.remoteDir = nonEmpty(options.remoteDir) ?? nonEmpty(env.DISAGG_REMOTE_DIR);
  return settings;
}

/** `user@host:port` (plus the jump chain) for messages. */
export function describeSsh(s: SshSettings): string {
  const self = `${s.username}@${s.host}:${s.port}`;
  return s.proxyJump ? `${self} via ${describeSsh(s.proxyJump)}` : self;
}

/** The remote work dir: `DISAGG_REMOTE_DIR` (relative = under home), else `<home>/vitest-disagg`. */
export function remoteWorkDir(remoteDir: string | undefined, remoteHome: string): string {
  if (!remoteDir) return path.posix.join(remoteHome, DEFAULT_REMOTE_DIR_NAME);
  if (remoteDir === '~') return remoteHome;
  if (remoteDir.startsWith('~/')) return path.posix.join(remoteHome, remoteDir.slice(2));
  return remoteDir.startsWith('/') ? remoteDir : path.posix.join(remoteHome, remoteDir);
}
