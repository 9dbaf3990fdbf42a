import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BrokerEvents } from '../../../src/broker/events.js';
import { ProgressView } from '../../../src/progress/view.js';

const T0 = Date.UTC(2026, 10, 29, 5, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

function setup(tty: boolean, heartbeatMs = 5_000) {
  const lines: string[] = [];
  const events = new BrokerEvents();
  const view = new ProgressView({ write: (m) => lines.push(m), heartbeatMs, tty });
  const off = view.subscribe(events);
  return { lines, events, view, off };
}

async function submit(events: BrokerEvents, testId: string, jobId: string) {
  await events.emit('submitted', {
    testId,
    jobId,
    executor: 'slurm',
    configHash: 'h',
    jobDir: '/j',
    logDir: '/l',
    timeLimitMs: 4 * 3_600_000,
    resumed: false,
    submittedByRun: 'r',
    submittedAt: iso(Date.now()),
  });
}

async function state(events: BrokerEvents, testId: string, jobId: string, s: string, extra = {}) {
  await events.emit('states', [
    {
      testId,
      jobId,
      state: s as 'PENDING',
      since: iso(Date.now()),
      terminal: ['COMPLETED', 'FAILED', 'CANCELLED'].includes(s),
      ...extra,
    },
  ]);
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => vi.useRealTimers());

describe('ProgressView (no TTY: plain lines)', () => {
  it('prints one line per state change with the reason, nodes and concurrency', async () => {
    const { lines, events, view } = setup(false);
    await submit(events, 'disagg_stress_x', '1234');
    await state(events, 'disagg_stress_x', '1234', 'PENDING', { reason: 'Resources' });
    await state(events, 'disagg_stress_x', '1234', 'RUNNING', { nodes: 'node[1-2]' });
    await events.emit('progress', {
      testId: 'disagg_stress_x',
      jobId: '1234',
      concurrency: 64,
      concurrenciesDone: [],
      at: iso(T0),
    });
    // Same concurrency again (another block finished): nothing new to say.
    await events.emit('progress', {
      testId: 'disagg_stress_x',
      jobId: '1234',
      concurrency: 64,
      concurrenciesDone: [64],
      at: iso(T0),
    });
    await state(events, 'disagg_stress_x', '1234', 'COMPLETING');
    await state(events, 'disagg_stress_x', '1234', 'COMPLETED', { exitCode: '0:0' });
    expect(lines).toEqual([
      'job 1234 disagg_stress_x PENDING (Resources)',
      expect.stringMatching(/^job 1234 disagg_stress_x RUNNING on node\[1-2\] since \d\d:\d\d:\d\d$/),
      'job 1234 disagg_stress_x reached concurrency 64',
      'job 1234 disagg_stress_x COMPLETING',
      'job 1234 disagg_stress_x COMPLETED',
    ]);
    view.close();
  });

  it('a 20 s job with a 5 s heartbeat prints a heartbeat line every 5 s, and none once it ended', async () => {
    const { lines, events, view } = setup(false);
    await submit(events, 't', '7');
    await state(events, 't', '7', 'RUNNING');
    await vi.advanceTimersByTimeAsync(20_000);
    const beats = lines.filter((l) => l.includes('heartbeat:'));
    expect(beats).toEqual([
      'job 7 t heartbeat: RUNNING 5s / 4h00m',
      'job 7 t heartbeat: RUNNING 10s / 4h00m',
      'job 7 t heartbeat: RUNNING 15s / 4h00m',
      'job 7 t heartbeat: RUNNING 20s / 4h00m',
    ]);
    await state(events, 't', '7', 'COMPLETED');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(lines.filter((l) => l.includes('heartbeat:'))).toHaveLength(4);
    view.close();
  });

  it('a pending job heartbeats how long it waited and why', async () => {
    const { lines, events, view } = setup(false, 60_000);
    await submit(events, 't', '8');
    await state(events, 't', '8', 'PENDING', { reason: 'Priority' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(lines.at(-1)).toBe('job 8 t heartbeat: PENDING 1m00s (Priority)');
    view.close();
  });

  it('heartbeat 0 is off; a failed submission (final error) stops the heartbeat', async () => {
    const off = setup(false, 0);
    await submit(off.events, 't', '9');
    await vi.advanceTimersByTimeAsync(600_000);
    expect(off.lines).toEqual([]);

    const on = setup(false);
    await submit(on.events, 't', '10');
    await on.events.emit('final', { testId: 't', ok: false, jobId: '10', error: 'lost' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(on.lines).toEqual([]);
  });

  it('close() and unsubscribing stop everything', async () => {
    const { lines, events, view, off } = setup(false);
    await submit(events, 't', '11');
    view.close();
    off();
    await state(events, 't', '11', 'RUNNING');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(lines).toEqual([]);
  });
});

describe('ProgressView (TTY: one compact block per heartbeat)', () => {
  it('lists every live job in one write per heartbeat', async () => {
    const { lines, events, view } = setup(true);
    await submit(events, 'a', '1');
    await submit(events, 'b', '2');
    await state(events, 'a', '1', 'RUNNING');
    await state(events, 'b', '2', 'PENDING', { reason: 'Resources' });
    lines.length = 0;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(lines).toEqual([
      'heartbeat: 2 live job(s)\n  job 1 a RUNNING 5s / 4h00m\n  job 2 b PENDING 5s (Resources)',
    ]);
    await state(events, 'a', '1', 'COMPLETED');
    await state(events, 'b', '2', 'CANCELLED');
    lines.length = 0;
    await vi.advanceTimersByTimeAsync(30_000);
    expect(lines).toEqual([]);
    view.close();
  });
});
