import path from 'node:path';

// `vitest --project disagg` without the user's `test.projects`: Vitest keeps its root project only when
// the filter matches the root's name, and the plugin cannot see the filter (Vitest keeps CLI options
// out of the Vite config its plugins get). So, whatever the filter, the plugin declares the run's
// projects itself: the root config file and the YAML project. Vitest's documented rule ("the root
// config is a project only when `test.projects` names it") makes that entry the root project itself,
// filtered like any other, so no filter leaves Vitest with nothing to run. (Vitest 4.1 reads `projects`
// of the root config only: a project config file that holds disagg() declares them to no effect.)
// tests/integration/project-filter.test.ts fails if Vitest ever loads that entry as a second project.

/** The config file names Vitest accepts as a project in `test.projects` (its guide, "Test Projects"). */
const PROJECT_CONFIG_NAME = /^vite(?:st)?(?:\.[\w-]+)?\.config\./;

/**
 * The `test.projects` entry that stands for the root project: the root config file, as Vitest names it
 * (absolute, `/`-separated). Undefined when there is no config file (a config passed inline) or Vitest
 * would refuse its name (`ci.config.ts`): the YAML project is then injected beside the root project,
 * and a filter that leaves out the root needs the user's own `test.projects`.
 */
export function rootProjectEntry(configFile: string | false | undefined): string | undefined {
  if (typeof configFile !== 'string' || !configFile) return undefined;
  if (!PROJECT_CONFIG_NAME.test(path.basename(configFile))) return undefined;
  return path.resolve(configFile).split(path.sep).join('/');
}
