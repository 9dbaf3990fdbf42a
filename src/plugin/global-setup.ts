import path from 'node:path';
import { createTagsFilter } from '@vitest/runner/utils';
import type { TestProject } from 'vitest/node';
import { JobBroker } from '../broker/broker.js';
import { newRunId } from '../broker/job-dirs.js';
import { Ledger } from '../broker/ledger.js';
import { setActiveBroker } from '../broker/registry.js';
import { serveBroker } from '../broker/server.js';
import { entryForFile } from '../config/discover.js';
import { tagsFor } from '../config/index.js';
import { ConfigError } from '../errors.js';
import { createExecutor } from '../executors/index.js';
import { ProgressView } from '../progress/view.js';
import type { ConfigEntry, JobSpec } from '../types.js';
import { jobSpecFor } from './job-spec.js';
import { lazyExecutor } from './lazy-executor.js';
import type { ResolvedOptions } from './options.js';
import { folderModuleOf, folderModulesDir } from './folder-modules.js';
import { DISAGG_PROJECT, selectEntries } from './project.js';
import { collectWithOneWorker, isTestRun } from './run-mode.js';
import { withReporterVerbosity } from './verbose.js';

const log = (message: string) => console.error(`[vitest-disagg] ${message}`);

/** How long the workers wait at most for the first submissions of a run (a slow cluster never blocks). */
const SUBMIT_HEAD_START_MS = 10_000;

/** `work`, or `ms` passed, whichever comes first; the timer never keeps the process alive. */
async function headStart(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms).unref()));
  try {
    await Promise.race([work, bound]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The tests this run will execute, known before any worker starts: the test modules Vitest selected (file
 * filters from the command line), `--tags-filter` and `-t`. A config's module is its YAML, or its folder
 * module (option `testModules`). The generated tests are `describe(<category>) > disaggTest(<id>)`, so the
 * name Vitest matches `-t` against is `<category> <id>`.
 */
async function scheduledEntries(
  project: TestProject,
  yamlProject: TestProject,
  entries: ConfigEntry[],
  options: ResolvedOptions,
): Promise<ConfigEntry[]> {
  const filters = (project.vitest as unknown as { filenamePattern?: string[] }).filenamePattern ?? [];
  const modules = new Set((await yamlProject.globTestFiles(filters)).testFiles.map((f) => path.resolve(f)));
  const folderDir = folderModulesDir(options.root, options.configDir);
  const config = project.config;
  const tagOk = config.tagsFilter?.length ? createTagsFilter(config.tagsFilter, config.tags) : () => true;
  const namePattern = config.testNamePattern;
  return entries.filter((e) => {
    if (!modules.has(e.file) && !modules.has(path.join(folderDir, folderModuleOf(e)))) return false;
    if (!tagOk(tagsFor(e))) return false;
    return !namePattern || namePattern.test(`${e.category} ${e.testId}`);
  });
}

/** Main-process setup: the job broker, its socket for the workers, and up-front submission. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Registered at the root; a project that `extends` the root config inherits it: one broker per run.
  if (!project.isRootProject()) return async () => undefined;
  const options: ResolvedOptions = withReporterVerbosity(
    project.getProvidedContext().disaggOptions,
    project.vitest.config.reporters,
  );
  // What the workers read (`inject('disaggOptions')`): with `--reporter=verbose`, verbose output.
  project.provide('disaggOptions', options);
  if (options.debug.enabled) {
    log(
      `DEBUG_MODE=1: judging logs already in ${path.join(options.outputPath, 'slurm_logs')}, submitting nothing`,
    );
    project.provide('disaggBroker', '');
    return async () => undefined;
  }
  const { discovery, selected } = selectEntries(options);
  const byId = new Map(discovery.entries.map((e) => [e.testId, e]));
  // One run id for the whole run: every job of it gets its own dir under slurm_logs/runs/<runId>/.
  const runId = newRunId();
  // A hand-written test names its YAML (`disaggTest.config(file)`), which may lie outside the config dir.
  const register = (testId: string, configFile: string | undefined) => {
    if (!configFile) return;
    const known = byId.get(testId);
    if (known && path.resolve(known.file) !== path.resolve(configFile)) {
      throw new Error(
        `${configFile} has the test name ${testId} of ${known.file}: rename one of them (the name is {test_type}_{category}_{file stem})`,
      );
    }
    if (!known) byId.set(testId, entryForFile(configFile, options.configDir));
  };
  const specs = new Map<string, Promise<JobSpec>>();
  const specFor = (entry: ConfigEntry): Promise<JobSpec> => {
    let spec = specs.get(entry.testId);
    // Cached per test, so the run says once per file that an old-format config is uploaded converted.
    if (!spec) specs.set(entry.testId, (spec = jobSpecFor(entry, options, runId, log)));
    return spec;
  };
  // Created on the first job request: `vitest list` must work without SSH settings or a cluster.
  // The executor's own notes (e.g. `sbatch refused (QOS…); retrying in 15 s`) go to the run's log, so a
  // submission waiting out a QOS limit is visible, not a silent pause.
  const executor = lazyExecutor(options.executor, () =>
    createExecutor(options.executor, options.executorSettings, { log }),
  );
  const ledger = new Ledger(options.outputPath);
  const broker = new JobBroker({
    executor,
    ledger,
    runId,
    settings: options,
    specFor: async (testId) => {
      const entry = byId.get(testId);
      if (!entry) throw new ConfigError(`no config for test ${testId} under ${options.configDir}`);
      return specFor(entry);
    },
    log,
  });
  setActiveBroker(broker);
  const progress = new ProgressView({
    write: log,
    heartbeatMs: options.heartbeatMs,
    tty: !!process.stderr.isTTY,
  });
  const stopProgress = progress.subscribe(broker.events);
  const server = await serveBroker(broker, { onRun: register });
  project.provide('disaggBroker', server.socketPath);

  // `--project` may leave the YAML project out of the run: then no YAML test asks, so plan none.
  const yamlProjects = project.vitest.projects.filter((p) => p.name === DISAGG_PROJECT);
  const collectOnly = !isTestRun(project.vitest);
  // `vitest list` only collects: no config is validated or submitted here (that is per-file work a
  // listing of 1,000 configs must not pay), and the YAML project lists with one worker.
  if (collectOnly) for (const p of yamlProjects) collectWithOneWorker(p);

  // Submit every scheduled, valid, supported config now: wall time then approaches the cluster's
  // capacity bound instead of the sum of job times. Invalid or skipped ones are reported by their test.
  const scheduled: string[] = [];
  const planned =
    yamlProjects.length && !collectOnly
      ? await scheduledEntries(project, yamlProjects[0], selected, options)
      : [];
  for (const entry of planned) {
    try {
      await specFor(entry);
      scheduled.push(entry.testId);
    } catch {
      // the test itself reports why (validation error, skip, unresolved placeholder)
    }
  }
  const teardown = async () => {
    // The server must close even if the broker's close fails, or the process waits for vitest's close timeout.
    try {
      await broker.close();
    } finally {
      stopProgress();
      progress.close();
      setActiveBroker(undefined);
      await server.close();
    }
  };
  if (scheduled.length) {
    // A ledger that cannot be read fails the run now, before any job is submitted, with its reason.
    try {
      await ledger.read();
    } catch (err) {
      await teardown();
      throw err;
    }
    const limit = options.maxJobsInFlight ? `at most ${options.maxJobsInFlight} at once` : 'all at once';
    log(`${options.executor} executor: ${scheduled.length} job(s) to submit when the run starts, ${limit}`);
    broker.plan(scheduled);
    // Now, before any worker starts: with `-t <one>` over 1,000 files its test may come last. The first
    // wave gets a head start: once the workers run, the main thread and its fs threads serve their
    // transforms and a submission would wait behind them. A failure to start reaches the tests through
    // their `run` (the same promise).
    await headStart(
      broker.submitPlanned().catch(() => undefined),
      SUBMIT_HEAD_START_MS,
    );
  }

  return teardown;
}
