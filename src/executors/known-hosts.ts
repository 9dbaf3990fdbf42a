// known_hosts checking for ssh2's hostVerifier (ssh2 itself accepts ANY host key). Supports plain and
// `[host]:port` entries, hashed `|1|salt|hash` entries, wildcards, negation and `@revoked`.
// `@cert-authority` lines are skipped: host certificates are not verified here.

import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface KnownHostEntry {
  file: string;
  line: number;
  marker?: 'cert-authority' | 'revoked';
  patterns: string;
  keyType: string;
  key: Buffer;
}

export type HostKeyVerdict =
  | { ok: true; entry: KnownHostEntry }
  | { ok: false; kind: 'unknown' | 'changed' | 'revoked'; message: string };

export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const parts = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (parts[0] === '@cert-authority' || parts[0] === '@revoked') {
      marker = parts[0] === '@revoked' ? 'revoked' : 'cert-authority';
      parts.shift();
    } else if (parts[0].startsWith('@')) {
      return; // unknown marker: ignore the line, as OpenSSH does
    }
    if (parts.length < 3) return;
    const [patterns, keyType, b64] = parts;
    const key = Buffer.from(b64, 'base64');
    if (key.length === 0) return;
    entries.push({ file, line: i + 1, marker, patterns, keyType, key });
  });
  return entries;
}

/** Read and parse known_hosts files; missing files contribute nothing. */
export function loadKnownHosts(files: readonly string[]): KnownHostEntry[] {
  return files.flatMap((f) => {
    try {
      return parseKnownHosts(readFileSync(f, 'utf8'), f);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  });
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host.toLowerCase() : `[${host.toLowerCase()}]:${port}`;
}

function wildcardMatch(pattern: string, name: string): boolean {
  const re = new RegExp(
    '^' +
      pattern
        .toLowerCase()
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.') +
      '$',
  );
  return re.test(name);
}

function hashedMatch(pattern: string, name: string): boolean {
  // |1|base64(salt)|base64(HMAC-SHA1(salt, name))
  const m = /^\|1\|([^|]+)\|([^|]+)$/.exec(pattern);
  if (!m) return false;
  const salt = Buffer.from(m[1], 'base64');
  const expected = Buffer.from(m[2], 'base64');
  const actual = createHmac('sha1', salt).update(name).digest();
  return actual.length === expected.length && actual.equals(expected);
}

/** Whether a known_hosts host-pattern list matches `host` on `port` (negations win). */
export function hostPatternsMatch(patterns: string, host: string, port: number): boolean {
  const name = knownHostsName(host, port);
  let matched = false;
  for (const p of patterns.split(',')) {
    if (p === '') continue;
    if (p.startsWith('|1|')) {
      if (hashedMatch(p, name)) matched = true;
      continue;
    }
    const negated = p.startsWith('!');
    const pat = negated ? p.slice(1) : p;
    if (wildcardMatch(pat, name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/** The key type at the start of an SSH public key blob (uint32 length + name). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  if (len <= 0 || len > 64 || 4 + len > blob.length) return 'unknown';
  return blob.subarray(4, 4 + len).toString('ascii');
}

/** `SHA256:<base64 without padding>`, as `ssh-keygen -lf` prints it. */
export function sha256Fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

function shortType(keyType: string): string {
  if (keyType === 'ssh-ed25519') return 'ed25519';
  if (keyType.startsWith('ecdsa-')) return 'ecdsa';
  if (keyType === 'ssh-rsa') return 'rsa';
  if (keyType === 'ssh-dss') return 'dsa';
  return keyType;
}

/** Host key algorithms to offer first, so the server presents a key type we already know. */
export function preferredHostKeyAlgorithms(
  entries: readonly KnownHostEntry[],
  host: string,
  port: number,
): string[] {
  const algos: string[] = [];
  for (const e of entries) {
    if (e.marker || !hostPatternsMatch(e.patterns, host, port)) continue;
    const list = e.keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [e.keyType];
    for (const a of list) if (!algos.includes(a)) algos.push(a);
  }
  return algos;
}

/** How to trust a host, in words a person can act on. */
export function trustHint(host: string, port: number, keyType: string, file: string): string {
  const portArg = port === 22 ? '' : `-p ${port} `;
  return `ssh-keyscan ${portArg}-t ${shortType(keyType)} ${host} >> ${file}`;
}

/** Check the key a server presented against the known_hosts entries for (host, port). */
export function checkHostKey(
  entries: readonly KnownHostEntry[],
  host: string,
  port: number,
  blob: Buffer,
  files: readonly string[],
): HostKeyVerdict {
  const keyType = keyTypeOf(blob);
  const fp = sha256Fingerprint(blob);
  const name = knownHostsName(host, port);
  const matching = entries.filter(
    (e) => e.marker !== 'cert-authority' && hostPatternsMatch(e.patterns, host, port),
  );
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(blob));
  const where = files.join(', ');
  const addFile = files[0] ?? '~/.ssh/known_hosts';
  if (revoked) {
    return {
      ok: false,
      kind: 'revoked',
      message: `Host key ${fp} of ${name} is marked @revoked in ${revoked.file}:${revoked.line}; refusing to connect.`,
    };
  }
  const same = matching.find((e) => !e.marker && e.key.equals(blob));
  if (same) return { ok: true, entry: same };
  const sameType = matching.filter((e) => !e.marker && e.keyType === keyType);
  if (sameType.length > 0) {
    const old = sameType[0];
    return {
      ok: false,
      kind: 'changed',
      message:
        `HOST KEY CHANGED for ${name}: ${old.file}:${old.line} holds a different ${keyType} key than the ` +
        `${fp} the server presented. Someone could be intercepting the connection, or the host was reinstalled. ` +
        `If the change is expected, remove the old key with \`ssh-keygen -R '${name}' -f ${old.file}\` and add the ` +
        `new one with \`${trustHint(host, port, keyType, old.file)}\`.`,
    };
  }
  const otherTypes = [...new Set(matching.filter((e) => !e.marker).map((e) => e.keyType))];
  const note = otherTypes.length > 0 ? ` (known_hosts has only ${otherTypes.join(', ')} keys for it)` : '';
  return {
    ok: false,
    kind: 'unknown',
    message:
      `Host key of ${name} is not known${note}: the server presented ${keyType} ${fp}, not found in ${where || 'any known_hosts file'}. ` +
      `Refusing to connect. If you trust this host, add its key with \`${trustHint(host, port, keyType, addFile)}\` ` +
      `(check the fingerprint first with \`ssh-keygen -lf\`), or point DISAGG_SSH_KNOWN_HOSTS at a known_hosts file that has it.`,
  };
}
