import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalHost } from '../../../src/executors/local-host.js';
import { remoteJobDir } from '../../../src/executors/job-dir.js';
import { idempotentSubmit, planSubmission, SlurmExecutor } from '../../../src/executors/slurm.js';
import type { CommandResult } from '../../../src/executors/types.js';
import { ScriptedHost } from './scripted-host.js';
import type { JobSpec, SubmittedJob } from '../../../src/types.js';

const ok = (stdout: string): CommandResult => ({ code: 0, stdout, stderr: '' });
const fail = (code: number, stderr: string): CommandResult => ({ code, stdout: '', stderr });
const job = (id: string): SubmittedJob => ({
  jobId: id,
  testId: `t${id}`,
  jobDir: `/w/t${id}`,
  submittedAt: '',
});
const sc = (id: string, state: string, reason: string, exit: string) =>
  `JobId=${id} JobName=x JobState=${state} Reason=${reason} Dependency=(null) ExitCode=${exit} RunTime=0\n`;

describe('SlurmExecutor.poll', () => {
  it('one squeue call per tick for 12 jobs; final states once; sacct disabled is remembered', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => String(100 + i));
    let tick = 0;
    const host = new ScriptedHost((c) => {
      if (c.startsWith('squeue')) {
        expect(c).toMatch(/^squeue -h -t all -j \d+(,\d+)* -o '%i\|%T\|%N\|%r'$/);
        // tick 0: all running; tick 1: first 6 done (3 failed); tick 2: the rest done
        return ok(
          ids
            .map((id, i) => {
              const done = tick >= 2 || (tick === 1 && i < 6);
              return `${id}|${done ? (i % 2 ? 'FAILED' : 'COMPLETED') : 'RUNNING'}|node${i % 4}|${done && i % 2 ? 'NonZeroExitCode' : 'None'}`;
            })
            .join('\n'),
        );
      }
      if (c.startsWith('sacct')) return fail(1, 'Slurm accounting storage is disabled');
      if (c.startsWith('for id in')) {
        const want = c.slice('for id in '.length, c.indexOf(';')).split(' ');
        return ok(
          want
            .map((id) =>
              sc(id, Number(id) % 2 ? 'FAILED' : 'COMPLETED', 'None', Number(id) % 2 ? '3:0' : '0:0'),
            )
            .join(''),
        );
      }
      return undefined;
    });
    const ex = new SlurmExecutor({ host, kind: 'ssh' });
    const jobs = ids.map(job);
    const counts: number[] = [];
    for (tick = 0; tick < 4; tick += 1) {
      const before = host.calls.length;
      const st = await ex.poll(jobs);
      expect(st.size).toBe(12);
      counts.push(host.calls.slice(before).filter((c) => c.startsWith('squeue')).length);
      if (tick === 0) expect([...st.values()].every((s) => s.state === 'RUNNING')).toBe(true);
      if (tick === 1) {
        expect(st.get('101')).toMatchObject({ state: 'FAILED', exitCode: '3:0' });
        expect(st.get('100')).toMatchObject({ state: 'COMPLETED', exitCode: '0:0' });
        expect(st.get('111')?.state).toBe('RUNNING');
      }
    }
    // ticks 0..2 each one squeue; tick 3: every job final → no call at all
    expect(counts).toEqual([1, 1, 1, 0]);
    expect(host.calls.filter((c) => c.startsWith('sacct'))).toHaveLength(1);
    expect(ex.accountingState).toBe('off');
    expect(host.calls.filter((c) => c.startsWith('for id in'))).toHaveLength(2);
  });

  it('sacct when accounting exists; a lagging RUNNING row falls back to scontrol', async () => {
    const host = new ScriptedHost((c) => {
      if (c.startsWith('squeue'))
        return ok('1|COMPLETED|n1|None\n2|CANCELLED|n2|None\n3|RUNNING|n[3-4]|None\n');
      if (c.startsWith('sacct'))
        return ok(
          '1|RUNNING|0:0|2024-05-01T12:00:00|Unknown|None\n2|CANCELLED by 1001|0:0|None|2024-05-01T12:00:05|None\n',
        );
      if (c.startsWith('for id in')) return ok(sc('1', 'COMPLETED', 'None', '0:0'));
      return undefined;
    });
    const ex = new SlurmExecutor({ host, kind: 'ssh' });
    const st = await ex.poll([job('1'), job('2'), job('3')]);
    expect(st.get('1')).toMatchObject({ state: 'COMPLETED', exitCode: '0:0' });
    expect(st.get('2')).toMatchObject({ state: 'CANCELLED', reason: 'cancelled by uid 1001' });
    expect(st.get('3')).toMatchObject({ state: 'RUNNING', nodes: 'n[3-4]' });
    expect(ex.accountingState).toBe('on');
    expect(host.calls.find((c) => c.startsWith('for id in'))).toBe(
      'for id in 1; do scontrol show job -o "$id"; done',
    );
  });

  it('an unsettled sacct row (FAILED, exit 0:0) while squeue still has the job: the exit code from scontrol', async () => {
    const host = new ScriptedHost((c) => {
      if (c.startsWith('squeue')) return ok('1|FAILED|n1|NonZeroExitCode\n');
      if (c.startsWith('sacct')) return ok('1|FAILED|0:0|2024-05-01T12:00:00|2024-05-01T12:00:03|None\n');
      if (c.startsWith('for id in')) return ok(sc('1', 'FAILED', 'NonZeroExitCode', '3:0'));
      return undefined;
    });
    const ex = new SlurmExecutor({ host, kind: 'ssh' });
    const st = await ex.poll([job('1')]);
    expect(st.get('1')).toMatchObject({ state: 'FAILED', exitCode: '3:0' });
  });

  it('COMPLETING is not final; a job gone from every source after being seen is UNKNOWN', async () => {
    let phase = 0;
    const host = new ScriptedHost((c) => {
      if (c.startsWith('squeue'))
        return phase === 0
          ? ok('5|COMPLETING|n5|None\n')
          : fail(1, 'slurm_load_jobs error: Invalid job id specified');
      if (c.startsWith('sacct')) return fail(1, 'Slurm accounting storage is disabled');
      if (c.startsWith('for id in'))
        return { code: 1, stdout: '', stderr: 'slurm_load_jobs error: Invalid job id specified' };
      return undefined;
    });
    const ex = new SlurmExecutor({ host, kind: 'ssh' });
    expect((await ex.poll([job('5')])).get('5')?.state).toBe('COMPLETING');
    phase = 1;
    const s = (await ex.poll([job('5')])).get('5');
    expect(s?.state).toBe('UNKNOWN');
    expect(s?.reason).toMatch(/disappeared/);
    const never = (await ex.poll([job('6')])).get('6');
    expect(never).toMatchObject({ state: 'UNKNOWN' });
    expect(never?.reason).toMatch(/does not know this job id/);
  });

  it('a failing squeue (controller down) throws instead of inventing states', async () => {
    const host = new ScriptedHost(() =>
      fail(1, 'slurm_load_jobs error: Unable to contact slurm controller (connect failure)'),
    );
    await expect(new SlurmExecutor({ host }).poll([job('1')])).rejects.toThrow(
      /Unable to contact slurm controller/,
    );
  });
});

describe('SlurmExecutor.cancel', () => {
  it('one scancel for all jobs', async () => {
    const host = new ScriptedHost(() => undefined);
    const result = await new SlurmExecutor({ host }).cancel([job('1'), job('2'), job('2'), job('x; rm')]);
    expect(host.calls).toEqual(['scancel 1 2']);
    // What was never passed to scancel is reported as refused, not cancelled (issue 21).
    expect(result).toEqual({
      refused: [{ jobId: 'x; rm', reason: '"x; rm" is not a SLURM job id' }],
      gone: [],
    });
  });
});

describe('submit', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'disagg-submit-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function spec(extra: Partial<JobSpec['config']> = {}): JobSpec {
    writeFileSync(path.join(dir, 'job.sh'), '#!/bin/bash\necho hi\n');
    return {
      testId: 'disagg_stress_x',
      configHash: 'h',
      config: {
        slurm: { script_file: 'job.sh', job_time: '00:05:00' },
        hardware: { gpus_per_node: 4, num_ctx_servers: 1, num_gen_servers: 1 },
        worker_config: { ctx: { tensor_parallel_size: 1 }, gen: { tensor_parallel_size: 4 } },
        ...extra,
      },
      configFile: path.join(dir, 'x.yaml'),
      localLogDir: path.join(dir, 'out', 'disagg_stress_x'),
      timeLimitMs: 60_000,
    };
  }

  it('mkdir before sbatch, uploads config + worker configs + script + extra uploads, retries a QOS refusal', async () => {
    writeFileSync(path.join(dir, 'extra.bin'), 'x'.repeat(10));
    let sbatchCalls = 0;
    const host = new ScriptedHost((c) => {
      if (c.includes('sbatch')) {
        sbatchCalls += 1;
        return sbatchCalls === 1
          ? fail(
              1,
              'sbatch: error: QOSMaxSubmitJobPerUserLimit\nsbatch: error: Batch job submission failed: Job violates accounting/QOS policy',
            )
          : ok('777\n');
      }
      return undefined;
    });
    const waits: number[] = [];
    const ex = new SlurmExecutor({
      host,
      kind: 'ssh',
      // job.sh reads nothing from its arguments: plain sbatch starts it.
      settings: { jobDirScripts: ['job.sh'] },
      uploads: [{ name: 'extra.bin', localPath: path.join(dir, 'extra.bin') }],
      submitRetry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 100 },
      sleep: async (ms) => void waits.push(ms),
    });
    const s = spec();
    const sub = await ex.submit(s);
    const jobDir = remoteJobDir('/home/bench/vitest-disagg', s);
    expect(jobDir).toMatch(/^\/home\/bench\/vitest-disagg\/[^/]+-[0-9a-f]{8}\/disagg_stress_x$/);
    expect(sub).toMatchObject({ jobId: '777', jobDir });
    expect(host.calls[0]).toBe(`rm -rf -- ${jobDir} && mkdir -p -- ${jobDir}`);
    expect([...host.written.keys()].map((p) => path.posix.basename(p)).sort()).toEqual([
      'config.yaml',
      'ctx_config.yaml',
      'extra.bin',
      'gen_config.yaml',
      'job.sh',
    ]);
    expect(String(host.written.get(`${jobDir}/gen_config.yaml`))).toContain('tensor_parallel_size: 4');
    expect(waits).toEqual([10]);
    // each deliberate retry gets fresh markers; the sbatch line has --nodes=2 (1 ctx + 1 gen node)
    expect(host.calls[1]).toContain('.disagg-submit-0');
    expect(host.calls[2]).toContain('.disagg-submit-1');
    expect(host.calls[2]).toContain('--nodes=2');
  });

  it('other sbatch errors reject with stderr', async () => {
    const host = new ScriptedHost((c) =>
      c.includes('sbatch')
        ? fail(1, 'sbatch: error: Batch job submission failed: Invalid partition name specified')
        : undefined,
    );
    const settings = { jobDirScripts: ['job.sh'] };
    await expect(new SlurmExecutor({ host, kind: 'ssh', settings }).submit(spec())).rejects.toThrow(
      /Invalid partition name specified/,
    );
  });

  it('over SSH, a script not found on this machine is taken from $SCRIPT_DIR on the cluster', () => {
    const remote = spec({ slurm: { script_file: 'disaggr_torch.slurm', job_time: '01:00:00' } });
    const jobDirScripts = ['disaggr_torch.slurm'];
    const plan = planSubmission(remote, '/home/u/job', { remoteScriptDir: '/lustre/scripts', jobDirScripts });
    expect(plan.command.argv.at(-1)).toBe('/lustre/scripts/disaggr_torch.slurm');
    expect(plan.files.map((f) => f.name)).not.toContain('disaggr_torch.slurm');
    // Without a remote script dir it is a clear error naming where it looked.
    expect(() => planSubmission(remote, '/home/u/job', { jobDirScripts })).toThrow(
      /disaggr_torch\.slurm not found; looked in/,
    );
  });

  it('ssh + auto: submit.py is looked for on the login node first; missing, nothing is submitted', async () => {
    const real = spec({ slurm: { script_file: 'disaggr_torch.slurm', job_time: '01:00:00' } });
    const missing = new ScriptedHost((c) => (c.startsWith('test -f') ? fail(1, '') : undefined));
    const settings = {
      scriptDir: '/lustre/bench',
      remoteScriptDir: '/lustre/bench',
      scriptDirSource: 'SCRIPT_DIR=/lustre/bench',
    };
    const err = await new SlurmExecutor({ host: missing, kind: 'ssh', settings })
      .submit(real)
      .catch((e: unknown) => e);
    expect(String(err)).toContain(
      'no submit.py at /lustre/bench/submit.py on scripted (the folder comes from SCRIPT_DIR=/lustre/bench)',
    );
    expect(missing.calls.some((c) => c.includes('python3'))).toBe(false);
    // Present: submit.py runs with the shim first on PATH and the token; the id comes from its output.
    const present = new ScriptedHost((c) =>
      c.includes('python3') ? ok('Log will be saved to: /x\nSubmitted batch job 31\n') : undefined,
    );
    const sub = await new SlurmExecutor({ host: present, kind: 'ssh', settings }).submit({
      ...real,
      submitToken: 'tok-9',
    });
    expect(sub.jobId).toBe('31');
    const run = present.calls.find((c) => c.includes('python3')) ?? '';
    expect(run).toMatch(
      /PATH=\S+\.submit\/bin:"\$PATH" DISAGG_SUBMIT_TOKEN=tok-9 python3 \/lustre\/bench\/submit\.py -c /,
    );
    // No id printed: the id our sbatch shim recorded is used.
    const quiet = new ScriptedHost((c) => (c.startsWith('cat -- ') ? ok('30\n31\n') : undefined));
    expect((await new SlurmExecutor({ host: quiet, kind: 'ssh', settings }).submit(real)).jobId).toBe('31');
  });

  it('the submit command is idempotent: run twice (lost connection), sbatch runs once', async () => {
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    const counter = path.join(dir, 'count');
    writeFileSync(path.join(bin, 'sbatch'), `#!/bin/bash\necho x >> '${counter}'\necho 4242\n`);
    chmodSync(path.join(bin, 'sbatch'), 0o755);
    const jobDir = path.join(dir, 'job');
    mkdirSync(jobDir);
    const plan = planSubmission(spec(), jobDir, { jobDirScripts: ['job.sh'] });
    const host = new LocalHost({ env: { PATH: `${bin}:${process.env.PATH}` } });
    const cmd = idempotentSubmit(plan, 0);
    const a = await host.exec(cmd, { cwd: jobDir });
    const b = await host.exec(cmd, { cwd: jobDir });
    expect([a.code, a.stdout.trim(), b.code, b.stdout.trim()]).toEqual([0, '4242', 0, '4242']);
    expect(readFileSync(counter, 'utf8')).toBe('x\n');
  });
});

describe('scanEarlyFailure and fetchLogs (LocalHost, real shell)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'disagg-logs-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the original fatal patterns in current and old worker log names, reading only the tail', async () => {
    const jobDir = path.join(dir, 'job');
    mkdirSync(jobDir);
    const ex = new SlurmExecutor({ host: new LocalHost(), kind: 'slurm' });
    const j: SubmittedJob = { jobId: '1', testId: 't', jobDir, submittedAt: '' };
    writeFileSync(path.join(jobDir, '3_output_CTX_0.log'), 'all fine\n');
    writeFileSync(path.join(jobDir, 'not_a_worker.log'), '[E] Traceback\nmpi4py.MPI.Comm.allgather\n');
    expect(await ex.scanEarlyFailure(j)).toBeUndefined();
    writeFileSync(
      path.join(jobDir, 'output_gen_1.log'),
      'x'.repeat(300_000) +
        '\n[E] Traceback (most recent call last):\n  File "w.py"\n    pickle data was truncated\n',
    );
    expect(await ex.scanEarlyFailure(j)).toMatch(/^output_gen_1\.log: Pickle serialization error/);
    writeFileSync(
      path.join(jobDir, '3_output_GEN_0.log'),
      'start\n[E] Traceback (most recent call last):\n  File "x"\n  in mpi4py.MPI.Comm.allgather\n',
    );
    expect(await ex.scanEarlyFailure(j)).toMatch(
      /^3_output_GEN_0\.log: MPI communication error: .*mpi4py\.MPI\.Comm\.allgather/,
    );
    expect(await ex.scanEarlyFailure({ ...j, jobDir: path.join(dir, 'missing') })).toBeUndefined();
  });

  it('small files whole, big ones tail-first with a note, subdirs included, markers skipped', async () => {
    const jobDir = path.join(dir, 'job');
    mkdirSync(path.join(jobDir, 'concurrency_8'), { recursive: true });
    writeFileSync(path.join(jobDir, '6_bench.log'), 'bench\n');
    writeFileSync(path.join(jobDir, 'concurrency_8', 'result.json'), '{"a":1}');
    writeFileSync(path.join(jobDir, '.disagg-submit-0.out'), '1');
    const lines = Array.from({ length: 5000 }, (_, i) => `line ${i}`).join('\n') + '\n';
    writeFileSync(path.join(jobDir, '3_output_GEN_0.log'), lines);
    const ex = new SlurmExecutor({
      host: new LocalHost(),
      kind: 'slurm',
      smallFileBytes: 1000,
      tailBytes: 100,
    });
    const local = path.join(dir, 'local');
    await ex.fetchLogs({ jobId: '1', testId: 't', jobDir, submittedAt: '' }, local);
    expect(readFileSync(path.join(local, '6_bench.log'), 'utf8')).toBe('bench\n');
    expect(readFileSync(path.join(local, 'concurrency_8', 'result.json'), 'utf8')).toBe('{"a":1}');
    expect(existsSync(path.join(local, '.disagg-submit-0.out'))).toBe(false);
    const big = readFileSync(path.join(local, '3_output_GEN_0.log'), 'utf8').split('\n');
    expect(big[0]).toMatch(
      /^\[vitest-disagg\] TRUNCATED: \d+ bytes on the cluster; kept only the last 100 bytes/,
    );
    expect(big[1]).toMatch(/^line \d+$/); // no partial first line
    expect(big.at(-2)).toBe('line 4999');
    // same dir: nothing to do
    await ex.fetchLogs({ jobId: '1', testId: 't', jobDir, submittedAt: '' }, jobDir);
  });
});

describe('remoteJobDir', () => {
  const at = (out: string, testId = 'disagg_stress_x') =>
    remoteJobDir('/home/u/vitest-disagg', { testId, localLogDir: `${out}/slurm_logs/${testId}` });

  it('separates runs with different output dirs and keeps one dir per output dir (for resume)', () => {
    expect(at('/ci/a/output')).not.toBe(at('/ci/b/output'));
    expect(at('/ci/a/output')).toBe(at('/ci/a/output'));
    expect(path.posix.dirname(at('/ci/a/output', 't1'))).toBe(path.posix.dirname(at('/ci/a/output', 't2')));
  });

  it('is <base>/<machine>-<hash>/<test>, the test id made safe for a path', () => {
    expect(at('/o', 'disagg_perf_file:x_ctx:1')).toMatch(
      /^\/home\/u\/vitest-disagg\/[A-Za-z0-9._-]+-[0-9a-f]{8}\/disagg_perf_file-x_ctx-1$/,
    );
  });
});
