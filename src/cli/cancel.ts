import { countArchived } from '../broker/ledger-archive.js';
import { Ledger, type LedgerJob } from '../broker/ledger.js';
import { createExecutor } from '../executors/index.js';
import type { ExecutorKind } from '../executors/types.js';
import type { ExecutorSettings } from '../settings/types.js';
import { TERMINAL_STATES } from '../types.js';
import { parseCommandArgs, type CliCommand } from './io.js';
import { cliSettings } from './project-options.js';
import { progressBar } from './progress-bar.js';

/** Jobs per scancel call. */
const CANCEL_BATCH = 50;

export const usage =
  'usage: disagg cancel [--output-path <dir>] [--config <vitest config file>] [--json]\n' +
  '  cancels every live job in <output path>/jobs.json (output path as `npx vitest` uses it)';

/** `disagg cancel [--output-path P] [--json]`: cancel every job the ledger still lists as live. */
export const run: CliCommand = async (argv, io) => {
  const { values } = parseCommandArgs(argv, usage, {
    'output-path': { type: 'string' },
    config: { type: 'string' },
    json: { type: 'boolean' },
  });
  const options = await cliSettings(io, { config: values.config, outputPath: values['output-path'] });
  const ledger = new Ledger(options.outputPath);
  const data = await ledger.read();
  // A job already final (ended, or cancelled by Ctrl-C) is left alone: cancelling it again would
  // at best be noise and at worst hit a reused id. Every job the runs' archives hold is final.
  const final = (j: LedgerJob) => TERMINAL_STATES.has(j.state) || j.endedAt !== undefined;
  const live = data.jobs.filter((j) => !final(j));
  const ended = data.jobs.length - live.length + (await countArchived(options.outputPath));
  const byKind = new Map<ExecutorKind, LedgerJob[]>();
  for (const job of live) byKind.set(job.executor, [...(byKind.get(job.executor) ?? []), job]);
  const bar = progressBar(io.stderr, !values.json && io.stderrIsTTY === true, 'cancelling', live.length);
  let cancelled = 0;
  for (const [kind, jobs] of byKind) {
    // The executor that submitted the job cancels it, with this project's settings.
    // Its messages (e.g. a local pid it refuses to signal, and why) go to this command's stderr.
    const executor = await createExecutor(
      kind,
      { ...options.executorSettings, kind: kind as ExecutorSettings['kind'] },
      { log: (message) => io.stderr(`${message}\n`) },
    );
    try {
      // In batches, so that a terminal shows progress over many jobs; each batch is one scancel call.
      for (let i = 0; i < jobs.length; i += CANCEL_BATCH) {
        await executor.cancel(
          jobs.slice(i, i + CANCEL_BATCH).map((j) => ({
            jobId: j.jobId,
            testId: j.testId,
            jobDir: j.jobDir,
            pid: j.pid,
            procId: j.procId,
            submittedAt: j.submittedAt,
          })),
        );
        cancelled += Math.min(CANCEL_BATCH, jobs.length - i);
        bar.update(cancelled);
      }
    } finally {
      await executor.close();
    }
  }
  bar.done();
  const ids = new Set(live.map((j) => `${j.executor}:${j.jobId}`));
  await ledger.update((d) => {
    for (const j of d.jobs) {
      if (ids.has(`${j.executor}:${j.jobId}`)) {
        j.state = 'CANCELLED';
        j.reason = 'disagg cancel';
        j.updatedAt = j.endedAt = new Date().toISOString();
      }
    }
  });
  if (values.json) {
    io.stdout(
      JSON.stringify({
        cancelled: live.map((j) => ({ testId: j.testId, jobId: j.jobId, executor: j.executor })),
      }) + '\n',
    );
  } else if (!live.length) {
    io.stdout(`no live jobs in ${ledger.file}${ended ? ` (${ended} already final, left alone)` : ''}\n`);
  } else {
    for (const j of live) io.stdout(`cancelled ${j.executor} job ${j.jobId} (${j.testId})\n`);
  }
  return 0;
};
