// Scanning running jobs' logs between polls: a fatal worker line cancels its job early (instead of at
// its time limit), and the benchmark's progress is told when it moved. Bounded by CPU per call, so that
// thousands of running jobs are scanned a slice per tick.
import fs from 'node:fs';
import type { Executor } from '../executors/types.js';
import type { BrokerEvents } from './events.js';
import { readBenchProgress } from './progress.js';
import { cpuSince } from './tick-budget.js';
import { SCAN_CPU_BUDGET_MS, SCAN_EVERY_MS, type BrokerSettings, type Tracked } from './tracked.js';

export class LogScans {
  constructor(
    private readonly executor: Executor,
    private readonly events: BrokerEvents,
    private readonly settings: BrokerSettings,
    /** Asks for a poll soon: a job cancelled for a fatal line ends a moment later. */
    private readonly pollSoon: () => void,
    private readonly log: (message: string) => void,
  ) {}

  /**
   * Scan these jobs' logs, until this call has spent its budget of CPU: with thousands of running jobs
   * the rest wait for the next ticks (each job is scanned at most every `scanEveryMs`, so the ones
   * scanned now are skipped then and the others get their turn).
   */
  async within(ts: readonly Tracked[], tickLeftMs = Infinity): Promise<void> {
    const from = process.cpuUsage();
    // In a tick: no more than what its state changes left of the tick's budget (one scan at least).
    const budget = Math.min(this.settings.scanCpuBudgetMs ?? SCAN_CPU_BUDGET_MS, tickLeftMs);
    let n = 0;
    for (const t of ts) {
      if (t.phase !== 'live') continue;
      if (!(await this.scan(t))) continue;
      // The CPU clock is a system call: looked at every 8 scans.
      if (++n % 8 === 1 && cpuSince(from) > budget) return;
    }
  }

  /** Scans the job's logs unless it was scanned recently; true when it did. */
  private async scan(t: Tracked): Promise<boolean> {
    const every = this.settings.scanEveryMs ?? SCAN_EVERY_MS;
    if (t.earlyFailure || Date.now() - t.lastScanAt < every || !t.job) return false;
    t.lastScanAt = Date.now();
    try {
      const fatal = await this.executor.scanEarlyFailure(t.job);
      if (fatal) {
        t.earlyFailure = fatal;
        await this.events.emit('earlyFailure', { testId: t.testId, jobId: t.job.jobId, line: fatal });
        await this.executor.cancel([t.job]);
        // Its end is asked for soon, not at a safety tick a minute away.
        this.pollSoon();
        return true;
      }
    } catch (err) {
      this.log(`${t.testId}: early-failure scan failed: ${(err as Error).message}`);
    }
    await this.progress(t);
    return true;
  }

  /** Tell subscribers how far the benchmark got, when the job dir is readable here and it changed. */
  private async progress(t: Tracked): Promise<void> {
    if (!t.job || !fs.existsSync(t.job.jobDir)) return;
    try {
      const p = await readBenchProgress(t.job.jobDir);
      if (!p) return;
      const key = `${p.concurrency}|${p.concurrenciesDone.join(',')}`;
      if (key === t.progressKey) return;
      t.progressKey = key;
      await this.events.emit('progress', {
        testId: t.testId,
        jobId: t.job.jobId,
        concurrency: p.concurrency,
        concurrenciesDone: p.concurrenciesDone,
        at: new Date().toISOString(),
      });
    } catch (err) {
      this.log(`${t.testId}: progress scan failed: ${(err as Error).message}`);
    }
  }
}
