// `disagg dry-run <config.yaml> [--executor local|slurm|ssh] [--config F] [--json]`: what would be
// uploaded and the exact command that would run, without submitting anything or connecting anywhere.
// The executor defaults to the plugin's (disagg() options, DISAGG_EXECUTOR), so it shows what
// `npx vitest` would do.

import path from 'node:path';
import { entryForFile } from '../config/index.js';
import { createExecutor } from '../executors/index.js';
import { describeSsh, resolveSshSettings } from '../executors/ssh-settings.js';
import { SBATCH_SHIM } from '../jobdir/files.js';
import { jobSpecFor } from '../plugin/job-spec.js';
import type { ResolvedOptions } from '../settings/options.js';
import type { ExecutorKind, ExecutorSettings } from '../settings/types.js';
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
  /** Where the command runs: `this machine` or the SSH login node. */
  host: string;
  launcher: string;
  jobDir: string;
  /** The resolved config as uploaded (submit.py's `-c`). */
  uploadedConfig?: string;
  /** The worker configs and who writes them (our upload, or submit.py). */
  workerConfigs: Array<{ name: string; path: string; writtenBy: string }>;
  /** The job script on the submit host. */
  script?: string;
  /** submit.py mode: the submit.py that runs. */
  submitPy?: string;
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

/** Where the job would go, and the remote home to assume (a dry run never connects to ask). */
function describeTarget(es: ExecutorSettings): { target: string; remoteHome?: string; notes: string[] } {
  if (es.kind === 'local') return { target: 'this machine (a local process group)', notes: [] };
  if (es.kind === 'slurm') return { target: 'this machine (SLURM)', notes: [] };
  const notes: string[] = [];
  let user = es.ssh.username ?? es.localUser;
  let target = '(no SSH host: set DISAGG_SSH_HOST or the ssh.host option)';
  if (es.ssh.host) {
    const resolved = resolveSshSettings(
      es.ssh,
      { home: es.homeDir, localUser: es.localUser },
      { requireCredentials: false },
    );
    target = describeSsh(resolved);
    user = resolved.username;
  } else {
    notes.push('a real run would fail at the first job: no SSH host is set');
  }
  const remoteHome = user === 'root' ? '/root' : `/home/${user}`;
  if (!es.ssh.remoteDir || !es.ssh.remoteDir.startsWith('/')) {
    notes.push(
      `remote home assumed to be ${remoteHome}; set DISAGG_REMOTE_DIR to an absolute path to be exact`,
    );
  }
  return { target, remoteHome, notes };
}

/** The executor's own planning code (`plan(spec)`): exactly what `submit` would upload and run. */
export async function planFor(
  kind: ExecutorKind,
  spec: JobSpec,
  settings: ResolvedOptions,
): Promise<DryRunPlan> {
  const es: ExecutorSettings = { ...settings.executorSettings, kind };
  const { target, remoteHome, notes } = describeTarget(es);
  // Without a host nothing could connect anyway; a stand-in name lets the plan show the paths.
  const planSettings =
    kind === 'ssh' && !es.ssh.host ? { ...es, ssh: { ...es.ssh, host: 'login-node' } } : es;
  const executor = await createExecutor(kind, planSettings, { planOnly: true, remoteHome });
  try {
    const plan = await executor.plan(spec);
    const shim = plan.files.find((f) => f.name === SBATCH_SHIM);
    if (plan.launcher === 'submit.py' && shim) {
      notes.push(
        `submit.py's sbatch runs through ${shim.remotePath}, which adds --comment=<write-ahead token> (a run ` +
          'killed after submitting finds the job again) and then calls the real sbatch',
      );
    }
    if (plan.launcher === 'submit.py' && kind === 'ssh') {
      notes.push(
        `${plan.submitPy ?? 'submit.py'} is looked for on the login node when the job is submitted (a dry run does not connect)`,
      );
    }
    return {
      target,
      host: kind === 'ssh' ? (es.ssh.host ?? '(no SSH host)') : 'this machine',
      launcher: plan.launcher,
      jobDir: plan.jobDir,
      uploadedConfig: plan.uploadedConfig,
      workerConfigs: plan.workerConfigs ?? [],
      script: plan.script,
      submitPy: plan.submitPy,
      files: plan.files.map((f) => ({ name: f.name, path: f.remotePath, size: f.size })),
      cwd: plan.cwd,
      argv: plan.command.argv,
      env: plan.command.env,
      commandLine: plan.command.commandLine,
      notes,
    };
  } finally {
    await executor.close();
  }
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
  const spec = await jobSpecFor(entry, settings, undefined, (n) => io.stderr(`note: ${n}\n`));
  const plan = await planFor(kind, spec, settings);

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
    ...(plan.script ? [`script:    ${plan.script}`] : []),
    ...(plan.submitPy ? [`submit.py: ${plan.submitPy}`] : []),
    ...(plan.uploadedConfig ? [`config:    ${plan.uploadedConfig}`] : []),
    '',
    'would upload:',
    ...plan.files.map((f) => `  ${f.name.padEnd(width)}  ${human(f.size).padStart(10)}  → ${f.path}`),
    ...(plan.workerConfigs.length > 0
      ? [
          '',
          'worker configs:',
          ...plan.workerConfigs.map(
            (w) =>
              `  ${w.name}  → ${w.path}  (${w.writtenBy === 'upload' ? 'uploaded' : `written by ${w.writtenBy}`})`,
          ),
        ]
      : []),
    '',
    `would run on ${plan.host} (in ${plan.cwd}):`,
    `  ${plan.commandLine}`,
    ...plan.notes.map((n) => `\nnote: ${n}`),
    '',
  ];
  io.stdout(lines.join('\n'));
  return 0;
};
