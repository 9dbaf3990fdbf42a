// `disagg dry-run <config.yaml> [--executor local|slurm|ssh] [--config F] [--json]`: what would be
// uploaded and the exact command that would run, without submitting anything or connecting anywhere.
// The executor defaults to the plugin's (disagg() options, DISAGG_EXECUTOR), so it shows what
// `npx vitest` would do.

import fs from 'node:fs';
import path from 'node:path';
import { entryForFile } from '../config/index.js';
import { jobFiles, SIM_SCRIPT, usesSimulator } from '../executors/job-files.js';
import { planSubmission, remoteJobDir } from '../executors/slurm.js';
import { describeSsh, remoteWorkDir, resolveSshSettings } from '../executors/ssh-settings.js';
import { jobSpecFor } from '../plugin/job-spec.js';
import { legacyExecutorOptions } from '../settings/executor-options.js';
import type { ResolvedOptions } from '../settings/options.js';
import type { ExecutorKind } from '../settings/types.js';
import type { JobSpec } from '../types.js';
import { parseCommandArgs, UsageError, type CliCommand } from './io.js';
import { cliSettings } from './project-options.js';

export const usage =
  'usage: disagg dry-run <config.yaml> [--executor local|slurm|ssh] [--config <vitest config file>] [--json]\n' +
  '  the executor defaults to the one `npx vitest` uses (disagg() option executor, DISAGG_EXECUTOR)';

const KINDS: readonly ExecutorKind[] = ['local', 'slurm', 'ssh'];

/** What a dry run shows, whatever the executor. */
export interface DryRunPlan {
  target: string;
  launcher: string;
  jobDir: string;
  files: Array<{ name: string; path: string; size: number }>;
  cwd: string;
  argv: string[];
  env: Record<string, string>;
  commandLine: string;
  notes: string[];
}

function human(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

const shq = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The local executor: the job dir is the log dir, the job script runs under bash there. */
function localPlan(spec: JobSpec): DryRunPlan {
  const jobDir = spec.localLogDir;
  const files = jobFiles(spec).map((f) => ({
    name: f.name,
    path: path.join(jobDir, f.name),
    size:
      f.content !== undefined
        ? Buffer.byteLength(f.content)
        : f.localPath
          ? fs.statSync(f.localPath).size
          : 0,
  }));
  const script = usesSimulator(spec)
    ? path.join(jobDir, SIM_SCRIPT)
    : path.resolve(
        path.dirname(spec.configFile),
        String(spec.config.slurm?.script_file ?? spec.config.metadata?.script_file ?? ''),
      );
  const argv = ['bash', script];
  return {
    target: 'this machine (a local process group)',
    launcher: 'local',
    jobDir,
    files,
    cwd: jobDir,
    argv,
    env: { DISAGG_JOB_DIR: jobDir },
    commandLine: argv.map(shq).join(' '),
    notes: [],
  };
}

/**
 * The executor's own planning code for `kind`. The one place to swap for `executor.plan(spec)` once
 * every executor has one.
 */
export function planFor(kind: ExecutorKind, spec: JobSpec, settings: ResolvedOptions): DryRunPlan {
  if (kind === 'local') return localPlan(spec);
  const legacy = legacyExecutorOptions({
    ...settings,
    executor: kind,
    executorSettings: { ...settings.executorSettings, kind },
  });
  const notes: string[] = [];
  let jobDir: string;
  let target: string;
  if (kind === 'ssh') {
    const ssh = settings.executorSettings.ssh;
    let user = ssh.username ?? settings.executorSettings.localUser;
    if (ssh.host) {
      const resolved = resolveSshSettings(legacy.ssh, legacy.env, {}, { requireCredentials: false });
      target = describeSsh(resolved);
      user = resolved.username;
    } else {
      target = '(no SSH host: set DISAGG_SSH_HOST or the ssh.host option)';
      notes.push('a real run would fail at the first job: no SSH host is set');
    }
    // The remote home is only known after connecting; a dry run never connects.
    const assumedHome = user === 'root' ? '/root' : `/home/${user}`;
    const remoteDir = ssh.remoteDir;
    if (!remoteDir || !remoteDir.startsWith('/')) {
      notes.push(
        `remote home assumed to be ${assumedHome}; set DISAGG_REMOTE_DIR to an absolute path to be exact`,
      );
    }
    jobDir = remoteJobDir(remoteWorkDir(remoteDir, assumedHome), spec);
  } else {
    target = 'this machine (sbatch)';
    jobDir = spec.localLogDir;
  }
  const s = settings.executorSettings;
  const plan = planSubmission(spec, jobDir, {
    env: legacy.env,
    launcher: s.launcher,
    resources: s.resources,
    scriptDir: s.scriptDir,
    scriptSearchDirs: s.scriptSearchDirs,
    remoteScriptDir: kind === 'ssh' ? s.scriptDir : undefined,
    partition: s.partition,
    account: s.account,
  });
  return {
    target,
    launcher: plan.launcher,
    jobDir: plan.jobDir,
    files: plan.files.map((f) => ({ name: f.name, path: f.remotePath, size: f.size })),
    cwd: plan.cwd,
    argv: plan.command.argv,
    env: plan.command.env,
    commandLine: plan.command.commandLine,
    notes,
  };
}

export const run: CliCommand = async (argv, io) => {
  const { values, positionals } = parseCommandArgs(
    argv,
    usage,
    { executor: { type: 'string' }, config: { type: 'string' }, json: { type: 'boolean' } },
    true,
  );
  if (positionals.length !== 1) throw new UsageError(usage);
  if (values.executor !== undefined && !KINDS.includes(values.executor as ExecutorKind)) {
    throw new UsageError(`--executor must be local, slurm or ssh, got ${values.executor}`);
  }
  const settings = await cliSettings(io, { config: values.config, executor: values.executor });
  const kind = settings.executor;

  const file = path.resolve(io.cwd, positionals[0]);
  const entry = entryForFile(file, settings.configDir);
  // Same loading, validation and placeholder rules as a real run: errors are thrown with every problem.
  const spec = await jobSpecFor(entry, settings);
  const plan = planFor(kind, spec, settings);

  if (values.json) {
    io.stdout(JSON.stringify({ testId: spec.testId, executor: kind, ...plan }, null, 2) + '\n');
    return 0;
  }
  const width = Math.max(...plan.files.map((f) => f.name.length));
  const lines = [
    `test:      ${spec.testId}`,
    `executor:  ${kind} → ${plan.target}`,
    `launcher:  ${plan.launcher}`,
    `job dir:   ${plan.jobDir}`,
    '',
    'would upload:',
    ...plan.files.map((f) => `  ${f.name.padEnd(width)}  ${human(f.size).padStart(10)}  → ${f.path}`),
    '',
    `would run (in ${plan.cwd}):`,
    `  ${plan.commandLine}`,
    ...plan.notes.map((n) => `\nnote: ${n}`),
    '',
  ];
  io.stdout(lines.join('\n'));
  return 0;
};
