// Issue 21, item 9b: a run killed with kill -9 leaves its submit command (`bash -c` … `sbatch
// --comment=<token>`) running. If the next run asked squeue before that sbatch finished, it would find no
// job for the token and submit the test a second time. Reconcile waits for such commands first (found
// by the token in their command line), and is an error — never "no job" — if one outlives the bound.
// A fake `sbatch` on PATH that waits to be released stands for a slow sbatch; no cluster needed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalHost } from '../../../src/executors/local-host.js';
import { idempotentSubmit, planSubmission, SlurmExecutor } from '../../../src/executors/slurm.js';
import type { CommandResult } from '../../../src/executors/types.js';
import { shortSimSpec } from '../../fixtures/short-spec.js';

const TOKEN = 'dsg-20261206-010203-ab12-1-0123abcd';

let work: string;
let bin: string;
let orphan: ChildProcess | undefined;
let env: Record<string, string | undefined>;

beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'orphan-submit-'));
  bin = path.join(work, 'bin');
  fs.mkdirSync(bin);
  const script = (name: string, body: string) =>
    fs.writeFileSync(path.join(bin, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
  // sbatch: says it started, waits for `release`, then queues the job with its comment.
  script(
    'sbatch',
    [
      'comment=""',
      'for a in "$@"; do case "$a" in --comment=*) comment="${a#--comment=}";; esac; done',
      'touch "$STATE_DIR/sbatch-started"',
      'while [ ! -f "$STATE_DIR/release" ]; do sleep 0.05; done',
      'echo "4711|PENDING|$PWD|$comment" >> "$STATE_DIR/queue"',
      'echo "Submitted batch job 4711"',
    ].join('\n'),
  );
  script('squeue', 'cat "$STATE_DIR/queue" 2>/dev/null; exit 0');
  // pgrep: the real one; once it has seen the killed run's submit still running, that sbatch may end
  // (when the test asks for it): the wait provably overlapped the submit, whatever the machine's load.
  const realPgrep = spawnSync('bash', ['-c', 'command -v pgrep'], { encoding: 'utf8' }).stdout.trim();
  expect(realPgrep, 'pgrep is needed for this test').not.toBe('');
  script(
    'pgrep',
    [
      `${JSON.stringify(realPgrep)} "$@"; rc=$?`,
      'if [ "$rc" -eq 0 ] && [ -f "$STATE_DIR/release-on-pgrep" ]; then touch "$STATE_DIR/release"; fi',
      'exit "$rc"',
    ].join('\n'),
  );
  env = { PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: work, STATE_DIR: work };
});

afterEach(async () => {
  if (orphan && orphan.exitCode === null && orphan.signalCode === null) {
    const exited = new Promise((r) => orphan?.once('exit', r));
    // Its own process group: bash and the fake sbatch go together.
    process.kill(-(orphan.pid as number), 'SIGKILL');
    await exited;
  }
  orphan = undefined;
  fs.rmSync(work, { recursive: true, force: true });
});

/** What the killed run left: its submit command, as LocalHost.exec ran it, with sbatch still busy. */
async function startOrphanSubmit(): Promise<void> {
  const spec = { ...shortSimSpec(work, 'disagg_stress_orphan'), submitToken: TOKEN };
  const jobDir = path.join(work, 'job');
  fs.mkdirSync(jobDir, { recursive: true });
  const plan = planSubmission(spec, jobDir, { launcher: 'sbatch' });
  orphan = spawn('bash', ['-c', idempotentSubmit(plan, 0)], {
    cwd: plan.cwd,
    env,
    stdio: 'ignore',
    detached: true,
  });
  // Bounded only as a safety net: the fake sbatch says when it runs.
  for (let i = 0; i < 600 && !fs.existsSync(path.join(work, 'sbatch-started')); i++)
    await new Promise((r) => setTimeout(r, 50));
  expect(fs.existsSync(path.join(work, 'sbatch-started')), 'the fake sbatch never started').toBe(true);
}

/** The host of the next run; `onExec` sees each command before it runs. */
class WatchedHost extends LocalHost {
  constructor(private readonly onExec: (command: string) => void) {
    super({ env });
  }
  override exec(command: string, options?: { cwd?: string }): Promise<CommandResult> {
    this.onExec(command);
    return super.exec(command, options);
  }
}

describe('reconcile after a run killed during sbatch', () => {
  it('waits for the killed run’s sbatch to finish, then finds its job (never "no job")', async () => {
    await startOrphanSubmit();
    // The killed run's sbatch ends only after this run's wait has seen it running: without the wait,
    // squeue would run while sbatch is still blocked and see no job.
    fs.writeFileSync(path.join(work, 'release-on-pgrep'), '');
    const order: string[] = [];
    const host = new WatchedHost((command) => {
      const first = command.includes('pgrep') ? 'wait' : (command.split(' ')[0] ?? '');
      order.push(`${first}${fs.existsSync(path.join(work, 'queue')) ? ' (job queued)' : ''}`);
    });
    const logs: string[] = [];
    const executor = new SlurmExecutor({ host, accounting: false, log: (m) => logs.push(m) });
    const found = await executor.reconcile([TOKEN]);
    await executor.close();
    expect(order).toEqual(['wait', 'squeue (job queued)']);
    expect(found?.get(TOKEN)).toMatchObject({ jobId: '4711', state: 'PENDING' });
    expect(logs.join('\n')).toMatch(/waited for the submission\(s\) of a killed run/);
  }, 300_000);

  it('a submission still running after the bound is an error naming it, not "no job"', async () => {
    await startOrphanSubmit();
    const host = new WatchedHost(() => undefined);
    const executor = new SlurmExecutor({ host, accounting: false, orphanSubmitWaitMs: 600 });
    await expect(executor.reconcile([TOKEN])).rejects.toThrow(
      /a submission of a run that is no longer alive is still running on local shell after 1 s .*dsg-20261206-010203-ab12-1-0123abcd.*then rerun/s,
    );
    await executor.close();
  }, 300_000);

  it('nothing running with the token: no wait, squeue answers at once', async () => {
    const calls: string[] = [];
    const host = new WatchedHost((c) => calls.push(c.includes('pgrep') ? 'wait' : (c.split(' ')[0] ?? '')));
    const executor = new SlurmExecutor({ host, accounting: false });
    const found = await executor.reconcile([TOKEN]);
    await executor.close();
    expect(calls).toEqual(['wait', 'squeue']);
    expect(found?.size).toBe(0);
  }, 300_000);
});
