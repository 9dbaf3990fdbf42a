// A config that vanishes after Vitest globbed the test files (here: removed by a globalSetup of the user's
// own, which runs after the glob and before the test modules load) fails only its own test: `vitest list`
// still lists every config (it used to fail the whole listing with ERR_MODULE_NOT_FOUND), and a run fails
// that one test with the file's name and what is wrong. The same for a config swapped for a FIFO, which
// used to stall Vitest's own read of the test file (and the run, deaf to SIGTERM, holding its lock): a
// FIFO nobody writes, a FIFO a silent writer holds open (the read blocked for good, even kill -TERM), and a
// symlink to /dev/zero (read without bound, towards 2 GB of memory) all fail that one test now, and the
// run ends on its own. Local processes only: the selected test fails before any job is submitted; the
// healthy config beside it runs on the local simulator.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLockFile } from '../../src/broker/run-lock.js';
import { GOOD_CONFIG } from '../fixtures/hostile-configs.js';
import { repoRoot } from '../fixtures/paths.js';
import { jsonReportArgs, VITEST } from './helpers/suite-run.js';

/** Vitest's peak RSS for a run of two configs, with room to spare (it needs ~410 MB). */
const MAX_VITEST_RSS = 700 * 1024 * 1024;
const HEALTHY_CONFIG = path.join(repoRoot, 'tests/fixtures/suites/faults/disagg/stress/healthy.yaml');

let tmp: string;
let gone: string;

/**
 * A Vitest config: the plugin on the tmp tree, plus a globalSetup that `does` something to gone.yaml (and,
 * at the run's end, in Vitest's own process, runs `teardown`).
 */
function configFile(name: string, does: string, teardown = ''): string {
  const setup = path.join(tmp, `${name}.mjs`);
  fs.writeFileSync(
    setup,
    `import fs from 'node:fs';\nimport { execFileSync, spawn } from 'node:child_process';\n` +
      `export default function setup() { const gone = ${JSON.stringify(gone)}; ${does}\n` +
      `  return () => { ${teardown} }; }\n`,
  );
  const config = path.join(tmp, `${name}.config.mjs`);
  fs.writeFileSync(
    config,
    `import { disagg } from ${JSON.stringify(path.join(repoRoot, 'src/plugin/index.ts'))};\n` +
      `export default { root: ${JSON.stringify(repoRoot)}, plugins: [disagg({ configDir: ${JSON.stringify(
        path.join(tmp, 'configs'),
      )}, testModules: 'config' })], test: { include: [], globalSetup: [${JSON.stringify(setup)}] } };\n`,
  );
  return config;
}

/** A globalSetup's swap of gone.yaml for a FIFO nobody writes to. */
const TO_FIFO = `fs.rmSync(gone); execFileSync('mkfifo', [gone]);`;

/**
 * A globalSetup's swap of gone.yaml for a FIFO that `sleep 1000` holds open and never writes to (as
 * `sleep 1000 > gone.yaml` would), attached before Vitest reads: O_RDWR opens a FIFO without waiting for a
 * reader (Linux), so the writer is in place whoever comes first. A plain read of it blocks for good.
 */
function silentWriterSwap(pidFile: string): string {
  return (
    `fs.rmSync(gone); execFileSync('mkfifo', [gone]); const fd = fs.openSync(gone, 'r+');` +
    `const w = spawn('sleep', ['1000'], { stdio: ['ignore', fd, 'ignore'], detached: true });` +
    `w.unref(); fs.closeSync(fd); fs.writeFileSync(${JSON.stringify(pidFile)}, String(w.pid));`
  );
}

/** Ends the writer a `silentWriterSwap` started, by its pid. */
function endWriter(pidFile: string): void {
  if (!fs.existsSync(pidFile)) return;
  try {
    process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGKILL');
  } catch {
    // Already gone.
  }
  fs.rmSync(pidFile);
}

/** Put gone.yaml back before each command: the globalSetup takes it away again. */
function restoreGone(): void {
  fs.rmSync(gone, { force: true });
  fs.copyFileSync(GOOD_CONFIG, gone);
}

/**
 * `use` a config whose globalSetup swaps gone.yaml for a FIFO a silent writer holds open; the writer is
 * ended afterwards, whatever happened.
 */
function withSilentWriter<T>(name: string, use: (config: string) => T): T {
  const pidFile = path.join(tmp, `${name}.pid`);
  try {
    return use(configFile(name, silentWriterSwap(pidFile)));
  } finally {
    endWriter(pidFile);
  }
}

function vitest(args: string[]) {
  restoreGone();
  const r = spawnSync(process.execPath, [VITEST, ...args], {
    cwd: repoRoot,
    env: { ...process.env, GPU_TYPE: 'GB200', OUTPUT_PATH: path.join(tmp, 'out') },
    encoding: 'utf8',
    // A safety bound only: a run stalled on a FIFO ignores SIGTERM (its graceful cancel never ends).
    timeout: 120_000,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return r;
}

/** `vitest list --json` with `config`: it ends well, and the names of the tests it lists, sorted. */
function listedNames(config: string): string[] {
  const r = vitest(['list', '--json', '--config', config]);
  expect(r.status, r.stderr).toBe(0);
  return (JSON.parse(r.stdout.slice(r.stdout.indexOf('['))) as Array<{ name: string }>)
    .map((t) => t.name)
    .sort();
}

/** Both configs, as `vitest list` names them. */
const BOTH = ['stress > disagg_stress_gone', 'stress > disagg_stress_good'];

function failureOf(config: string): { status: string | undefined; message: string } {
  const out = path.join(tmp, 'report.json');
  const r = vitest(['run', '--config', config, '-t', 'gone', '--reporter=json', `--outputFile=${out}`]);
  expect(r.status, r.stderr).toBe(1);
  const report = JSON.parse(fs.readFileSync(out, 'utf8')) as {
    testResults: Array<{
      assertionResults: Array<{ title: string; status: string; failureMessages: string[] }>;
    }>;
  };
  const t = report.testResults
    .flatMap((f) => f.assertionResults)
    .find((a) => a.title === 'disagg_stress_gone');
  return { status: t?.status, message: t?.failureMessages.join('\n') ?? '' };
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'disagg-vanish-'));
  const dir = path.join(tmp, 'configs', 'disagg', 'stress');
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(GOOD_CONFIG, path.join(dir, 'good.yaml'));
  gone = path.join(dir, 'gone.yaml');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('a config that changes under a running Vitest', () => {
  it('deleted after the glob: vitest list still lists every config', () => {
    expect(listedNames(configFile('delete', 'fs.rmSync(gone);'))).toEqual(BOTH);
  }, 150_000);

  it('deleted after the glob: a run fails that test alone, naming the file', () => {
    const { status, message } = failureOf(configFile('delete', 'fs.rmSync(gone);'));
    expect(status).toBe('failed');
    expect(message).toMatch(/gone\.yaml.*no such file/);
  }, 150_000);

  // Vitest reads each test file itself (for `@vitest-environment` comments) after the global setup and
  // before any worker starts; that read used to block on the FIFO for good, with the run lock held.
  it('swapped for a FIFO after the glob: a run fails that test alone, naming the file', () => {
    const { status, message } = failureOf(configFile('fifo', TO_FIFO));
    expect(status).toBe('failed');
    expect(message).toMatch(/gone\.yaml is a FIFO/);
    // The run ended, so it let go of its output dir.
    expect(fs.existsSync(runLockFile(path.join(tmp, 'out')))).toBe(false);
  }, 150_000);

  it('swapped for a FIFO after the glob: vitest list still lists every config', () => {
    expect(listedNames(configFile('fifo-list', TO_FIFO))).toEqual(BOTH);
  }, 150_000);

  it('swapped for a FIFO a silent writer holds open: vitest list still lists every config', () => {
    expect(withSilentWriter('fifo-writer-list', listedNames)).toEqual(BOTH);
  }, 150_000);

  it('swapped for a FIFO after the glob: SIGTERM ends the run, which lets go of its lock', async () => {
    restoreGone();
    const out = path.join(tmp, 'out-signal');
    // The marker says the FIFO is in place; Vitest's own read of the test files comes next.
    const config = configFile('fifo-signal', `${TO_FIFO} console.error('FIFO-IN-PLACE');`);
    const child = spawn(process.execPath, [VITEST, 'run', '--config', config, '-t', 'gone'], {
      cwd: repoRoot,
      env: { ...process.env, GPU_TYPE: 'GB200', OUTPUT_PATH: out },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    child.stderr.on('data', (d: Buffer) => {
      const before = stderr.includes('FIFO-IN-PLACE');
      stderr += d.toString();
      if (!before && stderr.includes('FIFO-IN-PLACE')) child.kill('SIGTERM');
    });
    // A safety bound only: a run stalled on the FIFO ignores SIGTERM.
    const bound = setTimeout(() => child.kill('SIGKILL'), 100_000);
    const { code, signal } = await exited.finally(() => clearTimeout(bound));
    expect(signal, stderr).toBeNull();
    expect(code, stderr).not.toBe(0);
    expect(stderr).toContain('FIFO-IN-PLACE');
    expect(fs.existsSync(runLockFile(out))).toBe(false);
  }, 150_000);
});

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  test: (stem: string) => { status: string | undefined; message: string };
}

/** A whole run (both configs, the default reporter as well as JSON) on its own output dir. */
function runAll(config: string, out: string): Outcome {
  const json = path.join(out, 'report.json');
  fs.mkdirSync(out, { recursive: true });
  restoreGone();
  const r = spawnSync(process.execPath, [VITEST, 'run', '--config', config, ...jsonReportArgs(json)], {
    cwd: repoRoot,
    env: { ...process.env, GPU_TYPE: 'GB200', OUTPUT_PATH: out },
    encoding: 'utf8',
    // A safety bound only (the run used to hang for good, deaf to SIGTERM): it ends on its own.
    timeout: 120_000,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error && (r.error as NodeJS.ErrnoException).code !== 'ETIMEDOUT') throw r.error;
  const stderr = r.stderr + r.stdout;
  const report = fs.existsSync(json)
    ? (JSON.parse(fs.readFileSync(json, 'utf8')) as {
        testResults: Array<{
          assertionResults: Array<{ title: string; status: string; failureMessages: string[] }>;
        }>;
      })
    : { testResults: [] };
  const all = report.testResults.flatMap((f) => f.assertionResults);
  return {
    code: r.status,
    signal: r.signal,
    stderr,
    test: (stem) => {
      const t = all.find((a) => a.title === `disagg_stress_${stem}`);
      return { status: t?.status, message: t?.failureMessages.join('\n') ?? '' };
    },
  };
}

/** The run ended by itself, failing gone.yaml alone (with `why`), passing good.yaml, and let go of its lock. */
function expectOnlyGoneFailed(r: Outcome, out: string, why: RegExp): void {
  expect(r.signal, `killed by the safety bound:\n${r.stderr}`).toBeNull();
  expect(r.code, r.stderr).toBe(1);
  const goneTest = r.test('gone');
  expect(goneTest.status, r.stderr).toBe('failed');
  expect(goneTest.message).toMatch(why);
  const good = r.test('good');
  expect(good.status, good.message || r.stderr).toBe('passed');
  expect(fs.existsSync(runLockFile(out))).toBe(false);
}

describe('a config swapped for a FIFO or a device before Vitest reads it (the run ends on its own)', () => {
  // Beside it, a config the local simulator runs to a pass.
  const good = (): string => path.join(path.dirname(gone), 'good.yaml');
  beforeAll(() => fs.copyFileSync(HEALTHY_CONFIG, good()));
  afterAll(() => fs.copyFileSync(GOOD_CONFIG, good()));

  it('a FIFO nobody writes: only its test fails, naming the file', () => {
    const out = path.join(tmp, 'out-fifo-all');
    const r = runAll(configFile('fifo-all', TO_FIFO), out);
    expectOnlyGoneFailed(r, out, /gone\.yaml is a FIFO \(named pipe\), not a regular file/);
  }, 150_000);

  it('a FIFO a silent writer holds open: only its test fails, naming the file', () => {
    const out = path.join(tmp, 'out-fifo-writer');
    withSilentWriter('fifo-writer', (config) =>
      expectOnlyGoneFailed(
        runAll(config, out),
        out,
        /gone\.yaml is a FIFO \(named pipe\), not a regular file/,
      ),
    );
  }, 150_000);

  // Vitest's own read of a device ran until V8's string limit: its process peaked at ~950 MB with
  // /dev/zero, ~1.5 GB with /dev/urandom (~410 MB with the guard).
  it.each(['/dev/zero', '/dev/urandom'])(
    'a symlink to %s: only its test fails, naming the file, and Vitest stays small',
    (device) => {
      const name = `device-${path.basename(device)}`;
      const out = path.join(tmp, `out-${name}`);
      const status = path.join(tmp, `${name}-status.txt`);
      // The globalSetup's teardown runs in Vitest's own process at the run's end: its peak RSS (VmHWM).
      const r = runAll(
        configFile(
          name,
          `fs.rmSync(gone); fs.symlinkSync(${JSON.stringify(device)}, gone);`,
          `fs.writeFileSync(${JSON.stringify(status)}, fs.readFileSync('/proc/self/status', 'utf8'));`,
        ),
        out,
      );
      expectOnlyGoneFailed(r, out, /gone\.yaml is a character device, not a regular file/);
      const hwm = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(status, 'utf8'));
      expect(hwm).not.toBeNull();
      expect(Number(hwm?.[1]) * 1024, `Vitest's peak RSS: ${hwm?.[1]} kB`).toBeLessThan(MAX_VITEST_RSS);
    },
    150_000,
  );
});

describe('disagg validate on a config that is not a regular file', () => {
  /** `disagg validate <file>` from the sources, in a process of its own (a blocked read stalls it whole). */
  function validate(file: string) {
    const script = `import { main } from ${JSON.stringify(path.join(repoRoot, 'src/cli/main.ts'))};
      import { processIO } from ${JSON.stringify(path.join(repoRoot, 'src/cli/io.ts'))};
      process.exitCode = await main(['validate', ${JSON.stringify(file)}], processIO());`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: repoRoot,
      encoding: 'utf8',
      // A safety bound only: a read of the FIFO would never end (nor heed SIGTERM).
      timeout: 60_000,
      killSignal: 'SIGKILL',
    });
    return { status: r.status, signal: r.signal, output: r.stdout + r.stderr };
  }

  it('a FIFO held open by a silent writer: returns on its own with an error naming it', () => {
    const f = path.join(tmp, 'held.yaml');
    execFileSync('mkfifo', [f]);
    // `sleep 1000 > held.yaml`, by this process: O_RDWR opens a FIFO without waiting for a reader (Linux).
    const writer = fs.openSync(f, 'r+');
    try {
      const r = validate(f);
      expect(r.signal, r.output).toBeNull();
      expect(r.status, r.output).not.toBe(0);
      expect(r.output).toMatch(/held\.yaml is a FIFO \(named pipe\), not a regular file/);
    } finally {
      fs.closeSync(writer);
    }
  }, 90_000);

  it('a symlink to /dev/urandom: returns on its own with an error naming it', () => {
    const f = path.join(tmp, 'random.yaml');
    fs.symlinkSync('/dev/urandom', f);
    const r = validate(f);
    expect(r.signal, r.output).toBeNull();
    expect(r.status, r.output).not.toBe(0);
    expect(r.output).toMatch(/random\.yaml is a character device, not a regular file/);
  }, 90_000);
});
