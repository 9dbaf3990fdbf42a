// The SLURM scheduler, written once against `Host`: executor 'slurm' runs sbatch/squeue on this machine
// (LocalHost), 'ssh' on a cluster login node (SshHost). Every command it sends is safe to repeat,
// because SshHost re-runs a command whose connection dropped.

import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { ConfigError, SchedulerError, SubmitError, TransportError } from '../errors.js';
import {
  CONFIG_FILE,
  CTX_CONFIG_FILE,
  GEN_CONFIG_FILE,
  SBATCH_SHIM,
  SBATCH_SHIM_DIR,
  SHIM_JOB_IDS_FILE,
  SIM_SCRIPT,
  submitControlDir,
  submitMarker,
} from '../jobdir/files.js';
import type { ExecutorSettings } from '../settings/types.js';
import type { JobSpec, JobStatus, SubmittedJob } from '../types.js';
import { JobExecutor } from './executor.js';
import { planFiles, placeScript, resolveScript, usesSimulator } from './job-files.js';
import { register } from './registry.js';
import {
  chooseLauncher,
  jobNameOf,
  parseSubmitOutput,
  slurmTime,
  renderSubmitCommand,
  scriptFileOf,
  submitPyMissing,
  submitPyPath,
  type Launcher,
  type ResourceMode,
} from './sbatch.js';
import { sbatchShimScript } from './sbatch-shim.js';
import { reasonCode } from './pending-reasons.js';
import { shq } from './shell-quote.js';
import {
  isAccountingDisabled,
  isInvalidJobIdError,
  isRetryableSubmitError,
  isTerminal,
  parseReconcileRows,
  parseSacct,
  SACCT_FIELDS,
  parseScontrol,
  parseSqueue,
  scontrolFields,
  SQUEUE_FORMAT,
  type RawJobState,
} from './slurm-state.js';
import type {
  CancelResult,
  CommandResult,
  ExecutorExtras,
  Host,
  PendingExplanation,
  PlannedFile,
  ReconciledJob,
  Scheduler,
  SchedulerContext,
  StartedJob,
  SubmissionPlan,
  Upload,
} from './types.js';

/** A SLURM command failed in a way that says nothing about the jobs (controller down, bad option). */
export class SlurmCommandError extends SchedulerError {
  constructor(
    readonly command: string,
    readonly result: CommandResult,
  ) {
    super(
      `${command.split(' ')[0]} failed (exit ${result.code}): ${result.stderr.trim() || result.stdout.trim()}`,
    );
  }
}

export interface PlanOptions {
  launcher?: Launcher;
  resources?: ResourceMode;
  /** submit.py's folder on the submit host (default: `$SCRIPT_DIR` expanded there). */
  scriptDir?: string;
  /** Where `scriptDir` was set, for the message when submit.py is not there. */
  scriptDirSource?: string;
  /** The submit host is this machine: a missing submit.py fails the plan (a dry run says so too). */
  localSubmitHost?: boolean;
  /** Script names that read their config from the job dir (sbatch without arguments). */
  jobDirScripts?: readonly string[];
  /** Where a config's `script_file` is looked for on this machine (after the config file's dir). */
  scriptSearchDirs?: readonly string[];
  /** Launcher folder on the submit host, for scripts not found on this machine (ssh only). */
  remoteScriptDir?: string;
  partition?: string;
  account?: string;
  uploads?: readonly Upload[];
}

/**
 * What submitting `spec` into `jobDir` means: the files to upload (with sizes) and the exact command.
 * Pure apart from reading local file sizes, so `disagg dry-run` shows what `submit` does.
 */
export function planSubmission(spec: JobSpec, jobDir: string, options: PlanOptions = {}): SubmissionPlan {
  const simulator = usesSimulator(spec);
  const launcher = chooseLauncher(spec.config, options.launcher, {
    simulator,
    jobDirScripts: options.jobDirScripts,
  });
  const common = {
    config: spec.config,
    testId: spec.testId,
    jobDir,
    timeLimitMs: spec.timeLimitMs,
    simulator,
    resources: options.resources,
    partition: options.partition,
    account: options.account,
    comment: spec.submitToken,
  };

  if (launcher === 'submit.py') return planSubmitPy(spec, jobDir, options, common);

  const files = planFiles(spec, jobDir, options.uploads);
  let scriptPath: string;
  if (simulator) {
    scriptPath = path.posix.join(jobDir, SIM_SCRIPT);
  } else {
    const script = scriptFileOf(spec.config);
    const name = path.basename(script);
    const uploaded = files.find((f) => f.name === name);
    if (uploaded) {
      scriptPath = uploaded.remotePath;
    } else {
      // Over SSH, $SCRIPT_DIR names the launcher folder on the cluster (as in the original, where it is
      // on the login node's shared file system): a script not found here is taken from there.
      const s = resolveScript(spec, script, options.scriptSearchDirs ?? [], options.remoteScriptDir);
      scriptPath = placeScript(s, jobDir, name, files);
    }
  }
  const command = renderSubmitCommand({
    ...common,
    launcher,
    scriptPath,
    configPath: path.posix.join(jobDir, CONFIG_FILE),
  });
  const uploadedAs = (name: string): string => path.posix.join(jobDir, name);
  return {
    launcher,
    jobDir,
    controlDir: jobDir,
    cwd: jobDir,
    files,
    command,
    uploadedConfig: uploadedAs(CONFIG_FILE),
    workerConfigs: [CTX_CONFIG_FILE, GEN_CONFIG_FILE].map((name) => ({
      name,
      path: uploadedAs(name),
      writtenBy: 'upload',
    })),
    script: scriptPath,
  };
}

/**
 * submit.py's route: its input in the control dir (submit.py deletes and recreates --log-dir), the job
 * script found as for sbatch, the sbatch shim that adds the write-ahead token, and the command
 * `python3 $SCRIPT_DIR/submit.py -c <config> --log-dir <job dir>` as the original runs it.
 */
function planSubmitPy(
  spec: JobSpec,
  jobDir: string,
  options: PlanOptions,
  common: Omit<Parameters<typeof renderSubmitCommand>[0], 'scriptPath' | 'configPath'>,
): SubmissionPlan {
  const controlDir = submitControlDir(jobDir);
  const script = scriptFileOf(spec.config);
  if (options.localSubmitHost) {
    const looked = options.scriptDir === undefined ? undefined : submitPyPath(options.scriptDir);
    if (looked === undefined || !fs.existsSync(looked))
      throw new ConfigError(submitPyMissing(script, looked, options.scriptDirSource), spec.configFile);
  }
  const files: PlannedFile[] = [];
  // submit.py runs sbatch from the control dir: a relative script_file must become where the script is.
  const s = resolveScript(
    spec,
    script,
    options.scriptSearchDirs ?? [],
    options.remoteScriptDir ?? options.scriptDir,
  );
  const scriptPath = placeScript(s, controlDir, path.basename(script), files);
  // submit.py takes everything from the config: what sbatch would take from our settings and defaults
  // (partition, account, job name, time) goes into the uploaded copy, the settings winning as for sbatch.
  const slurm = spec.config.slurm ?? {};
  const uploaded = {
    ...spec.config,
    slurm: {
      ...slurm,
      script_file: scriptPath,
      ...(options.partition ? { partition: options.partition } : {}),
      ...(options.account ? { account: options.account } : {}),
      job_name: jobNameOf(spec.config, spec.testId),
      job_time: slurmTime(spec.config, spec.timeLimitMs),
    },
  };
  const configYaml = stringify(uploaded, { lineWidth: 0 });
  const configPath = path.posix.join(controlDir, CONFIG_FILE);
  const shimDir = path.posix.join(controlDir, SBATCH_SHIM_DIR);
  const shim = sbatchShimScript();
  files.unshift({
    name: CONFIG_FILE,
    remotePath: configPath,
    size: Buffer.byteLength(configYaml),
    content: configYaml,
  });
  files.push({
    name: SBATCH_SHIM,
    remotePath: path.posix.join(shimDir, SBATCH_SHIM),
    size: Buffer.byteLength(shim),
    mode: 0o755,
    content: shim,
  });
  const command = renderSubmitCommand({
    ...common,
    launcher: 'submit.py',
    scriptPath,
    configPath,
    scriptDir: options.scriptDir,
    shimDir,
  });
  return {
    launcher: 'submit.py',
    jobDir,
    controlDir,
    cwd: controlDir,
    files,
    command,
    uploadedConfig: configPath,
    // submit.py writes them into the log dir it recreates, as the original does.
    workerConfigs: [CTX_CONFIG_FILE, GEN_CONFIG_FILE].map((name) => ({
      name,
      path: path.posix.join(jobDir, name),
      writtenBy: 'submit.py',
    })),
    script: scriptPath,
    submitPy: submitPyPath(options.scriptDir),
  };
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

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function firstLine(s: string): string {
  return s.split('\n').find((l) => l.trim() !== '') ?? s;
}

/** sbatch (or submit.py) to start, one squeue per poll tick, sacct → scontrol for final states, scancel. */
export class SlurmScheduler implements Scheduler {
  readonly name = 'slurm';
  private readonly host: Host;
  private readonly settings: ExecutorSettings;
  private readonly extras: ExecutorExtras;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Final statuses: a finished job is never asked about again. */
  private readonly final = new Map<string, JobStatus>();
  /** Jobs some source has reported at least once. */
  private readonly seen = new Set<string>();
  private accounting: 'unknown' | 'on' | 'off';
  private sacctFields = SACCT_FIELDS;

  constructor(context: SchedulerContext) {
    this.host = context.host;
    this.settings = context.settings;
    this.extras = context.extras;
    this.sleep = context.extras.sleep ?? defaultSleep;
    const a = context.extras.accounting;
    this.accounting = a === undefined ? 'unknown' : a ? 'on' : 'off';
  }

  /** Whether sacct is used (false once it said accounting storage is disabled). */
  get accountingState(): 'unknown' | 'on' | 'off' {
    return this.accounting;
  }

  render(spec: JobSpec, jobDir: string, uploads: readonly Upload[]): SubmissionPlan {
    const s = this.settings;
    return planSubmission(spec, jobDir, {
      launcher: s.launcher,
      resources: s.resources,
      scriptDir: s.scriptDir,
      scriptDirSource: s.scriptDirSource,
      localSubmitHost: s.kind !== 'ssh',
      jobDirScripts: s.jobDirScripts,
      scriptSearchDirs: s.scriptSearchDirs,
      // Set for 'ssh' only: the launcher folder on the login node, for scripts not found here.
      remoteScriptDir: s.remoteScriptDir,
      partition: s.partition,
      account: s.account,
      uploads,
    });
  }

  async submit(plan: SubmissionPlan, spec: JobSpec): Promise<StartedJob> {
    const policy = this.extras.submitRetry ?? { attempts: 8, baseDelayMs: 15_000, maxDelayMs: 120_000 };
    if (plan.launcher === 'submit.py') await this.checkSubmitPy(plan, spec);
    let jobId: string | undefined;
    for (let attempt = 0; ; attempt += 1) {
      const r = await this.host
        .exec(idempotentSubmit(plan, attempt), { cwd: plan.cwd })
        .catch((e: unknown) => {
          // The link failed even after the host's own retries; the markers make a later resubmit safe.
          if (e instanceof TransportError)
            throw new SubmitError(`${spec.testId}: ${plan.launcher} not confirmed: ${e.message}`, true, {
              cause: e,
            });
          throw e;
        });
      if (r.code === 0) {
        // As the original: the id from `Submitted batch job N`; else what our sbatch shim recorded.
        jobId = parseSubmitOutput(r.stdout) ?? (await this.shimJobId(plan));
        if (!jobId) {
          throw new SubmitError(
            `${spec.testId}: unable to extract the job id from ${plan.launcher} output: ${(r.stdout + r.stderr).trim()}`,
            false,
          );
        }
        break;
      }
      const stderr = r.stderr.trim() || r.stdout.trim();
      const retryable = isRetryableSubmitError(stderr);
      if (retryable && attempt + 1 < policy.attempts) {
        const wait = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
        this.extras.log?.(
          `${spec.testId}: sbatch refused (${firstLine(stderr)}); retrying in ${Math.round(wait / 1000)} s`,
        );
        await this.sleep(wait);
        continue;
      }
      throw new SubmitError(
        `${spec.testId}: ${plan.launcher} failed (exit ${r.code}) on ${this.host.description}: ${stderr}`,
        retryable || r.code === null,
      );
    }
    if (plan.launcher === 'submit.py') {
      // submit.py recreated the log dir; keep the resolved config next to the logs (best effort),
      // never over one the job may already have written there.
      await this.host.exec(
        `cp -n -- ${shq(path.posix.join(plan.controlDir, CONFIG_FILE))} ${shq(plan.jobDir)}/ 2>/dev/null || true`,
      );
    }
    return { jobId };
  }

  /**
   * submit.py must exist where the command will look, before anything is submitted: on this machine the
   * plan already checked; over SSH only the login node can tell.
   */
  private async checkSubmitPy(plan: SubmissionPlan, spec: JobSpec): Promise<void> {
    if (this.settings.kind !== 'ssh') return;
    const looked = submitPyPath(this.settings.scriptDir);
    const test = this.settings.scriptDir
      ? `test -f ${shq(looked)}`
      : 'test -n "${SCRIPT_DIR:-}" && test -f "$SCRIPT_DIR/submit.py"';
    const r = await this.host.exec(test, { cwd: plan.cwd });
    if (r.code === 0) return;
    if (r.code === null)
      throw new SubmitError(`${spec.testId}: could not look for submit.py on ${this.host.description}`, true);
    throw new SubmitError(
      `${spec.testId}: ${submitPyMissing(scriptFileOf(spec.config), this.settings.scriptDir ? `${looked} on ${this.host.description}` : undefined, this.settings.scriptDirSource)}`,
      false,
    );
  }

  /** The last job id our sbatch shim recorded for this submission, if any. */
  private async shimJobId(plan: SubmissionPlan): Promise<string | undefined> {
    if (plan.launcher !== 'submit.py') return undefined;
    const r = await this.host.exec(
      `cat -- ${shq(path.posix.join(plan.controlDir, SHIM_JOB_IDS_FILE))} 2>/dev/null`,
    );
    const ids = r.stdout.split('\n').filter((l) => /^\d+$/.test(l.trim()));
    return ids.at(-1)?.trim();
  }

  async poll(jobs: readonly SubmittedJob[]): Promise<Map<string, JobStatus>> {
    const out = new Map<string, JobStatus>();
    // A Set, not an array scan: a tick of 10,000 jobs is linear.
    const unique = new Set<string>();
    for (const j of jobs) {
      const done = this.final.get(j.jobId);
      if (done) out.set(j.jobId, done);
      else if (!/^\d+$/.test(j.jobId))
        out.set(j.jobId, { jobId: j.jobId, state: 'UNKNOWN', reason: `not a SLURM job id: ${j.jobId}` });
      else unique.add(j.jobId);
    }
    const ids = [...unique];
    if (ids.length === 0) return out;

    // ONE squeue call for every live job, whatever their number.
    const sqCmd = `squeue -h -t all -j ${ids.join(',')} -o '${SQUEUE_FORMAT}'`;
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
      let cache = false;
      const nodes = s?.nodes ?? f?.nodes;
      if (f && isTerminal(f.state)) {
        status = { jobId: id, state: f.state, exitCode: f.exitCode, reason: f.reason ?? s?.reason };
        // The job's own start and end, also when it ended between two polls (never seen RUNNING).
        if (f.startedAt) status.startedAt = f.startedAt;
        if (f.endedAt) status.endedAt = f.endedAt;
        cache = true;
      } else if (s && isTerminal(s.state)) {
        status = { jobId: id, state: s.state, reason: s.reason };
        cache = true;
      } else if (s || f) {
        const r = (s ?? f) as RawJobState;
        status = { jobId: id, state: r.state, reason: r.reason, exitCode: r.exitCode };
        if (r.startedAt) status.startedAt = r.startedAt;
      } else {
        status = {
          jobId: id,
          state: 'UNKNOWN',
          reason: this.seen.has(id)
            ? 'the job disappeared from squeue, scontrol and sacct (it ended longer ago than MinJobAge and accounting is off)'
            : 'SLURM does not know this job id (squeue, scontrol and sacct)',
        };
        // Gone is gone: do not ask again every tick.
        cache = true;
      }
      if (s || f) this.seen.add(id);
      // The RUNNING progress line and the test's meta show where the job runs.
      if (nodes) status = { ...status, nodes };
      // Final statuses are cached whole (nodes included): a later poll gives the same answer.
      if (cache) this.final.set(id, status);
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
    // Sets: a tick where 10,000 jobs end must not compare every row with every id.
    const asked = new Set(ids);
    if (this.accounting !== 'off') {
      let cmd = `sacct -n -P -X -j ${ids.join(',')} -o ${this.sacctFields}`;
      let r = await this.host.exec(cmd);
      if (r.code !== 0 && /invalid field/i.test(r.stderr) && this.sacctFields.includes('Reason')) {
        this.sacctFields = SACCT_FIELDS.replace(/,Reason$/, '');
        cmd = `sacct -n -P -X -j ${ids.join(',')} -o ${this.sacctFields}`;
        r = await this.host.exec(cmd);
      }
      if (r.code === 0) {
        this.accounting = 'on';
        for (const [id, row] of parseSacct(r.stdout, true)) {
          // sacct lags the controller by a second or two: a row still RUNNING while squeue already
          // says finished is stale, so fall through to scontrol for it.
          if (!asked.has(id)) continue;
          const sq = squeue.get(id);
          if (!isTerminal(row.state) && sq && isTerminal(sq.state)) continue;
          // Seen on the lab under load: FAILED with exit code 0:0 for a job that exited 3, before sacct
          // settled. While the controller still has the job, its own record has the exit code.
          if (row.state === 'FAILED' && row.exitCode === '0:0' && sq) continue;
          finals.set(id, row);
        }
      } else if (isAccountingDisabled(r.stderr)) {
        this.accounting = 'off';
        this.extras.log?.('sacct: accounting storage is disabled; final states come from scontrol/squeue');
      }
      // Other sacct errors (slurmdbd down): fall back to scontrol this tick, try sacct again later.
    }
    const rest = ids.filter((id) => !finals.has(id));
    if (rest.length > 0) {
      // One exec for all of them; unknown ids print `Invalid job id specified` on stderr and are skipped.
      const r = await this.host.exec(`for id in ${rest.join(' ')}; do scontrol show job -o "$id"; done`);
      const wanted = new Set(rest);
      for (const [id, row] of parseScontrol(r.stdout)) if (wanted.has(id)) finals.set(id, row);
    }
    return finals;
  }

  /**
   * The limit behind a never-start reason, from one `scontrol show job` and, when needed, one
   * `scontrol show partition` or `sinfo`: a failed command only loses the detail, never the verdict.
   */
  async explainPending(job: SubmittedJob, reason: string): Promise<PendingExplanation> {
    const code = reasonCode(reason);
    if (code === 'ReqNodeNotAvail') return this.unavailableNodes(reason);
    if (code !== 'PartitionTimeLimit' && code !== 'PartitionNodeLimit') return { never: true };
    if (!/^\d+$/.test(job.jobId)) return { never: true };
    const j = scontrolFields((await this.host.exec(`scontrol show job -o ${job.jobId}`)).stdout.trim());
    const partition = j.get('Partition');
    if (!partition || !/^[\w.-]+$/.test(partition)) return { never: true };
    const p = scontrolFields((await this.host.exec(`scontrol show partition -o ${partition}`)).stdout.trim());
    if (code === 'PartitionTimeLimit') {
      const asked = j.get('TimeLimit');
      const max = p.get('MaxTime');
      if (!asked || !max) return { never: true };
      return { never: true, detail: `job_time ${asked} exceeds partition ${partition} MaxTime ${max}` };
    }
    const nodes = j.get('NumNodes');
    const min = p.get('MinNodes');
    const max = p.get('MaxNodes');
    if (!nodes || !max) return { never: true };
    return {
      never: true,
      detail: `the job asks for ${nodes} node(s); partition ${partition} allows ${min ?? '0'}..${max} (TotalNodes ${p.get('TotalNodes') ?? '?'})`,
    };
  }

  /** `ReqNodeNotAvail, UnavailableNodes:node[1-2]` is "never" only while every listed node is down or drained. */
  private async unavailableNodes(reason: string): Promise<PendingExplanation> {
    const list = /UnavailableNodes:([\w[\],.-]+)/.exec(reason)?.[1];
    if (!list) return { never: false };
    const r = await this.host.exec(`sinfo -h -N -n ${shq(list)} -o '%N %t'`);
    if (r.code !== 0) return { never: false };
    // `sinfo -N` lists a node once per partition it is in: one entry per node.
    const states = [
      ...new Map(
        r.stdout
          .split('\n')
          .map((l) => l.trim().split(/\s+/))
          .filter((f) => f.length === 2)
          .map(([n, st]) => [n, st] as const),
      ),
    ];
    const gone = states.filter(([, st]) => /^(down|drain|drained|fail)/.test(st));
    if (states.length === 0 || gone.length < states.length) return { never: false };
    return {
      never: true,
      detail: `node(s) ${gone.map(([n, st]) => `${n} (${st})`).join(', ')} are down or drained`,
    };
  }

  /**
   * The jobs whose comment is one of `tokens`: ONE `squeue` over the user's jobs (finished ones too, as
   * long as MinJobAge keeps them), and, when accounting is on, one `sacct` over the user's jobs of the
   * last week for those that squeue forgot. A failing squeue throws (the caller must not guess).
   */
  async reconcile(tokens: readonly string[]): Promise<Map<string, ReconciledJob>> {
    const wanted = new Set(tokens);
    const found = new Map<string, ReconciledJob>();
    if (wanted.size === 0) return found;
    await this.waitForOrphanSubmits([...wanted]);
    const sqCmd = `squeue -h -t all -u "$(id -un)" -o '%i|%T|%Z|%k'`;
    const sq = await this.host.exec(sqCmd);
    if (sq.code !== 0) throw new SlurmCommandError(sqCmd, sq);
    for (const row of parseReconcileRows(sq.stdout, wanted)) found.set(row.token, row.job);
    if (found.size < wanted.size && this.accounting !== 'off') {
      const cmd = `sacct -n -P -X -u "$(id -un)" -S now-7days -o JobID,State,WorkDir,Comment`;
      const r = await this.host.exec(cmd);
      // Without accounting (or without stored comments) sacct adds nothing; squeue's answer stands.
      if (r.code === 0)
        for (const row of parseReconcileRows(r.stdout, wanted))
          if (!found.has(row.token)) found.set(row.token, row.job);
    }
    return found;
  }

  /**
   * A run killed with kill -9 leaves its submit command (`bash -c` … `sbatch --comment=<token>`) running
   * on the submit host: its job may appear in squeue only after this run asked. Wait until no process of
   * this user carries one of the tokens in its command line (one command on the host, `pgrep -f`; the
   * pattern is written `[d]sg-…` so the waiting command never matches itself), at most
   * `orphanSubmitWaitMs` (default 120 s, the idempotent submit's own wait); a submit still running then
   * is an error, never "no job" (that could submit the test twice). A host without pgrep is not waited for.
   */
  private async waitForOrphanSubmits(tokens: readonly string[]): Promise<void> {
    const safe = tokens.filter((t) => /^[A-Za-z0-9_-]{2,}$/.test(t));
    if (!safe.length) return;
    const pattern = safe.map((t) => `[${t[0]}]${t.slice(1)}`).join('|');
    const limitMs = this.extras.orphanSubmitWaitMs ?? 120_000;
    const rounds = Math.max(1, Math.ceil(limitMs / 200));
    const cmd =
      `command -v pgrep >/dev/null 2>&1 || { echo idle; exit 0; }; i=0; ` +
      `while pgrep -u "$(id -un)" -f -- ${shq(pattern)} >/dev/null 2>&1; do ` +
      `if [ "$i" -ge ${rounds} ]; then pgrep -a -u "$(id -un)" -f -- ${shq(pattern)} | head -3; echo busy; exit 0; fi; ` +
      `sleep 0.2; i=$((i+1)); done; [ "$i" -gt 0 ] && echo waited || echo idle`;
    const r = await this.host.exec(cmd);
    const lines = r.stdout.trim().split('\n');
    if (r.code === 0 && lines.at(-1) === 'busy') {
      throw new SchedulerError(
        `a submission of a run that is no longer alive is still running on ${this.host.description} ` +
          `after ${Math.round(limitMs / 1000)} s (${lines.slice(0, -1).join('; ') || 'pgrep -f ' + pattern}); ` +
          'whether it made a job cannot be told yet: wait for it to end (or kill it), then rerun',
      );
    }
    if (r.code === 0 && lines.at(-1) === 'waited')
      this.extras.log?.(`waited for the submission(s) of a killed run to end before looking for their jobs`);
  }

  async cancel(jobs: readonly SubmittedJob[]): Promise<CancelResult> {
    const result: CancelResult = { refused: [], gone: [] };
    // Never pass anything but a job id to scancel (a ledger can be edited).
    for (const j of jobs)
      if (!/^\d+$/.test(j.jobId))
        result.refused.push({ jobId: j.jobId, reason: `${JSON.stringify(j.jobId)} is not a SLURM job id` });
    const ids = [...new Set(jobs.map((j) => j.jobId))].filter((id) => /^\d+$/.test(id));
    if (ids.length === 0) return result;
    // One scancel for all; unknown or finished ids are silently ignored by scancel.
    const cmd = `scancel ${ids.join(' ')}`;
    const r = await this.host.exec(cmd);
    if (r.code !== 0) throw new SlurmCommandError(cmd, r);
    return result;
  }
}

register('slurm', { scheduler: (context) => new SlurmScheduler(context), host: 'local' });
register('ssh', { scheduler: (context) => new SlurmScheduler(context), host: 'ssh' });

/** Settings for a SLURM executor built by hand (tests, benchmarks): nothing set, an empty child env. */
export function slurmSettings(kind: 'slurm' | 'ssh', over: Partial<ExecutorSettings> = {}): ExecutorSettings {
  return {
    kind,
    scriptSearchDirs: [],
    ssh: {},
    localUser: 'nobody',
    homeDir: '/nonexistent',
    childEnv: {},
    ...over,
  };
}

export interface SlurmExecutorOptions extends ExecutorExtras {
  host: Host;
  /** 'slurm' (job dirs are the local log dirs) or 'ssh' (job dirs under a remote base dir). Default 'slurm'. */
  kind?: 'slurm' | 'ssh';
  /** Base dir for job dirs on the host (same as `remoteDir`). */
  baseDir?: string;
  settings?: Partial<ExecutorSettings>;
}

/** The SLURM scheduler over a given host, for callers that build the host themselves (tests, benchmarks). */
export class SlurmExecutor extends JobExecutor {
  declare readonly scheduler: SlurmScheduler;

  constructor(options: SlurmExecutorOptions) {
    const kind = options.kind ?? 'slurm';
    const extras: ExecutorExtras = { ...options, remoteDir: options.baseDir ?? options.remoteDir };
    const settings = slurmSettings(kind, options.settings);
    super({
      kind,
      scheduler: new SlurmScheduler({ settings, host: options.host, extras }),
      host: options.host,
      remoteJobDirs: kind === 'ssh',
      extras,
    });
  }

  /** Whether sacct is used (false once it said accounting storage is disabled). */
  get accountingState(): 'unknown' | 'on' | 'off' {
    return this.scheduler.accountingState;
  }
}
