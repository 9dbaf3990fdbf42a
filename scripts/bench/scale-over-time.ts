// Scale over time and width (issue 22). Two parts, printed side by side:
// 1. Width: 10,000 jobs through the broker against a fake scheduler that answers `poll` for all of them
//    in one call (tests/fixtures/fake-scheduler.ts): broker CPU per tick (between two poll calls: state
//    events, ledger write, collection), resident memory growth, and every job judged once.
// 2. Over time: an output dir holding a year of nightly runs — history.jsonl of 110,000 lines and a
//    jobs.json of 150,000 finished entries, both in today's formats — against an empty output dir:
//    a 6-config run (`vitest run` of stress-configs/, local executor, the simulator at its configs'
//    time_scale), then `disagg compare`, `disagg report` and `disagg cancel` on each. The big dir's first
//    run migrates jobs.json into the runs' archives (timed on its own); the runs after it are compared
//    with runs on a fresh empty dir, alternating. The commands run as users run them: `bin/disagg.mjs`
//    on `dist/`, which the script builds first (`npm run build`).
// Run: npx tsx scripts/bench/scale-over-time.ts [rounds=2] [parts=both|width|time]
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ledger, type LedgerData, type LedgerJob } from '../../src/broker/ledger.js';
import { formatHistoryRecord, historyPath, type HistoryRecord } from '../../src/results/history.js';
import { FakeScheduler } from '../../tests/fixtures/fake-scheduler.js';
import { runEveryTest, widthBroker, widthTestIds } from '../../tests/fixtures/width-run.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const VITEST = path.join(ROOT, 'node_modules/vitest/vitest.mjs');
const ROUNDS = Math.min(5, Math.max(1, Number(process.argv[2] ?? 2)));
const PARTS = process.argv[3] ?? 'both';
const WIDTH = 10_000;
const HISTORY_LINES = 110_000;
const LEDGER_ENTRIES = 150_000;
const NIGHTS = 365;
/** Upper bound of one vitest process, so the benchmark always ends. */
const PROCESS_LIMIT_MS = 300_000;

const ms = (n: number) => `${Math.round(n)} ms`;
const s = (n: number) => `${(n / 1000).toFixed(2)} s`;
const mb = (n: number) => `${(n / 2 ** 20).toFixed(0)} MB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * q)] ?? NaN;

async function width(spread: number): Promise<void> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-width-'));
  const scheduler = new FakeScheduler(spread);
  const tickCpu: number[] = [];
  const tickMain: number[] = [];
  let rssMax = 0;
  let lastCpu: NodeJS.CpuUsage | undefined;
  let lastMain = NaN;
  const poll = scheduler.poll.bind(scheduler);
  // CPU between two poll calls = one tick's work (and the submissions and collections in between): the
  // whole process's, and the main thread's alone (the event loop where every line of the broker runs).
  scheduler.poll = async (jobs) => {
    const now = process.cpuUsage();
    const main = mainThreadCpuMs();
    if (lastCpu) {
      tickCpu.push((now.user - lastCpu.user + now.system - lastCpu.system) / 1000);
      tickMain.push(main - lastMain);
    }
    rssMax = Math.max(rssMax, process.memoryUsage().rss);
    const answer = await poll(jobs);
    lastCpu = process.cpuUsage();
    lastMain = mainThreadCpuMs();
    return answer;
  };
  const { broker: b, judged } = widthBroker(out, scheduler, { pollMinMs: 200, pollMaxMs: 500 });
  const ids = widthTestIds(WIDTH);
  const rss0 = process.memoryUsage().rss;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await runEveryTest(b, ids);
  const wall = performance.now() - t0;
  await b.close();
  const cpu = process.cpuUsage(cpu0);
  rssMax = Math.max(rssMax, process.memoryUsage().rss);
  const once = judged.size === WIDTH && [...judged.values()].every((n) => n === 1);
  console.log(`\n== width: ${WIDTH} jobs, fake scheduler, job ends spread over ${spread} polls ==`);
  console.log(
    `wall ${s(wall)}, broker CPU ${s((cpu.user + cpu.system) / 1000)}, ${b.pollCalls} poll calls (1 per tick)`,
  );
  console.log(
    `job counts per poll: ${scheduler.polls.slice(0, 8).join(', ')}${scheduler.polls.length > 8 ? ', …' : ''}`,
  );
  console.log(`CPU of each tick, whole process (ms): ${tickCpu.map((x) => Math.round(x)).join(' ')}`);
  console.log(`CPU of each tick, main thread (ms):   ${tickMain.map((x) => Math.round(x)).join(' ')}`);
  const spread3 = (xs: number[]) =>
    `median ${ms(median(xs))}, p90 ${ms(quantile(xs, 0.9))}, max ${ms(Math.max(...xs))}`;
  console.log(`CPU per tick (between poll calls), main thread: ${spread3(tickMain)}  (target ≤ 50 ms)`);
  console.log(
    `CPU per tick, whole process (adds V8's helper threads: concurrent marking, parallel scavenges, compiling; libuv's fs threads): ${spread3(tickCpu)}`,
  );
  console.log(
    `the tick where all ${WIDTH} turn RUNNING: ${ms(tickMain[0] ?? NaN)} main thread, ${ms(tickCpu[0] ?? NaN)} whole process; load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${os.cpus().length} cores`,
  );
  console.log(`RSS growth ${mb(rssMax - rss0)} (target ≤ 200 MB)`);
  console.log(
    `every job judged once: ${once ? 'yes' : 'NO'} (${judged.size} judged, ${scheduler.submits} submitted)`,
  );
  fs.rmSync(out, { recursive: true, force: true });
}

/**
 * CPU time of the main thread so far (ms), from /proc/self/task/<pid>/schedstat (nanoseconds): the
 * thread that runs the event loop, with the GC pauses it takes itself. NaN where there is no /proc.
 */
function mainThreadCpuMs(): number {
  try {
    const stat = fs.readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8');
    return Number(stat.split(' ')[0]) / 1e6;
  } catch {
    return NaN;
  }
}

/** A year of history and ledger entries, in today's formats (jobs.json as an older version left it). */
function buildBigDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const tests = Array.from(
    { length: Math.ceil(HISTORY_LINES / NIGHTS) },
    (_, i) => `disagg_perf_model-${i}_1k1k_ctx1_gen1`,
  );
  const lines: string[] = [];
  const day0 = Date.UTC(2025, 11, 1);
  for (let n = 0; lines.length < HISTORY_LINES; n++) {
    const night = n % NIGHTS;
    const test = tests[Math.floor(n / NIGHTS) % tests.length] as string;
    const end = new Date(day0 + night * 86_400_000 + 3_600_000).toISOString();
    const metrics: Record<string, Record<string, number>> = {};
    for (const c of [1, 8, 64])
      metrics[String(c)] = {
        output_throughput: 1000 + c * 10 + (n % 7),
        mean_ttft_ms: 50 + c,
        median_ttft_ms: 48 + c,
        p99_ttft_ms: 90 + c,
        mean_tpot_ms: 9 + c / 100,
        median_tpot_ms: 9,
        p99_tpot_ms: 14,
        mean_e2el_ms: 2000 + c,
        request_throughput: 5 + c / 10,
        total_token_throughput: 2000 + c,
      };
    const r: HistoryRecord = {
      test,
      endTime: end,
      passed: true,
      metrics,
      jobId: String(100_000 + n),
      runId: `2025${String(Math.floor(night / 28) + 1).padStart(2, '0')}01-010000-${(night % 65536).toString(16).padStart(4, '0')}`,
      host: 'slurm:cluster',
      submittedAt: end,
      startTime: end,
      gpuType: 'GB200',
      configHash: `cfg${n % 300}`,
      verdicts: [
        {
          kind: 'history',
          metric: 'output_throughput',
          concurrency: 64,
          value: 1640,
          bound: 1500,
          passed: true,
          message: 'within the band',
        },
      ],
      parts: ['perf'],
    };
    lines.push(formatHistoryRecord(r));
  }
  fs.writeFileSync(historyPath(dir), lines.join(''));
  const jobs: LedgerJob[] = [];
  const runs: LedgerData['runs'] = [];
  const perNight = Math.ceil(LEDGER_ENTRIES / NIGHTS);
  for (let night = 0; night < NIGHTS; night++) {
    const at = new Date(day0 + night * 86_400_000).toISOString();
    const runId = `2025-night-${String(night).padStart(3, '0')}`;
    runs.push({ id: runId, pid: 1, startedAt: at, endedAt: at });
    for (let i = 0; i < perNight && jobs.length < LEDGER_ENTRIES; i++)
      jobs.push({
        testId: tests[i % tests.length] as string,
        configHash: `cfg${i % 300}`,
        executor: 'slurm',
        jobId: String(1_000_000 + jobs.length),
        jobDir: `/lustre/jobs/${runId}/${i}`,
        localLogDir: path.join(dir, 'slurm_logs', 'runs', runId, tests[i % tests.length] as string),
        state: 'COMPLETED',
        exitCode: '0:0',
        runId,
        submittedAt: at,
        updatedAt: at,
        endedAt: at,
        consumed: true,
      });
  }
  // The older versions kept the last 200 runs; this ledger has every run's jobs, as in the issue.
  const data: LedgerData = { version: 1, runs: runs.slice(-200), jobs };
  fs.writeFileSync(path.join(dir, 'jobs.json'), JSON.stringify(data, null, 2) + '\n');
}

function vitestRun(out: string): Promise<{ code: number | null; ms: number; cpuMs: number; output: string }> {
  const started = performance.now();
  const cpu0 = childCpuMs();
  const child = spawn(process.execPath, [VITEST, 'run'], {
    cwd: ROOT,
    env: {
      ...process.env,
      OUTPUT_PATH: out,
      DISAGG_EXECUTOR: 'local',
      DISAGG_CONFIG_DIR: path.join(ROOT, 'stress-configs'),
      GPU_TYPE: 'GB200',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), PROCESS_LIMIT_MS);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, ms: performance.now() - started, cpuMs: childCpuMs() - cpu0, output });
    });
  });
}

/**
 * CPU time (user + system) of this process's reaped children so far, from /proc/self/stat (cutime and
 * cstime, in clock ticks of 10 ms): one command runs at a time, so the difference is its own.
 */
function childCpuMs(): number {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return NaN;
  }
}

/** Upper bound of one CLI command: the figure then reads "> limit". */
const CLI_LIMIT_MS = 120_000;
/** The command users run: `bin/disagg.mjs` on the built `dist/` (built afresh by `buildCli`). */
const CLI_BIN = path.join(ROOT, 'bin/disagg.mjs');

/** `npm run build`, so the measured command is this checkout's code as users run it (not through tsx). */
function buildCli(): void {
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}${r.stderr}`);
}

/** The `disagg` command, as a process of its own (killed at the limit). */
function cli(args: string[]): Promise<{ code: number | null; ms: number; cpuMs: number; out: string }> {
  const t0 = performance.now();
  const cpu0 = childCpuMs();
  const child = spawn(process.execPath, [CLI_BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), CLI_LIMIT_MS);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, ms: performance.now() - t0, cpuMs: childCpuMs() - cpu0, out });
    });
  });
}

async function overTime(): Promise<void> {
  buildCli();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-time-'));
  const big = path.join(work, 'big');
  const t0 = performance.now();
  buildBigDir(big);
  const sizes = `history.jsonl ${mb(fs.statSync(historyPath(big)).size)}, jobs.json ${mb(fs.statSync(path.join(big, 'jobs.json')).size)}`;
  console.log(
    `\n== over time: a year of runs (${HISTORY_LINES} history lines, ${LEDGER_ENTRIES} ledger entries; ${sizes}; built in ${s(performance.now() - t0)}) ==`,
  );
  const first = await vitestRun(big);
  if (first.code !== 0)
    console.log(`first run on the big dir exited ${first.code}:\n${first.output.slice(-3000)}`);
  const migrated = /moved (\d+) finished job entr/.exec(first.output)?.[1];
  console.log(
    `first run on the big dir (migrates jobs.json: ${migrated ?? '?'} entries moved): ${s(first.ms)}`,
  );
  console.log(`jobs.json after it: ${fs.statSync(path.join(big, 'jobs.json')).size} bytes`);
  const emptyMs: number[] = [];
  const bigMs: number[] = [];
  const emptyCpu: number[] = [];
  const bigCpu: number[] = [];
  let empty = '';
  for (let r = 0; r < ROUNDS; r++) {
    empty = path.join(work, `empty-${r}`);
    fs.mkdirSync(empty);
    const e = await vitestRun(empty);
    const b = await vitestRun(big);
    if (e.code !== 0 || b.code !== 0)
      console.log(
        `round ${r}: exit codes empty ${e.code}, big ${b.code}\n${(e.code ? e : b).output.slice(-3000)}`,
      );
    emptyMs.push(e.ms);
    bigMs.push(b.ms);
    emptyCpu.push(e.cpuMs);
    bigCpu.push(b.cpuMs);
    console.log(`round ${r + 1}: empty ${s(e.ms)} (${s(e.cpuMs)} CPU), big ${s(b.ms)} (${s(b.cpuMs)} CPU)`);
  }
  const ratio = median(bigMs) / median(emptyMs);
  console.log(
    `6-config run: empty ${s(median(emptyMs))}, big ${s(median(bigMs))} (median of ${ROUNDS}) → ${ratio.toFixed(2)}× (target ≤ 1.2×)`,
  );
  // CPU (all of the run's processes) is steadier than wall time on a shared machine: what the history costs.
  console.log(
    `6-config run, CPU: empty ${s(median(emptyCpu))}, big ${s(median(bigCpu))} (median) → ${(median(bigCpu) / median(emptyCpu)).toFixed(2)}×`,
  );
  const rows: Array<[string, string[]]> = [
    ['disagg compare', ['compare']],
    ['disagg report', ['report']],
    // Again: the first report of the dir summarised the runs' archives (each test's latest job) once.
    ['disagg report 2nd', ['report']],
    ['disagg cancel', ['cancel', '--output-path']],
  ];
  const startup = await cli(['--version']);
  console.log(
    `command          empty dir   big dir    (target; each a process of its own: \`disagg --version\` takes ${s(startup.ms)})`,
  );
  for (const [name, args] of rows) {
    const withDir = (dir: string) =>
      args[0] === 'report'
        ? ['report', dir, '--out', path.join(work, `report-${path.basename(dir)}.html`)]
        : [...args, dir];
    const e = await cli(withDir(empty));
    const b = await cli(withDir(big));
    const target = name === 'disagg cancel' ? '≤ 2 s' : '≤ 5 s';
    // compare exits 1 when it found regressions (the synthetic year has some); other codes are failures.
    const bad = (c: number | null) => c !== 0 && !(name === 'disagg compare' && c === 1);
    const codes =
      bad(e.code) || bad(b.code)
        ? `  (exit ${e.code}/${b.code}: ${(bad(b.code) ? b : e).out.slice(-300)})`
        : '';
    const fig = (r: { ms: number; code: number | null; cpuMs: number }) =>
      r.code === null ? `> ${s(CLI_LIMIT_MS)}` : `${s(r.ms)} (${s(r.cpuMs)} CPU)`;
    console.log(`${name.padEnd(16)} ${fig(e).padStart(9)} ${fig(b).padStart(9)}    ${target}${codes}`);
  }
  const all = await new Ledger(big).readAll();
  console.log(
    `every job still seen after the runs: ${all.jobs.length} (${LEDGER_ENTRIES} of the year + this bench's runs)`,
  );
  fs.rmSync(work, { recursive: true, force: true });
}

if (PARTS === 'both' || PARTS === 'width') {
  await width(4);
  await width(40);
}
if (PARTS === 'both' || PARTS === 'time') await overTime();
