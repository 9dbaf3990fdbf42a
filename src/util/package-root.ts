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

/** True when this code runs from the TypeScript sources (this repo), false when from dist/ (installed). */
const runsFromSource = import.meta.url.endsWith('.ts');

/**
 * A module of ours, in the same form as the code running now: the `.ts` source in this repo, the built
 * `.js` when installed. Not "the .ts if it exists": the package ships its sources too (for stack traces),
 * and Node cannot load those from node_modules.
 */
export function sourceOrBuilt(dirFromRoot: string, stem: string): string {
  const root = packageRoot();
  if (runsFromSource) return path.join(root, dirFromRoot, `${stem}.ts`);
  return path.join(root, 'dist', dirFromRoot, `${stem}.js`);
}
