import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkHostKey,
  hostPatternsMatch,
  keyTypeOf,
  loadKnownHosts,
  parseKnownHosts,
  preferredHostKeyAlgorithms,
  sha256Fingerprint,
} from '../../../src/executors/known-hosts.js';

let dir: string;
/** Real keys made by ssh-keygen: [type, base64 blob]. */
let ed: { type: string; b64: string; blob: Buffer };
let ed2: { type: string; b64: string; blob: Buffer };
let rsa: { type: string; b64: string; blob: Buffer };

function keygen(name: string, type: string): { type: string; b64: string; blob: Buffer } {
  const file = path.join(dir, name);
  execFileSync('ssh-keygen', [
    '-q',
    '-t',
    type,
    ...(type === 'rsa' ? ['-b', '2048'] : []),
    '-N',
    '',
    '-f',
    file,
  ]);
  const [t, b64] = readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/);
  return { type: t, b64, blob: Buffer.from(b64, 'base64') };
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'disagg-kh-'));
  ed = keygen('ed', 'ed25519');
  ed2 = keygen('ed2', 'ed25519');
  rsa = keygen('rsa', 'rsa');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('host pattern matching', () => {
  it('plain host on 22, [host]:port otherwise, lists, wildcards, negation', () => {
    expect(hostPatternsMatch('login.example.org', 'login.example.org', 22)).toBe(true);
    expect(hostPatternsMatch('login.example.org', 'login.example.org', 2222)).toBe(false);
    expect(hostPatternsMatch('[127.0.0.1]:2222', '127.0.0.1', 2222)).toBe(true);
    expect(hostPatternsMatch('[127.0.0.1]:2222', '127.0.0.1', 22)).toBe(false);
    expect(hostPatternsMatch('a.org,login.example.org,10.0.0.1', 'LOGIN.example.org', 22)).toBe(true);
    expect(hostPatternsMatch('*.example.org', 'login.example.org', 22)).toBe(true);
    expect(hostPatternsMatch('*.example.org,!bad.example.org', 'bad.example.org', 22)).toBe(false);
    expect(hostPatternsMatch('login?.example.org', 'login1.example.org', 22)).toBe(true);
    expect(hostPatternsMatch('[*.example.org]:2200', 'x.example.org', 2200)).toBe(true);
  });

  it('hashed entries written by `ssh-keygen -H` match, for plain and [host]:port names', () => {
    const file = path.join(dir, 'hashed');
    writeFileSync(file, `login.example.org ${ed.type} ${ed.b64}\n[127.0.0.1]:2222 ${ed2.type} ${ed2.b64}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'ignore' });
    const entries = loadKnownHosts([file]);
    expect(entries.every((e) => e.patterns.startsWith('|1|'))).toBe(true);
    expect(checkHostKey(entries, 'login.example.org', 22, ed.blob, [file]).ok).toBe(true);
    expect(checkHostKey(entries, '127.0.0.1', 2222, ed2.blob, [file]).ok).toBe(true);
    expect(checkHostKey(entries, '127.0.0.1', 2223, ed2.blob, [file]).ok).toBe(false);
  });
});

describe('checkHostKey', () => {
  const file = '/home/u/.ssh/known_hosts';

  it('accepts the known key and says the fingerprint like ssh-keygen -lf', () => {
    const entries = parseKnownHosts(`# comment\n\n[127.0.0.1]:2222 ${ed.type} ${ed.b64} host@lab\n`, file);
    expect(checkHostKey(entries, '127.0.0.1', 2222, ed.blob, [file]).ok).toBe(true);
    const lf = execFileSync('ssh-keygen', ['-lf', path.join(dir, 'ed.pub')]).toString();
    expect(lf).toContain(sha256Fingerprint(ed.blob));
    expect(keyTypeOf(ed.blob)).toBe('ssh-ed25519');
    expect(keyTypeOf(rsa.blob)).toBe('ssh-rsa');
  });

  it('unknown host: refuses with an ssh-keyscan hint', () => {
    const v = checkHostKey([], '127.0.0.1', 2222, ed.blob, [file]);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.kind).toBe('unknown');
    expect(v.message).toContain('ssh-keyscan -p 2222 -t ed25519 127.0.0.1 >> /home/u/.ssh/known_hosts');
    expect(v.message).toContain(sha256Fingerprint(ed.blob));
    const v22 = checkHostKey([], 'login', 22, ed.blob, [file]);
    expect(!v22.ok && v22.message).toContain('ssh-keyscan -t ed25519 login >>');
  });

  it('changed key: refuses and says ssh-keygen -R', () => {
    const entries = parseKnownHosts(`[127.0.0.1]:2222 ${ed.type} ${ed.b64}\n`, file);
    const v = checkHostKey(entries, '127.0.0.1', 2222, ed2.blob, [file]);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.kind).toBe('changed');
    expect(v.message).toContain(`ssh-keygen -R '[127.0.0.1]:2222' -f ${file}`);
    expect(v.message).toContain('HOST KEY CHANGED');
  });

  it('a key of another type only: unknown, and that type is offered first', () => {
    const entries = parseKnownHosts(`login ${rsa.type} ${rsa.b64}\n`, file);
    const v = checkHostKey(entries, 'login', 22, ed.blob, [file]);
    expect(!v.ok && v.kind).toBe('unknown');
    expect(!v.ok && v.message).toContain('only ssh-rsa keys');
    expect(preferredHostKeyAlgorithms(entries, 'login', 22)).toEqual([
      'rsa-sha2-512',
      'rsa-sha2-256',
      'ssh-rsa',
    ]);
  });

  it('@revoked wins; @cert-authority lines are not host keys', () => {
    const entries = parseKnownHosts(
      `login ${ed.type} ${ed.b64}\n@revoked * ${ed.type} ${ed.b64}\n@cert-authority *.org ${ed2.type} ${ed2.b64}\n`,
      file,
    );
    expect(checkHostKey(entries, 'login', 22, ed.blob, [file])).toMatchObject({ ok: false, kind: 'revoked' });
    expect(checkHostKey(entries, 'x.org', 22, ed2.blob, [file])).toMatchObject({
      ok: false,
      kind: 'unknown',
    });
  });
});
