// The SLURM executor, written once against `Host`: kind 'slurm' runs sbatch/squeue on this machine
// (LocalHost), kind 'ssh' on a cluster login node (SshHost). Every command it sends is safe to repeat,
// because SshHost re-runs a command whose connection dropped.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import type { JobSpec, JobStatus, SubmittedJob } from '../types.js';
import {
  CONFIG_FILE,
  isFetchedLog,
  submitControlDir,
  submitMarker,
  WORKER_LOG_GLOBS,
} from '../jobdir/files.js';
import { findFatal, SCAN_TAIL_BYTES, WORKER_LOG_RE } from './early-failure.js';
import { jobFiles, SIM_SCRIPT, usesSimulator, type JobFile } from './job-files.js';
import {
  chooseLauncher,
  parseSubmitOutput,
  renderSubmitCommand,
  resourceModeFrom,
  scriptFileOf,
  type Launcher,
  type RenderedCommand,
  type ResourceMode,
} from './sbatch.js';
import { shq } from './shell-quote.js';
import {
  isAccountingDisabled,
  isInvalidJobIdError,
  isRetryableSubmitError,
  isTerminal,
  parseSacct,
  parseScontrol,
  parseSqueue,
  type RawJobState,
} from './slurm-state.js';
import { remoteWorkDir } from './ssh-settings.js';
import type { CommandResult, Executor, Host } from './types.js';

/** An extra file copied into every job dir (besides config/worker configs/simulator files). */
export interface Upload {
  /** File name inside the job dir. */
  name: string;
  /** Path on this machine. */
  localPath: string;
  mode?: number;
}

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface SlurmExecutorOptions {
  host: Host;
  /** 'slurm' (this machine) or 'ssh' (login node). Default: 'slurm'. */
  kind?: 'slurm' | 'ssh';
  /**
   * Base dir for job dirs on the host: `<baseDir>/<test id>`. Default for 'ssh': `<remote home>/vitest-disagg`
   * (relative values are under the remote home); for 'slurm': none, the job runs in `spec.localLogDir`
   * itself, so fetching logs is a no-op.
   */
  baseDir?: string;
  /** Extra files for every job, or a function choosing them per job. */
  uploads?: Upload[] | ((spec: JobSpec) => Upload[]);
  /** Default: `DISAGG_LAUNCHER` (sbatch|submit.py), else sbatch. */
  launcher?: Launcher;
  /** Default: `DISAGG_SBATCH_RESOURCES`, else `single` for the simulator and `config` otherwise. */
  resources?: ResourceMode;
  /** submit.py's directory (default: `$SCRIPT_DIR` on the submit host). */
  scriptDir?: string;
  /** Where a config's `script_file` is looked for on this machine (after the config file's dir). */
  scriptSearchDirs?: string[];
  /** Override `slurm.partition` / `slurm.account` of every config. */
  partition?: string;
  account?: string;
  env?: NodeJS.ProcessEnv;
  /** Force sacct on or off; default: try it and stop once it says accounting is disabled. */
  accounting?: boolean;
  /** Files up to this size are fetched whole (default 16 MiB). */
  smallFileBytes?: number;
  /** Of bigger files, only this many trailing bytes are fetched (default 8 MiB). */
  tailBytes?: number;
  /** Retries when sbatch is refused by a per-user limit (QOSMaxSubmitJobPerUserLimit, …). */
  submitRetry?: RetryPolicy;
  /** Progress messages (QOS waits, truncated logs). */
  log?: (message: string) => void;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
}

/** A SLURM command failed in a way that says nothing about the jobs (controller down, bad option). */
export class SlurmCommandError extends Error {
  constructor(
    readonly command: string,
    readonly result: CommandResult,
  ) {
    super(
      `${command.split(' ')[0]} failed (exit ${result.code}): ${result.stderr.trim() || result.stdout.trim()}`,
    );
    this.name = 'SlurmCommandError';
  }
}

export interface PlannedFile {
  name: string;
  /** Where it goes on the submit host. */
  remotePath: string;
  size: number;
  mode?: number;
  content?: string | Buffer;
  localPath?: string;
}

export interface SubmissionPlan {
  launcher: Launcher;
  jobDir: string;
  /** Holds the uploads for submit.py (which wipes the log dir) and the submit markers. */
  controlDir: string;
  /** cwd of the submit command. */
  cwd: string;
  files: PlannedFile[];
  command: RenderedCommand;
}

export interface PlanOptions {
  launcher?: Launcher;
  resources?: ResourceMode;
  scriptDir?: string;
  scriptSearchDirs?: string[];
  /** Launcher folder on the submit host, for scripts not found on this machine (ssh only). */
  remoteScriptDir?: string;
  partition?: string;
  account?: string;
  uploads?: Upload[];
  env?: NodeJS.ProcessEnv;
}

const MiB = 1024 * 1024;

/** A test id as a directory name (the original replaced ':' with '-'). */
export function jobDirName(testId: string): string {
  return testId.replace(/:/g, '-').replace(/[^A-Za-z0-9._+=@-]/g, '_');
}

/**
 * Where a job runs under a remote base dir: `<base>/<this machine>-<hash of the local output dir>/<test>`.
 * Two checkouts or CI jobs of the same user on one cluster never clear each other's job dirs, and a
 * rerun with the same output dir (a resume) finds its jobs again.
 */
export function remoteJobDir(base: string, spec: Pick<JobSpec, 'testId' | 'localLogDir'>): string {
  const space = createHash('sha256')
    .update(path.resolve(path.dirname(spec.localLogDir)))
    .digest('hex')
    .slice(0, 8);
  const machine = os.hostname().replace(/[^A-Za-z0-9.-]/g, '_') || 'host';
  return path.posix.join(base, `${machine}-${space}`, jobDirName(spec.testId));
}

function sizeOf(f: JobFile): number {
  if (f.content !== undefined) return Buffer.byteLength(f.content);
  if (f.localPath) return fs.statSync(f.localPath).size;
  return 0;
}

/** Find a non-simulator job script on this machine; an absolute path not found here is taken as remote. */
function resolveScript(
  spec: JobSpec,
  searchDirs: readonly string[],
  remoteScriptDir?: string,
): { localPath?: string; remotePath?: string } {
  const script = scriptFileOf(spec.config);
  const candidates = path.isAbsolute(script)
    ? [script]
    : [path.dirname(spec.configFile), ...searchDirs].map((d) => path.resolve(d, script));
  const found = candidates.find((c) => fs.existsSync(c));
  if (found) return { localPath: found };
  if (path.isAbsolute(script)) return { remotePath: script };
  // Over SSH, $SCRIPT_DIR names the launcher folder on the cluster (as in the original, where it is on the
  // login node's shared file system): a script not found here is taken from there.
  if (remoteScriptDir) return { remotePath: path.posix.join(remoteScriptDir, script) };
  throw new Error(
    `${spec.configFile}: job script ${script} not found; looked in ${candidates.map((c) => path.dirname(c)).join(', ')}. ` +
      `Use script_file: ${SIM_SCRIPT} for the simulator, an absolute path on the cluster, or set SCRIPT_DIR.`,
  );
}

/**
 * What submitting `spec` into `jobDir` means: the files to upload (with sizes) and the exact command.
 * Pure apart from reading local file sizes, so `disagg dry-run` shows what `submit` does.
 */
export function planSubmission(spec: JobSpec, jobDir: string, options: PlanOptions = {}): SubmissionPlan {
  const env = options.env ?? process.env;
  const simulator = usesSimulator(spec);
  const launcher = chooseLauncher(spec.config, options.launcher, env, simulator);
  const resources = resourceModeFrom(options.resources, env);
  const common = {
    config: spec.config,
    testId: spec.testId,
    jobDir,
    timeLimitMs: spec.timeLimitMs,
    simulator,
    resources,
    partition: options.partition,
    account: options.account,
  };

  if (launcher === 'submit.py') {
    // submit.py deletes and recreates --log-dir, so its input lives next to it.
    const controlDir = submitControlDir(jobDir);
    const configYaml = stringify(spec.config, { lineWidth: 0 });
    const configPath = path.posix.join(controlDir, CONFIG_FILE);
    const command = renderSubmitCommand({
      ...common,
      launcher,
      scriptPath: '',
      configPath,
      scriptDir: options.scriptDir ?? env.DISAGG_SCRIPT_DIR,
    });
    return {
      launcher,
      jobDir,
      controlDir,
      cwd: controlDir,
      files: [
        {
          name: CONFIG_FILE,
          remotePath: configPath,
          size: Buffer.byteLength(configYaml),
          content: configYaml,
        },
      ],
      command,
    };
  }

  const files: PlannedFile[] = jobFiles(spec).map((f) => ({
    name: f.name,
    remotePath: path.posix.join(jobDir, f.name),
    size: sizeOf(f),
    mode: f.mode,
    content: f.content,
    localPath: f.localPath,
  }));
  for (const u of options.uploads ?? []) {
    const planned = {
      name: u.name,
      remotePath: path.posix.join(jobDir, u.name),
      size: fs.statSync(u.localPath).size,
      mode: u.mode,
      localPath: u.localPath,
    };
    const i = files.findIndex((f) => f.name === u.name);
    if (i >= 0) files[i] = planned;
    else files.push(planned);
  }
  let scriptPath: string;
  if (simulator) {
    scriptPath = path.posix.join(jobDir, SIM_SCRIPT);
  } else {
    const name = path.basename(scriptFileOf(spec.config));
    const uploaded = files.find((f) => f.name === name);
    if (uploaded) {
      scriptPath = uploaded.remotePath;
    } else {
      const searchDirs = [...(options.scriptSearchDirs ?? []), ...(env.SCRIPT_DIR ? [env.SCRIPT_DIR] : [])];
      const s = resolveScript(spec, searchDirs, options.remoteScriptDir);
      if (s.localPath) {
        scriptPath = path.posix.join(jobDir, name);
        files.push({
          name,
          remotePath: scriptPath,
          size: fs.statSync(s.localPath).size,
          mode: 0o755,
          localPath: s.localPath,
        });
      } else {
        scriptPath = s.remotePath as string;
      }
    }
  }
  const command = renderSubmitCommand({
    ...common,
    launcher,
    scriptPath,
    configPath: path.posix.join(jobDir, CONFIG_FILE),
  });
  return { launcher, jobDir, controlDir: jobDir, cwd: jobDir, files, command };
}

/**
 * The submit command made idempotent: if the connection drops while sbatch runs, SshHost runs this
 * again; the lock + markers make the second run replay the first one's output instead of submitting
 * a second job. `attempt` gives a deliberate retry (QOS limit) fresh markers.
 */
export function idempotentSubmit(plan: SubmissionPlan, attempt: number): string {
  const m = shq(path.posix.join(plan.controlDir, submitMarker(attempt)));
  return [
    `M=${m}`,
    `if mkdir "$M.lock" 2>/dev/null; then`,
    `  ${plan.command.commandLine} >"$M.out" 2>"$M.err" </dev/null`,
    `  echo $? >"$M.rc.tmp" && mv -f "$M.rc.tmp" "$M.rc"`,
    `else`,
    `  i=0; while [ ! -f "$M.rc" ] && [ "$i" -lt 1200 ]; do sleep 0.1; i=$((i+1)); done`,
    `fi`,
    `[ -f "$M.out" ] && cat "$M.out"`,
    `[ -f "$M.err" ] && cat "$M.err" >&2`,
    `exit "$(cat "$M.rc" 2>/dev/null || echo 125)"`,
  ].join('\n');
}

/** Refuse to `rm -rf` anything that is not clearly a job dir. */
function assertSafeJobDir(dir: string): void {
  const norm = path.posix.normalize(dir);
  const depth = norm.split('/').filter((s) => s !== '').length;
  if (!dir.startsWith('/') || norm !== dir.replace(/\/+$/, '') || dir.includes('/../') || depth < 2) {
    throw new Error(
      `refusing to use ${JSON.stringify(dir)} as a job dir (must be an absolute path at least 2 levels deep)`,
    );
  }
}

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class SlurmExecutor implements Executor {
  readonly kind: 'slurm' | 'ssh';
  readonly host: Host;
  private readonly opts: SlurmExecutorOptions;
  private readonly env: NodeJS.ProcessEnv;
  private readonly sleep: (ms: number) => Promise<void>;
  private baseDirResolved: string | undefined;
  /** Final statuses: a finished job is never asked about again. */
  private readonly final = new Map<string, JobStatus>();
  /** Jobs some source has reported at least once. */
  private readonly seen = new Set<string>();
  private accounting: 'unknown' | 'on' | 'off';
  private sacctFields = 'JobID,State,ExitCode,Reason';

  constructor(options: SlurmExecutorOptions) {
    this.opts = options;
    this.kind = options.kind ?? 'slurm';
    this.host = options.host;
    this.env = options.env ?? process.env;
    this.sleep = options.sleep ?? defaultSleep;
    this.accounting = options.accounting === undefined ? 'unknown' : options.accounting ? 'on' : 'off';
  }

  /** Whether sacct is used (false once it said accounting storage is disabled). */
  get accountingState(): 'unknown' | 'on' | 'off' {
    return this.accounting;
  }

  /** The job dir `submit` would use for this spec on the host. */
  async jobDirFor(spec: JobSpec): Promise<string> {
    const base = await this.baseDir();
    if (base === undefined) return path.resolve(spec.localLogDir);
    return remoteJobDir(base, spec);
  }

  private async baseDir(): Promise<string | undefined> {
    if (this.baseDirResolved !== undefined) return this.baseDirResolved;
    const b = this.opts.baseDir;
    if (this.kind === 'ssh' || b !== undefined) {
      const abs = b !== undefined && b.startsWith('/');
      this.baseDirResolved = abs ? b : remoteWorkDir(b, await this.host.homeDir());
    }
    return this.baseDirResolved;
  }

  private uploadsFor(spec: JobSpec): Upload[] {
    const u = this.opts.uploads;
    return typeof u === 'function' ? u(spec) : (u ?? []);
  }

  /** The plan `submit` follows (exposed for dry runs and tests). */
  async plan(spec: JobSpec): Promise<SubmissionPlan> {
    return planSubmission(spec, await this.jobDirFor(spec), {
      launcher: this.opts.launcher,
      resources: this.opts.resources,
      scriptDir: this.opts.scriptDir,
      scriptSearchDirs: this.opts.scriptSearchDirs,
      remoteScriptDir:
        this.kind === 'ssh'
          ? this.opts.scriptDir || this.env.DISAGG_SCRIPT_DIR || this.env.SCRIPT_DIR || undefined
          : undefined,
      partition: this.opts.partition,
      account: this.opts.account,
      uploads: this.uploadsFor(spec),
      env: this.env,
    });
  }

  async submit(spec: JobSpec): Promise<SubmittedJob> {
    const plan = await this.plan(spec);
    assertSafeJobDir(plan.jobDir);
    // A fresh, existing job dir before sbatch: a missing --output dir is FAILED/JobLaunchFailure with
    // no log at all. Old logs of a previous run must not be mistaken for this job's.
    const dirs = [plan.jobDir, ...(plan.controlDir !== plan.jobDir ? [plan.controlDir] : [])];
    const prep = await this.host.exec(
      dirs.map((d) => `rm -rf -- ${shq(d)} && mkdir -p -- ${shq(d)}`).join(' && '),
    );
    if (prep.code !== 0)
      throw new Error(
        `cannot prepare job dir ${plan.jobDir} on ${this.host.description}: ${prep.stderr.trim()}`,
      );
    await Promise.all(
      plan.files.map(async (f) => {
        const content = f.content ?? (await fs.promises.readFile(f.localPath as string));
        await this.host.writeFile(f.remotePath, content, f.mode);
      }),
    );

    const policy = this.opts.submitRetry ?? { attempts: 8, baseDelayMs: 15_000, maxDelayMs: 120_000 };
    let jobId: string | undefined;
    for (let attempt = 0; ; attempt += 1) {
      const r = await this.host.exec(idempotentSubmit(plan, attempt), { cwd: plan.cwd });
      if (r.code === 0) {
        jobId = parseSubmitOutput(r.stdout);
        if (!jobId) {
          throw new Error(
            `${spec.testId}: unable to extract the job id from ${plan.launcher} output: ${(r.stdout + r.stderr).trim()}`,
          );
        }
        break;
      }
      const stderr = r.stderr.trim() || r.stdout.trim();
      if (isRetryableSubmitError(stderr) && attempt + 1 < policy.attempts) {
        const wait = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
        this.opts.log?.(
          `${spec.testId}: sbatch refused (${firstLine(stderr)}); retrying in ${Math.round(wait / 1000)} s`,
        );
        await this.sleep(wait);
        continue;
      }
      throw new Error(
        `${spec.testId}: ${plan.launcher} failed (exit ${r.code}) on ${this.host.description}: ${stderr}`,
      );
    }
    if (plan.launcher === 'submit.py') {
      // submit.py recreated the log dir; keep the resolved config next to the logs (best effort).
      await this.host.exec(
        `cp -f -- ${shq(path.posix.join(plan.controlDir, CONFIG_FILE))} ${shq(plan.jobDir)}/ 2>/dev/null || true`,
      );
    }
    return { jobId, testId: spec.testId, jobDir: plan.jobDir, submittedAt: new Date().toISOString() };
  }

  async poll(jobs: readonly SubmittedJob[]): Promise<Map<string, JobStatus>> {
    const out = new Map<string, JobStatus>();
    const ids: string[] = [];
    for (const j of jobs) {
      const done = this.final.get(j.jobId);
      if (done) out.set(j.jobId, done);
      else if (!/^\d+$/.test(j.jobId))
        out.set(j.jobId, { jobId: j.jobId, state: 'UNKNOWN', reason: `not a SLURM job id: ${j.jobId}` });
      else if (!ids.includes(j.jobId)) ids.push(j.jobId);
    }
    if (ids.length === 0) return out;

    // ONE squeue call for every live job, whatever their number.
    const sqCmd = `squeue -h -t all -j ${ids.join(',')} -o '%i|%T|%r'`;
    const sq = await this.host.exec(sqCmd);
    let squeue = new Map<string, RawJobState>();
    if (sq.code === 0) squeue = parseSqueue(sq.stdout);
    else if (!isInvalidJobIdError(sq.stderr)) throw new SlurmCommandError(sqCmd, sq);

    // Final state (with exit code) for jobs squeue calls finished or no longer knows.
    const needFinal = ids.filter((id) => {
      const s = squeue.get(id);
      return !s || isTerminal(s.state);
    });
    const finals =
      needFinal.length > 0 ? await this.finalStates(needFinal, squeue) : new Map<string, RawJobState>();

    for (const id of ids) {
      const s = squeue.get(id);
      const f = finals.get(id);
      let status: JobStatus;
      if (f && isTerminal(f.state)) {
        status = { jobId: id, state: f.state, exitCode: f.exitCode, reason: f.reason ?? s?.reason };
        this.final.set(id, status);
      } else if (s && isTerminal(s.state)) {
        status = { jobId: id, state: s.state, reason: s.reason };
        this.final.set(id, status);
      } else if (s || f) {
        const r = (s ?? f) as RawJobState;
        status = { jobId: id, state: r.state, reason: r.reason, exitCode: r.exitCode };
      } else {
        status = {
          jobId: id,
          state: 'UNKNOWN',
          reason: this.seen.has(id)
            ? 'the job disappeared from squeue, scontrol and sacct (it ended longer ago than MinJobAge and accounting is off)'
            : 'SLURM does not know this job id (squeue, scontrol and sacct)',
        };
        // Gone is gone: do not ask again every tick.
        this.final.set(id, status);
      }
      if (s || f) this.seen.add(id);
      out.set(id, status);
    }
    return out;
  }

  /** sacct when accounting exists (one call), else one scontrol pass for the rest (one exec). */
  private async finalStates(
    ids: string[],
    squeue: Map<string, RawJobState>,
  ): Promise<Map<string, RawJobState>> {
    const finals = new Map<string, RawJobState>();
    if (this.accounting !== 'off') {
      let cmd = `sacct -n -P -X -j ${ids.join(',')} -o ${this.sacctFields}`;
      let r = await this.host.exec(cmd);
      if (r.code !== 0 && /invalid field/i.test(r.stderr) && this.sacctFields.includes('Reason')) {
        this.sacctFields = 'JobID,State,ExitCode';
        cmd = `sacct -n -P -X -j ${ids.join(',')} -o ${this.sacctFields}`;
        r = await this.host.exec(cmd);
      }
      if (r.code === 0) {
        this.accounting = 'on';
        for (const [id, row] of parseSacct(r.stdout)) {
          // sacct lags the controller by a second or two: a row still RUNNING while squeue already
          // says finished is stale, so fall through to scontrol for it.
          if (!ids.includes(id)) continue;
          const sq = squeue.get(id);
          if (!isTerminal(row.state) && sq && isTerminal(sq.state)) continue;
          finals.set(id, row);
        }
      } else if (isAccountingDisabled(r.stderr)) {
        this.accounting = 'off';
        this.opts.log?.('sacct: accounting storage is disabled; final states come from scontrol/squeue');
      }
      // Other sacct errors (slurmdbd down): fall back to scontrol this tick, try sacct again later.
    }
    const rest = ids.filter((id) => !finals.has(id));
    if (rest.length > 0) {
      // One exec for all of them; unknown ids print `Invalid job id specified` on stderr and are skipped.
      const r = await this.host.exec(`for id in ${rest.join(' ')}; do scontrol show job -o "$id"; done`);
      for (const [id, row] of parseScontrol(r.stdout)) if (rest.includes(id)) finals.set(id, row);
    }
    return finals;
  }

  async cancel(jobs: readonly SubmittedJob[]): Promise<void> {
    const ids = [...new Set(jobs.map((j) => j.jobId))].filter((id) => /^\d+$/.test(id));
    if (ids.length === 0) return;
    // One scancel for all; unknown or finished ids are silently ignored by scancel.
    const cmd = `scancel ${ids.join(' ')}`;
    const r = await this.host.exec(cmd);
    if (r.code !== 0) throw new SlurmCommandError(cmd, r);
  }

  async scanEarlyFailure(job: SubmittedJob): Promise<string | undefined> {
    // Only the tail of each worker log crosses the wire: worker logs can be gigabytes.
    const globs = WORKER_LOG_GLOBS.join(' ');
    const cmd =
      `cd -- ${shq(job.jobDir)} 2>/dev/null || exit 0\n` +
      `for f in ${globs}; do [ -f "$f" ] || continue; printf '\\n\\036DISAGG-FILE %s\\n' "$f"; tail -c ${SCAN_TAIL_BYTES} -- "$f"; done`;
    const r = await this.host.exec(cmd);
    if (r.code !== 0) return undefined;
    const parts = r.stdout.split('\n\u001eDISAGG-FILE ');
    const found: Array<[string, string]> = [];
    for (const part of parts.slice(1)) {
      const nl = part.indexOf('\n');
      const name = nl < 0 ? part : part.slice(0, nl);
      if (WORKER_LOG_RE.test(name)) found.push([name, nl < 0 ? '' : part.slice(nl + 1)]);
    }
    found.sort((a, b) => a[0].localeCompare(b[0]));
    for (const [name, tail] of found) {
      const fatal = findFatal(name, tail);
      if (fatal) return fatal;
    }
    return undefined;
  }

  async fetchLogs(job: SubmittedJob, localDir: string): Promise<void> {
    if (this.kind === 'slurm' && path.resolve(job.jobDir) === path.resolve(localDir)) return; // already here
    await fs.promises.mkdir(localDir, { recursive: true });
    const small = this.opts.smallFileBytes ?? 16 * MiB;
    const tail = this.opts.tailBytes ?? 8 * MiB;
    const files = (await this.host.listFiles(job.jobDir)).filter((f) => isFetchedLog(f.path));
    const root = path.resolve(localDir);
    const errors: string[] = [];
    const queue = [...files];
    const worker = async (): Promise<void> => {
      for (let f = queue.shift(); f; f = queue.shift()) {
        const local = path.resolve(root, f.path);
        if (!local.startsWith(root + path.sep)) continue; // never write outside localDir
        const remote = path.posix.join(job.jobDir, f.path);
        try {
          if (f.size <= small) {
            await this.host.getFile(remote, local);
          } else {
            await this.host.getFile(remote, local, tail);
            await prependTruncationNote(local, f.size, tail, `${this.host.description}:${remote}`);
            this.opts.log?.(
              `${job.testId}: ${f.path} is ${(f.size / MiB).toFixed(0)} MiB; fetched its last ${(tail / MiB).toFixed(0)} MiB`,
            );
          }
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // deleted since the listing
          errors.push(`${f.path}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    };
    // SshHost caps channels at 4 anyway; 4 workers keep them busy.
    await Promise.all([worker(), worker(), worker(), worker()]);
    if (errors.length > 0)
      throw new Error(`fetching logs of ${job.testId} from ${job.jobDir}: ${errors.join('; ')}`);
  }

  async close(): Promise<void> {
    await this.host.close();
  }
}

function firstLine(s: string): string {
  return s.split('\n').find((l) => l.trim() !== '') ?? s;
}

/**
 * Mark a tail-fetched file: a note line first, then the tail minus its first partial line, so parsers
 * never see half a line.
 */
async function prependTruncationNote(
  local: string,
  fullSize: number,
  kept: number,
  origin: string,
): Promise<void> {
  const data = await fs.promises.readFile(local);
  const nl = data.indexOf(0x0a);
  const body = nl >= 0 && nl < data.length - 1 ? data.subarray(nl + 1) : data;
  const note =
    `[vitest-disagg] TRUNCATED: ${fullSize} bytes on the cluster; kept only the last ${kept} bytes ` +
    `(from the first full line). Full file: ${origin}\n`;
  await fs.promises.writeFile(local, Buffer.concat([Buffer.from(note), body]));
}
