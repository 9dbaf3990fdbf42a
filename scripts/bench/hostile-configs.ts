// Benchmark of config loading on hostile files (issue 12 item 7): writes each hostile file next to a
// good config in a temp tree, loads each one alone and prints the time per file and the error it got.
// Target: under a second per file; the tests allow 10 s. Run: npx tsx scripts/bench/hostile-configs.ts
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { entryForFile, formatProblem, loadConfig } from '../../src/config/index.js';
import { HOSTILE_FILES, writeHostileTree } from '../../tests/fixtures/hostile-configs.js';

const TARGET_S = 1;

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'disagg-bench-hostile-'));
let slow = 0;
try {
  const dir = writeHostileTree(root);
  const files = [...HOSTILE_FILES.map((h) => h.name), 'good.yaml'];
  console.log(`${'file'.padEnd(22)} ${'size'.padStart(10)} ${'time'.padStart(8)}  result`);
  for (const name of files) {
    const file = path.join(dir, name);
    const size = fs.statSync(file).size;
    const started = performance.now();
    const loaded = loadConfig(entryForFile(file, root));
    const seconds = (performance.now() - started) / 1000;
    if (seconds > TARGET_S) slow++;
    const error = loaded.problems.find((p) => p.severity === 'error');
    const result = error ? formatProblem(error, dir).slice(0, 110) : 'ok';
    console.log(
      `${name.padEnd(22)} ${String(size).padStart(10)} ${seconds.toFixed(3).padStart(7)}s  ${result}`,
    );
  }
  console.log(
    slow === 0
      ? `every file under the ${TARGET_S} s target`
      : `${slow} file(s) over the ${TARGET_S} s target (a loaded machine parses slower)`,
  );
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
