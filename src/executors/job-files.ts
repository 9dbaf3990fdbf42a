import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { JobSpec } from '../types.js';
import { CONFIG_FILE, CTX_CONFIG_FILE, GEN_CONFIG_FILE, SIM_BUNDLE, SIM_SCRIPT } from '../jobdir/files.js';
import { packageRoot } from '../util/package-root.js';

/** One file placed in a job dir before the job starts. */
export interface JobFile {
  name: string;
  content?: string;
  localPath?: string;
  mode?: number;
}

export { SIM_BUNDLE, SIM_SCRIPT };

/** The simulator's job script and bundle, as shipped in this package. */
export function simulatorFiles(): { script: string; bundle: string } {
  const root = packageRoot();
  const script = path.join(root, 'scripts', SIM_SCRIPT);
  const bundle = path.join(root, 'dist', 'sim', SIM_BUNDLE);
  if (!fs.existsSync(bundle)) {
    throw new Error(
      `The simulator bundle ${bundle} is missing. Run \`npm run build\` in ${root} (npm ci does it).`,
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

export async function fileContent(file: JobFile): Promise<string | Buffer> {
  if (file.content !== undefined) return file.content;
  if (file.localPath) return fs.promises.readFile(file.localPath);
  throw new Error(`job file ${file.name} has neither content nor localPath`);
}
