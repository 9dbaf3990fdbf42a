// The SLURM executor against a REAL accounting-enabled cluster (MariaDB + slurmdbd, so `sacct` works):
// final job states (with exit codes) must come from sacct when accounting exists.
// This file starts its OWN lab (scripts/local-cluster.sh with LOCAL_CLUSTER_ACCOUNTING=1) in a temp dir
// on its own ports, so it never touches the default lab in .local-cluster, and always stops it again.
// It never skips: when the lab cannot start, every test fails with the script's stderr.
// sacct lags the controller by ~1-2 s (measured on SLURM 22.05 with slurmdbd): the checks that pin
// the source of a final state first wait until sacct itself lists the jobs as finished.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CountingHost } from '../../src/executors/counting-host.js';
import { LocalHost } from '../../src/executors/local-host.js';
import { SlurmExecutor } from '../../src/executors/slurm.js';
import { isTerminal, parseSacct, type RawJobState } from '../../src/executors/slurm-state.js';
import { TERMINAL_STATES, type JobSpec, type JobStatus, type SubmittedJob } from '../../src/types.js';
import { BASH_JOB_SCRIPT, bashJobSpec } from './helpers/bash-job.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCRIPT = path.join(REPO, 'scripts/local-cluster.sh');
const RUN = randomBytes(3).toString('hex');
/** Each wait for jobs (or for sacct to catch up) is bounded by this. */
const WAIT_MS = 60_000;

/** Our lab's settings: ports distinct from the default lab (2222 / 6817.. / 3307). */
const LAB_SETTINGS = {
  LOCAL_CLUSTER_ACCOUNTING: '1',
  LOCAL_CLUSTER_SSH_PORT: '2288',
  LOCAL_CLUSTER_CTLD_PORT: '6937',
  LOCAL_CLUSTER_DB_PORT: '3317',
  LOCAL_CLUSTER_NODES: '2',
  LOCAL_CLUSTER_CPUS: '2',
};

/** A fresh temp dir (0755) holding the lab dir, which the script creates itself and `stop` removes. */
let labBase: string | undefined;
let labDir: string | undefined;
let work: string;
/** The `export KEY=VALUE` lines of `local-cluster.sh start`, parsed (process.env is left alone). */
let labEnv: Record<string, string> = {};
let startError: Error | undefined;

interface ScriptResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Run local-cluster.sh with our lab's settings; never rejects. */
function runClusterScript(action: 'start' | 'stop', timeoutMs: number): Promise<ScriptResult> {
  // Nothing inherited from a default lab the caller may have eval'd (SLURM_CONF, LOCAL_CLUSTER_*).
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('LOCAL_CLUSTER_') && !k.startsWith('SLURM_')) env[k] = v;
  }
  Object.assign(env, LAB_SETTINGS, { LOCAL_CLUSTER_DIR: labDir });
  return new Promise((resolve) => {
    execFile(
      'bash',
      [SCRIPT, action],
      { env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: number | string; signal?: string | null }) | null;
        resolve({
          code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
          signal: e?.signal ?? null,
          stdout: String(stdout),
          stderr: String(stderr) + (e && typeof e.code !== 'number' ? `\n${e.message}` : ''),
        });
      },
    );
  });
}

/** Undo bash's `printf %q` quoting (plain words with backslash escapes, '…' or $'…'). */
function unquote(v: string): string {
  if (v.startsWith("$'") && v.endsWith("'")) {
    return v.slice(2, -1).replace(/\\(.)/g, (_, c: string) => ({ n: '\n', t: '\t' })[c] ?? c);
  }
  if (v.startsWith("'") && v.endsWith("'")) return v.slice(1, -1);
  return v.replace(/\\(.)/g, '$1');
}

function parseExports(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const m = /^export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out[m[1]] = unquote(m[2]);
  }
  return out;
}

/** Processes still carrying our lab's daemon marker (the script puts it on every daemon and job). */
function labProcesses(dir: string): string[] {
  const marker = `LOCAL_CLUSTER_DAEMON=${dir}\0`;
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (!`${readFileSync(`/proc/${pid}/environ`, 'latin1')}\0`.includes(marker)) continue;
      found.push(`${pid} ${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()}`);
    } catch {
      // gone meanwhile, or a kernel thread
    }
  }
  return found;
}

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'disagg-it-acct-'));
  labBase = mkdtempSync(path.join(tmpdir(), 'disagg-acct-lab-'));
  // munged and the lab user must traverse every component of the lab path (mkdtemp makes it 0700).
  chmodSync(labBase, 0o755);
  labDir = path.join(labBase, 'lab');
  const t0 = Date.now();
  const r = await runClusterScript('start', 230_000);
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  labEnv = parseExports(r.stdout);
  if (r.code !== 0 || !labEnv.SLURM_CONF) {
    startError = new Error(
      `accounting lab did not start (exit ${r.code}${r.signal ? `, ${r.signal}` : ''}, ${secs} s): ` +
        `bash scripts/local-cluster.sh start with LOCAL_CLUSTER_DIR=${labDir} ${JSON.stringify(LAB_SETTINGS)}\n` +
        `--- stderr ---\n${r.stderr.trim()}\n--- stdout ---\n${r.stdout.trim()}`,
    );
  } else {
    console.log(`[accounting lab] started in ${secs} s: ${labEnv.SLURM_CONF}`);
  }
}, 240_000);

// In beforeEach, not beforeAll: every test is reported FAILED (not skipped) when the lab did not start.
beforeEach(() => {
  if (startError) throw startError;
});

afterAll(async () => {
  try {
    if (labDir) {
      const r = await runClusterScript('stop', 90_000);
      const left = labProcesses(labDir);
      rmSync(labBase as string, { recursive: true, force: true });
      if (r.code !== 0 || left.length > 0) {
        throw new Error(
          `stopping the accounting lab ${labDir} failed (exit ${r.code}); still running: ${left.join(', ') || 'none'}\n${r.stderr}`,
        );
      }
    }
  } finally {
    if (work) rmSync(work, { recursive: true, force: true });
  }
}, 120_000);

/** A fresh executor (no cached finals, accounting not yet probed) on our lab, through a CountingHost. */
function executor(): { ex: SlurmExecutor; host: CountingHost } {
  const host = new CountingHost(new LocalHost({ env: labEnv }));
  const ex = new SlurmExecutor({
    kind: 'slurm',
    host,
    settings: {
      childEnv: labEnv,
      resources: 'single',
      partition: labEnv.LOCAL_CLUSTER_PARTITION,
      jobDirScripts: [BASH_JOB_SCRIPT],
    },
  });
  return { ex, host };
}

/** A tiny bash job for this run. */
function spec(name: string, script: string): JobSpec {
  return bashJobSpec(work, `acct_${RUN}_${name}`, script);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll until every job is terminal (or UNKNOWN), at most WAIT_MS. */
async function waitAll(
  ex: SlurmExecutor,
  jobs: SubmittedJob[],
  onTick?: (statuses: Map<string, JobStatus>) => Promise<void> | void,
): Promise<{ statuses: Map<string, JobStatus>; seen: Set<string> }> {
  const deadline = Date.now() + WAIT_MS;
  const seen = new Set<string>();
  for (;;) {
    const st = await ex.poll(jobs);
    for (const s of st.values()) seen.add(s.state);
    await onTick?.(st);
    if ([...st.values()].every((s) => TERMINAL_STATES.has(s.state) || s.state === 'UNKNOWN')) {
      return { statuses: st, seen };
    }
    if (Date.now() > deadline)
      throw new Error(`jobs not finished after ${WAIT_MS} ms: ${JSON.stringify([...st.values()])}`);
    await sleep(500);
  }
}

/** Wait (≤ WAIT_MS) until sacct itself lists every job as finished: past its lag after the job ends. */
async function waitSacctSettled(jobs: SubmittedJob[]): Promise<Map<string, RawJobState>> {
  const plain = new LocalHost({ env: labEnv });
  const ids = jobs.map((j) => j.jobId);
  const deadline = Date.now() + WAIT_MS;
  let last = '';
  for (;;) {
    const r = await plain.exec(`sacct -n -P -X -j ${ids.join(',')} -o JobID,State,ExitCode`);
    last = `exit ${r.code}: ${r.stdout.trim()} ${r.stderr.trim()}`;
    if (r.code === 0) {
      const rows = parseSacct(r.stdout);
      if (ids.every((id) => rows.has(id) && isTerminal((rows.get(id) as RawJobState).state))) return rows;
    }
    if (Date.now() > deadline) throw new Error(`sacct did not list ${ids.join(',')} as finished: ${last}`);
    await sleep(500);
  }
}

describe('executor slurm on an accounting-enabled lab: final states from sacct', () => {
  it('exit 0 → COMPLETED 0:0, exit 3 → FAILED 3:0; sacct is probed, used, and alone answers once settled', async () => {
    const t0 = Date.now();
    const { ex, host } = executor();
    expect(ex.accountingState).toBe('unknown');
    try {
      const jobs = [
        await ex.submit(spec('ok', 'echo ok from $SLURM_JOB_ID')),
        await ex.submit(spec('exit3', 'echo failing; exit 3')),
      ];
      expect(host.calls.sbatch).toBe(2);
      const { statuses } = await waitAll(ex, jobs);
      expect(statuses.get(jobs[0].jobId)).toMatchObject({ state: 'COMPLETED', exitCode: '0:0' });
      expect(statuses.get(jobs[1].jobId)).toMatchObject({ state: 'FAILED', exitCode: '3:0' });
      // The executor asked sacct for the final states and found accounting on.
      expect(host.calls.sacct).toBeGreaterThan(0);
      expect(ex.accountingState).toBe('on');
      const live = { ...host.calls };

      // Once sacct has caught up, a fresh executor gets both final states from ONE sacct call and
      // never needs scontrol (its fallback when sacct lags or accounting is off).
      const rows = await waitSacctSettled(jobs);
      expect(rows.get(jobs[0].jobId)).toMatchObject({ state: 'COMPLETED', exitCode: '0:0' });
      expect(rows.get(jobs[1].jobId)).toMatchObject({ state: 'FAILED', exitCode: '3:0' });
      const fresh = executor();
      const st = await fresh.ex.poll(jobs);
      expect(st.get(jobs[0].jobId)).toMatchObject({ state: 'COMPLETED', exitCode: '0:0' });
      expect(st.get(jobs[1].jobId)).toMatchObject({ state: 'FAILED', exitCode: '3:0' });
      expect(fresh.host.calls).toMatchObject({ squeue: 1, sacct: 1, scontrol: 0 });
      expect(fresh.ex.accountingState).toBe('on');
      // Final states are cached: a further poll asks SLURM nothing.
      fresh.host.reset();
      expect(await fresh.ex.poll(jobs)).toEqual(st);
      expect(fresh.host.calls).toMatchObject({ squeue: 0, sacct: 0, scontrol: 0 });
      console.log(
        `[accounting ok/exit3] ${((Date.now() - t0) / 1000).toFixed(1)} s; live polling: ` +
          `squeue=${live.squeue} sacct=${live.sacct} scontrol=${live.scontrol}`,
      );
    } finally {
      await ex.close();
    }
  }, 180_000);

  it('scancel of a running job → CANCELLED, and sacct says who cancelled it', async () => {
    const t0 = Date.now();
    const { ex, host } = executor();
    try {
      const job = await ex.submit(spec('cancel', 'sleep 300'));
      let cancelled = false;
      const { statuses, seen } = await waitAll(ex, [job], async (st) => {
        if (!cancelled && st.get(job.jobId)?.state === 'RUNNING') {
          cancelled = true;
          await ex.cancel([job]);
        }
      });
      expect(cancelled).toBe(true);
      expect(seen.has('RUNNING')).toBe(true);
      expect(statuses.get(job.jobId)?.state).toBe('CANCELLED');
      expect(host.calls.scancel).toBe(1);
      expect(host.calls.sacct).toBeGreaterThan(0);
      expect(ex.accountingState).toBe('on');

      // Settled: the final state comes from sacct alone — only sacct reports `CANCELLED by <uid>`.
      const rows = await waitSacctSettled([job]);
      expect(rows.get(job.jobId)?.state).toBe('CANCELLED');
      const fresh = executor();
      const st = await fresh.ex.poll([job]);
      expect(st.get(job.jobId)).toMatchObject({
        state: 'CANCELLED',
        reason: `cancelled by uid ${process.getuid?.() ?? 0}`,
      });
      expect(fresh.host.calls).toMatchObject({ squeue: 1, sacct: 1, scontrol: 0 });
      console.log(
        `[accounting cancel] ${((Date.now() - t0) / 1000).toFixed(1)} s; live polling: ` +
          `squeue=${host.calls.squeue} sacct=${host.calls.sacct} scontrol=${host.calls.scontrol}`,
      );
    } finally {
      await ex.close();
    }
  }, 180_000);
});
