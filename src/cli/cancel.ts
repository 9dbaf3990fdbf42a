import { parseArgs } from 'node:util';
import { Ledger, type LedgerJob } from '../broker/ledger.js';
import { createExecutor } from '../executors/index.js';
import { executorSettingsFrom } from '../settings/executor-bridge.js';
import type { ExecutorKind } from '../executors/types.js';
import { resolveOptions } from '../plugin/options.js';
import { TERMINAL_STATES } from '../types.js';
import type { CliCommand } from './io.js';

/** `disagg cancel [--output-path P] [--json]`: cancel every job the ledger still lists as live. */
export const run: CliCommand = async (argv, io) => {
  const { values } = parseArgs({
    args: argv,
    options: { 'output-path': { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const options = resolveOptions({ outputPath: values['output-path'] }, io.env, io.cwd);
  const ledger = new Ledger(options.outputPath);
  const data = await ledger.read();
  const live = data.jobs.filter((j) => !TERMINAL_STATES.has(j.state));
  const byKind = new Map<ExecutorKind, LedgerJob[]>();
  for (const job of live) byKind.set(job.executor, [...(byKind.get(job.executor) ?? []), job]);
  for (const [kind, jobs] of byKind) {
    const executor = await createExecutor(kind, executorSettingsFrom(kind, options, io.env));
    try {
      await executor.cancel(
        jobs.map((j) => ({
          jobId: j.jobId,
          testId: j.testId,
          jobDir: j.jobDir,
          pid: j.pid,
          submittedAt: j.submittedAt,
        })),
      );
    } finally {
      await executor.close();
    }
  }
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
    io.stdout(`no live jobs in ${ledger.file}\n`);
  } else {
    for (const j of live) io.stdout(`cancelled ${j.executor} job ${j.jobId} (${j.testId})\n`);
  }
  return 0;
};
