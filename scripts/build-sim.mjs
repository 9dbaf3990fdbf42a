// Bundles the simulator (src/sim/main.ts) into one self-contained ESM file, dist/sim/disagg-sim.mjs, that
// is uploaded with each job: a cluster node needs only `node`, never our checkout or node_modules.
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'dist', 'sim', 'disagg-sim.mjs');

await build({
  entryPoints: [join(root, 'src', 'sim', 'main.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // yaml's CommonJS build calls require('process'); give the ESM bundle a real `require` for builtins.
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __disaggSimRequire } from 'node:module';\nconst require = __disaggSimRequire(import.meta.url);",
  },
  legalComments: 'none',
  logLevel: 'warning',
});
chmodSync(outfile, 0o755);
console.log(`built ${outfile}`);
