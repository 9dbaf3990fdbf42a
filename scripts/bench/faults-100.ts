// 100 short simulator configs through `npx vitest run` (ssh executor → sbatch) on an 8-node accounting
// lab while this script injects, at random moments of the run and one after another: a slurmctld
// restart, sshd killed (with its open connections) for 20 s, one node set DOWN while it runs jobs, and
// sbatch refusals from a QOS job limit (MaxSubmitJobsPerUser lowered below the jobs in flight for 20 s).
//   npx tsx scripts/bench/faults-100.ts           # as root: starts/stops its own lab (8 nodes × 2 CPUs)
//   BENCH_LAB_ENV=/path/env.sh npx tsx …          # or a running accounting lab (its env file)
// Settings: BENCH_JOBS (100), BENCH_TIME_SCALE (0.05), BENCH_BATCH (16 jobs in flight, so that
// submissions go on during the run), BENCH_SEED (fault moments), BENCH_LAB_DIR / BENCH_SSH_PORT /
// BENCH_CTLD_PORT / BENCH_DB_PORT (own lab; default ports 2298 / 6927 / 3318).
// Prints: jobs submitted, completed, failed with a clear reason (by reason), failed without one,
// duplicated (must be 0), left after the run (0), CSV rows lost or torn (0), wall time, the fault log.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  killSshd,
  restartSlurmctld,
  restoreLab,
  resumeNode,
  runningJobs,
  setNodeDown,
  startSshdAgain,
  type Lab,
} from '../../tests/integration/helpers/lab-faults.js';
import { writeSimSuite } from '../../tests/integration/helpers/sim-configs.js';
import { PERF_CSV_NAME } from '../../src/results/csv.js';
import { fmt, openLab, readJsonReport, slurmJobs, startVitest } from './suite-lab.js';

const JOBS = Math.min(500, Math.max(1, Number(process.env.BENCH_JOBS ?? 100)));
const TIME_SCALE = Number(process.env.BENCH_TIME_SCALE ?? 0.05);
const BATCH = process.env.BENCH_BATCH ?? '16';
const OUTAGE_MS = 20_000;
let seed = Number(process.env.BENCH_SEED ?? Date.now() % 100_000);
const SEED = seed;
/** Deterministic per seed (mulberry32), so a bad schedule can be replayed. */
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A clear reason: the job's final SLURM state, a refused/failed submission, or a failed verdict. */
function reasonOf(message: string): string | undefined {
  const ended = /ended (NODE_FAIL|TIMEOUT|CANCELLED|FAILED|OUT_OF_MEMORY|BOOT_FAIL|PREEMPTED|DEADLINE)/.exec(
    message,
  );
  if (ended) return ended[1];
  if (/sbatch (?:failed|refused|not confirmed)/.test(message)) return 'submission failed';
  if (/benchmark|concurrency|request/i.test(message)) return 'benchmark verdict';
  return undefined;
}

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'faults-100-'));
  fs.chmodSync(work, 0o755);
  const handle = openLab({
    LOCAL_CLUSTER_DIR: process.env.BENCH_LAB_DIR ?? path.join(work, 'lab'),
    LOCAL_CLUSTER_NODES: '8',
    LOCAL_CLUSTER_CPUS: '2',
    LOCAL_CLUSTER_ACCOUNTING: '1',
    LOCAL_CLUSTER_SSH_PORT: process.env.BENCH_SSH_PORT ?? '2298',
    LOCAL_CLUSTER_CTLD_PORT: process.env.BENCH_CTLD_PORT ?? '6927',
    LOCAL_CLUSTER_DB_PORT: process.env.BENCH_DB_PORT ?? '3318',
  });
  const env = handle.env;
  const lab: Lab = {
    dir: env.LOCAL_CLUSTER_DIR as string,
    slurmConf: env.SLURM_CONF as string,
    sshPort: Number(env.DISAGG_SSH_PORT),
  };
  const slurmEnv = { ...process.env, SLURM_CONF: lab.slurmConf };
  const setQosLimit = (n: number): void => {
    execFileSync('sacctmgr', ['-i', 'modify', 'qos', 'normal', 'set', `MaxSubmitJobsPerUser=${n}`], {
      env: slurmEnv,
      stdio: 'ignore',
      timeout: 20_000,
    });
  };
  try {
    if (env.LOCAL_CLUSTER_ACCOUNTING !== '1')
      throw new Error('the lab has no accounting: QOS refusals need it');
    const tag = `fh${Date.now().toString(36).slice(-5)}`;
    const prefix = `disagg-disagg_perf_${tag}-`;
    const stems = Array.from({ length: JOBS }, (_, i) => `${tag}-${String(i).padStart(3, '0')}`);
    const tests = writeSimSuite(path.join(work, 'configs'), stems, {
      timeScale: TIME_SCALE,
      concurrencies: '1 2',
      outputLength: 512,
    });
    const output = path.join(work, 'output');
    // Refusals as slurmctld logged them (the plugin retries them quietly), counted from here on.
    const ctldLog = path.join(lab.dir, 'log', 'slurmctld.log');
    const ctldLogStart = fs.existsSync(ctldLog) ? fs.statSync(ctldLog).size : 0;
    const qosRefusals = (): number => {
      const text = fs.readFileSync(ctldLog).subarray(ctldLogStart).toString('utf8');
      return text.split('\n').filter((l) => /submit_batch_job.*(QOS|accounting)/i.test(l)).length;
    };
    const report = path.join(work, 'report.json');
    console.log(
      `faults-100: ${JOBS} jobs, ${BATCH} in flight, ${env.LOCAL_CLUSTER_SLOTS} slots, seed ${SEED}; ${work}`,
    );

    const run = startVitest(
      {
        ...env,
        DISAGG_CONFIG_DIR: path.join(work, 'configs'),
        DISAGG_EXECUTOR: 'ssh',
        DISAGG_BATCH_SIZE: BATCH,
        OUTPUT_PATH: output,
        GPU_TYPE: 'GB200',
      },
      report,
      40 * 60_000,
    );
    const ended = (): boolean => run.endedAt !== 0;
    const log: string[] = [];
    const note = (s: string): void => {
      const line = `+${fmt((Date.now() - run.startedAt) / 1000, 1)} s ${s}`;
      log.push(line);
      console.log(`  fault ${line}`);
    };

    // Random moments in the first 60 % of the expected run (jobs must still be running), in random order;
    // the node and QOS faults wait until there are jobs to hit.
    const faults: Array<[string, () => Promise<void>]> = [
      [
        'slurmctld restart',
        async () => {
          await restartSlurmctld(lab);
          note('slurmctld restarted');
        },
      ],
      [
        'sshd down',
        async () => {
          await killSshd(lab);
          note('sshd killed');
          await sleep(OUTAGE_MS);
          await startSshdAgain(lab);
          note('sshd back');
        },
      ],
      [
        'node DOWN',
        async () => {
          for (let i = 0; i < 60 && !ended(); i++) {
            const running = runningJobs(lab, prefix);
            const node = running[Math.floor(random() * running.length)]?.node;
            if (node) {
              setNodeDown(lab, node, 'faults-100');
              note(`${node} DOWN with ${running.filter((j) => j.node === node).length} job(s)`);
              await sleep(2000);
              await resumeNode(lab, node);
              note(`${node} resumed`);
              return;
            }
            await sleep(500);
          }
          note('node DOWN skipped: no job running');
        },
      ],
      [
        'QOS limit',
        async () => {
          // Refusals need submissions: wait (bounded) until the run has submitted its first jobs.
          for (let i = 0; i < 240 && !ended() && slurmJobs(env, prefix).length === 0; i++) await sleep(500);
          setQosLimit(4);
          note('QOS MaxSubmitJobsPerUser=4');
          await sleep(OUTAGE_MS);
          setQosLimit(-1);
          note('QOS limit lifted');
        },
      ],
    ];
    const expectedRunMs = (JOBS / Number(env.LOCAL_CLUSTER_SLOTS)) * 25_000;
    const schedule = faults
      .map(([name, act]) => ({ name, act, at: 8_000 + random() * expectedRunMs * 0.6 }))
      .sort((a, b) => a.at - b.at);
    console.log(`  schedule: ${schedule.map((f) => `${f.name} at ${fmt(f.at / 1000, 0)} s`).join(', ')}`);
    try {
      for (const f of schedule) {
        const wait = run.startedAt + f.at - Date.now();
        if (wait > 0) await sleep(wait);
        if (ended()) {
          note(`${f.name} skipped: the run had ended`);
          continue;
        }
        await f.act();
      }
    } finally {
      setQosLimit(-1);
      await restoreLab(lab);
    }
    await run.done;

    const wall = (run.endedAt - run.startedAt) / 1000;
    const results = readJsonReport(report).filter((r) => tests.includes(r.title));
    const jobs = slurmJobs(env, prefix);
    const perName = new Map<string, number>();
    for (const j of jobs) perName.set(j.name, (perName.get(j.name) ?? 0) + 1);
    const duplicated = [...perName.values()].filter((n) => n > 1).reduce((a, n) => a + n - 1, 0);
    const left = jobs.filter((j) => /PENDING|RUNNING|COMPLETING|CONFIGURING|SUSPENDED/.test(j.state));
    const passed = results.filter((r) => r.status === 'passed');
    const failed = results.filter((r) => r.status === 'failed');
    const reasons = new Map<string, number>();
    const unclear: string[] = [];
    for (const r of failed) {
      const why = reasonOf(r.failureMessages.join('\n'));
      if (why) reasons.set(why, (reasons.get(why) ?? 0) + 1);
      else unclear.push(`${r.title}: ${r.failureMessages.join(' ').slice(0, 300)}`);
    }
    const csvFile = path.join(output, PERF_CSV_NAME);
    const lines = fs.existsSync(csvFile)
      ? fs
          .readFileSync(csvFile, 'utf8')
          .split('\n')
          .filter((l) => l)
      : [];
    const torn = lines.filter((l) => l.split(',').length !== 17).length;
    // every passed test writes 2 concurrencies × 2 default metrics
    const lost = passed.reduce(
      (n, r) => n + Math.max(0, 4 - lines.filter((l) => l.includes(`[${r.title}]`)).length),
      0,
    );
    const refusals = qosRefusals();

    console.log(`jobs submitted (in SLURM): ${jobs.length} for ${perName.size} tests of ${JOBS}`);
    console.log(
      `tests: ${results.length} reported; completed (passed) ${passed.length}; failed ${failed.length}`,
    );
    console.log(
      `failed with a clear reason: ${failed.length - unclear.length} (${[...reasons].map(([k, v]) => `${k} ${v}`).join(', ') || '-'})`,
    );
    console.log(`failed without a clear reason: ${unclear.length}`);
    for (const u of unclear.slice(0, 5)) console.log(`  ${u}`);
    console.log(`tests without a result (hung/lost): ${JOBS - results.length}`);
    console.log(`duplicated submissions: ${duplicated}`);
    console.log(`jobs left after the run: ${left.length}`);
    console.log(`CSV rows: ${Math.max(0, lines.length - 1)}; lost ${lost}; torn ${torn}`);
    console.log(`sbatch refusals (QOS, slurmctld log): ${refusals}`);
    console.log(`wall time: ${fmt(wall, 1)} s (vitest exit ${run.exitCode})`);
    console.log(`faults: ${log.join('; ')}`);
    if (duplicated || left.length || lost || torn || unclear.length || results.length !== JOBS) {
      console.log(run.output.slice(-3000));
      process.exitCode = 1;
    }
  } finally {
    handle.stop();
  }
}

await main();
