// `disagg dry-run <config.yaml> [--executor slurm|ssh] [--json]`: what would be uploaded and the exact
// command that would run, without submitting anything or connecting anywhere.

import path from 'node:path';
import { parseArgs } from 'node:util';
import { entryForFile } from '../config/index.js';
import { planSubmission, remoteJobDir, type SubmissionPlan } from '../executors/slurm.js';
import { describeSsh, remoteWorkDir, resolveSshSettings } from '../executors/ssh-settings.js';
import { jobSpecFor } from '../plugin/job-spec.js';
import { executorSettingsFrom } from '../settings/executor-bridge.js';
import { resolveOptions } from '../plugin/options.js';
import { UsageError, type CliCommand } from './io.js';

function human(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export const run: CliCommand = async (argv, io) => {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      executor: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1)
    throw new UsageError('usage: disagg dry-run <config.yaml> [--executor slurm|ssh] [--json]');
  const options = resolveOptions({}, io.env, io.cwd);
  const kind = values.executor ?? (options.executor === 'ssh' ? 'ssh' : 'slurm');
  if (kind !== 'slurm' && kind !== 'ssh')
    throw new UsageError(`--executor must be slurm or ssh, got ${kind}`);

  const file = path.resolve(io.cwd, positionals[0]);
  const entry = entryForFile(file, options.configDir);
  // Same loading, validation and placeholder rules as a real run: errors are thrown with every problem.
  const spec = await jobSpecFor(entry, options);

  const es = executorSettingsFrom(kind, options, io.env);
  let jobDir: string;
  let target: string;
  const notes: string[] = [];
  if (kind === 'ssh') {
    const settings = resolveSshSettings(
      es.ssh,
      { home: es.homeDir, localUser: es.localUser },
      { requireCredentials: false },
    );
    target = describeSsh(settings);
    // The remote home is only known after connecting; a dry run never connects.
    const remoteDir = settings.remoteDir;
    const assumedHome = settings.username === 'root' ? '/root' : `/home/${settings.username}`;
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

  const plan: SubmissionPlan = planSubmission(spec, jobDir, {
    launcher: es.launcher,
    resources: es.resources,
    scriptDir: es.scriptDir,
    scriptSearchDirs: es.scriptSearchDirs,
    remoteScriptDir: kind === 'ssh' ? es.remoteScriptDir : undefined,
    partition: es.partition,
    account: es.account,
  });

  if (values.json) {
    io.stdout(
      JSON.stringify(
        {
          testId: spec.testId,
          executor: kind,
          target,
          launcher: plan.launcher,
          jobDir: plan.jobDir,
          files: plan.files.map((f) => ({ name: f.name, path: f.remotePath, size: f.size })),
          cwd: plan.cwd,
          argv: plan.command.argv,
          env: plan.command.env,
          commandLine: plan.command.commandLine,
          notes,
        },
        null,
        2,
      ) + '\n',
    );
    return 0;
  }
  const width = Math.max(...plan.files.map((f) => f.name.length));
  const lines = [
    `test:      ${spec.testId}`,
    `executor:  ${kind} → ${target}`,
    `launcher:  ${plan.launcher}`,
    `job dir:   ${plan.jobDir}`,
    '',
    'would upload:',
    ...plan.files.map((f) => `  ${f.name.padEnd(width)}  ${human(f.size).padStart(10)}  → ${f.remotePath}`),
    '',
    `would run (in ${plan.cwd}):`,
    `  ${plan.command.commandLine}`,
    ...notes.map((n) => `\nnote: ${n}`),
    '',
  ];
  io.stdout(lines.join('\n'));
  return 0;
};
