// The CLI sees what `npx vitest` sees: the `disagg({...})` options of the project's vitest.config.*
// (or `--config <file>`), resolved by the same settings core with the same env and env file.
import fs from 'node:fs';
import path from 'node:path';
import { SettingsError } from '../errors.js';
import type { DisaggOptions, ResolvedOptions } from '../settings/options.js';
import { resolveSettings, withFlags, type SettingFlags } from '../settings/resolve.js';
import type { CliIO } from './io.js';

/** The name of the plugin that carries the user's options on `api.options` (src/plugin/index.ts). */
const PLUGIN_NAME = 'vitest-disagg:config';

const CONFIG_NAMES = ['vitest.config', 'vite.config'].flatMap((stem) =>
  ['ts', 'mts', 'cts', 'js', 'mjs', 'cjs'].map((ext) => `${stem}.${ext}`),
);

export interface ProjectOptions {
  /** The config file read, if any. */
  configFile?: string;
  /** The project root relative paths resolve against (the config's `root`, else the working dir). */
  root: string;
  /** The options given to `disagg()` there ({} when there is no config file or no disagg plugin). */
  options: DisaggOptions;
}

/** vitest.config.* first, as Vitest does, then vite.config.*. */
export function findConfigFile(cwd: string): string | undefined {
  return CONFIG_NAMES.map((n) => path.join(cwd, n)).find((f) => fs.existsSync(f));
}

interface PluginLike {
  name?: unknown;
  api?: { options?: DisaggOptions };
}

/** Depth-first through nested plugin arrays (and awaited promises), as Vite flattens them. */
async function findInPlugins(plugins: unknown, depth = 0): Promise<DisaggOptions | undefined> {
  const value: unknown = await plugins;
  if (depth > 8 || !value) return undefined;
  if (Array.isArray(value)) {
    for (const p of value) {
      const found = await findInPlugins(p, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  const p = value as PluginLike;
  return p.name === PLUGIN_NAME && p.api?.options ? p.api.options : undefined;
}

interface ConfigLike {
  root?: string;
  plugins?: unknown;
  test?: { projects?: unknown };
}

/** The disagg() options of a loaded config: its own plugins, else an inline `test.projects` entry. */
async function disaggOptionsOf(config: ConfigLike): Promise<DisaggOptions | undefined> {
  const own = await findInPlugins(config.plugins);
  if (own) return own;
  const projects = Array.isArray(config.test?.projects) ? (config.test.projects as unknown[]) : [];
  for (const project of projects) {
    if (project && typeof project === 'object') {
      const found = await findInPlugins((project as ConfigLike).plugins);
      if (found) return found;
    }
  }
  return undefined;
}

/** Load the project's config (Vite's own loader, so TS configs work) and take the disagg() options. */
export async function readProjectOptions(cwd: string, configFlag?: string): Promise<ProjectOptions> {
  const file = configFlag ? path.resolve(cwd, configFlag) : findConfigFile(cwd);
  if (configFlag && !fs.existsSync(file as string)) {
    throw new SettingsError(`--config ${configFlag}: no such file (${file})`);
  }
  if (!file) return { root: cwd, options: {} };
  const vite = await import('vite');
  let loaded: Awaited<ReturnType<typeof vite.loadConfigFromFile>>;
  try {
    loaded = await vite.loadConfigFromFile(
      { command: 'serve', mode: 'test' },
      file,
      path.dirname(file),
      'silent',
    );
  } catch (err) {
    throw new SettingsError(`cannot load ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (!loaded) throw new SettingsError(`cannot load ${file}`);
  const config = loaded.config as ConfigLike;
  const root = config.root ? path.resolve(cwd, config.root) : cwd;
  return { configFile: file, root, options: (await disaggOptionsOf(config)) ?? {} };
}

/**
 * Settings for a CLI command: project config options < env file < env < flags, by the settings core.
 */
export async function cliSettings(
  io: Pick<CliIO, 'cwd' | 'env'>,
  flags: SettingFlags = {},
): Promise<ResolvedOptions & { configFile?: string }> {
  const project = await readProjectOptions(io.cwd, flags.config);
  const settings = resolveSettings(project.options, withFlags(io.env, flags, io.cwd), project.root);
  return { ...settings, configFile: project.configFile };
}
