import { countArchivedEntries } from '../broker/archive-summary.js';
import { Ledger, type LedgerJob } from '../broker/ledger.js';
import type { CancelSkip, ExecutorKind } from '../executors/types.js';
import type { ResolvedOptions } from '../settings/options.js';
import { outputPathFlag } from '../settings/resolve.js';
import type { ExecutorSettings } from '../settings/types.js';
import { TERMINAL_STATES } from '../types.js';
import { parseCommandArgs, type CliCommand } from './io.js';
import { progressBar } from './progress-bar.js';

/** Jobs per scancel call. */
const CANCEL_BATCH = 50;

export const usage =
  'usage: disagg cancel [--output-path <dir>] [--config <vitest config file>] [--json]\n' +
  '  cancels every live job in <output path>/jobs.json (output path as `npx vitest` uses it);\n' +
  '  exits 1 when it refused to signal a job (the job stays tracked, with the reason)';

type Outcome = 'cancelled' | 'refused' | 'gone';

const key = (j: { executor: ExecutorKind; jobId: string }): string => `${j.executor}:${j.jobId}`;

/** `disagg cancel [--output-path P] [--json]`: cancel every job the ledger still lists as live. */
export const run: CliCommand = async (argv, io) => {
  const { values } = parseCommandArgs(argv, usage, {
    'output-path': { type: 'string' },
    config: { type: 'string' },
    json: { type: 'boolean' },
  });
  const flags = { config: values.config, outputPath: values['output-path'] };
  // Loading the project's config (Vite's loader: seconds) is only needed for the output path when no
  // --output-path is given, and for the executor settings when there is a live job to cancel.
  let options: ResolvedOptions | undefined;
  // Imported when needed too: with no live job, `disagg cancel` is a read of jobs.json and a count.
  const settings = async (): Promise<ResolvedOptions> =>
    (options ??= await (await import('./project-options.js')).cliSettings(io, flags));
  const outputPath =
    flags.outputPath !== undefined ? outputPathFlag(io.cwd, flags.outputPath) : (await settings()).outputPath;
  const ledger = new Ledger(outputPath);
  const data = await ledger.read();
  // A job already final (ended, or cancelled by Ctrl-C) is left alone: cancelling it again would
  // at best be noise and at worst hit a reused id. Every job the runs' archives hold is final.
  const final = (j: LedgerJob) => TERMINAL_STATES.has(j.state) || j.endedAt !== undefined;
  const live = data.jobs.filter((j) => !final(j));
  const byKind = new Map<ExecutorKind, LedgerJob[]>();
  for (const job of live) byKind.set(job.executor, [...(byKind.get(job.executor) ?? []), job]);
  const bar = progressBar(io.stderr, !values.json && io.stderrIsTTY === true, 'cancelling', live.length);
  // Only what the executor signalled (or the scheduler accepted) is "cancelled"; the rest says why not.
  const outcomes = new Map<string, { outcome: Outcome; reason?: string }>();
  let done = 0;
  for (const [kind, jobs] of byKind) {
    // The executor that submitted the job cancels it, with this project's settings.
    // Its messages (e.g. a local pid it refuses to signal, and why) go to this command's stderr.
    const { createExecutor } = await import('../executors/index.js');
    const executor = await createExecutor(
      kind,
      { ...(await settings()).executorSettings, kind: kind as ExecutorSettings['kind'] },
      { log: (message) => io.stderr(`${message}\n`) },
    );
    try {
      // In batches, so that a terminal shows progress over many jobs; each batch is one scancel call.
      for (let i = 0; i < jobs.length; i += CANCEL_BATCH) {
        const batch = jobs.slice(i, i + CANCEL_BATCH);
        let refused: CancelSkip[] = [];
        let gone: CancelSkip[] = [];
        try {
          const result = await executor.cancel(
            batch.map((j) => ({
              jobId: j.jobId,
              testId: j.testId,
              jobDir: j.jobDir,
              pid: j.pid,
              procId: j.procId,
              submittedAt: j.submittedAt,
            })),
          );
          refused = result?.refused ?? [];
          gone = result?.gone ?? [];
        } catch (err) {
          // The scheduler did not take the cancel (scancel failed, connection lost): nothing confirmed.
          const reason = (err as Error).message;
          refused = batch.map((j) => ({ jobId: j.jobId, reason }));
        }
        for (const j of batch) outcomes.set(key(j), { outcome: 'cancelled' });
        for (const s of gone) outcomes.set(`${kind}:${s.jobId}`, { outcome: 'gone', reason: s.reason });
        for (const s of refused) outcomes.set(`${kind}:${s.jobId}`, { outcome: 'refused', reason: s.reason });
        done += batch.length;
        bar.update(done);
      }
    } finally {
      await executor.close();
    }
  }
  bar.done();
  const now = new Date().toISOString();
  // Nothing was live: nothing to record (no write of jobs.json under its lock).
  if (live.length)
    await ledger.update(
      (d) => {
        for (const j of d.jobs) {
          const o = outcomes.get(key(j));
          if (o?.outcome === 'cancelled') {
            j.state = 'CANCELLED';
            j.reason = 'disagg cancel';
            j.updatedAt = j.endedAt = now;
            delete j.cancelRefused;
          } else if (o?.outcome === 'refused') {
            // Still tracked as live: a later run re-attaches it, a later cancel tries again.
            j.cancelRefused = `disagg cancel at ${now}: ${o.reason ?? 'refused'}`;
          }
          // 'gone': left as it is; the next run polls it and collects its outcome.
        }
      },
      { compact: true },
    );
  const entry = (j: LedgerJob) => ({ testId: j.testId, jobId: j.jobId, executor: j.executor });
  const withOutcome = (o: Outcome) =>
    live
      .filter((j) => outcomes.get(key(j))?.outcome === o)
      .map((j) => ({ job: j, reason: outcomes.get(key(j))?.reason ?? '' }));
  const cancelled = withOutcome('cancelled');
  const refused = withOutcome('refused');
  const gone = withOutcome('gone');
  if (values.json) {
    io.stdout(
      JSON.stringify({
        cancelled: cancelled.map(({ job }) => entry(job)),
        refused: refused.map(({ job, reason }) => ({ ...entry(job), reason })),
        alreadyEnded: gone.map(({ job, reason }) => ({ ...entry(job), reason })),
      }) + '\n',
    );
  } else if (!live.length) {
    const ended = data.jobs.length + (await countArchivedEntries(outputPath));
    io.stdout(`no live jobs in ${ledger.file}${ended ? ` (${ended} already final, left alone)` : ''}\n`);
  } else {
    for (const { job } of cancelled)
      io.stdout(`cancelled ${job.executor} job ${job.jobId} (${job.testId})\n`);
    for (const { job, reason } of gone)
      io.stdout(
        `not cancelled ${job.executor} job ${job.jobId} (${job.testId}): already ended (${reason}); ` +
          `the next run collects its outcome\n`,
      );
    for (const { job, reason } of refused)
      io.stdout(
        `REFUSED ${job.executor} job ${job.jobId} (${job.testId}): ${reason}; still tracked in ${ledger.file}\n`,
      );
  }
  if (refused.length && !values.json)
    io.stderr(
      `disagg cancel: ${refused.length} job(s) not cancelled (see above); check them and stop them ` +
        `by hand if they still run\n`,
    );
  return refused.length ? 1 : 0;
};
