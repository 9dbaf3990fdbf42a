// Discovery of config files in the original layout: <configDir>/<test_type>/<category>/<name>.yaml.
import fs from 'node:fs';
import path from 'node:path';
import { CATEGORIES, type Category, type ConfigEntry } from '../types.js';
import { FOLDER_CATEGORIES, testIdFor } from './naming.js';
import { ConfigError } from '../errors.js';

export const DEFAULT_CONFIG_DIR = 'stress-configs';
/** Files directly under the config root count as this type/category (simple repos need no nesting). */
export const ROOT_TEST_TYPE = 'disagg';
export const ROOT_CATEGORY: Category = 'stress';

export type Env = Readonly<Record<string, string | undefined>>;

export interface DiscoveryResult {
  configDir: string;
  entries: ConfigEntry[];
  /** Human-readable notes about what was left out (at most one per kind); never printed here. */
  notices: string[];
}

const YAML_EXT = /\.ya?ml$/i;

export function isCategory(name: string): name is Category {
  return (CATEGORIES as readonly string[]).includes(name);
}

/** The category of a category folder (`perf`, …, or `perf-sanity` → perf); undefined for any other folder. */
export function categoryOfFolder(name: string): Category | undefined {
  return isCategory(name)
    ? name
    : Object.hasOwn(FOLDER_CATEGORIES, name)
      ? FOLDER_CATEGORIES[name]
      : undefined;
}

/**
 * Build the entry of one file whose type and category are known. `folder`: its category folder when
 * that is not the category's own name (`perf-sanity`); the test is named after the folder.
 */
export function makeEntry(
  file: string,
  configDir: string,
  testType: string,
  category: Category,
  folder?: string,
): ConfigEntry {
  const abs = path.resolve(file);
  const stem = path.basename(abs).replace(YAML_EXT, '');
  const other = folder !== undefined && folder !== category ? folder : undefined;
  return {
    file: abs,
    relFile: path.relative(configDir, abs).split(path.sep).join('/'),
    testType,
    category,
    ...(other ? { folder: other } : {}),
    stem,
    testId: testIdFor(testType, other ?? category, stem),
  };
}

/**
 * Entry for a file named on the command line: `<type>/<category>/<file>` when its parent folder is a
 * category folder (perf, accuracy, stress, or perf-sanity judged as perf), else the root rule
 * (disagg/stress), like a file directly under the config dir.
 */
export function entryForFile(file: string, configDir?: string): ConfigEntry {
  const abs = path.resolve(file);
  if (configDir) {
    // Inside the config dir: use exactly the discovery rules, so ids always agree with discovery.
    const root = path.resolve(configDir);
    const parts = path.relative(root, abs).split(path.sep);
    if (parts.length === 1 && parts[0] !== '' && !parts[0].startsWith('..')) {
      return makeEntry(abs, root, ROOT_TEST_TYPE, ROOT_CATEGORY);
    }
    const inDir = parts.length === 3 && parts[0] !== '..' ? categoryOfFolder(parts[1]) : undefined;
    if (inDir) return makeEntry(abs, root, parts[0], inDir, parts[1]);
  }
  const catDir = path.dirname(abs);
  const folder = path.basename(catDir);
  const category = categoryOfFolder(folder);
  if (category) {
    const typeDir = path.dirname(catDir);
    return makeEntry(abs, configDir ?? path.dirname(typeDir), path.basename(typeDir), category, folder);
  }
  return makeEntry(abs, configDir ?? catDir, ROOT_TEST_TYPE, ROOT_CATEGORY);
}

// Code-unit order, not localeCompare: the same on every machine and locale.
const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** What discovery skipped because the file system would not let it in (loops, unreadable dirs). */
interface Skipped {
  loops: string[];
  unreadable: string[];
}

function listDir(dir: string, skipped?: Skipped): fs.Dirent[] {
  let list: fs.Dirent[];
  try {
    list = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    // One unreadable folder (permissions, ELOOP) must not take every other config down with it.
    skipped?.unreadable.push(`${dir} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    return [];
  }
  return list.filter((d) => !d.name.startsWith('.')).sort((a, b) => byName(a.name, b.name));
}

/** stat that follows links and answers undefined for a missing target or a link loop (ELOOP). */
function statOf(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

function realOf(file: string): string | undefined {
  try {
    return fs.realpathSync(file);
  } catch {
    return undefined;
  }
}

function isYamlFile(dir: string, d: fs.Dirent): boolean {
  if (!YAML_EXT.test(d.name)) return false;
  if (d.isFile()) return true;
  // Follow symlinks to files (config trees are sometimes assembled with links).
  return d.isSymbolicLink() && statOf(path.join(dir, d.name))?.isFile() === true;
}

function isDirectory(dir: string, d: fs.Dirent): boolean {
  if (d.isDirectory()) return true;
  return d.isSymbolicLink() && statOf(path.join(dir, d.name))?.isDirectory() === true;
}

/**
 * A linked folder that leads back to itself or to one of its ancestors (`a -> .`, `a -> ..`): following
 * it would walk in circles until ELOOP.
 */
function isLinkLoop(dir: string, d: fs.Dirent, skipped: Skipped, root: string): boolean {
  if (!d.isSymbolicLink()) return false;
  let loops: boolean;
  try {
    const target = fs.realpathSync(path.join(dir, d.name));
    const here = fs.realpathSync(dir);
    const rel = path.relative(target, here);
    loops =
      statOf(target)?.isDirectory() === true &&
      (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel)));
  } catch (e) {
    // `a -> b -> a`: the link never reaches a file or folder.
    loops = (e as NodeJS.ErrnoException).code === 'ELOOP';
  }
  if (loops) skipped.loops.push(path.relative(root, path.join(dir, d.name)).split(path.sep).join('/'));
  return loops;
}

function countYaml(dir: string, skipped: Skipped, root: string, seen = new Set<string>()): number {
  const real = realOf(dir);
  // Each real folder once, and never deeper than any sane tree: link cycles cannot recurse forever.
  if (real === undefined || seen.has(real) || seen.size > 10_000) return 0;
  seen.add(real);
  let n = 0;
  for (const d of listDir(dir, skipped)) {
    if (isLinkLoop(dir, d, skipped, root)) continue;
    if (isDirectory(dir, d)) n += countYaml(path.join(dir, d.name), skipped, root, seen);
    else if (YAML_EXT.test(d.name)) n++;
  }
  return n;
}

/**
 * Find every config under `configDir`, sorted by relative path. Throws only when the directory itself
 * is missing; anything left out (folders that are no category such as `templates`, stray files,
 * duplicate ids) is summarised in `notices`.
 */
export function discoverConfigs(configDir: string): DiscoveryResult {
  const root = path.resolve(configDir);
  const stat = fs.statSync(root, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) {
    throw new ConfigError(
      `Config directory not found: ${root} (set the plugin option configDir or the env variable DISAGG_CONFIG_DIR)`,
    );
  }
  const entries: ConfigEntry[] = [];
  const leftOut: string[] = [];
  const skipped: Skipped = { loops: [], unreadable: [] };
  for (const d of listDir(root, skipped)) {
    if (isLinkLoop(root, d, skipped, root)) continue;
    if (isYamlFile(root, d)) {
      entries.push(makeEntry(path.join(root, d.name), root, ROOT_TEST_TYPE, ROOT_CATEGORY));
      continue;
    }
    if (!isDirectory(root, d)) continue;
    const typeDir = path.join(root, d.name);
    if (d.name === 'templates') {
      leftOut.push(`${d.name}/ (templates, ${countYaml(typeDir, skipped, root)} files)`);
      continue;
    }
    for (const c of listDir(typeDir, skipped)) {
      const sub = path.join(typeDir, c.name);
      if (isLinkLoop(typeDir, c, skipped, root)) continue;
      if (isDirectory(typeDir, c)) {
        const category = categoryOfFolder(c.name);
        if (!category) {
          leftOut.push(`${d.name}/${c.name}/ (${countYaml(sub, skipped, root)} files)`);
          continue;
        }
        for (const f of listDir(sub, skipped)) {
          if (isLinkLoop(sub, f, skipped, root)) continue;
          if (isYamlFile(sub, f))
            entries.push(makeEntry(path.join(sub, f.name), root, d.name, category, c.name));
        }
      } else if (isYamlFile(typeDir, c)) {
        leftOut.push(`${d.name}/${c.name} (not inside a category folder)`);
      }
    }
  }
  entries.sort((a, b) => byName(a.relFile, b.relFile));

  const notices: string[] = [];
  if (leftOut.length > 0) {
    notices.push(
      `Left out ${leftOut.length} path(s) under ${root} that are not <test_type>/{${[...CATEGORIES, ...Object.keys(FOLDER_CATEGORIES)].join(',')}}/*.yaml: ` +
        `${leftOut.join(', ')}`,
    );
  }
  if (skipped.loops.length > 0) {
    notices.push(
      `Skipped ${skipped.loops.length} symlink loop(s) (links that lead back into themselves): ${skipped.loops.join(', ')}`,
    );
  }
  if (skipped.unreadable.length > 0) {
    notices.push(
      `Skipped ${skipped.unreadable.length} unreadable folder(s): ${skipped.unreadable.join(', ')}`,
    );
  }
  // Two files can map to one id (x.yaml and x.yml; root x.yaml and disagg/stress/x.yaml): keep the first.
  const seen = new Map<string, ConfigEntry>();
  const unique: ConfigEntry[] = [];
  const dups: string[] = [];
  for (const e of entries) {
    const first = seen.get(e.testId);
    if (first) dups.push(`${e.relFile} (same test name as ${first.relFile})`);
    else {
      seen.set(e.testId, e);
      unique.push(e);
    }
  }
  if (dups.length > 0) notices.push(`Left out ${dups.length} duplicate config(s): ${dups.join(', ')}`);
  return { configDir: root, entries: unique, notices };
}
