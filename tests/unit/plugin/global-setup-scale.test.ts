// The global setup over many configs does O(1) per-config work when it only collects (`vitest list`):
// no config is loaded or validated, nothing is submitted, the YAML project collects with one worker. On
// a run with `-t <one name>` it validates and submits exactly that one config, before the workers start
// (the setup returns only after the submission). Counts, not timings.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TestProject, Vitest } from 'vitest/node';
import { Ledger } from '../../../src/broker/ledger.js';
import setup from '../../../src/plugin/global-setup.js';
import { resolveOptions } from '../../../src/plugin/options.js';
import { folderModulesDir } from '../../../src/plugin/folder-modules.js';
import { COLLECT_WORKERS, runMarker } from '../../../src/plugin/run-mode.js';
import type { JobStatus, SubmittedJob } from '../../../src/types.js';
import { repoRoot } from '../../fixtures/paths.js';

const calls = vi.hoisted(() => ({ specs: 0, submitted: [] as string[], cancelled: [] as string[] }));

vi.mock('../../../src/plugin/job-spec.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../src/plugin/job-spec.js')>();
  return {
    ...real,
    jobSpecFor: (...args: Parameters<typeof real.jobSpecFor>) => {
      calls.specs++;
      return real.jobSpecFor(...args);
    },
  };
});

vi.mock('../../../src/executors/index.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../src/executors/index.js')>();
  return {
    ...real,
    // Records what the broker asks; its jobs stay RUNNING until cancelled.
    createExecutor: async () => ({
      kind: 'local',
      submit: async (spec: { testId: string; localLogDir: string }): Promise<SubmittedJob> => {
        calls.submitted.push(spec.testId);
        return {
          jobId: String(1000 + calls.submitted.length),
          testId: spec.testId,
          jobDir: spec.localLogDir,
          submittedAt: new Date().toISOString(),
        };
      },
      poll: async (jobs: readonly SubmittedJob[]) =>
        new Map<string, JobStatus>(
          jobs.map((j) => [
            j.jobId,
            { jobId: j.jobId, state: calls.cancelled.includes(j.jobId) ? 'CANCELLED' : 'RUNNING' },
          ]),
        ),
      cancel: async (jobs: readonly SubmittedJob[]) => {
        calls.cancelled.push(...jobs.map((j) => j.jobId));
      },
      scanEarlyFailure: async () => undefined,
      fetchLogs: async () => undefined,
      close: async () => undefined,
    }),
  };
});

const COUNT = 60;
let base: string;
let configDir: string;
let ids: string[];

beforeEach(() => {
  calls.specs = 0;
  calls.submitted = [];
  calls.cancelled = [];
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'disagg-setup-scale-'));
  configDir = path.join(base, 'configs');
  const source = path.join(repoRoot, 'stress-configs');
  const files = fs
    .readdirSync(source, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  ids = [];
  for (let i = 0; i < COUNT; i++) {
    const rel = files[i % files.length];
    const stem = `${path.basename(rel, '.yaml')}-${i}`;
    const target = path.join(configDir, path.dirname(rel), `${stem}.yaml`);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(path.join(source, rel), target);
    const [testType, category] = path.dirname(rel).split(path.sep);
    ids.push(`${testType}_${category}_${stem}`);
  }
});

afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

/** The main process as the global setup sees it: the root project plus the YAML project. */
function fakeRun(
  testNamePattern?: RegExp,
  /** The test modules Vitest selected (after file filters); default every YAML. */
  modules?: string[],
  testModules: 'config' | 'folder' = 'config',
) {
  const options = resolveOptions(
    { configDir, outputPath: path.join(base, 'out'), testModules, maxJobsInFlight: 0 },
    {},
    repoRoot,
  );
  const vitest = {
    projects: [] as unknown[],
    filenamePattern: [],
    config: { reporters: [] },
  } as unknown as Vitest & {
    projects: unknown[];
  };
  const yamlFiles = () =>
    fs
      .readdirSync(configDir, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => path.join(configDir, f));
  const yamlProject = {
    name: 'disagg',
    config: { maxWorkers: 8 },
    vitest,
    globTestFiles: async () => ({ testFiles: modules ?? yamlFiles(), typecheckTestFiles: [] }),
  };
  const root = {
    name: '',
    isRootProject: () => true,
    getProvidedContext: () => ({ disaggOptions: options }),
    provide: () => undefined,
    vitest,
    config: { root: repoRoot, tags: [], tagsFilter: undefined, testNamePattern },
  };
  vitest.projects.push(root, yamlProject);
  return {
    project: root as unknown as TestProject,
    yamlProject,
    vitest,
    ledger: path.join(base, 'out/jobs.json'),
  };
}

describe(`global setup over ${COUNT} configs`, () => {
  it('a collection (vitest list) validates and submits nothing, and collects with one worker', async () => {
    const run = fakeRun();
    const teardown = await setup(run.project);
    expect(calls.specs).toBe(0);
    expect(calls.submitted).toEqual([]);
    expect(fs.existsSync(run.ledger)).toBe(false);
    expect(run.yamlProject.config.maxWorkers).toBe(COLLECT_WORKERS);
    await teardown();
    // A later run of the same Vitest instance gets its workers back.
    runMarker(run.vitest).onTestRunStart?.([]);
    expect(run.yamlProject.config.maxWorkers).toBe(8);
  });

  it('a run with -t <one name> validates and submits exactly that config before the workers start', async () => {
    const one = ids[COUNT - 1];
    const run = fakeRun(new RegExp(`${one}$`));
    runMarker(run.vitest).onTestRunStart?.([]);
    const teardown = await setup(run.project);
    // Submitted when the setup returns, i.e. before Vitest starts a worker.
    expect(calls.submitted).toEqual([one]);
    expect(calls.specs).toBe(1);
    expect(run.yamlProject.config.maxWorkers).toBe(8);
    // Mid-run: jobs.json with its journal applied, as every reader sees the ledger.
    const ledger = await new Ledger(path.dirname(run.ledger)).read();
    expect(ledger.jobs.map((j) => j.testId)).toEqual([one]);
    await teardown();
    expect(calls.cancelled).toEqual(['1001']);
  });

  it('submits only the configs of the test modules Vitest selected (file filters)', async () => {
    const picked = [ids[0], ids[7]];
    const files = picked.map((id) => {
      const rel = fs
        .readdirSync(configDir, { recursive: true, encoding: 'utf8' })
        .find((f) => f.endsWith(`${id.split('_').slice(2).join('_')}.yaml`));
      return path.join(configDir, rel as string);
    });
    const run = fakeRun(undefined, files);
    runMarker(run.vitest).onTestRunStart?.([]);
    const teardown = await setup(run.project);
    expect([...calls.submitted].sort()).toEqual([...picked].sort());
    await teardown();
  });

  it('with one module per folder, a selected module submits the configs of its folder', async () => {
    const run = fakeRun(undefined, [], 'folder');
    const dir = folderModulesDir(repoRoot, configDir);
    // Vitest selected the disagg/perf module only.
    (run.yamlProject as { globTestFiles: unknown }).globTestFiles = async () => ({
      testFiles: [path.join(dir, 'disagg/perf.mjs')],
      typecheckTestFiles: [],
    });
    runMarker(run.vitest).onTestRunStart?.([]);
    const teardown = await setup(run.project);
    const perf = ids.filter((id) => id.startsWith('disagg_perf_'));
    expect(perf.length).toBeGreaterThan(0);
    expect([...calls.submitted].sort()).toEqual([...perf].sort());
    await teardown();
  });
});
