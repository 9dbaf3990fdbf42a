// SSH settings for the 'ssh' host: the user's input (resolved by src/settings from plugin options and
// DISAGG_SSH_* variables), then ~/.ssh/config, then defaults. Nothing is read from the environment here.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { SettingsError } from '../errors.js';
import type { SshInput } from '../settings/types.js';
import { parseProxyJump, resolveSshConfigHost, type SshConfigSource } from './ssh-config.js';
import { DEFAULT_REMOTE_DIR_NAME, remoteWorkDir } from './remote-dir.js';

export { DEFAULT_REMOTE_DIR_NAME, remoteWorkDir };
export type { SshInput };

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
    throw new SettingsError(`${what} must be a TCP port, got ${JSON.stringify(v)}`);
  return n;
}

function expandHome(p: string, home: string): string {
  if (p === '~') return home;
  return p.startsWith('~/') ? path.join(home, p.slice(2)) : p;
}

interface Ctx {
  localUser: string;
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
  if (depth > MAX_JUMP_DEPTH)
    throw new SettingsError(`ProxyJump chain deeper than ${MAX_JUMP_DEPTH} hops (a loop?)`);
  const cfg = resolveSshConfigHost(alias, ctx.src);
  const existingIdentity = cfg.identityFiles.find((f) => existsSync(f));
  const privateKeyPath = explicit.key ?? existingIdentity ?? ctx.fallbackKey;
  const settings: SshSettings = {
    alias,
    host: cfg.hostName,
    port: explicit.port ?? cfg.port ?? 22,
    username: explicit.user ?? cfg.user ?? ctx.localUser,
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
 * Build SSH settings from the user's input. The host may be an alias from the ssh config
 * (`input.sshConfigPath`, default `<home>/.ssh/config`); `source.home` and `source.localUser` are this
 * machine's home dir and user name (from the settings).
 */
export function resolveSshSettings(
  input: SshInput,
  source: SshConfigSource & { home: string },
  { requireCredentials = true }: { requireCredentials?: boolean } = {},
): SshSettings {
  const home = source.home;
  const alias = nonEmpty(input.host);
  if (!alias) {
    throw new SettingsError(
      'SSH executor: no host. Set DISAGG_SSH_HOST (a host name or a ~/.ssh/config alias) or the ssh.host option.',
    );
  }
  const src: SshConfigSource = {
    ...source,
    configPath: source.configPath ?? nonEmpty(input.sshConfigPath),
  };
  const cfg = resolveSshConfigHost(alias, src);

  const khList = (input.knownHostsPaths ?? []).filter((p) => p.trim() !== '');
  const knownHostsPaths = (
    khList.length > 0
      ? khList
      : cfg.userKnownHostsFiles.length > 0
        ? cfg.userKnownHostsFiles
        : [path.join(home, '.ssh', 'known_hosts'), path.join(home, '.ssh', 'known_hosts2')]
  ).map((p) => expandHome(p, home));

  const agent = input.agent === false ? undefined : nonEmpty(input.agent);
  const explicitKey = nonEmpty(input.privateKeyPath);
  // Like OpenSSH: with no key configured anywhere, try the default identities.
  const fallbackKey =
    explicitKey ?? DEFAULT_IDENTITIES.map((n) => path.join(home, '.ssh', n)).find((f) => existsSync(f));

  const localUser = source.localUser ?? 'root';
  const ctx: Ctx = { localUser, home, src, knownHostsPaths, agent, fallbackKey };
  const settings = resolveOne(
    alias,
    {
      user: nonEmpty(input.username),
      port: parsePort(input.port, 'ssh port'),
      key: explicitKey ? expandHome(explicitKey, home) : undefined,
      proxyJump: nonEmpty(input.proxyJump),
    },
    ctx,
    0,
  );
  if (requireCredentials && !settings.privateKeyPath && !settings.agent) {
    throw new SettingsError(
      `SSH executor: no credentials for ${settings.username}@${settings.host}. Set DISAGG_SSH_KEY (a private key file), ` +
        'an IdentityFile in ~/.ssh/config, or run an ssh-agent (SSH_AUTH_SOCK).',
    );
  }
  settings.remoteDir = nonEmpty(input.remoteDir);
  return settings;
}

/** `user@host:port` (plus the jump chain) for messages. */
export function describeSsh(s: SshSettings): string {
  const self = `${s.username}@${s.host}:${s.port}`;
  return s.proxyJump ? `${self} via ${describeSsh(s.proxyJump)}` : self;
}
