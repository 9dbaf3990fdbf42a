// The done-marker watchers: the remote loop (run here through LocalHost.stream, the same bash loop the
// SSH host runs), its restart logic, and the local fs.watch + sweep watcher.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalDoneWatcher } from '../../../src/executors/done-watch.js';
import { LocalHost } from '../../../src/executors/local-host.js';
import { RemoteDoneWatcher } from '../../../src/executors/remote-done-watch.js';
import { STREAM_REFUSED, type StreamingCommand } from '../../../src/executors/types.js';
import { doneMarkerFile, exitMarkerFile } from '../../../src/jobdir/files.js';
import type { SubmittedJob } from '../../../src/types.js';

let work: string;
beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'done-watch-'));
});
afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

function job(id: string): SubmittedJob {
  const jobDir = path.join(work, `job-${id}`);
  fs.mkdirSync(jobDir, { recursive: true });
  return { jobId: id, testId: `t${id}`, jobDir, submittedAt: new Date().toISOString() };
}

/** Resolves with the ids seen, once `n` were seen (bounded wait). */
function seenCollector(): { seen: string[]; until: (n: number, ms?: number) => Promise<string[]> } {
  const seen: string[] = [];
  return {
    seen,
    until: async (n, ms = 10_000) => {
      const end = Date.now() + ms;
      while (seen.length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      return seen;
    },
  };
}

/** LocalHost.stream with a handle on every command started (the test ends them to simulate a drop). */
function recordingStream() {
  const host = new LocalHost({ env: process.env });
  const started: StreamingCommand[] = [];
  const stream = (command: string, onLine: (line: string) => void): StreamingCommand => {
    const c = host.stream(command, onLine);
    started.push(c);
    return c;
  };
  return { stream, started };
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  expect(cond()).toBe(true);
}

describe('RemoteDoneWatcher (the shell loop)', () => {
  it('one loop for all jobs: jobs added later go through stdin, each marker is reported once', async () => {
    const { stream, started } = recordingStream();
    const c = seenCollector();
    const w = new RemoteDoneWatcher(stream, (id) => c.seen.push(id));
    const a = job('101');
    const b = job('102');
    w.add(a);
    await until(() => w.watching('101'));
    w.add(b);
    fs.writeFileSync(path.join(b.jobDir, exitMarkerFile('102')), '1\n');
    expect(await c.until(1)).toEqual(['102']);
    fs.writeFileSync(path.join(a.jobDir, doneMarkerFile('101')), 'node1\n');
    expect(await c.until(2)).toEqual(['102', '101']);
    // Reported jobs are dropped: touching a marker again reports nothing more.
    fs.writeFileSync(path.join(a.jobDir, doneMarkerFile('101')), 'again\n');
    await new Promise((r) => setTimeout(r, 1_500));
    expect(c.seen).toEqual(['102', '101']);
    expect(started.length).toBe(1);
    await w.close();
    expect((await started[0].done).code).toBe(0);
  });

  it('a job already finished when added is reported; a removed job is not', async () => {
    const { stream, started } = recordingStream();
    const c = seenCollector();
    const w = new RemoteDoneWatcher(stream, (id) => c.seen.push(id));
    const done = job('201');
    fs.writeFileSync(path.join(done.jobDir, doneMarkerFile('201')), 'x\n');
    const gone = job('202');
    const keep = job('203');
    w.add(gone);
    w.add(done);
    w.add(keep);
    expect(await c.until(1)).toEqual(['201']);
    w.remove('202');
    fs.writeFileSync(path.join(gone.jobDir, doneMarkerFile('202')), 'x\n');
    await new Promise((r) => setTimeout(r, 1_500));
    expect(c.seen).toEqual(['201']);
    // The last job removed: the loop stays up for the next job (no restart), until close.
    w.remove('203');
    expect(w.watching('203')).toBe(false);
    const next = job('204');
    w.add(next);
    expect(w.watching('204')).toBe(true);
    fs.writeFileSync(path.join(next.jobDir, doneMarkerFile('204')), 'x\n');
    expect(await c.until(2)).toEqual(['201', '204']);
    expect(started.length).toBe(1);
    await w.close();
    expect((await started[0].done).code).toBe(0);
  });

  it('a loop that ends while jobs are live is restarted with every live job', async () => {
    const { stream, started } = recordingStream();
    const c = seenCollector();
    const logs: string[] = [];
    let lapses = 0;
    const w = new RemoteDoneWatcher(stream, (id) => c.seen.push(id), {
      restartDelayMs: 50,
      log: (m) => logs.push(m),
      onLapse: () => (lapses += 1),
    });
    const a = job('301');
    const b = job('302');
    w.add(a);
    w.add(b);
    await until(() => w.watching('301') && w.watching('302'));
    // The "connection" drops: the loop ends under the watcher.
    started[0].end();
    await started[0].done;
    expect(w.watching('301')).toBe(false);
    expect(lapses).toBe(1);
    await until(() => w.starts === 2 && w.watching('301') && w.watching('302'));
    expect(logs.join('\n')).toMatch(/done-marker watcher ended \(exit 0\); restarting in 0 s/);
    fs.writeFileSync(path.join(b.jobDir, doneMarkerFile('302')), 'x\n');
    fs.writeFileSync(path.join(a.jobDir, exitMarkerFile('301')), '0\n');
    expect((await c.until(2)).sort()).toEqual(['301', '302']);
    expect(started.length).toBe(2);
    await w.close();
  });

  it('restarts back off, and stop once closed', async () => {
    const delays: number[] = [];
    let last = Date.now();
    // A host whose loop dies at once (connection refused): every start is a failure.
    const stream = (): StreamingCommand => {
      delays.push(Date.now() - last);
      last = Date.now();
      return {
        write: () => undefined,
        end: () => undefined,
        done: Promise.resolve({ code: null, stdout: '', stderr: 'connection refused' }),
      };
    };
    const logs: string[] = [];
    const w = new RemoteDoneWatcher(stream, () => undefined, {
      restartDelayMs: 40,
      maxRestartDelayMs: 200,
      log: (m) => logs.push(m),
    });
    w.add(job('401'));
    await until(() => w.starts >= 5);
    await w.close();
    const starts = w.starts;
    await new Promise((r) => setTimeout(r, 400));
    expect(w.starts).toBe(starts);
    // 40, 80, 160, 200 (capped): each wait at least the one before.
    expect(delays[2]).toBeGreaterThanOrEqual(70);
    expect(delays[4]).toBeGreaterThanOrEqual(190);
    expect(logs[0]).toMatch(/connection lost: connection refused/);
  });
});

describe('RemoteDoneWatcher on a host that refuses long-running commands', () => {
  it('gives up at once (no restarts) and tells the broker to rely on the tick', async () => {
    let starts = 0;
    const stream = (): StreamingCommand => {
      starts += 1;
      return {
        write: () => undefined,
        end: () => undefined,
        done: Promise.resolve({ code: STREAM_REFUSED, stdout: '', stderr: 'maxChannels is 1' }),
      };
    };
    const logs: string[] = [];
    let lapses = 0;
    const w = new RemoteDoneWatcher(stream, () => undefined, {
      restartDelayMs: 10,
      log: (m) => logs.push(m),
      onLapse: () => (lapses += 1),
    });
    w.add(job('701'));
    // Wait for the lapse itself (a loaded machine may take long), then give a restart the time it would
    // need (restartDelayMs is 10 ms) to show there is none.
    await until(() => lapses === 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(starts).toBe(1);
    expect(lapses).toBe(1);
    expect(w.watching('701')).toBe(false);
    expect(logs).toEqual([
      'done-marker watcher not started: maxChannels is 1; jobs end through the poll tick',
    ]);
    await w.close();
  });
});

describe('LocalDoneWatcher', () => {
  it('fs.watch reports a marker written after add; a marker there before add is reported at once', async () => {
    const c = seenCollector();
    const w = new LocalDoneWatcher((id) => c.seen.push(id), 60_000);
    const pre = job('501');
    fs.writeFileSync(path.join(pre.jobDir, exitMarkerFile('501')), '0\n');
    w.add(pre);
    expect(c.seen).toEqual(['501']);
    const j = job('502');
    w.add(j);
    expect(w.watching('502')).toBe(true);
    fs.writeFileSync(path.join(j.jobDir, doneMarkerFile('502')), 'x\n');
    // The sweep is a minute away here: only fs.watch can report it this fast.
    expect(await c.until(2, 5_000)).toEqual(['501', '502']);
    expect(w.watching('502')).toBe(false);
    await w.close();
  });

  it('the stat sweep sees a marker fs.watch missed (a dir it cannot watch)', async () => {
    const c = seenCollector();
    const w = new LocalDoneWatcher((id) => c.seen.push(id), 50);
    const j = job('601');
    // A job dir that does not exist yet: fs.watch fails, the sweep still looks.
    fs.rmSync(j.jobDir, { recursive: true });
    w.add(j);
    fs.mkdirSync(j.jobDir);
    fs.writeFileSync(path.join(j.jobDir, doneMarkerFile('601')), 'x\n');
    expect(await c.until(1, 5_000)).toEqual(['601']);
    await w.close();
  });
});
