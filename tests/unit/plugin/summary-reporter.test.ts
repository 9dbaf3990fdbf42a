import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Vitest } from 'vitest/node';
import { describe, expect, it } from 'vitest';
import { BrokerEvents } from '../../../src/broker/events.js';
import { DisaggSummaryReporter, describeTimeline, reasonLine } from '../../../src/plugin/summary-reporter.js';
import { asksVerbose, withReporterVerbosity } from '../../../src/plugin/verbose.js';
import type { ResolvedOptions } from '../../../src/plugin/options.js';

describe('summary reporter', () => {
  it('describes a job’s queue and run time, SLURM reason, nodes and concurrency', () => {
    expect(
      describeTimeline({
        submittedAt: 0,
        runningAt: 12_000,
        endedAt: 197_000,
        pendingReason: 'Resources',
        nodes: 'node[1-2]',
        concurrency: 64,
      }),
    ).toBe('queued 12s (Resources), ran 3m05s on node[1-2], reached con 64');
    expect(describeTimeline({ submittedAt: 0, pendingReason: 'Priority' })).toBe('pending (Priority)');
  });

  it('learns the timeline from broker events, not from the broker', async () => {
    const events = new BrokerEvents();
    const reporter = new DisaggSummaryReporter();
    // The run's output dir, where the reporter also writes report.html.
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'disagg-summary-'));
    reporter.onInit({ config: { provide: { disaggOptions: { outputPath: out } } } } as unknown as Vitest);
    const off = reporter.subscribe(events);
    const base = {
      testId: 't1',
      jobId: '7',
      executor: 'slurm' as const,
      configHash: 'h',
      jobDir: '/r/t1',
      logDir: '/o/t1',
      resumed: false,
      submittedByRun: 'r',
    };
    await events.emit('submitted', { ...base, submittedAt: '2026-11-29T05:00:00.000Z' });
    const state = { testId: 't1', jobId: '7', terminal: false };
    await events.emit('states', [
      {
        ...state,
        state: 'PENDING',
        reason: 'Resources',
        since: '2026-11-29T05:00:01.000Z',
      },
    ]);
    await events.emit('states', [
      {
        ...state,
        state: 'RUNNING',
        nodes: 'n1',
        since: '2026-11-29T05:00:10.000Z',
      },
    ]);
    await events.emit('progress', {
      testId: 't1',
      jobId: '7',
      concurrency: 8,
      concurrenciesDone: [1, 2, 4],
      at: '',
    });
    await events.emit('states', [
      {
        ...state,
        state: 'COMPLETED',
        terminal: true,
        since: '2026-11-29T05:01:10.000Z',
      },
    ]);
    off();
    const lines: string[] = [];
    const log = console.log;
    console.log = (s: string) => lines.push(s);
    try {
      const test = {
        name: 't1',
        meta: () => ({
          disagg: {
            testId: 't1',
            jobId: '7',
            jobState: 'COMPLETED',
            logDir: '/o/t1_ERROR',
            perf: { concurrencies: [], worst: 'output_throughput at concurrency 8: … → FAILED' },
          },
        }),
        result: () => ({ state: 'failed', errors: [{ message: 'Job 7 for t1 ended COMPLETED\nLogs: /o' }] }),
      };
      // A test that never got a job: the summary gives its reason, not "no job".
      const noJob = {
        name: 't2',
        meta: () => ({ disagg: { testId: 't2' } }),
        result: () => ({
          state: 'failed',
          errors: [{ message: 'not submitted: interrupted by SIGINT\nmore detail' }],
        }),
      };
      const module = { children: { allTests: () => [test, noJob] } };
      await reporter.onTestRunEnd([module] as unknown as Parameters<
        DisaggSummaryReporter['onTestRunEnd']
      >[0]);
    } finally {
      console.log = log;
    }
    expect(lines.join('\n')).toContain(
      'failed  t1  job 7 COMPLETED | queued 10s (Resources), ran 1m00s on n1, reached con 8\n' +
        '          reason: Job 7 for t1 ended COMPLETED\n' +
        '          worst perf delta: output_throughput at concurrency 8: … → FAILED\n          logs: /o/t1_ERROR',
    );
    expect(lines.join('\n')).toContain(
      'failed  t2\n          reason: not submitted: interrupted by SIGINT\n',
    );
    expect(lines.join('\n')).not.toContain('no job');
  });

  it('prints once per run when the user names it too (another module instance): the first initialised wins', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'disagg-summary-'));
    const vitest = { config: { provide: { disaggOptions: { outputPath: out } } } } as unknown as Vitest;
    const mine = new DisaggSummaryReporter();
    const added = new DisaggSummaryReporter();
    mine.onInit(vitest);
    added.onInit(vitest);
    const test = {
      name: 'x',
      meta: () => ({ disagg: { testId: 'x' } }),
      result: () => ({ state: 'skipped', note: 'GPU type not supported' }),
    };
    const modules = [{ children: { allTests: () => [test] } }] as unknown as Parameters<
      DisaggSummaryReporter['onTestRunEnd']
    >[0];
    const lines: string[] = [];
    const log = console.log;
    console.log = (s: string) => lines.push(s);
    try {
      await added.onTestRunEnd(modules);
      await mine.onTestRunEnd(modules);
      // Another Vitest instance (a watch restart, a second API run) gets its own summary.
      const other = new DisaggSummaryReporter();
      other.onInit({ config: vitest.config } as unknown as Vitest);
      await other.onTestRunEnd(modules);
    } finally {
      console.log = log;
    }
    expect(lines.filter((l) => l.includes('vitest-disagg summary'))).toHaveLength(2);
    expect(lines[0]).toContain('skipped x');
    expect(fs.existsSync(path.join(out, 'report.html'))).toBe(true);
  });

  it('gives the whole first config error, not its header, and how many more follow', () => {
    const message =
      'c.yaml: 2 config error(s):\n  c.yaml:3:5 benchmark.concurrency_list: "1 x" is not a list of concurrencies\n' +
      '  c.yaml:9:3 hardware.gpus_per_node: must be a whole number';
    expect(reasonLine(message)).toBe(
      'c.yaml: 2 config error(s): c.yaml:3:5 benchmark.concurrency_list: "1 x" is not a list of concurrencies (and 1 more)',
    );
    expect(reasonLine('c.yaml: 1 config error(s):\n  c.yaml:1:1 metadata: is missing')).toBe(
      'c.yaml: 1 config error(s): c.yaml:1:1 metadata: is missing',
    );
    // A plain first line stays the reason; a header with nothing under it stays as it is.
    expect(reasonLine('Error: job 7 ended FAILED\nLogs: /o')).toBe('job 7 ended FAILED');
    expect(reasonLine('only a header:')).toBe('only a header:');
    expect(reasonLine(undefined)).toBe('failed without a message');
  });

  describe('the reason a verdict step recorded (meta.disagg.failureReason)', () => {
    const verdict =
      'Error: accuracy gsm8k (flexible-extract, exact_match): FAILED: observed 0.5000 (50.00%) is below the threshold 0.6498 (64.98%); expected 0.8000; one-sided hypothesis test with n=60\nlogs: /o/t_ERROR';

    it('is the reason line, whatever the message says', () => {
      expect(reasonLine(verdict, 'accuracy gsm8k: the recorded reason')).toBe(
        'accuracy gsm8k: the recorded reason',
      );
      expect(reasonLine(undefined, 'recorded')).toBe('recorded');
    });

    it('without one, an accuracy message is not recognised by its wording: its first line, whole', () => {
      expect(reasonLine(verdict)).toBe(
        'accuracy gsm8k (flexible-extract, exact_match): FAILED: observed 0.5000 (50.00%) is below the threshold 0.6498 (64.98%); expected 0.8000; one-sided hypothesis test with n=60',
      );
      // A blank recorded reason counts as none.
      expect(reasonLine('job 7 ended FAILED\nLogs: /o', '  ')).toBe('job 7 ended FAILED');
    });

    it('stays one line and is cut to the same length as a message', () => {
      expect(reasonLine(undefined, ' first\n  second \n')).toBe('first second');
      const long = reasonLine(undefined, 'x'.repeat(1000));
      expect(long).toHaveLength(480);
      expect(long.endsWith('…')).toBe(true);
    });

    it("the summary prints a failed test's recorded reason, and only a string one", async () => {
      const reporter = new DisaggSummaryReporter();
      reporter.onInit();
      const failed = (testId: string, failureReason: unknown) => ({
        name: testId,
        meta: () => ({ disagg: { testId, failureReason } }),
        result: () => ({ state: 'failed', errors: [{ message: `${verdict}\nsecond line` }] }),
      });
      const module = {
        children: {
          allTests: () => [
            failed('t1', 'accuracy gsm8k (flexible-extract, exact_match): FAILED: recorded'),
            failed('t2', 42),
          ],
        },
      };
      const lines: string[] = [];
      const log = console.log;
      console.log = (s: string) => lines.push(s);
      try {
        await reporter.onTestRunEnd([module] as unknown as Parameters<
          DisaggSummaryReporter['onTestRunEnd']
        >[0]);
      } finally {
        console.log = log;
      }
      const text = lines.join('\n');
      expect(text).toContain(
        'failed  t1\n          reason: accuracy gsm8k (flexible-extract, exact_match): FAILED: recorded\n',
      );
      // Meta crosses a process boundary and a hand-written test may set it: a non-string is ignored.
      expect(text).toContain(
        'failed  t2\n          reason: accuracy gsm8k (flexible-extract, exact_match): FAILED: observed',
      );
    });
  });

  it('--reporter=verbose turns on verbose output for the workers', () => {
    const o = { verbose: false } as ResolvedOptions;
    expect(asksVerbose(['default', ['junit', {}]])).toBe(false);
    expect(asksVerbose(['verbose'])).toBe(true);
    expect(asksVerbose([['verbose', {}]])).toBe(true);
    expect(withReporterVerbosity(o, [['verbose', {}]]).verbose).toBe(true);
    expect(withReporterVerbosity(o, ['dot'])).toBe(o);
    expect(withReporterVerbosity({ verbose: true } as ResolvedOptions, ['dot']).verbose).toBe(true);
  });
});
