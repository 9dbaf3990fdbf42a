// Broker benchmark: 16 simulator jobs of about 10 s on a 4-slot SLURM cluster.
//   npx tsx scripts/bench/broker-capacity.ts
// Prints suite wall time ÷ ideal (ceil(16/4) × job time; target ≤ 1.2) and the number of
// squeue/sacct/scontrol calls per poll tick (target: one squeue per tick for all jobs together).
// Job time is each job's run time (scontrol StartTime→EndTime) in this run; the ratio against the time
// of one job running alone is printed too (on 2 cores, 4 simulated deployments slow each other down).
//
// It starts its own 4-slot lab (4 nodes × 1 CPU) on separate ports with scripts/local-cluster.sh, unless
// BENCH_SLURM_CONF points at a running cluster. Needs root (as the cluster script does).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { JobBroker } from '../../src/broker/broker.js';
import { Ledger } from '../../src/broker/ledger.js';
import { discoverConfigs } from '../../src/config/index.js';
import { CountingHost } from '../../src/executors/counting-host.js';
import { LocalHost } from '../../src/executors/local-host.js';
import { SlurmExecutor } from '../../src/executors/slurm.js';
import { resolveSettings } from '../../src/settings/resolve.js';
import { jobSpecFor } from '../../src/plugin/job-spec.js';
import { newRunId } from '../../src/broker/job-dirs.js';
import { resolveOptions } from '../../src/plugin/options.js';
import type { JobOutcome, JobSpec } from '../../src/types.js';
import { writeSimSuite } from '../../tests/integration/helpers/sim-configs.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 16);
const SLOTS = 4;
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function startLab(): { env: NodeJS.ProcessEnv; stop: () => void } {
  if (process.env.BENCH_SLURM_CONF) {
    return { env: { ...process.env, SLURM_CONF: process.env.BENCH_SLURM_CONF }, stop: () => undefined };
  }
  const lab = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-lab-'));
  const labEnv = {
    ...process.env,
    LOCAL_CLUSTER_DIR: lab,
    LOCAL_CLUSTER_NODES: '4',
    LOCAL_CLUSTER_CPUS: '1',
    LOCAL_CLUSTER_SSH_PORT: '2299',
    LOCAL_CLUSTER_CTLD_PORT: '6917',
  };
  const script = path.join(repo, 'scripts/local-cluster.sh');
  const out = execFileSync('bash', [script, 'start'], {
    env: labEnv,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const m of out.matchAll(/^export (\w+)=(.*)$/gm)) env[m[1]] = m[2].replace(/^'(.*)'$/, '$1');
  if (env.LOCAL_CLUSTER_SLOTS !== String(SLOTS))
    throw new Error(`expected a ${SLOTS}-slot lab, got ${env.LOCAL_CLUSTER_SLOTS}`);
  return { env, stop: () => execFileSync('bash', [script, 'stop'], { env: labEnv, stdio: 'inherit' }) };
}

function runtimeSeconds(env: NodeJS.ProcessEnv, jobId: string): number {
  const text = execFileSync('scontrol', ['show', 'job', '-o', jobId], { env, encoding: 'utf8' });
  const start = /StartTime=(\S+)/.exec(text)?.[1];
  const end = /EndTime=(\S+)/.exec(text)?.[1];
  if (!start || !end) throw new Error(`no StartTime/EndTime for job ${jobId}`);
  return (Date.parse(end) - Date.parse(start)) / 1000;
}

async function runJobs(specs: JobSpec[], env: NodeJS.ProcessEnv, out: string) {
  const host = new CountingHost(new LocalHost({ env }));
  const executor = new SlurmExecutor({
    kind: 'slurm',
    host,
    settings: resolveSettings({ executor: 'slurm' }, env).executorSettings,
  });
  const broker = new JobBroker({
    executor,
    ledger: new Ledger(out),
    settings: { maxJobsInFlight: 0, pollMinMs: 2000, pollMaxMs: 30_000, resume: false },
    specFor: async (id) => specs.find((s) => s.testId === id) as JobSpec,
  });
  await broker.start();
  const t0 = Date.now();
  broker.schedule(specs.map((s) => s.testId));
  const outcomes: JobOutcome[] = await Promise.all(specs.map((s) => broker.run(s.testId)));
  const wall = (Date.now() - t0) / 1000;
  const ticks = broker.pollCalls;
  await broker.close();
  const failed = outcomes.filter((o) => o.state !== 'COMPLETED');
  if (failed.length)
    throw new Error(
      `${failed.length} job(s) did not complete: ${failed.map((o) => `${o.jobId} ${o.state}`).join(', ')}`,
    );
  return { wall, ticks, calls: host.calls, outcomes };
}

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-broker-'));
  const configDir = path.join(work, 'configs');
  const stems = Array.from({ length: JOBS }, (_, i) => `bench-${String(i).padStart(2, '0')}`);
  writeSimSuite(configDir, stems, { timeScale: Number(process.env.BENCH_TIME_SCALE ?? '0.2') });
  const lab = startLab();
  try {
    const options = resolveOptions(
      { configDir, outputPath: path.join(work, 'output'), executor: 'slurm' },
      lab.env,
      work,
    );
    const runId = newRunId();
    const specs = await Promise.all(
      discoverConfigs(configDir).entries.map((e) => jobSpecFor(e, options, runId)),
    );

    // One job alone: the job time the ideal is built from.
    const single = await runJobs([specs[0]], lab.env, path.join(work, 'single'));
    const jobAlone = runtimeSeconds(lab.env, single.outcomes[0].jobId);

    const all = await runJobs(specs, lab.env, path.join(work, 'all'));
    const runtimes = all.outcomes.map((o) => runtimeSeconds(lab.env, o.jobId));
    const meanRuntime = runtimes.reduce((a, b) => a + b, 0) / runtimes.length;
    const waves = Math.ceil(JOBS / SLOTS);

    const rows = [
      ['jobs / slots', `${JOBS} / ${SLOTS}`],
      ['job time in this run, mean of 16 (s)', meanRuntime.toFixed(1)],
      ['job time alone (s)', jobAlone.toFixed(1)],
      ['suite wall time (s)', all.wall.toFixed(1)],
      [`ideal = ${waves} × job time in this run (s)`, (waves * meanRuntime).toFixed(1)],
      ['wall ÷ ideal (target ≤ 1.2)', (all.wall / (waves * meanRuntime)).toFixed(3)],
      // On a small machine the jobs themselves run slower when 4 share the CPUs; this ratio includes that.
      [`wall ÷ (${waves} × job time alone)`, (all.wall / (waves * jobAlone)).toFixed(3)],
      ['poll ticks', String(all.ticks)],
      ['squeue calls (target = ticks)', String(all.calls.squeue)],
      ['sacct calls', String(all.calls.sacct)],
      ['scontrol calls', String(all.calls.scontrol)],
      ['squeue calls per tick', (all.calls.squeue / all.ticks).toFixed(2)],
      ['sbatch calls', String(all.calls.sbatch)],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    console.log(`\nbroker capacity benchmark (${new Date().toISOString()}, ${os.cpus().length} CPUs)`);
    for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);
  } finally {
    lab.stop();
  }
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
