// vitest-disagg as a new user gets it: `npm pack` of this repo (built by `prepare` from a clean copy),
// installed into a fresh `"type": "module"` project next to Vitest, with the README's config and
// hand-written test copied as written. The YAML tests, the hand-written test and the user's own unit
// test (with the user's own pool) must all pass; `disagg list` must read configDir from vitest.config.ts;
// a stack trace into the package must point at files that exist. Local executor only; the install is
// `npm ci --prefer-offline` with a lock pinned to ours, so npm's cache (filled by our `npm ci`) suffices.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../fixtures/paths.js';
import { freshProjectLock, type Lock } from './helpers/fresh-lock.js';

const MINUTE = 60_000;
const README = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
const SIM_CONFIG = path.join(
  repoRoot,
  'stress-configs/disagg/stress/deepseek-r1-fp4_1k1k_ctx1_gen1_dep4_bs32_mtp3_ccb-SIM.yaml',
);
const YAML_STEM = 'sim-yaml-test';

/** The README's code block of a language whose first line is `first` (the file the block shows). */
function readmeBlock(lang: string, first: string): string {
  const blocks = [...README.matchAll(/```(\w+)\n([\s\S]*?)```/g)].filter((m) => m[1] === lang);
  const block = blocks.find((m) => m[2].split('\n')[0].trim() === first);
  if (!block) throw new Error(`README.md has no \`\`\`${lang} block starting with "${first}"`);
  return block[2];
}

/** The environment of a fresh shell: none of this run's npm, Vitest or vitest-disagg settings. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_|VITEST|DISAGG_|SLURM_)/i.test(k)) continue;
    if (['OUTPUT_PATH', 'GPU_TYPE', 'DEBUG_MODE', 'DEBUG_JOB_ID', 'NODE_ENV', 'TEST'].includes(k)) continue;
    env[k] = v;
  }
  return env;
}

function run(
  cmd: string,
  args: string[],
  cwd: string,
  timeout: number,
  env: NodeJS.ProcessEnv = {},
): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, {
    cwd,
    env: { ...cleanEnv(), ...env },
    encoding: 'utf8',
    timeout,
    maxBuffer: 64 << 20,
  });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')} in ${cwd}: ${r.error.message}\n${r.stderr}`);
  return r;
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  expect(
    r.status,
    `${what} exited ${r.status}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`,
  ).toBe(0);
  return r.stdout;
}

interface JsonReport {
  success: boolean;
  numTotalTests: number;
  numPassedTests: number;
  testResults: Array<{
    name: string;
    assertionResults: Array<{ fullName: string; status: string; failureMessages: string[] }>;
  }>;
}

describe('a fresh project installing the packed tarball', () => {
  let work: string;
  let app: string;

  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'disagg-tarball-'));
    // Pack a clean copy: `prepare` must build everything the tarball needs from the sources alone, and
    // rebuilding this checkout's dist/ would pull it from under tests running beside this one.
    const src = path.join(work, 'src-copy');
    const skip = new Set(['node_modules', 'dist', 'output', '.git', '.local-cluster', 'coverage']);
    fs.cpSync(repoRoot, src, {
      recursive: true,
      filter: (from) => !skip.has(path.basename(from)) || path.dirname(from) !== repoRoot,
    });
    fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(src, 'node_modules'), 'dir');
    const packDir = path.join(work, 'pack');
    fs.mkdirSync(packDir);
    ok(run('npm', ['pack', '--pack-destination', packDir], src, 8 * MINUTE), 'npm pack');
    const tarball = fs.readdirSync(packDir).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack wrote no tarball into ${packDir}`);

    app = path.join(work, 'app');
    fs.mkdirSync(app);
    // The README's package.json, with what `npm install --save-dev vitest@<ours> <tarball>` adds to it,
    // and a lock pinned to our own lock's versions: `npm ci` then installs from npm's cache alone.
    const readmePkg = JSON.parse(
      readmeBlock('json', '{ "type": "module", "scripts": { "test": "vitest run" } }'),
    ) as Record<string, unknown>;
    const ours = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as Lock;
    const ourPkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as Parameters<
      typeof freshProjectLock
    >[1];
    const spec = `file:../pack/${tarball}`;
    const { lock, devDependencies } = freshProjectLock(ours, ourPkg, spec, path.join(packDir, tarball));
    fs.writeFileSync(
      path.join(app, 'package.json'),
      JSON.stringify({ ...readmePkg, devDependencies }, null, 2) + '\n',
    );
    fs.writeFileSync(path.join(app, 'package-lock.json'), JSON.stringify(lock, null, 2) + '\n');
    ok(run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], app, 8 * MINUTE), 'npm ci');
    expect(fs.existsSync(path.join(app, 'node_modules/vitest-disagg/dist/src/index.js'))).toBe(true);

    // The README's config and hand-written test, as written.
    fs.writeFileSync(path.join(app, 'vitest.config.ts'), readmeBlock('ts', '// vitest.config.ts'));
    fs.mkdirSync(path.join(app, 'tests'));
    fs.writeFileSync(
      path.join(app, 'tests/sim-config.test.ts'),
      readmeBlock('ts', '// tests/sim-config.test.ts'),
    );
    // One simulator config as a YAML test, one for the hand-written test (outside configDir), both fast.
    const sim = fs.readFileSync(SIM_CONFIG, 'utf8').replace(/^(\s*time_scale:).*$/m, '$1 0.005');
    expect(sim).toContain('time_scale: 0.005');
    fs.mkdirSync(path.join(app, 'test_configs/disagg/stress'), { recursive: true });
    fs.writeFileSync(path.join(app, `test_configs/disagg/stress/${YAML_STEM}.yaml`), sim);
    fs.mkdirSync(path.join(app, 'configs'));
    fs.writeFileSync(path.join(app, 'configs/sim.yaml'), sim);
    // The user's own unit test: under `pool: 'forks'` it runs in a child process's main thread (the YAML
    // tests' `threads` pool would give a worker thread with no IPC channel).
    fs.writeFileSync(
      path.join(app, 'tests/unit.test.ts'),
      [
        "import { isMainThread } from 'node:worker_threads';",
        "import { expect, test } from 'vitest';",
        '',
        "test('my unit test runs in my own pool (forks)', () => {",
        '  expect(isMainThread).toBe(true);',
        "  expect(typeof process.send).toBe('function');",
        '});',
        '',
      ].join('\n'),
    );
  }, 20 * MINUTE);

  // The fresh project holds a whole node_modules: never leave it behind.
  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it(
    'runs the YAML test, the hand-written test and the user’s unit test, all passing',
    () => {
      const r = run('npx', ['vitest', 'run', '--reporter=json', '--outputFile=report.json'], app, 8 * MINUTE);
      const reportFile = path.join(app, 'report.json');
      expect(fs.existsSync(reportFile), `no JSON report\n${r.stdout}\n${r.stderr}`).toBe(true);
      const report = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as JsonReport;
      const tests = report.testResults.flatMap((f) =>
        f.assertionResults.map((a) => ({ file: path.relative(app, f.name), ...a })),
      );
      const failed = tests.filter((t) => t.status !== 'passed');
      expect(
        failed,
        failed.map((t) => `${t.fullName}: ${t.failureMessages.join('\n')}`).join('\n\n'),
      ).toEqual([]);
      expect(tests.map((t) => `${t.file} | ${t.fullName}`).sort()).toEqual(
        [
          `test_configs/disagg/stress/${YAML_STEM}.yaml | stress disagg_stress_${YAML_STEM}`,
          'tests/sim-config.test.ts | my simulator config meets its gates',
          'tests/unit.test.ts | my unit test runs in my own pool (forks)',
        ].sort(),
      );
      expect(r.status, r.stderr).toBe(0);
      expect(report.success).toBe(true);
      // Both configs really ran a job and were judged from its logs.
      for (const id of [`disagg_stress_${YAML_STEM}`, 'disagg_stress_sim']) {
        const results = path.join(app, 'output/slurm_logs', id, 'results.json');
        expect(fs.existsSync(results), `${results} missing`).toBe(true);
      }
    },
    10 * MINUTE,
  );

  it(
    'with one test module per folder (testModules: folder) the YAML test runs from the installed package too',
    () => {
      const r = run(
        'npx',
        ['vitest', 'run', '-t', YAML_STEM, '--reporter=json', '--outputFile=report-folder.json'],
        app,
        8 * MINUTE,
        { DISAGG_TEST_MODULES: 'folder' },
      );
      const reportFile = path.join(app, 'report-folder.json');
      expect(fs.existsSync(reportFile), `no JSON report\n${r.stdout}\n${r.stderr}`).toBe(true);
      const report = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as JsonReport;
      const tests = report.testResults.flatMap((f) =>
        f.assertionResults.map((a) => ({ file: path.relative(app, f.name), ...a })),
      );
      // `-t` leaves the other files' tests skipped.
      const ran = tests.filter((t) => t.status === 'passed' || t.status === 'failed');
      expect(
        ran.map((t) => `${t.fullName} | ${t.status}`),
        `${r.stdout}\n${r.stderr}`,
      ).toEqual([`stress disagg_stress_${YAML_STEM} | passed`]);
      expect(ran[0].file).toMatch(/^\.vitest-disagg\/test_configs-[0-9a-f]{8}\/disagg\/stress\.mjs$/);
      expect(r.status, r.stderr).toBe(0);
    },
    10 * MINUTE,
  );

  it(
    '`npx disagg list` reads configDir from vitest.config.ts',
    () => {
      const out = ok(run('npx', ['disagg', 'list', '--json'], app, 3 * MINUTE), 'npx disagg list');
      expect(out).toContain(`disagg_stress_${YAML_STEM}`);
      expect(out).toContain(path.join(app, 'test_configs'));
    },
    5 * MINUTE,
  );

  it(
    'a stack trace into vitest-disagg points at files the package ships; a .ts file is never read as YAML',
    () => {
      const file = path.join(app, 'tests/stack-trace.test.ts');
      fs.writeFileSync(
        file,
        [
          "import { disaggTest } from 'vitest-disagg';",
          '',
          "disaggTest('a perf verdict without any benchmark block', async ({ disaggReport }) => {",
          '  await disaggReport.perf({',
          '    blocks: [],',
          "    summary: { concurrencies: [], rows: 0, csv: 'none', incomplete: [], failedRequests: 0, metrics: {} },",
          '  } as never);',
          '});',
          '',
          "disaggTest('perf without a YAML config', async ({ perf }) => {",
          '  console.log(perf);',
          '});',
          '',
        ].join('\n'),
      );
      try {
        const r = run('npx', ['vitest', 'run', 'tests/stack-trace.test.ts'], app, 3 * MINUTE);
        const out = r.stdout + r.stderr;
        expect(r.status, out).not.toBe(0);
        expect(out).toContain('no complete benchmark block was parsed');
        // A test file is never parsed as YAML: the fixture says how to name the config.
        expect(out).toMatch(
          /stack-trace\.test\.ts is not a YAML config: a hand-written test names its config/,
        );
        // Vitest prints frames relative to the project root, e.g. node_modules/vitest-disagg/fixtures/steps/report.ts:30:8.
        // eslint-disable-next-line no-control-regex
        const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
        const frames = [...plain.matchAll(/(node_modules\/vitest-disagg\/[^\s:()]+):(\d+):\d+/g)];
        expect(frames.length, plain).toBeGreaterThan(0);
        for (const [, rel, line] of frames) {
          const shipped = path.join(app, rel);
          expect(fs.existsSync(shipped), `stack frame ${rel} is not in the installed package`).toBe(true);
          const lines = fs.readFileSync(shipped, 'utf8').split('\n');
          expect(lines.length, `${rel}:${line}`).toBeGreaterThanOrEqual(Number(line));
        }
      } finally {
        fs.rmSync(file, { force: true });
      }
    },
    5 * MINUTE,
  );
});
