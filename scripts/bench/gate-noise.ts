// History-gate noise benchmark: runs one small simulator config 12 times unchanged (each run its own
// job id, so its own noise draw: `simulator.noise`, default 1 %), judges every run that has ≥ 3 earlier
// runs against the previous up-to-5 with the history-gate rule (src/stats/regression.ts), and counts
// false alarms (`regressed` on an unchanged run) per metric. Then runs it once per slowdown factor
// (DISAGG_SIM_SLOWDOWN) against the last 5 unchanged runs and reports the smallest factor the gate
// catches. Both with the default gate (tolerance 5 %: a ×1.05 slowdown costs 4.8 % throughput, inside
// it by definition) and with `history: { tolerance: 0.03 }`.
// Targets: 0 false alarms on every metric; ×1.05 caught at every concurrency for throughput, TPOT and
// E2EL (with tolerance 0.03).
//   npx tsx scripts/bench/gate-noise.ts        (about 25 s: 18 jobs of about 1 s; uses dist/sim)
// Knobs: BENCH_RUNS (12), BENCH_TIME_SCALE (0.002: the numbers are virtual-time simulation results, so
// the time scale only sets how long a job takes; the host's load cannot move them). The job runs as plain
// bash (the simulator job script of scripts/), without Vitest or a cluster.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { BENCH_LOG, CONFIG_FILE, SIM_BUNDLE, SIM_SCRIPT } from '../../src/jobdir/files.js';
import { parseBenchLog } from '../../src/parsers/bench.js';
import {
  HISTORY_GATE_DEFAULTS,
  judgeMetric,
  median,
  selectBaseline,
  type Judgement,
  type RuleSettings,
  type RunValue,
} from '../../src/stats/regression.js';
import type { DisaggConfig } from '../../src/types.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUNDLE = path.join(repo, 'dist/sim', SIM_BUNDLE);
const SCRIPT = path.join(repo, 'scripts', SIM_SCRIPT);
const RUNS = Number(process.env.BENCH_RUNS ?? 12);
const TIME_SCALE = Number(process.env.BENCH_TIME_SCALE ?? 0.002);
const SLOWDOWNS = [1.05, 1.1, 1.15, 1.2, 1.3, 1.5];
const CONCURRENCIES = [1, 4, 8, 32];
const METRICS = [
  'output_throughput',
  'median_ttft_ms',
  'median_tpot_ms',
  'median_e2el_ms',
  'p99_ttft_ms',
  'p99_tpot_ms',
  'p99_e2el_ms',
] as const;
type Metric = (typeof METRICS)[number];
/** One run: metric → concurrency → value, and its end time (what the history orders baselines by). */
interface Run {
  values: Map<Metric, Map<number, number>>;
  endTime: number;
  wallMs: number;
}
const RUN_TIMEOUT_MS = 180_000;

const config: DisaggConfig = {
  metadata: { model_name: 'gate-noise' },
  benchmark: {
    multi_round: 4,
    concurrency_list: CONCURRENCIES.join(' '),
    input_length: 256,
    output_length: 256,
    streaming: true,
  },
  hardware: { num_ctx_servers: 1, num_gen_servers: 1 },
  worker_config: {
    ctx: { tensor_parallel_size: 4, max_batch_size: 4 },
    gen: { tensor_parallel_size: 8, max_batch_size: 8 },
  },
  simulator: { time_scale: TIME_SCALE },
};

function load(): string {
  return `${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ')} (1/5/15 min) on ${os.cpus().length} cores`;
}

function ensureBundle(): void {
  if (existsSync(BUNDLE)) return;
  const r = spawnSync(process.execPath, [path.join(repo, 'scripts/build-sim.mjs')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building ${BUNDLE} failed (run npm run build): ${r.stderr}`);
}

/** Runs the job once in a fresh job dir; `slowdown` null = unchanged (the knob is cleared). */
async function runJob(slowdown: number | null, label: string): Promise<Run> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gate-noise-'));
  try {
    copyFileSync(BUNDLE, path.join(dir, SIM_BUNDLE));
    copyFileSync(SCRIPT, path.join(dir, SIM_SCRIPT));
    writeFileSync(path.join(dir, CONFIG_FILE), stringify(config));
    const env: NodeJS.ProcessEnv = { ...process.env, DISAGG_JOB_DIR: dir, SLURM_JOB_ID: `bench-${label}` };
    delete env.DISAGG_SIM_SLOWDOWN;
    if (slowdown !== null) env.DISAGG_SIM_SLOWDOWN = String(slowdown);
    const t0 = Date.now();
    const { code, output } = await new Promise<{ code: number | null; output: string }>((done) => {
      const p = spawn('bash', [path.join(dir, SIM_SCRIPT)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      const keep = (c: Buffer): void => {
        output = (output + c.toString()).slice(-4000);
      };
      p.stdout.on('data', keep);
      p.stderr.on('data', keep);
      // Bounded: a hung job is killed (bash's EXIT trap then kills the stack).
      const timer = setTimeout(() => p.kill('SIGTERM'), RUN_TIMEOUT_MS);
      p.on('exit', (c) => {
        clearTimeout(timer);
        done({ code: c, output });
      });
    });
    const wallMs = Date.now() - t0;
    if (code !== 0) throw new Error(`run ${label}: job exited ${code} in ${dir}:\n${output}`);
    const parsed = await parseBenchLog(path.join(dir, BENCH_LOG));
    const values = new Map<Metric, Map<number, number>>(METRICS.map((m) => [m, new Map()]));
    for (const b of parsed.blocks) {
      if (b.warmup || !b.completed || b.concurrency === null) continue;
      for (const m of METRICS) {
        const v = b.metrics[m];
        if (v !== undefined) values.get(m)?.set(b.concurrency, v);
      }
    }
    for (const m of METRICS)
      for (const c of CONCURRENCIES)
        if (!values.get(m)?.has(c))
          throw new Error(`run ${label}: no ${m} at concurrency ${c} in ${BENCH_LOG}`);
    return { values, endTime: Date.now(), wallMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function valueOf(run: Run, m: Metric, c: number): number {
  const v = run.values.get(m)?.get(c);
  if (v === undefined) throw new Error(`missing ${m} at concurrency ${c}`);
  return v;
}

/** The history gate's verdict on `current` against `history`, with its baseline selection. */
function gate(history: readonly Run[], current: Run, m: Metric, c: number, rule: RuleSettings): Judgement {
  const candidates: RunValue[] = history.map((r) => ({
    value: valueOf(r, m, c),
    endTime: r.endTime,
    passed: true,
  }));
  const baseline = selectBaseline(candidates, rule.runs).map((r) => r.value);
  return judgeMetric(m, baseline, valueOf(current, m, c), rule);
}

const pct = (f: number): string => `${(f * 100).toFixed(1)} %`;
const RULES: Array<{ label: string; rule: RuleSettings }> = [
  { label: `default gate (tolerance ${pct(HISTORY_GATE_DEFAULTS.tolerance)})`, rule: HISTORY_GATE_DEFAULTS },
  { label: 'history: { tolerance: 0.03 }', rule: { ...HISTORY_GATE_DEFAULTS, tolerance: 0.03 } },
];

/** Smallest factor from which the gate flags this and every larger factor (one lucky flag is noise). */
function smallest(flags: readonly boolean[]): string {
  let k = flags.length;
  while (k > 0 && flags[k - 1] === true) k--;
  const f = SLOWDOWNS[k];
  return f === undefined ? `> ${SLOWDOWNS[SLOWDOWNS.length - 1]}` : `×${f}`;
}

/** The table of one rule over the same runs. */
function report(
  label: string,
  rule: RuleSettings,
  unchanged: readonly Run[],
  slowed: readonly Run[],
): string[] {
  const top = CONCURRENCIES[CONCURRENCIES.length - 1] ?? 0;
  const rows: string[][] = [];
  const caughtAt = new Map<Metric, string>();
  let falseAlarms = 0;
  for (const m of METRICS) {
    let alarms = 0;
    let alarmedRuns = 0;
    let judged = 0;
    let worst = -Infinity;
    const noises: number[] = [];
    for (let i = rule.minRuns; i < unchanged.length; i++) {
      let alarmed = false;
      for (const c of CONCURRENCIES) {
        const j = gate(unchanged.slice(0, i), unchanged[i] as Run, m, c, rule);
        judged++;
        noises.push(j.noise);
        worst = Math.max(worst, j.worsening ?? -Infinity);
        if (j.verdict === 'regressed') {
          alarms++;
          alarmed = true;
        }
      }
      if (alarmed) alarmedRuns++;
    }
    falseAlarms += alarms;
    const baselineRuns = unchanged.slice(-rule.runs);
    const all: boolean[] = [];
    const atTop: boolean[] = [];
    for (const run of slowed) {
      const flagged = CONCURRENCIES.filter(
        (c) => gate(baselineRuns, run, m, c, rule).verdict === 'regressed',
      );
      all.push(flagged.length === CONCURRENCIES.length);
      atTop.push(flagged.includes(top));
    }
    caughtAt.set(m, smallest(all));
    rows.push([
      m,
      `${alarms} / ${judged}`,
      `${alarmedRuns} / ${unchanged.length - rule.minRuns}`,
      `±${pct(median(noises.length > 0 ? noises : [0]))}`,
      pct(worst),
      smallest(all),
      smallest(atTop),
    ]);
  }
  const head = [
    'metric',
    'false alarms',
    'runs alarmed',
    'median noise',
    'worst drift',
    'caught (all conc.)',
    `caught (conc. ${top})`,
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ');
  const key = ['output_throughput', 'median_tpot_ms', 'median_e2el_ms'] as const;
  return [
    '',
    `${label}: allowed = max(${pct(rule.tolerance)}, ${rule.noiseK} × noise), last ${rule.runs} runs, ≥ ${rule.minRuns}`,
    line(head),
    widths.map((w) => '-'.repeat(w)).join('-|-'),
    ...rows.map(line),
    `targets: false alarms ${falseAlarms} on every metric (target 0); ×1.05 at every concurrency: ` +
      key.map((m) => `${m} caught from ${caughtAt.get(m)}`).join(', ') +
      ' (target ×1.05)',
  ];
}

async function main(): Promise<void> {
  if (!Number.isInteger(RUNS) || RUNS < HISTORY_GATE_DEFAULTS.runs)
    throw new Error(
      `BENCH_RUNS=${process.env.BENCH_RUNS}: give a whole number ≥ ${HISTORY_GATE_DEFAULTS.runs}`,
    );
  if (!(TIME_SCALE > 0))
    throw new Error(`BENCH_TIME_SCALE=${process.env.BENCH_TIME_SCALE}: give a number > 0 (default 0.002)`);
  ensureBundle();
  const t0 = Date.now();
  console.log(`load at start: ${load()}`);
  console.log(
    `config: concurrency ${CONCURRENCIES.join(' ')}, multi_round 4, 256/256 tokens, time_scale ${TIME_SCALE}, ` +
      'default noise (each run its own job id)',
  );
  const top = CONCURRENCIES[CONCURRENCIES.length - 1] ?? 0;
  const unchanged: Run[] = [];
  for (let i = 0; i < RUNS; i++) {
    const run = await runJob(null, `u${i + 1}`);
    unchanged.push(run);
    console.log(
      `unchanged run ${String(i + 1).padStart(2)}/${RUNS}: ${(run.wallMs / 1000).toFixed(1)} s, ` +
        `load ${(os.loadavg()[0] ?? 0).toFixed(1)}, throughput@${top} ${valueOf(run, 'output_throughput', top).toFixed(1)} tok/s`,
    );
  }
  const slowed: Run[] = [];
  for (const f of SLOWDOWNS) {
    const run = await runJob(f, `s${f}`);
    slowed.push(run);
    const base = unchanged.slice(-HISTORY_GATE_DEFAULTS.runs);
    const w = (m: Metric): string =>
      CONCURRENCIES.map((c) => pct(gate(base, run, m, c, HISTORY_GATE_DEFAULTS).worsening ?? 0)).join(' ');
    console.log(
      `slowdown ×${f}: ${(run.wallMs / 1000).toFixed(1)} s; worse by: output_throughput ${w('output_throughput')}; ` +
        `median_tpot_ms ${w('median_tpot_ms')}; median_e2el_ms ${w('median_e2el_ms')} (conc. ${CONCURRENCIES.join(' ')})`,
    );
  }
  for (const { label, rule } of RULES) for (const l of report(label, rule, unchanged, slowed)) console.log(l);
  console.log(
    `\nfalse alarms: regressed verdicts on unchanged runs ${HISTORY_GATE_DEFAULTS.minRuns + 1}..${RUNS} × ` +
      `${CONCURRENCIES.length} concurrencies (runs alarmed: unchanged runs with ≥ 1 of them); noise = 1.4826 × MAD / ` +
      'median of the baseline (median over judgements); worst drift = largest worsening of an unchanged run; ' +
      `caught = smallest slowdown from which every larger tested factor (${SLOWDOWNS.join(', ')}) is flagged too.`,
  );
  console.log(`load at end: ${load()}; total ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
