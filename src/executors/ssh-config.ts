// Resolve a Host alias from ~/.ssh/config (HostName, User, Port, IdentityFile, ProxyJump,
// UserKnownHostsFile), the way clusters are usually reached: `ssh cluster` through a bastion.

import { readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import path from 'node:path';
import SSHConfig from 'ssh-config';
import { SettingsError } from '../errors.js';

export interface SshConfigHost {
  /** The alias looked up. */
  alias: string;
  hostName: string;
  user?: string;
  port?: number;
  /** IdentityFile entries, `~` and `%d/%u/%h/%r/%%` expanded, in config order. */
  identityFiles: string[];
  /** Raw ProxyJump value (`none` already removed). */
  proxyJump?: string;
  userKnownHostsFiles: string[];
}

export interface SshConfigSource {
  /** Config file path (default ~/.ssh/config); a missing file means "no config". */
  configPath?: string;
  /** Config text (tests); wins over configPath. */
  configText?: string;
  home?: string;
  localUser?: string;
}

/** One hop of a ProxyJump list: `[user@]host[:port]` or `ssh://[user@]host[:port]`. */
export interface JumpHop {
  user?: string;
  host: string;
  port?: number;
}

function expandTilde(p: string, home: string): string {
  if (p === '~') return home;
  if (p.startsWith('~/')) return path.join(home, p.slice(2));
  return p;
}

/** OpenSSH's tokens in IdentityFile / UserKnownHostsFile (the ones that make sense here). */
export function expandSshPath(
  p: string,
  ctx: { home: string; localUser: string; host: string; remoteUser: string },
): string {
  const withTokens = p.replace(/%([%dhur])/g, (_m, t: string) => {
    switch (t) {
      case '%':
        return '%';
      case 'd':
        return ctx.home;
      case 'h':
        return ctx.host;
      case 'u':
        return ctx.localUser;
      case 'r':
        return ctx.remoteUser;
      default:
        return _m;
    }
  });
  return expandTilde(withTokens, ctx.home);
}

function readConfigText(src: SshConfigSource, home: string): string | undefined {
  if (src.configText !== undefined) return src.configText;
  const file = src.configPath ?? path.join(home, '.ssh', 'config');
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

function first(v: string | string[] | undefined): string | undefined {
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v[0] : v;
}

function all(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  // UserKnownHostsFile may list several files on one line.
  return (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(/\s+/)).filter((s) => s !== '');
}

/**
 * Look up `alias` in the SSH config. Without a config file (or without a matching section) the alias
 * is returned as the host name with nothing else set. `Match exec` is never evaluated: resolving a
 * host must not run commands.
 */
export function resolveSshConfigHost(alias: string, src: SshConfigSource = {}): SshConfigHost {
  const home = src.home ?? homedir();
  const localUser = src.localUser ?? safeUserName();
  const text = readConfigText(src, home);
  const computed: Record<string, string | string[]> = text
    ? SSHConfig.parse(text).compute(alias, { ignoreCase: true, matchExec: false })
    : {};
  const hostName = (first(computed.hostname) ?? alias).replace(/%h/g, alias);
  const user = first(computed.user);
  const portText = first(computed.port);
  const port = portText !== undefined ? Number(portText) : undefined;
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) {
    throw new SettingsError(`ssh config: Port ${portText} for ${alias} is not a valid port`);
  }
  const ctx = { home, localUser, host: hostName, remoteUser: user ?? localUser };
  const jump = first(computed.proxyjump);
  return {
    alias,
    hostName,
    user,
    port,
    identityFiles: all(computed.identityfile).map((p) => expandSshPath(p, ctx)),
    proxyJump: jump && jump.toLowerCase() !== 'none' ? jump : undefined,
    userKnownHostsFiles: all(computed.userknownhostsfile).map((p) => expandSshPath(p, ctx)),
  };
}

/** Parse a ProxyJump value into hops, first hop first. */
export function parseProxyJump(value: string): JumpHop[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((spec) => {
      let rest = spec.replace(/^ssh:\/\//, '');
      let user: string | undefined;
      const at = rest.lastIndexOf('@');
      if (at >= 0) {
        user = rest.slice(0, at);
        rest = rest.slice(at + 1);
      }
      let host = rest;
      let port: number | undefined;
      const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
      if (v6) {
        host = v6[1];
        port = v6[2] ? Number(v6[2]) : undefined;
      } else {
        const m = /^([^:]+):(\d+)$/.exec(rest);
        if (m) {
          host = m[1];
          port = Number(m[2]);
        }
      }
      if (host === '') throw new SettingsError(`ProxyJump: empty host in ${JSON.stringify(spec)}`);
      return { user, host, port };
    });
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'root';
  }
}
