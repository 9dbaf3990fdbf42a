import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProxyJump, resolveSshConfigHost } from '../../../src/executors/ssh-config.js';
import { describeSsh, remoteWorkDir, resolveSshSettings } from '../../../src/executors/ssh-settings.js';

let home: string;
const CONFIG = `
Host cluster
  HostName login.example.org
  User alice
  Port 2200
  IdentityFile ~/.ssh/id_cluster
  IdentityFile %d/.ssh/id_%r_%h
  ProxyJump bastion

Host bastion
  HostName bastion.example.org
  User bob
  IdentityFile ~/.ssh/id_bastion

Host direct
  HostName 10.1.2.3
  ProxyJump none

Host chain
  HostName inner.example.org
  ProxyJump jump1,carol@jump2:2022

Host *
  UserKnownHostsFile ~/.ssh/kh_a ~/.ssh/kh_b
  Match exec "touch /tmp/should-never-run"
`;

beforeAll(() => {
  home = mkdtempSync(path.join(tmpdir(), 'disagg-home-'));
  const ssh = path.join(home, '.ssh');
  mkdirSync(ssh, { recursive: true });
  writeFileSync(path.join(ssh, 'config'), CONFIG);
  writeFileSync(path.join(ssh, 'id_cluster'), 'key');
  writeFileSync(path.join(ssh, 'id_bastion'), 'key');
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('resolveSshConfigHost', () => {
  it('HostName, User, Port, IdentityFile with ~ and %-tokens, ProxyJump, UserKnownHostsFile', () => {
    const h = resolveSshConfigHost('cluster', { home, localUser: 'me' });
    expect(h).toEqual({
      alias: 'cluster',
      hostName: 'login.example.org',
      user: 'alice',
      port: 2200,
      identityFiles: [path.join(home, '.ssh/id_cluster'), path.join(home, '.ssh/id_alice_login.example.org')],
      proxyJump: 'bastion',
      userKnownHostsFiles: [path.join(home, '.ssh/kh_a'), path.join(home, '.ssh/kh_b')],
    });
  });

  it('never evaluates Match exec', () => {
    resolveSshConfigHost('anything', { home });
    expect(existsSync('/tmp/should-never-run')).toBe(false);
  });

  it('an unknown alias is its own host name; ProxyJump none is no jump', () => {
    expect(resolveSshConfigHost('other.org', { home })).toMatchObject({
      hostName: 'other.org',
      identityFiles: [],
    });
    expect(resolveSshConfigHost('direct', { home }).proxyJump).toBeUndefined();
    expect(resolveSshConfigHost('x', { home, configPath: path.join(home, 'missing') })).toMatchObject({
      hostName: 'x',
    });
  });
});

describe('parseProxyJump', () => {
  it('parses user@host:port lists, ssh:// and IPv6', () => {
    expect(parseProxyJump('a,bob@b:2022, ssh://c@d ,[::1]:23')).toEqual([
      { user: undefined, host: 'a', port: undefined },
      { user: 'bob', host: 'b', port: 2022 },
      { user: 'c', host: 'd', port: undefined },
      { user: undefined, host: '::1', port: 23 },
    ]);
  });
});

describe('resolveSshSettings', () => {
  // The DISAGG_SSH_* values arrive as SshInput (resolved by src/settings).
  it('env DISAGG_SSH_* for a plain host, known_hosts and remote dir', () => {
    const s = resolveSshSettings(
      {
        host: '127.0.0.1',
        port: 2222,
        username: 'bench',
        privateKeyPath: '/lab/id',
        knownHostsPaths: ['/lab/known_hosts'],
        remoteDir: '/home/bench/disagg',
      },
      { home },
    );
    expect(s).toMatchObject({
      host: '127.0.0.1',
      port: 2222,
      username: 'bench',
      privateKeyPath: '/lab/id',
      knownHostsPaths: ['/lab/known_hosts'],
      remoteDir: '/home/bench/disagg',
    });
    expect(s.proxyJump).toBeUndefined();
  });

  it('an alias through ~/.ssh/config, with the bastion resolved from its own section', () => {
    const s = resolveSshSettings({ host: 'cluster', agent: '/tmp/agent.sock' }, { home });
    expect(s).toMatchObject({
      alias: 'cluster',
      host: 'login.example.org',
      port: 2200,
      username: 'alice',
      privateKeyPath: path.join(home, '.ssh/id_cluster'),
      agent: '/tmp/agent.sock',
      knownHostsPaths: [path.join(home, '.ssh/kh_a'), path.join(home, '.ssh/kh_b')],
    });
    expect(s.proxyJump).toMatchObject({
      host: 'bastion.example.org',
      port: 22,
      username: 'bob',
      privateKeyPath: path.join(home, '.ssh/id_bastion'),
    });
    expect(describeSsh(s)).toBe('alice@login.example.org:2200 via bob@bastion.example.org:22');
  });

  it('options win over env, env over ssh config', () => {
    // src/settings merged options over env into this input; explicit input wins over the ssh config.
    const s = resolveSshSettings(
      { host: 'cluster', port: 2300, privateKeyPath: '/opt/key', username: 'envuser' },
      { home },
    );
    expect(s).toMatchObject({
      host: 'login.example.org',
      port: 2300,
      username: 'envuser',
      privateKeyPath: '/opt/key',
    });
  });

  it('a ProxyJump chain nests: first hop innermost', () => {
    const s = resolveSshSettings({ host: 'chain', privateKeyPath: '/k' }, { home });
    expect(s.host).toBe('inner.example.org');
    expect(s.proxyJump).toMatchObject({ host: 'jump2', port: 2022, username: 'carol' });
    expect(s.proxyJump?.proxyJump).toMatchObject({ host: 'jump1', port: 22 });
    expect(s.proxyJump?.proxyJump?.proxyJump).toBeUndefined();
  });

  it('says what to set when host or credentials are missing', () => {
    expect(() => resolveSshSettings({}, { home })).toThrow(/DISAGG_SSH_HOST/);
    expect(() => resolveSshSettings({ host: 'nokey.example.org' }, { home })).toThrow(/DISAGG_SSH_KEY/);
  });

  it('remote work dir defaults under the remote home', () => {
    expect(remoteWorkDir(undefined, '/home/bench')).toBe('/home/bench/vitest-disagg');
    expect(remoteWorkDir('runs', '/home/bench')).toBe('/home/bench/runs');
    expect(remoteWorkDir('~/x', '/home/bench')).toBe('/home/bench/x');
    expect(remoteWorkDir('/scratch/me', '/home/bench')).toBe('/scratch/me');
  });
});
