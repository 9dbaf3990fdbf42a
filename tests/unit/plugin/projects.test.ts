// The plugin keeps the user's own project and adds the YAML tests as a project of their own: the
// pool/isolate/include choices land on that project only, whether it is injected (no `test.projects`)
// or appended to the user's `test.projects`.
import path from 'node:path';
import type { Plugin, UserConfig } from 'vite';
import type { TestProjectInlineConfiguration } from 'vitest/config';
import type { Vitest } from 'vitest/node';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { disagg, DISAGG_PROJECT, type DisaggConfigPlugin } from '../../../src/plugin/index.js';
import { groupOrderAfter } from '../../../src/plugin/project.js';
import { repoRoot } from '../../fixtures/paths.js';

const TREE = path.join(repoRoot, 'tests/fixtures/configs/tree');

type ConfigHook = (config: UserConfig) => UserConfig;
type VitestHook = (ctx: {
  vitest: Vitest;
  injectTestProjects: (c: TestProjectInlineConfiguration) => Promise<unknown[]>;
}) => Promise<void>;

function configPlugin(options = {}): DisaggConfigPlugin {
  const plugins = disagg({ configDir: TREE, ...options });
  expect(plugins.map((p) => p.name)).toEqual(['vitest-disagg:config']);
  return plugins[0] as DisaggConfigPlugin;
}

const runConfig = (p: Plugin, config: UserConfig) => (p.config as unknown as ConfigHook)(config);

beforeEach(() => {
  // The env would override the options under test.
  for (const name of ['DISAGG_CONFIG_DIR', 'DISAGG_TEST_LIST', 'DISAGG_EXECUTOR']) vi.stubEnv(name, '');
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
});
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('disagg() and the user’s own tests', () => {
  it('exposes its options to `disagg list` as api.options of the plugin named vitest-disagg:config', () => {
    const p = configPlugin({ maxJobsInFlight: 3 });
    expect(p.api.options).toEqual({ configDir: TREE, maxJobsInFlight: 3 });
  });

  it('leaves the root project’s include, pool, isolate and workers alone', () => {
    const out = runConfig(configPlugin(), { root: repoRoot, test: { include: ['tests/**/*.test.ts'] } });
    const test = out.test ?? {};
    for (const key of ['include', 'pool', 'isolate', 'maxWorkers', 'tags', 'projects'] as const) {
      expect(test[key], key).toBeUndefined();
    }
    expect(test.globalSetup).toHaveLength(1);
    expect(test.provide?.disaggOptions?.configDir).toBe(TREE);
    expect(test.watch).toBe(false);
  });

  it('appends the YAML project to the user’s test.projects, after their groups', () => {
    const user: TestProjectInlineConfiguration = {
      test: { name: 'unit', pool: 'forks', sequence: { groupOrder: 2 } },
    };
    const out = runConfig(configPlugin(), { root: repoRoot, test: { projects: [user] } });
    const projects = out.test?.projects as TestProjectInlineConfiguration[];
    expect(projects).toHaveLength(1);
    const ours = projects[0].test ?? {};
    expect(ours).toMatchObject({
      name: DISAGG_PROJECT,
      pool: 'threads',
      isolate: false,
      maxWorkers: 8,
      includeTaskLocation: true,
      sequence: { groupOrder: 3 },
    });
    // Globbed from the config dir (`dir`), not from the root.
    expect(ours.dir).toBe(TREE);
    expect(ours.include).toContain('disagg/stress/anchors.yaml');
    expect(ours.include?.every((f) => /\.ya?ml$/.test(f))).toBe(true);
    expect(ours.tags?.map((t) => t.name)).toEqual(expect.arrayContaining(['stress', 'perf', 'accuracy']));
    expect(projects[0].plugins?.length).toBeGreaterThan(0);
  });

  it('without test.projects, declares the root config file and the YAML project as the projects', () => {
    const configFile = path.join(repoRoot, 'vitest.config.ts');
    const out = runConfig(configPlugin(), {
      root: repoRoot,
      configFile,
      test: { include: ['tests/**/*.test.ts'], sequence: { groupOrder: 4 } },
    } as UserConfig);
    const [root, ours, ...rest] = out.test?.projects ?? [];
    expect(rest).toEqual([]);
    // The root config file stands for Vitest's own root project (root-project.ts).
    expect(root).toBe(configFile);
    expect((ours as TestProjectInlineConfiguration).test).toMatchObject({
      name: DISAGG_PROJECT,
      pool: 'threads',
      sequence: { groupOrder: 5 },
    });
    // The root project's own settings stay its own.
    expect(out.test?.include).toBeUndefined();
    expect(out.test?.pool).toBeUndefined();
  });

  it('declares no projects for a config file Vitest would refuse as a project (then it injects)', () => {
    const out = runConfig(configPlugin(), { root: repoRoot, configFile: '/app/ci.config.ts' } as UserConfig);
    expect(out.test?.projects).toBeUndefined();
  });

  it('injects the YAML project once when the user has no test.projects', async () => {
    const p = configPlugin();
    runConfig(p, { root: repoRoot });
    const injected: TestProjectInlineConfiguration[] = [];
    const projects = [{ name: '', config: { sequence: { groupOrder: 0 } } }];
    const vitest = { projects, config: { reporters: [] } } as unknown as Vitest;
    const inject = async (c: TestProjectInlineConfiguration) => {
      injected.push(c);
      projects.push({ name: DISAGG_PROJECT, config: { sequence: { groupOrder: 1 } } });
      return [];
    };
    // configureVitest also takes over SIGINT/SIGTERM; keep this worker's own handlers.
    const saved = (['SIGINT', 'SIGTERM'] as const).map((s) => [s, process.listeners(s)] as const);
    try {
      const hook = p.configureVitest as unknown as VitestHook;
      await hook({ vitest, injectTestProjects: inject });
      await hook({ vitest, injectTestProjects: inject }); // a project that `extends` the root config
    } finally {
      for (const [s, listeners] of saved) {
        process.removeAllListeners(s);
        for (const l of listeners) process.on(s, l);
      }
    }
    expect(injected).toHaveLength(1);
    expect(injected[0].test).toMatchObject({ name: DISAGG_PROJECT, pool: 'threads', isolate: false });
    expect(injected[0].test?.sequence?.groupOrder).toBe(1);
  });

  it('adds the closing summary (and report.html) to any reporter list, e.g. --reporter=junit alone', async () => {
    const { DisaggSummaryReporter } = await import('../../../src/plugin/summary-reporter.js');
    const { DisaggJUnitReporter } = await import('../../../src/plugin/junit-reporter.js');
    const p = configPlugin();
    const out = runConfig(p, { root: repoRoot });
    // The config sets no reporters: Vitest's default (or the user's/CLI's list) stays as it is.
    expect(out.test?.reporters).toBeUndefined();
    for (const reporters of [['junit'], ['dot'], ['default', ['junit', { outputFile: 'j.xml' }]]]) {
      const vitest = {
        projects: [{ name: DISAGG_PROJECT, config: { sequence: { groupOrder: 1 } } }],
        config: { reporters: [...reporters] },
      } as unknown as Vitest;
      const saved = (['SIGINT', 'SIGTERM'] as const).map((s) => [s, process.listeners(s)] as const);
      try {
        await (p.configureVitest as unknown as VitestHook)({ vitest, injectTestProjects: async () => [] });
      } finally {
        for (const [s, listeners] of saved) {
          process.removeAllListeners(s);
          for (const l of listeners) process.on(s, l);
        }
      }
      const list = vitest.config.reporters as unknown[];
      expect(
        list.filter((r) => r instanceof DisaggSummaryReporter),
        JSON.stringify(reporters),
      ).toHaveLength(1);
      expect(list.filter((r) => r instanceof DisaggJUnitReporter)).toHaveLength(
        reporters.some((r) => r === 'junit' || (Array.isArray(r) && r[0] === 'junit')) ? 1 : 0,
      );
      // The user's own reporters stay.
      for (const r of reporters) if (typeof r === 'string' && r !== 'junit') expect(list).toContain(r);
    }
  });

  it('puts the YAML project after the highest group order (unset counts as 0)', () => {
    expect(groupOrderAfter([undefined, 4, 1])).toBe(5);
    expect(groupOrderAfter([])).toBe(1);
  });
});
