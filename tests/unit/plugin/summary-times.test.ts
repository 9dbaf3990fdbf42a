// The summary's queue and run times come from the job's own start and end, and a CSV's run time from
// the row's own job.
import { describe, expect, it } from 'vitest';
import { BrokerEvents } from '../../../src/broker/events.js';
import { DisaggSummaryReporter, describeTimeline } from '../../../src/plugin/summary-reporter.js';
import { testsFromCsvText } from '../../../src/report/from-csv.js';

describe('queue and run times of a job that finished between two polls', () => {
  it('queued 1s, ran 7s from the job’s own start and end, not from the polls', async () => {
    const events = new BrokerEvents();
    const reporter = new DisaggSummaryReporter();
    const timelines = (
      reporter as unknown as { timelines: Map<string, Parameters<typeof describeTimeline>[0]> }
    ).timelines;
    const off = reporter.subscribe(events);
    const t0 = Date.parse('2024-05-01T12:00:00Z');
    const iso = (s: number) => new Date(t0 + s * 1000).toISOString();
    await events.emit('submitted', {
      testId: 't1',
      jobId: '7',
      executor: 'local',
      configHash: 'h',
      jobDir: '/r/t1',
      logDir: '/o/t1',
      resumed: false,
      submittedByRun: 'r',
      submittedAt: iso(0),
    });
    // The first poll came 9 s later and found the job finished: no RUNNING line.
    await events.emit('states', [
      {
        testId: 't1',
        jobId: '7',
        state: 'COMPLETED',
        since: iso(9),
        startedAt: iso(1),
        endedAt: iso(8),
        terminal: true,
      },
    ]);
    off();
    expect(describeTimeline(timelines.get('t1') ?? {})).toBe('queued 1s, ran 7s');
  });
});

describe('CSV run time', () => {
  it('is the row’s own job’s, not the span of every run in the file', () => {
    const head = 'perf_case_name,perf_metric,metric_type,start_timestamp,end_timestamp,state\n';
    const row = (con: number, start: string, end: string) =>
      `test_benchmark[t1]_con:${con},1,SERVER_MEDIAN_TTFT,${start},${end},valid\n`;
    const text =
      head +
      row(1, '2024-05-01 10:00:00', '2024-05-01 10:05:00') +
      row(2, '2024-05-01 10:00:00', '2024-05-01 10:05:00') +
      row(1, '2024-05-01 12:00:00', '2024-05-01 12:03:00') +
      row(2, '2024-05-01 12:00:00', '2024-05-01 12:03:00');
    const [test] = testsFromCsvText(text, 'x.csv');
    expect(test?.runMs).toBe(3 * 60_000);
  });
});
