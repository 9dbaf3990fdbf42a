import { describe, expect, it } from 'vitest';
import {
  describeHeartbeat,
  describeProgress,
  describeState,
  formatClock,
  formatElapsed,
} from '../../../src/progress/format.js';
import { parseInterval } from '../../../src/util/duration.js';

const since = new Date(2026, 10, 29, 5, 12, 3).toISOString();

describe('progress wording', () => {
  it('formats elapsed times for a status line', () => {
    expect(formatElapsed(0)).toBe('0s');
    expect(formatElapsed(45_900)).toBe('45s');
    expect(formatElapsed(300_000)).toBe('5m00s');
    expect(formatElapsed(61_000)).toBe('1m01s');
    expect(formatElapsed(4 * 3_600_000)).toBe('4h00m');
    expect(formatElapsed(3_600_000 + 5 * 60_000 + 59_000)).toBe('1h05m');
  });

  it('shows local wall-clock time of an instant', () => {
    expect(formatClock(since)).toBe('05:12:03');
  });

  it("says a pending job's reason, a running job's nodes and start, a failed job's exit code", () => {
    expect(describeState({ state: 'PENDING', reason: 'Resources', since })).toBe('PENDING (Resources)');
    expect(describeState({ state: 'PENDING', since })).toBe('PENDING');
    expect(describeState({ state: 'RUNNING', nodes: 'node[1-2]', since })).toBe(
      'RUNNING on node[1-2] since 05:12:03',
    );
    expect(describeState({ state: 'RUNNING', since })).toBe('RUNNING since 05:12:03');
    expect(describeState({ state: 'COMPLETING', since })).toBe('COMPLETING');
    expect(describeState({ state: 'COMPLETED', exitCode: '0:0', since })).toBe('COMPLETED');
    expect(describeState({ state: 'FAILED', exitCode: '1:0', reason: 'NonZeroExitCode', since })).toBe(
      'FAILED (exit 1:0, NonZeroExitCode)',
    );
  });

  it('says the concurrency reached', () => {
    expect(describeProgress({ concurrency: 64, concurrenciesDone: [] })).toBe('reached concurrency 64');
    expect(describeProgress({ concurrency: 4, concurrenciesDone: [1, 2] })).toBe(
      'reached concurrency 4 (done: 1, 2)',
    );
  });

  it('heartbeats: elapsed of the time limit while running, waited and why while pending', () => {
    const t0 = Date.UTC(2026, 10, 29, 5, 0, 0);
    const base = { jobId: '7', testId: 't', submittedAt: t0, timeLimitMs: 4 * 3_600_000 };
    expect(describeHeartbeat({ ...base, state: 'RUNNING', runningSince: t0 + 60_000 }, t0 + 360_000)).toBe(
      'RUNNING 5m00s / 4h00m',
    );
    expect(
      describeHeartbeat({ ...base, state: 'RUNNING', runningSince: t0, concurrency: 64 }, t0 + 5_000),
    ).toBe('RUNNING 5s / 4h00m, concurrency 64');
    expect(describeHeartbeat({ ...base, state: 'PENDING', reason: 'Priority' }, t0 + 130_000)).toBe(
      'PENDING 2m10s (Priority)',
    );
    expect(
      describeHeartbeat({ ...base, timeLimitMs: undefined, state: 'RUNNING', runningSince: t0 }, t0),
    ).toBe('RUNNING 0s');
  });
});

describe('parseInterval', () => {
  it('reads 5s, 5m, 1h30m, 250ms, bare seconds and 0', () => {
    expect(parseInterval('5s')).toBe(5_000);
    expect(parseInterval('5m')).toBe(300_000);
    expect(parseInterval('1h30m')).toBe(5_400_000);
    expect(parseInterval('250ms')).toBe(250);
    expect(parseInterval('90')).toBe(90_000);
    expect(parseInterval('0')).toBe(0);
  });
  it('refuses anything else', () => {
    for (const bad of ['', 'soon', '5 minutes', '5x', '-5s', 'm5'])
      expect(parseInterval(bad)).toBeUndefined();
  });
});
