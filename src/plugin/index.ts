import path from 'node:path';
import type { InlineConfig, Plugin } from 'vite';
import type { Vitest } from 'vitest/node';
// Also brings Vitest's `test` key into Vite's UserConfig type.
import type { TestProjectConfiguration } from 'vitest/config';
import { entryForFile } from '../config/discover.js';
import { tagsFor } from '../config/index.js';
import { sourceOrBuilt } from '../util/package-root.js';
import { resolveOptions, type DisaggOptions, type ResolvedOptions } from './options.js';
import { useDisaggJUnit } from './junit-reporter.js';
import {
  DISAGG_PROJECT,
  fixturesModule,
  groupOrderAfter,
  selectYamlTests,
  yamlProject,
  type YamlSelection,
} from './project.js';
import { configPreread } from './config-preread.js';
import { emptySelectionGuard } from './empty-selection.js';
import { rootProjectEntry } from './root-project.js';
import { runMarker } from './run-mode.js';
import { takeOverSignals } from './signals.js';
import { DisaggSummaryReporter } from './summary-reporter.js';
import { generateModule, generateVerdictModule, readYamlSource, VERDICT_QUERY } from './transform.js';

export type { DisaggOptions, ResolvedOptions } from './options.js';
export { DisaggSummaryReporter } from './summary-reporter.js';
export { DisaggJUnitReporter } from './junit-reporter.js';
export { CATEGORY_TAGS, DISAGG_PROJECT } from './project.js';

declare module 'vitest' {
  interface ProvidedContext {
    disaggOptions: ResolvedOptions;
    disaggBroker: string;
  }
}

function isInside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

// One signal takeover (and JUnit reporter swap) per Vitest instance, whichever of our plugins sees it first.
const signalsTaken = new WeakSet<Vitest>();
function takeOverOnce(vitest: Vitest, options: () => ResolvedOptions, selection: () => YamlSelection): void {
  if (signalsTaken.has(vitest)) return;
  signalsTaken.add(vitest);
  takeOverSignals(vitest);
  const config = vitest.config as unknown as { reporters: unknown[] };
  // JUnit `<properties>` with each test's job, logs and metrics (also for `--reporter=junit`).
  useDisaggJUnit(config);
  // Tells the global setup a run from a collection (`vitest list` must submit and validate nothing).
  // The closing summary and report.html belong to every run, whatever reporters it has (CLI
  // `--reporter` flags replace the config's list, so they are added here, after both are merged).
  config.reporters = [
    ...config.reporters,
    runMarker(vitest),
    emptySelectionGuard(vitest, options),
    new DisaggSummaryReporter(),
    // Vitest reads each YAML test module itself before the workers start: a FIFO or a device must not
    // stall it or fill its memory.
    configPreread(
      selection().modules.kind === 'config' ? selection().files : [],
      options().configLimits.maxBytes,
    ),
  ];
}

/** The options plugin of `disagg()`; `disagg list` finds it by name and reads `api.options`. */
export interface DisaggConfigPlugin extends Plugin {
  name: 'vitest-disagg:config';
  api: { options: DisaggOptions };
}

/**
 * `disagg(options)`: every YAML config under the config dir becomes its own Vitest test, in a test
 * project of its own named `disagg` (tagged `stress`/`perf`/`accuracy` and its test_type, judged by the
 * shared fixtures). Your own tests keep their project, include list and pool. Add it to the `plugins`
 * of vitest.config.ts.
 */
export function disagg(options: DisaggOptions = {}): Plugin[] {
  let resolved: ResolvedOptions | undefined;
  let selection: YamlSelection | undefined;
  const opts = (root?: string): ResolvedOptions => (resolved ??= resolveOptions(options, undefined, root));
  const selected = (): YamlSelection => (selection ??= selectYamlTests(opts()));

  const yamlPlugin: Plugin = {
    name: 'vitest-disagg:yaml',
    enforce: 'pre',
    // Our own read of a YAML test module: never blocks (a FIFO), never fails the module (a config
    // deleted or swapped mid-run fails only its own test, when the fixture loads it).
    load(id) {
      const [file, query] = id.split('?');
      if (!/\.ya?ml$/i.test(file)) return null;
      const isVerdict = query !== undefined && `?${query}` === VERDICT_QUERY;
      const o = opts();
      if (!isVerdict && (query !== undefined || !isInside(o.configDir, file))) return null;
      return readYamlSource(file, o.configLimits.maxBytes);
    },
    transform(code, id) {
      const [file, query] = id.split('?');
      if (!/\.ya?ml$/i.test(file)) return null;
      // A verdict module is loaded by the test of any YAML (a hand-written test may name one elsewhere).
      if (query !== undefined && `?${query}` === VERDICT_QUERY) return generateVerdictModule(file, code);
      const o = opts();
      if (!isInside(o.configDir, file)) return null;
      const entry = entryForFile(file, o.configDir);
      return generateModule(entry, tagsFor(entry), code, fixturesModule());
    },
  };

  // Lives in the YAML project only. Vitest calls configureVitest for the projects it resolved from the
  // config's `test.projects` (the user's or ours), not for injected ones.
  const projectPlugin: Plugin = {
    name: 'vitest-disagg:project',
    configureVitest({ vitest }: { vitest: Vitest }) {
      takeOverOnce(vitest, () => opts(), selected);
    },
  };

  const configPlugin: DisaggConfigPlugin = {
    name: 'vitest-disagg:config',
    api: { options },
    config(config) {
      const o = opts(config.root ? path.resolve(config.root) : process.cwd());
      // Selected now: what was left out (and a test list's unmatched ids) is printed once, at start.
      selected();
      // Ours joins the user's own `test.projects` (Vite merges arrays by appending). Without them, the
      // root config file and ours become the projects (root-project.ts), so that `--project disagg`
      // finds ours; with no config file Vitest accepts there, configureVitest injects it instead.
      const userProjects = config.test?.projects;
      const ours = (groupOrder: number) =>
        yamlProject(o, selected(), [yamlPlugin, projectPlugin], groupOrder);
      // The hook gets Vite's inline config merged with the file: `configFile` is the one Vitest loaded.
      const rootEntry = rootProjectEntry((config as InlineConfig).configFile);
      let projects: TestProjectConfiguration[] | undefined;
      if (Array.isArray(userProjects)) {
        projects = [
          ours(
            groupOrderAfter(
              userProjects.map((p) =>
                typeof p === 'object' && !(p instanceof Promise) ? p.test?.sequence?.groupOrder : 0,
              ),
            ),
          ),
        ];
      } else if (rootEntry) {
        projects = [rootEntry, ours(groupOrderAfter([config.test?.sequence?.groupOrder]))];
      }
      return {
        test: {
          // Root-level: the broker and its options serve every project, so a hand-written test in the
          // user's own project can run a YAML config through the same fixtures.
          globalSetup: [sourceOrBuilt('src/plugin', 'global-setup')],
          provide: { disaggOptions: o },
          watch: o.watch,
          teardownTimeout: 5 * 60_000,
          ...(projects ? { projects } : {}),
        },
      };
    },
    async configureVitest({ vitest, injectTestProjects }) {
      takeOverOnce(vitest, () => opts(), selected);
      // Called once per project that loads this config (e.g. `extends: true` projects): inject once. Also
      // reached when a `--project` filter left ours out (then Vitest filters the injected one out too).
      if (vitest.projects.some((p) => p.name === DISAGG_PROJECT)) return;
      const order = groupOrderAfter(vitest.projects.map((p) => p.config.sequence.groupOrder));
      await injectTestProjects(yamlProject(opts(), selected(), [yamlPlugin], order));
    },
  };

  return [configPlugin];
}

export default disagg;
