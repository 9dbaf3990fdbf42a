// Scale benchmark of the YAML test project (issue 13 item 1). Generates 6 and 1,000 real-shaped configs
// (copies of stress-configs/ with distinct names, in temp dirs), then:
// - runs `vitest list` over each side by side (alternating rounds; min and median of wall time), with the
//   default `testModules: 'auto'` (one module per folder above 200 configs) and with `config` (one module
//   per YAML) over the 1,000;
// - for scale, Vitest's own floor: 6 and 1,000 trivial JS test files, one test each (same pool settings);
// - runs `vitest run -t <one name>` over the 1,000 and measures process start → that job's submission
//   (the ledger's submittedAt), then stops the run with SIGINT (the plugin cancels the job).
// Run: npx tsx scripts/bench/list-scale.ts [rounds=3] [big=1000] [both|list|run]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Ledger } from '../../src/broker/ledger.js';

// BENCH_ROOT: another checkout to measure (e.g. an older commit, for a before/after figure).
const ROOT = path.resolve(
  process.env.BENCH_ROOT ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..'),
);
const VITEST = path.join(ROOT, 'node_modules/vitest/vitest.mjs');
const SOURCE = path.join(ROOT, 'stress-configs');
const ROUNDS = Math.min(10, Math.max(1, Number(process.argv[2] ?? 3)));
const BIG = Math.min(5000, Math.max(6, Number(process.argv[3] ?? 1000)));
const PARTS = process.argv[4] ?? 'both';
/** Upper bound of one vitest process, so the benchmark always ends. */
const PROCESS_LIMIT_MS = 180_000;

function yamlFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
}

/** `count` copies of the example configs (same sub-dirs, so the categories and test types are real). */
function generate(base: string, count: number): { dir: string; stems: string[] } {
  const dir = path.join(base, `configs-${count}`);
  const sources = yamlFiles(SOURCE);
  const stems: string[] = [];
  for (let i = 0; i < count; i++) {
    const rel = sources[i % sources.length];
    const ext = path.extname(rel);
    const stem = `${path.basename(rel, ext)}-${String(i).padStart(4, '0')}`;
    const target = path.join(dir, path.dirname(rel), stem + ext);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(path.join(SOURCE, rel), target);
    stems.push(stem);
  }
  return { dir, stems };
}

interface Exit {
  code: number | null;
  ms: number;
  stdout: string;
  stderr: string;
}

function vitest(args: string[], env: Record<string, string>, onStart?: (pid: number) => void): Promise<Exit> {
  const started = performance.now();
  const child = spawn(process.execPath, [VITEST, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  if (child.pid !== undefined) onStart?.(child.pid);
  const killer = setTimeout(() => child.kill('SIGKILL'), PROCESS_LIMIT_MS);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, ms: performance.now() - started, stdout, stderr });
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function listOnce(
  dir: string,
  expected: number,
  out: string,
  testModules: 'auto' | 'config' = 'auto',
): Promise<number> {
  const r = await vitest(['list', '--config', 'vitest.config.ts'], {
    DISAGG_CONFIG_DIR: dir,
    OUTPUT_PATH: out,
    GPU_TYPE: 'GB200',
    DISAGG_TEST_MODULES: testModules,
  });
  const listed = r.stdout.split('\n').filter((l) => / > (?:perf|stress|accuracy) > /.test(l)).length;
  if (r.code !== 0 || listed !== expected) {
    throw new Error(`vitest list over ${dir}: exit ${r.code}, ${listed} of ${expected} tests\n${r.stderr}`);
  }
  return r.ms;
}

/** `count` trivial test files and a config with the YAML project's pool settings (threads, no isolation, one worker). */
function trivialSuite(base: string, count: number): string {
  const dir = path.join(base, `trivial-${count}`);
  fs.mkdirSync(path.join(dir, 't'), { recursive: true });
  for (let i = 0; i < count; i++) {
    fs.writeFileSync(
      path.join(dir, 't', `f${i}.test.js`),
      `import { describe, test } from 'vitest';\ndescribe('stress', () => { test('t${i}', () => {}); });\n`,
    );
  }
  fs.writeFileSync(
    path.join(dir, 'vitest.config.mjs'),
    `export default { test: { include: ['t/*.test.js'], pool: 'threads', isolate: false, maxWorkers: 1 } };\n`,
  );
  return dir;
}

async function listTrivial(dir: string, expected: number): Promise<number> {
  const r = await vitest(['list', '--root', dir, '--config', path.join(dir, 'vitest.config.mjs')], {});
  const listed = r.stdout.split('\n').filter((l) => / > stress > t\d+/.test(l)).length;
  if (r.code !== 0 || listed !== expected) {
    throw new Error(`vitest list over ${dir}: exit ${r.code}, ${listed} of ${expected} tests\n${r.stderr}`);
  }
  return r.ms;
}

interface LedgerShape {
  jobs: Array<{ testId: string; submittedAt: string; runId: string }>;
}

/** Process start → submission of the one job `-t` selects; the run is then interrupted. */
async function runOne(dir: string, testId: string, out: string): Promise<{ ms: number; jobs: number }> {
  // jobs.json with its journal applied (mid-run, the journal holds the latest writes).
  const ledger = new Ledger(out);
  const startedAt = Date.now();
  let pid = 0;
  const exit = vitest(
    ['run', '--config', 'vitest.config.ts', '-t', `${testId}$`],
    { DISAGG_CONFIG_DIR: dir, OUTPUT_PATH: out, GPU_TYPE: 'GB200' },
    (p) => (pid = p),
  );
  let submitted: number | undefined;
  let jobs = 0;
  let ended = false;
  void exit.then(() => (ended = true));
  for (let i = 0; i < 1200 && !ended && submitted === undefined; i++) {
    await sleep(50);
    try {
      const data: LedgerShape = await ledger.read();
      const job = data.jobs.find((j) => j.testId === testId);
      jobs = data.jobs.length;
      if (job) submitted = Date.parse(job.submittedAt);
    } catch {
      // not written yet, or being replaced
    }
  }
  if (!ended && pid) process.kill(pid, 'SIGINT');
  const r = await exit;
  if (submitted === undefined) {
    throw new Error(`${testId} was never submitted (exit ${r.code})\n${r.stdout}\n${r.stderr}`);
  }
  return { ms: submitted - startedAt, jobs };
}

async function main(): Promise<void> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'disagg-list-scale-'));
  try {
    const small = generate(base, 6);
    const big = generate(base, BIG);
    console.log(`configs: 6 and ${BIG} copies of ${SOURCE} under ${base}; ${os.cpus().length} CPUs`);
    const trivial = { small: trivialSuite(base, 6), big: trivialSuite(base, BIG) };
    const times = { small: [] as number[], big: [] as number[], perYaml: [] as number[] };
    const floor = { small: [] as number[], big: [] as number[] };
    for (let round = 0; round < (PARTS === 'run' ? 0 : ROUNDS); round++) {
      times.small.push(await listOnce(small.dir, 6, path.join(base, 'out-list')));
      times.big.push(await listOnce(big.dir, BIG, path.join(base, 'out-list')));
      times.perYaml.push(await listOnce(big.dir, BIG, path.join(base, 'out-list'), 'config'));
      floor.small.push(await listTrivial(trivial.small, 6));
      floor.big.push(await listTrivial(trivial.big, BIG));
      console.log(
        `round ${round + 1}: list 6 ${s(times.small.at(-1)!)}, list ${BIG} ${s(times.big.at(-1)!)} ` +
          `(one module per YAML: ${s(times.perYaml.at(-1)!)}); trivial files 6 ${s(floor.small.at(-1)!)}, ` +
          `${BIG} ${s(floor.big.at(-1)!)}`,
      );
    }
    const gap = (big: number[], small: number[]) =>
      `min ${s(Math.min(...big) - Math.min(...small))} median ${s(median(big) - median(small))}`;
    if (PARTS !== 'run') {
      console.log(
        `vitest list: 6 configs min ${s(Math.min(...times.small))} median ${s(median(times.small))}; ` +
          `${BIG} configs min ${s(Math.min(...times.big))} median ${s(median(times.big))}; ` +
          `difference ${gap(times.big, times.small)} (target ≤ 3 s; testModules 'auto')`,
      );
      console.log(
        `  one module per YAML (testModules 'config'): ${BIG} configs median ${s(median(times.perYaml))}; ` +
          `difference ${gap(times.perYaml, times.small)}`,
      );
      console.log(
        `  Vitest's own floor, trivial test files: 6 median ${s(median(floor.small))}, ${BIG} median ` +
          `${s(median(floor.big))}; difference ${gap(floor.big, floor.small)}`,
      );
    }
    // The last file and a middle one: Vitest's file order must not decide how long the one job waits.
    const picks = [big.stems[big.stems.length - 1], big.stems[Math.floor(big.stems.length / 2)]];
    const waits: number[] = [];
    for (const [i, stem] of (PARTS === 'list' ? [] : picks).entries()) {
      const rel = yamlFiles(big.dir).find((f) => f.includes(stem))!;
      const [testType, category] = path.dirname(rel).split(path.sep);
      const testId = `${testType}_${category}_${stem}`;
      const r = await runOne(big.dir, testId, path.join(base, `out-run-${i}`));
      waits.push(r.ms);
      console.log(`vitest run -t ${testId}: submitted after ${s(r.ms)} (${r.jobs} job(s) in the ledger)`);
    }
    if (waits.length)
      console.log(
        `vitest run -t <one> over ${BIG}: process start → job submitted max ${s(Math.max(...waits))} (target ≤ 5 s)`,
      );
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
}

await main();
