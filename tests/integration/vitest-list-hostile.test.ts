// One bad YAML never aborts `vitest list` (with or without --static-parse) or a run: it shows as that
// test's failure, with the file, position and what is wrong; the good configs beside it still list.
// Needs no cluster: listing runs nothing, and the hostile tests fail before any job is submitted.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../fixtures/paths.js';
import { HOSTILE_FILES, type HostileFile, writeHostileTree } from '../fixtures/hostile-configs.js';

const VITEST = path.join(repoRoot, 'node_modules/vitest/vitest.mjs');
const stem = (name: string): string => name.replace(/\.yaml$/, '');
const EXPECTED = ['good', 'n%x%j', ...HOSTILE_FILES.map((h) => stem(h.name))]
  .map((s) => `stress > disagg_stress_${s}`)
  .sort();

let tmp: string;
let tree: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'disagg-list-hostile-'));
  tree = path.join(tmp, 'configs');
  writeHostileTree(tree);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function vitest(args: string[]) {
  const r = spawnSync(process.execPath, [VITEST, ...args], {
    cwd: repoRoot,
    env: { ...process.env, DISAGG_CONFIG_DIR: tree, GPU_TYPE: 'GB200', OUTPUT_PATH: path.join(tmp, 'out') },
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return r;
}

function listed(args: string[]): string[] {
  const r = vitest(['list', '--json', ...args]);
  expect(r.status, r.stderr).toBe(0);
  return (JSON.parse(r.stdout.slice(r.stdout.indexOf('['))) as Array<{ name: string }>)
    .map((t) => t.name)
    .sort();
}

describe('vitest on a config tree with hostile files', () => {
  it('vitest list shows every config, the hostile ones included', () => {
    expect(listed([])).toEqual(EXPECTED);
  }, 150_000);

  it('vitest list --static-parse shows the same names', () => {
    expect(listed(['--static-parse'])).toEqual(EXPECTED);
  }, 150_000);

  it('running them fails each hostile test with its own message naming its file', () => {
    const out = path.join(tmp, 'report.json');
    const pattern = HOSTILE_FILES.map((h) => stem(h.name)).join('|');
    const r = vitest(['run', '-t', pattern, '--reporter=json', `--outputFile=${out}`]);
    expect(r.status, r.stderr).toBe(1);
    const report = JSON.parse(fs.readFileSync(out, 'utf8')) as {
      testResults: Array<{
        name: string;
        assertionResults: Array<{ title: string; status: string; failureMessages: string[] }>;
      }>;
    };
    const results = report.testResults.flatMap((f) =>
      f.assertionResults.map((a) => ({ file: f.name, ...a })),
    );
    for (const h of HOSTILE_FILES) {
      const t = results.find((a) => a.title === `disagg_stress_${stem(h.name)}`);
      expect(t?.status, h.name).toBe('failed');
      expect(t?.failureMessages.join('\n'), h.name).toMatch(h.expect);
      expect(t?.failureMessages.join('\n'), h.name).toContain(h.name);
    }
  }, 150_000);
});

describe('signals while configs load', () => {
  let big: string;
  let many: string | undefined;
  /** 1,500 copies of an example config (written once). */
  const manyConfigs = (): string => {
    if (many) return many;
    many = path.join(tmp, 'many-small');
    const dir = path.join(many, 'disagg', 'perf');
    fs.mkdirSync(dir, { recursive: true });
    const examples = path.join(repoRoot, 'stress-configs/disagg/perf');
    const yaml = fs.readFileSync(path.join(examples, fs.readdirSync(examples)[0]), 'utf8');
    for (let i = 0; i < 1500; i++) fs.writeFileSync(path.join(dir, `c${i}.yaml`), yaml);
    return many;
  };
  beforeAll(() => {
    // Thirty copies of every hostile file: loading them all (about 14 s on a quiet 2-core machine) takes
    // far longer than the signal may.
    big = path.join(tmp, 'many');
    const files: HostileFile[] = [];
    for (let i = 0; i < 30; i++) for (const h of HOSTILE_FILES) files.push({ ...h, name: `${i}-${h.name}` });
    writeHostileTree(big, files);
  });

  /** Start a command, send `signal` once it has loaded for `afterMs`, and time how long it takes to end. */
  async function secondsToEnd(
    args: string[],
    signal: NodeJS.Signals,
    afterMs: number,
    env: Record<string, string> = {},
  ): Promise<number> {
    const child = spawn(process.execPath, args, {
      cwd: repoRoot,
      env: {
        ...process.env,
        DISAGG_CONFIG_DIR: big,
        GPU_TYPE: 'GB200',
        OUTPUT_PATH: path.join(tmp, 'out'),
        ...env,
      },
      stdio: 'ignore',
    });
    const ended = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const stillRunning = await Promise.race([
      ended.then(() => false),
      new Promise<boolean>((r) => setTimeout(() => r(true), afterMs)),
    ]);
    expect(stillRunning, 'the command ended before the signal: the tree loads too fast to test').toBe(true);
    const sent = performance.now();
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await ended;
    clearTimeout(timer);
    return (performance.now() - sent) / 1000;
  }

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} ends vitest list within 10 s`, async () => {
      // `vitest list` reads no config, so the hostile files cost it nothing: 1,500 configs, one test module
      // each (about 20 s to list on 2 cores), keep it busy long enough.
      const s = await secondsToEnd([VITEST, 'list', '--json'], signal, 3000, {
        DISAGG_CONFIG_DIR: manyConfigs(),
        DISAGG_TEST_MODULES: 'config',
      });
      console.log(`${signal}: vitest list ended ${s.toFixed(1)} s after the signal`);
      expect(s).toBeLessThan(10);
    }, 120_000);

    it(`${signal} ends disagg validate within 10 s`, async () => {
      const script = `import { main } from ${JSON.stringify(path.join(repoRoot, 'src/cli/main.ts'))};
        process.exitCode = await main(['validate', ${JSON.stringify(big)}], {
          stdout: () => {}, stderr: () => {}, env: process.env, cwd: process.cwd() });`;
      const args = ['--import', 'tsx', '--input-type=module', '-e', script];
      expect(await secondsToEnd(args, signal, 3000)).toBeLessThan(10);
    }, 120_000);
  }
});
