// Makespan through Vitest: N simulator configs (default 16 × ~10 s jobs) through `npx vitest run` with
// the slurm executor on a 4-slot lab — the plugin, broker, fixtures and verdicts, not the broker alone
// (that is broker-capacity.ts).
//   npx tsx scripts/bench/makespan-vitest.ts            # as root: starts/stops its own 4 × 1-CPU lab
//   BENCH_LAB_ENV=/path/env.sh npx tsx …                # or runs on a running lab (its env file)
// Settings: BENCH_JOBS (16), BENCH_TIME_SCALE (0.2 ≈ 10 s jobs), BENCH_SSH_PORT/BENCH_CTLD_PORT
// (2299/6917) and BENCH_LAB_DIR for its own lab.
// Prints:
//   wall ÷ capacity bound   wall ÷ (waves × mean job time), waves = ceil(N / slots), job time = SLURM
//                           StartTime→EndTime of the same run; wall = the whole `vitest run` process and,
//                           separately, first sbatch → last verdict
//   scheduler calls / tick  every sbatch/squeue/sacct/scontrol/scancel the run made (PATH wrapper), per
//                           poll tick (one squeue per tick)
//   end → verdict latency   SLURM EndTime → the test's results file written (median, max); EndTime has
//                           whole seconds, so each figure carries up to 1 s of rounding
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RESULTS_JSON } from '../../src/jobdir/files.js';
import { writeSimSuite } from '../../tests/integration/helpers/sim-configs.js';
import {
  fmt,
  median,
  openLab,
  readCommandLog,
  readJsonReport,
  slurmCommandLogger,
  slurmJobs,
  SLURM_COMMANDS,
  startVitest,
} from './suite-lab.js';

const JOBS = Math.min(200, Math.max(1, Number(process.env.BENCH_JOBS ?? 16)));
const TIME_SCALE = Number(process.env.BENCH_TIME_SCALE ?? 0.2);

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'makespan-vitest-'));
  fs.chmodSync(work, 0o755);
  const lab = openLab({
    LOCAL_CLUSTER_DIR: process.env.BENCH_LAB_DIR ?? path.join(work, 'lab'),
    LOCAL_CLUSTER_NODES: '4',
    LOCAL_CLUSTER_CPUS: '1',
    LOCAL_CLUSTER_SSH_PORT: process.env.BENCH_SSH_PORT ?? '2299',
    LOCAL_CLUSTER_CTLD_PORT: process.env.BENCH_CTLD_PORT ?? '6917',
  });
  try {
    const slots = Number(lab.env.LOCAL_CLUSTER_SLOTS);
    if (!Number.isInteger(slots) || slots < 1) throw new Error('the lab env has no LOCAL_CLUSTER_SLOTS');
    const tag = `mk${Date.now().toString(36).slice(-5)}`;
    const stems = Array.from({ length: JOBS }, (_, i) => `${tag}-${String(i).padStart(3, '0')}`);
    const tests = writeSimSuite(path.join(work, 'configs'), stems, { timeScale: TIME_SCALE });
    const log = path.join(work, 'slurm-commands.log');
    const wrappers = slurmCommandLogger(path.join(work, 'bin'), log);
    const output = path.join(work, 'output');
    const report = path.join(work, 'report.json');
    console.log(
      `makespan-vitest: ${JOBS} jobs (time_scale ${TIME_SCALE}) on ${slots} slots; work dir ${work}`,
    );

    const run = startVitest(
      {
        ...lab.env,
        PATH: `${wrappers}:${process.env.PATH ?? ''}`,
        DISAGG_CONFIG_DIR: path.join(work, 'configs'),
        DISAGG_EXECUTOR: 'slurm',
        DISAGG_BATCH_SIZE: '0',
        OUTPUT_PATH: output,
        GPU_TYPE: 'GB200',
      },
      report,
      30 * 60_000,
    );
    await run.done;

    const results = readJsonReport(report).filter((r) => tests.includes(r.title));
    const passed = results.filter((r) => r.status === 'passed').length;
    const jobs = slurmJobs(lab.env, `disagg-disagg_perf_${tag}-`);
    const durations = jobs.flatMap((j) => (j.start && j.end ? [(j.end - j.start) / 1000] : []));
    const meanJob = durations.reduce((a, b) => a + b, 0) / durations.length;
    const waves = Math.ceil(JOBS / slots);
    const bound = waves * meanJob;
    const wall = (run.endedAt - run.startedAt) / 1000;

    const commands = readCommandLog(log);
    const firstSubmit = commands.find((c) => c.cmd === 'sbatch')?.at;
    const latencies: number[] = [];
    let lastVerdict = 0;
    for (const j of jobs) {
      const test = j.name.replace(/^disagg-/, '');
      const file = path.join(output, 'slurm_logs', test, RESULTS_JSON);
      if (!j.end || !fs.existsSync(file)) continue;
      const verdictAt = fs.statSync(file).mtimeMs;
      lastVerdict = Math.max(lastVerdict, verdictAt);
      latencies.push((verdictAt - j.end) / 1000);
    }
    const counts = Object.fromEntries(
      SLURM_COMMANDS.map((c) => [c, commands.filter((x) => x.cmd === c).length]),
    );
    const ticks = counts.squeue ?? 0;
    const pollCalls = (counts.squeue ?? 0) + (counts.sacct ?? 0) + (counts.scontrol ?? 0);

    console.log(`tests: ${results.length} (passed ${passed}); vitest exit ${run.exitCode}`);
    console.log(
      `jobs in SLURM: ${jobs.length}; mean job time ${fmt(meanJob)} s (StartTime→EndTime); ${waves} waves`,
    );
    console.log(
      `wall (vitest run process): ${fmt(wall, 1)} s → wall ÷ capacity bound = ${fmt(wall / bound)}`,
    );
    if (firstSubmit && lastVerdict) {
      const inner = (lastVerdict - firstSubmit) / 1000;
      console.log(`first sbatch → last verdict: ${fmt(inner, 1)} s → ÷ bound = ${fmt(inner / bound)}`);
    }
    console.log(
      `scheduler calls: ${SLURM_COMMANDS.map((c) => `${c} ${counts[c]}`).join(', ')}; ` +
        `poll ticks ${ticks}; calls per tick ${fmt(pollCalls / Math.max(1, ticks))}`,
    );
    console.log(
      `job end → verdict: median ${fmt(median(latencies), 1)} s, max ${fmt(Math.max(...latencies), 1)} s ` +
        `(${latencies.length} jobs)`,
    );
    if (results.length !== JOBS || passed !== JOBS) {
      console.log(run.output.slice(-4000));
      process.exitCode = 1;
    }
  } finally {
    lab.stop();
  }
}

await main();
