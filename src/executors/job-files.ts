// What every job dir receives before its job starts, whatever the scheduler: the resolved config, the
// worker configs and, for the simulator, its script and bundle.

import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { ConfigError, SubmitError } from '../errors.js';
import { CONFIG_FILE, CTX_CONFIG_FILE, GEN_CONFIG_FILE, SIM_BUNDLE, SIM_SCRIPT } from '../jobdir/files.js';
import type { JobSpec } from '../types.js';
import { packageRoot } from '../util/package-root.js';
import type { PlannedFile, Upload } from './types.js';

/** One file placed in a job dir before the job starts. */
export interface JobFile {
  name: string;
  content?: string;
  localPath?: string;
  mode?: number;
}

/** The simulator's job script and bundle, as shipped in this package. */
export function simulatorFiles(): { script: string; bundle: string } {
  const root = packageRoot();
  const script = path.join(root, 'scripts', SIM_SCRIPT);
  const bundle = path.join(root, 'dist', 'sim', SIM_BUNDLE);
  if (!fs.existsSync(bundle)) {
    throw new SubmitError(
      `The simulator bundle ${bundle} is missing. Run \`npm run build\` in ${root} (npm ci does it).`,
      false,
    );
  }
  return { script, bundle };
}

/** True when the config runs on the built-in simulator (its script is ours, or it has `simulator:`). */
export function usesSimulator(spec: Pick<JobSpec, 'config'>): boolean {
  const script = spec.config.slurm?.script_file ?? spec.config.metadata?.script_file;
  return path.basename(String(script ?? '')) === SIM_SCRIPT || spec.config.simulator !== undefined;
}

/**
 * Everything a job dir receives: the resolved config, the worker configs (as the original's submit.py
 * writes them) and, for the simulator, its script and bundle — so a job never reads the developer's
 * checkout (an SSH user on a cluster cannot).
 */
export function jobFiles(spec: JobSpec): JobFile[] {
  const files: JobFile[] = [
    { name: CONFIG_FILE, content: stringify(spec.config, { lineWidth: 0 }) },
    { name: CTX_CONFIG_FILE, content: stringify(spec.config.worker_config?.ctx ?? {}, { lineWidth: 0 }) },
    { name: GEN_CONFIG_FILE, content: stringify(spec.config.worker_config?.gen ?? {}, { lineWidth: 0 }) },
  ];
  if (usesSimulator(spec)) {
    const sim = simulatorFiles();
    files.push({ name: SIM_SCRIPT, localPath: sim.script, mode: 0o755 });
    files.push({ name: SIM_BUNDLE, localPath: sim.bundle, mode: 0o755 });
  }
  return files;
}

function sizeOf(f: JobFile): number {
  if (f.content !== undefined) return Buffer.byteLength(f.content);
  if (f.localPath) return fs.statSync(f.localPath).size;
  return 0;
}

/** The job files plus the caller's extra uploads (an upload replaces a job file of the same name). */
export function planFiles(spec: JobSpec, jobDir: string, uploads: readonly Upload[] = []): PlannedFile[] {
  const files: PlannedFile[] = jobFiles(spec).map((f) => ({
    name: f.name,
    remotePath: path.posix.join(jobDir, f.name),
    size: sizeOf(f),
    mode: f.mode,
    content: f.content,
    localPath: f.localPath,
  }));
  for (const u of uploads) {
    const planned = {
      name: u.name,
      remotePath: path.posix.join(jobDir, u.name),
      size: fs.statSync(u.localPath).size,
      mode: u.mode,
      localPath: u.localPath,
    };
    const i = files.findIndex((f) => f.name === u.name);
    if (i >= 0) files[i] = planned;
    else files.push(planned);
  }
  return files;
}

/**
 * Find a non-simulator job script on this machine (the config's dir first, then `searchDirs`); an
 * absolute path not found here is taken as a path on the submit host, and so is a relative one when
 * `remoteScriptDir` names the launcher folder there.
 */
export function resolveScript(
  spec: JobSpec,
  script: string,
  searchDirs: readonly string[],
  remoteScriptDir?: string,
): { localPath?: string; remotePath?: string } {
  const candidates = path.isAbsolute(script)
    ? [script]
    : [path.dirname(spec.configFile), ...searchDirs].map((d) => path.resolve(d, script));
  const found = candidates.find((c) => fs.existsSync(c));
  if (found) return { localPath: found };
  if (path.isAbsolute(script)) return { remotePath: script };
  if (remoteScriptDir) return { remotePath: path.posix.join(remoteScriptDir, script) };
  throw new ConfigError(
    `${spec.configFile}: job script ${script} not found; looked in ${candidates.map((c) => path.dirname(c)).join(', ')}. ` +
      `Use script_file: ${SIM_SCRIPT} for the simulator, an absolute path on the cluster, or set SCRIPT_DIR.`,
    spec.configFile,
  );
}

/**
 * The job script's path on the submit host: a script found here is planned as an upload into `dir`
 * (added to `files`), else it is where `resolveScript` said it is there.
 */
export function placeScript(
  found: { localPath?: string; remotePath?: string },
  dir: string,
  name: string,
  files: PlannedFile[],
): string {
  if (!found.localPath) return found.remotePath as string;
  const remotePath = path.posix.join(dir, name);
  files.push({
    name,
    remotePath,
    size: fs.statSync(found.localPath).size,
    mode: 0o755,
    localPath: found.localPath,
  });
  return remotePath;
}

export async function fileContent(
  file: Pick<PlannedFile, 'name' | 'content' | 'localPath'>,
): Promise<string | Buffer> {
  if (file.content !== undefined) return file.content;
  if (file.localPath) return fs.promises.readFile(file.localPath);
  throw new SubmitError(`job file ${file.name} has neither content nor localPath`, false);
}
