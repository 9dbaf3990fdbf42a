import type { TestContext } from 'vitest';
import { describe, expect, it } from 'vitest';
import { liveUpdates } from '../../../fixtures/steps/live-step.js';
import { resolveOptions } from '../../../src/plugin/options.js';
import type { DisaggMeta } from '../../../src/types.js';

const since = '2026-11-29T05:12:03.000Z';

function harness(opts: { finished?: boolean; print?: boolean } = {}) {
  const notes: Array<[string, string]> = [];
  const printed: string[] = [];
  const annotate = ((message: string, type: string) => {
    if (opts.finished) throw new Error('Cannot annotate tests outside of the test run.');
    notes.push([type, message]);
    return Promise.resolve({ message, type });
  }) as unknown as TestContext['annotate'];
  const meta: DisaggMeta = { testId: 't', file: '/t.yaml', category: 'stress', testType: 'disagg' };
  const onUpdate = liveUpdates(annotate, meta, opts.print ? (l) => printed.push(l) : undefined);
  return { notes, printed, meta, onUpdate };
}

describe('liveUpdates (the waiting test records its job)', () => {
  it('annotates each state change and new concurrency, and keeps the latest in meta.disagg.live', () => {
    const { notes, meta, onUpdate } = harness();
    onUpdate({
      kind: 'submitted',
      event: {
        testId: 't',
        jobId: '42',
        executor: 'slurm',
        configHash: 'h',
        jobDir: '/j',
        logDir: '/l',
        resumed: false,
        submittedByRun: 'r',
        submittedAt: since,
      },
    });
    onUpdate({
      kind: 'state',
      event: { testId: 't', jobId: '42', state: 'PENDING', reason: 'Resources', since, terminal: false },
    });
    expect(meta.live).toMatchObject({ jobId: '42', state: 'PENDING', reason: 'Resources' });
    onUpdate({
      kind: 'state',
      event: { testId: 't', jobId: '42', state: 'RUNNING', nodes: 'node[1-2]', since, terminal: false },
    });
    onUpdate({
      kind: 'progress',
      event: { testId: 't', jobId: '42', concurrency: 64, concurrenciesDone: [], at: since },
    });
    onUpdate({
      kind: 'progress',
      event: { testId: 't', jobId: '42', concurrency: 64, concurrenciesDone: [64], at: since },
    });
    expect(notes.map(([type]) => type)).toEqual(['disagg:job', 'disagg:job', 'disagg:job', 'disagg:job']);
    expect(notes.map(([, m]) => m)).toEqual([
      'job 42 submitted',
      'job 42 PENDING (Resources)',
      expect.stringMatching(/^job 42 RUNNING on node\[1-2\] since \d\d:\d\d:\d\d$/),
      'job 42 reached concurrency 64',
    ]);
    expect(meta.live).toEqual({ jobId: '42', state: 'RUNNING', nodes: 'node[1-2]', since, concurrency: 64 });
  });

  it('prints the same words when asked (VS Code), and a finished test is left alone', () => {
    const vscode = harness({ print: true });
    vscode.onUpdate({
      kind: 'state',
      event: { testId: 't', jobId: '1', state: 'COMPLETING', since, terminal: false },
    });
    expect(vscode.printed).toEqual(['[vitest-disagg] t: job 1 COMPLETING']);

    const done = harness({ finished: true });
    expect(() =>
      done.onUpdate({
        kind: 'state',
        event: { testId: 't', jobId: '1', state: 'COMPLETED', since, terminal: true },
      }),
    ).not.toThrow();
    expect(done.meta.live?.state).toBe('COMPLETED');
  });

  it('job updates reach the console only under the VS Code extension', () => {
    expect(resolveOptions({}, {}).progressToConsole).toBe(false);
    expect(resolveOptions({}, { VITEST_VSCODE: 'true' }).progressToConsole).toBe(true);
  });
});
