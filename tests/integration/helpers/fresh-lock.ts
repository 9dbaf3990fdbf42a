// A package-lock.json for a fresh project that installs our tarball and Vitest, made from our own lock:
// `npm ci` then needs only the tarballs `npm ci` already put in npm's cache here, never the registry
// (`npm install` would first fetch every package's metadata, which `npm ci` does not cache).
import crypto from 'node:crypto';
import fs from 'node:fs';

interface LockEntry {
  version?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  peer?: boolean;
  [key: string]: unknown;
}

export interface Lock {
  name?: string;
  lockfileVersion: number;
  requires?: boolean;
  packages: Record<string, LockEntry>;
}

/** Where Node (and npm) finds `dep` required from the package installed at `from`. */
function resolveIn(packages: Lock['packages'], from: string, dep: string): string | undefined {
  for (let base = from; ;) {
    const candidate = `${base ? `${base}/` : ''}node_modules/${dep}`;
    if (packages[candidate]) return candidate;
    if (!base) return undefined;
    const i = base.lastIndexOf('/node_modules/');
    base = i < 0 ? '' : base.slice(0, i);
  }
}

/**
 * The lock of a project whose devDependencies are `vitest@<ours>` and our tarball: every package
 * reachable from Vitest and from our dependencies, as our lock has it (optional peers left out).
 */
export function freshProjectLock(
  ours: Lock,
  ourPkg: {
    name: string;
    version: string;
    dependencies: Record<string, string>;
    peerDependencies?: Record<string, string>;
  } & Record<string, unknown>,
  tarballSpec: string,
  tarballPath: string,
): { lock: Lock; devDependencies: Record<string, string> } {
  const vitest = ours.packages['node_modules/vitest'];
  if (!vitest?.version) throw new Error('our package-lock.json has no node_modules/vitest');
  const devDependencies = { vitest: vitest.version, [ourPkg.name]: tarballSpec };
  const packages: Lock['packages'] = {};
  const queue: Array<[string, string, boolean]> = [
    ['', 'vitest', false],
    ...Object.keys(ourPkg.dependencies).map((d): [string, string, boolean] => ['', d, false]),
  ];
  while (queue.length) {
    const [from, dep, optional] = queue.shift() as [string, string, boolean];
    const at = resolveIn(ours.packages, from, dep);
    if (!at) {
      if (optional) continue;
      throw new Error(`our package-lock.json cannot resolve ${dep} from ${from || 'the root'}`);
    }
    if (packages[at]) continue;
    const { dev, devOptional, peer, optional: onlyOptional, ...entry } = ours.packages[at];
    void dev;
    void peer;
    packages[at] = { ...entry, dev: true, ...(onlyOptional || devOptional ? { optional: true } : {}) };
    for (const d of Object.keys(entry.dependencies ?? {})) queue.push([at, d, false]);
    for (const d of Object.keys(entry.optionalDependencies ?? {})) queue.push([at, d, true]);
    for (const d of Object.keys(entry.peerDependencies ?? {})) {
      if (!entry.peerDependenciesMeta?.[d]?.optional) queue.push([at, d, false]);
    }
  }
  const integrity = `sha512-${crypto.createHash('sha512').update(fs.readFileSync(tarballPath)).digest('base64')}`;
  packages[`node_modules/${ourPkg.name}`] = {
    version: ourPkg.version,
    resolved: tarballSpec,
    integrity,
    dev: true,
    license: ourPkg.license,
    dependencies: ourPkg.dependencies,
    peerDependencies: ourPkg.peerDependencies,
    bin: ourPkg.bin,
    engines: ourPkg.engines,
  };
  return {
    lock: { lockfileVersion: 3, requires: true, packages: { '': { devDependencies }, ...packages } },
    devDependencies,
  };
}
