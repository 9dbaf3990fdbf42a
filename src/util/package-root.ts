import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** Root of the vitest-disagg package (works from src/ in this repo and from dist/ when installed). */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      const name = (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name;
      if (name === 'vitest-disagg') return (cached = dir);
    }
    const parent = path.dirname(dir);
    if (parent === dir)
      throw new Error(`cannot find the vitest-disagg package root above ${import.meta.url}`);
    dir = parent;
  }
}

/** A file of ours that exists as `.ts` in this repo and as `.js` once built. */
export function sourceOrBuilt(dirFromRoot: string, stem: string): string {
  const root = packageRoot();
  const ts = path.join(root, dirFromRoot, `${stem}.ts`);
  if (fs.existsSync(ts)) return ts;
  return path.join(root, 'dist', dirFromRoot, `${stem}.js`);
}
