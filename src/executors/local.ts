// The local scheduler: each job's script runs as a child process of this machine in its own process
// group, in `$OUTPUT_PATH/slurm_logs/<test id>/`, with SLURM-like variables. Executor 'local': no
// cluster needed.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, SubmitError } from '../errors.js';
import {
  EXIT_CODE_FILE,
  JOB_END_FILE,
  JOB_START_FILE,
  JOB_TOKEN_FILE,
  SIM_SCRIPT,
  slurmErrFile,
  slurmOutFile,
} from '../jobdir/files.js';
import type { JobSpec, JobState, JobStatus, ProcessIdentity, SubmittedJob } from '../types.js';
import { planFiles, usesSimulator } from './job-files.js';
import {
  checkJobGroup,
  findJobGroupsByToken,
  JOB_TOKEN_VAR,
  newJobToken,
  processStartTime,
} from './process-identity.js';
import { register } from './registry.js';
import { shJoin, shq } from './shell-quote.js';
import type {
  CancelResult,
  ReconciledJob,
  Scheduler,
  SchedulerContext,
  StartedJob,
  SubmissionPlan,
  Upload,
} from './types.js';

/** Seconds between SIGTERM and SIGKILL, like SLURM's KillWait. */
const KILL_WAIT_MS = 5_000;

interface Running {
  child?: ChildProcess;
  pid: number;
  /** Set once the job ended or we decided its fate (cancel, timeout). */
  finalState?: JobState;
  exitCode?: string;
  reason?: string;
  timer?: NodeJS.Timeout;
  /** When the process started and ended (ISO 8601): the job's own run, whenever it was polled. */
  startedAt: string;
  endedAt?: string;
}

/** `date +%s` written by the wrapper → ISO 8601; undefined when the file is absent or unreadable. */
export function readEpochFile(file: string): string | undefined {
  try {
    const text = fs.readFileSync(file, 'utf8').trim();
    if (!/^\d+$/.test(text)) return undefined;
    return new Date(Number(text) * 1000).toISOString();
  } catch {
    return undefined;
  }
}

/** The job id the token file of `dir` records for `token`; undefined when it holds another token. */
function jobIdByToken(dir: string, token: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, JOB_TOKEN_FILE), 'utf8');
  } catch {
    return undefined;
  }
  const [found, jobId] = text.trim().split(/\s+/);
  return found === token && jobId !== undefined && /^\d+$/.test(jobId) ? jobId : undefined;
}

function groupAlive(pid: number): boolean {
  if (!(pid > 1)) return false;
  try {
    process.kill(-pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  // kill(-1) signals every process we may signal, kill(-0) our own group: never.
  if (!Number.isSafeInteger(pid) || pid <= 1) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function scriptFor(spec: JobSpec): string {
  const script = spec.config.slurm?.script_file ?? spec.config.metadata?.script_file;
  if (!script) {
    throw new ConfigError(
      `${spec.configFile}: slurm.script_file is not set; the local executor needs a script to run ` +
        `(use \`script_file: ${SIM_SCRIPT}\` for the built-in simulator).`,
      spec.configFile,
    );
  }
  const resolved = path.resolve(path.dirname(spec.configFile), String(script));
  if (!fs.existsSync(resolved)) {
    throw new ConfigError(
      `${spec.configFile}: slurm.script_file ${resolved} does not exist.`,
      spec.configFile,
    );
  }
  return resolved;
}

export class LocalScheduler implements Scheduler {
  readonly name = 'local';
  private readonly jobs = new Map<string, Running>();
  private nextId = 0;

  constructor(private readonly context: SchedulerContext) {}

  render(spec: JobSpec, jobDir: string, uploads: readonly Upload[]): SubmissionPlan {
    const files = planFiles(spec, jobDir, uploads);
    // The simulator script is uploaded; another script runs where it is (next to its config).
    const script = usesSimulator(spec) ? path.join(jobDir, SIM_SCRIPT) : scriptFor(spec);
    const env: Record<string, string> = {
      SLURM_JOB_NAME: String(spec.config.slurm?.job_name ?? spec.testId),
      SLURM_SUBMIT_DIR: jobDir,
      SLURM_JOB_NUM_NODES: '1',
      SLURM_NNODES: '1',
      SLURM_NTASKS: '1',
      SLURM_CPUS_ON_NODE: '1',
      SLURMD_NODENAME: 'localhost',
      DISAGG_JOB_DIR: jobDir,
      DISAGG_NODE: process.execPath,
    };
    const argv = ['bash', script];
    const assigns = Object.entries(env).map(([k, v]) => `${k}=${shq(v)}`);
    return {
      launcher: 'local',
      jobDir,
      controlDir: jobDir,
      cwd: jobDir,
      files,
      command: { argv, env, commandLine: [...assigns, shJoin(argv)].join(' ') },
    };
  }

  async submit(plan: SubmissionPlan, spec: JobSpec): Promise<StartedJob> {
    const { jobDir } = plan;
    const script = plan.command.argv[1];
    // Numeric ids like SLURM's, unique per run and unlikely to repeat across runs.
    const jobId = String((Date.now() % 100_000_000) * 10 + (this.nextId++ % 10));
    const out = fs.openSync(path.join(jobDir, slurmOutFile(jobId)), 'a');
    const err = fs.openSync(path.join(jobDir, slurmErrFile(jobId)), 'a');
    // Proves later (another run, `disagg cancel`) that a pid from the ledger is still this job.
    // The write-ahead token when the broker gave one: a run killed before recording the job finds it by it.
    const token = spec.submitToken ?? newJobToken();
    // The wrapper records the exit code so a later run (after a crash) can still learn the outcome, and
    // the start and end times (the end before the exit code) so it learns the job's own run time too.
    // It writes the token first: a run killed before recording the job finds it by it even once it ended.
    const wrapper =
      `printf '%s %s\\n' "$${JOB_TOKEN_VAR}" "$SLURM_JOB_ID" > ${JOB_TOKEN_FILE}; ` +
      `date +%s > ${JOB_START_FILE}; bash "$0"; code=$?; ` +
      `date +%s > ${JOB_END_FILE}; echo "$code" > ${EXIT_CODE_FILE}; exit "$code"`;
    const startedAt = new Date().toISOString();
    const child = spawn('bash', ['-c', wrapper, script], {
      cwd: jobDir,
      detached: true,
      stdio: ['ignore', out, err],
      env: {
        ...this.context.settings.childEnv,
        ...plan.command.env,
        SLURM_JOB_ID: jobId,
        SLURM_JOBID: jobId,
        [JOB_TOKEN_VAR]: token,
      },
    });
    fs.closeSync(out);
    fs.closeSync(err);
    const pid = child.pid;
    if (pid === undefined) throw new SubmitError(`could not start ${script} for ${spec.testId}`, false);
    const startTime = processStartTime(pid);
    const procId: ProcessIdentity | undefined = startTime !== undefined ? { startTime, token } : undefined;
    const running: Running = { child, pid, startedAt };
    child.on('exit', (code, signal) => {
      running.endedAt = new Date().toISOString();
      if (running.timer) clearTimeout(running.timer);
      if (running.finalState) return;
      running.finalState = code === 0 ? 'COMPLETED' : 'FAILED';
      running.exitCode = signal ? `0:${signal}` : `${code ?? 0}:0`;
      if (code !== 0) running.reason = signal ? `killed by ${signal}` : 'NonZeroExitCode';
    });
    running.timer = setTimeout(() => {
      running.finalState = 'TIMEOUT';
      running.reason = `TimeLimit (${Math.round(spec.timeLimitMs / 1000)} s)`;
      this.stop(running);
    }, spec.timeLimitMs);
    running.timer.unref();
    this.jobs.set(jobId, running);
    return { jobId, pid, ...(procId ? { procId } : {}) };
  }

  private stop(running: Running): void {
    killGroup(running.pid, 'SIGTERM');
    const kill = setTimeout(() => killGroup(running.pid, 'SIGKILL'), KILL_WAIT_MS);
    kill.unref();
  }

  async poll(jobs: readonly SubmittedJob[]): Promise<Map<string, JobStatus>> {
    const out = new Map<string, JobStatus>();
    for (const job of jobs) out.set(job.jobId, this.status(job));
    return out;
  }

  private status(job: SubmittedJob): JobStatus {
    const running = this.jobs.get(job.jobId);
    if (running) {
      // Cancelled/timed-out jobs stay "COMPLETING" until their processes are really gone, as in SLURM.
      const { startedAt } = running;
      if (running.finalState && running.child?.exitCode === null && running.child.signalCode === null) {
        return { jobId: job.jobId, state: 'COMPLETING', reason: running.reason, startedAt };
      }
      if (running.finalState) {
        return {
          jobId: job.jobId,
          state: running.finalState,
          exitCode: running.exitCode,
          reason: running.reason,
          startedAt,
          // A timeout or cancel decided before the exit event: the end is the decision's moment.
          endedAt: running.endedAt ?? new Date().toISOString(),
        };
      }
      return { jobId: job.jobId, state: 'RUNNING', startedAt };
    }
    // Re-attached from the ledger: we are not the parent, so look at the process group and exit file.
    // A group that is not provably the job (pid reused) means the job is gone.
    const alive = job.procId
      ? checkJobGroup(job.pid, job.procId).ours
      : job.pid !== undefined && groupAlive(job.pid);
    const startedAt = readEpochFile(path.join(job.jobDir, JOB_START_FILE));
    const times = startedAt ? { startedAt } : {};
    if (alive) return { jobId: job.jobId, state: 'RUNNING', ...times };
    const endedAt = readEpochFile(path.join(job.jobDir, JOB_END_FILE));
    const ended = endedAt ? { ...times, endedAt } : times;
    try {
      const code = Number(fs.readFileSync(path.join(job.jobDir, EXIT_CODE_FILE), 'utf8').trim());
      return code === 0
        ? { jobId: job.jobId, state: 'COMPLETED', exitCode: '0:0', ...ended }
        : { jobId: job.jobId, state: 'FAILED', exitCode: `${code}:0`, reason: 'NonZeroExitCode', ...ended };
    } catch {
      return {
        jobId: job.jobId,
        state: 'FAILED',
        reason: 'the job process is gone and left no exit code',
        ...ended,
      };
    }
  }

  async cancel(jobs: readonly SubmittedJob[]): Promise<CancelResult> {
    const result: CancelResult = { refused: [], gone: [] };
    for (const job of jobs) {
      const running = this.jobs.get(job.jobId);
      if (running) {
        if (running.finalState) {
          result.gone.push({ jobId: job.jobId, reason: `already ${running.finalState}` });
          continue;
        }
        running.finalState = 'CANCELLED';
        running.reason = 'cancelled';
        if (running.timer) clearTimeout(running.timer);
        this.stop(running);
      } else {
        // From the ledger: signal only a process group we can prove is this job's.
        const check = checkJobGroup(job.pid, job.procId);
        if (!check.ours) {
          this.log(`local job ${job.jobId} (${job.testId}): not signalled: ${check.why}`);
          (check.gone ? result.gone : result.refused).push({ jobId: job.jobId, reason: check.why });
          continue;
        }
        const pgid = job.pid as number;
        killGroup(pgid, 'SIGTERM');
        setTimeout(() => {
          if (checkJobGroup(pgid, job.procId).ours) killGroup(pgid, 'SIGKILL');
        }, KILL_WAIT_MS).unref();
      }
    }
    return result;
  }

  /**
   * Jobs started with these write-ahead tokens (by a run that died before recording them): live ones
   * from their process environment, ended ones from the token file their wrapper wrote into their job
   * dir (`dirs`), with the outcome their exit-code file holds.
   */
  async reconcile(
    tokens: readonly string[],
    dirs?: ReadonlyMap<string, string>,
  ): Promise<Map<string, ReconciledJob>> {
    const out = new Map<string, ReconciledJob>();
    for (const [token, g] of findJobGroupsByToken(new Set(tokens)))
      out.set(token, { jobId: g.jobId, pid: g.pid, procId: g.procId, state: 'RUNNING' });
    for (const token of tokens) {
      const dir = dirs?.get(token);
      if (out.has(token) || !dir) continue;
      const jobId = jobIdByToken(dir, token);
      if (jobId === undefined) continue;
      // Not alive (the scan above found no process of it): its files tell how it ended.
      const status = this.status({ jobId, testId: '', jobDir: dir, submittedAt: '' });
      out.set(token, {
        jobId,
        jobDir: dir,
        state: status.state === 'RUNNING' ? 'FAILED' : status.state,
      });
    }
    return out;
  }

  private log(message: string): void {
    if (this.context.extras.log) this.context.extras.log(message);
    else process.stderr.write(`${message}\n`);
  }

  async close(): Promise<void> {
    for (const running of this.jobs.values()) if (running.timer) clearTimeout(running.timer);
  }
}

register('local', { scheduler: (context) => new LocalScheduler(context), host: 'local' });
