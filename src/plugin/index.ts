import path from 'node:path';
import type { Plugin } from 'vite';
import type { TestTagDefinition } from '@vitest/runner';
import type { Vitest } from 'vitest/node';
// Brings Vitest's `test` key into Vite's UserConfig type.
import type {} from 'vitest/config';
import { discoverConfigs, entryForFile } from '../config/discover.js';
import { readTestList, applyTestList, tagsFor } from '../config/index.js';
import { sourceOrBuilt } from '../util/package-root.js';
import { resolveOptions, type DisaggOptions, type ResolvedOptions } from './options.js';
import { useDisaggJUnit } from './junit-reporter.js';
import { takeOverSignals } from './signals.js';
import { DisaggSummaryReporter } from './summary-reporter.js';
import { generateModule, yamlSyntaxError } from './transform.js';

export type { DisaggOptions, ResolvedOptions } from './options.js';
export { DisaggSummaryReporter } from './summary-reporter.js';
export { DisaggJUnitReporter } from './junit-reporter.js';

const HOUR = 3_600_000;

/** The spec's timeouts per category; the test_type tags carry no timeout. */
export const CATEGORY_TAGS: TestTagDefinition[] = [
  {
    name: 'stress',
    description: 'Disagg stress tests: perf benchmark + accuracy gate (4 h)',
    timeout: 4 * HOUR,
  },
  { name: 'perf', description: 'Disagg performance benchmarks (2 h)', timeout: 2 * HOUR },
  { name: 'accuracy', description: 'Disagg accuracy evaluations (3 h)', timeout: 3 * HOUR },
];

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

const posix = (p: string) => p.split(path.sep).join('/');

/**
 * `disagg(options)`: every YAML config under the config dir becomes its own Vitest test module, tagged
 * `stress`/`perf`/`accuracy` and its test_type, judged by the shared fixtures. Add it to the `plugins`
 * of vitest.config.ts.
 */
export function disagg(options: DisaggOptions = {}): Plugin[] {
  let resolved: ResolvedOptions | undefined;
  const opts = (root?: string): ResolvedOptions => (resolved ??= resolveOptions(options, undefined, root));

  const configPlugin: Plugin = {
    name: 'vitest-disagg:config',
    // The options as the user wrote them: `disagg list|validate|dry-run|cancel` read them from vitest.config.*.
    api: { options },
    config(config) {
      const o = opts(config.root ? path.resolve(config.root) : process.cwd());
      const discovery = discoverConfigs(o.configDir);
      for (const notice of discovery.notices) console.warn(`[vitest-disagg] ${notice}`);
      let files = discovery.entries.map((e) => e.file);
      if (o.testList) {
        const list = readTestList(o.testList);
        const { selected, unmatched } = applyTestList(discovery.entries, list);
        for (const id of unmatched) console.warn(`[vitest-disagg] ${o.testList}: no config matches ${id}`);
        console.warn(
          `[vitest-disagg] test list ${o.testList}: ${selected.length} of ${discovery.entries.length} selected`,
        );
        files = selected.map((e) => e.file);
      }
      const testTypes = [...new Set(discovery.entries.map((e) => e.testType)), 'disagg', 'wideep'];
      const typeTags: TestTagDefinition[] = [...new Set(testTypes)].map((name) => ({
        name,
        description: `test_type ${name}`,
      }));
      return {
        test: {
          // A test list that selects nothing must run nothing, not everything.
          include: files.length
            ? files.map((f) => posix(path.relative(o.root, f)))
            : ['__no_disagg_config__'],
          passWithNoTests: files.length === 0 && !!o.testList,
          includeTaskLocation: true,
          tags: [...CATEGORY_TAGS, ...typeTags],
          // Threads: Ctrl-C reaches only the main process, which cancels jobs; workers just wait on I/O.
          pool: 'threads' as const,
          // One module graph per worker: the fixtures load once, not once per YAML file.
          isolate: false,
          maxWorkers: o.maxWorkers,
          watch: o.watch,
          hookTimeout: 10 * 60_000,
          teardownTimeout: 5 * 60_000,
          globalSetup: [sourceOrBuilt('src/plugin', 'global-setup')],
          // Vitest's reporter plus a closing summary, unless the user chose reporters (CLI flags win anyway).
          ...(config.test?.reporters === undefined
            ? { reporters: ['default', new DisaggSummaryReporter()] }
            : {}),
          provide: { disaggOptions: o },
        },
      };
    },
    configureVitest({ vitest }: { vitest: Vitest }) {
      takeOverSignals(vitest);
      // JUnit `<properties>` with each test's job, logs, metrics (also for `--reporter=junit`).
      useDisaggJUnit(vitest.config as unknown as { reporters: unknown[] });
    },
  };

  const yamlPlugin: Plugin = {
    name: 'vitest-disagg:yaml',
    enforce: 'pre',
    transform(code, id) {
      const file = id.split('?')[0];
      if (!/\.ya?ml$/i.test(file)) return null;
      const o = opts();
      if (!isInside(o.configDir, file)) return null;
      const syntax = yamlSyntaxError(code);
      if (syntax) {
        this.error({
          message: `${path.relative(o.root, file)}:${syntax.line}:${syntax.column}: YAML syntax error: ${syntax.message}`,
          id: file,
          loc: { file, line: syntax.line, column: syntax.column - 1 },
        });
      }
      const entry = entryForFile(file, o.configDir);
      const runtime = posix(sourceOrBuilt('fixtures', 'index'));
      return generateModule(entry, tagsFor(entry), code, runtime);
    },
  };

  return [configPlugin, yamlPlugin];
}

export default disagg;
