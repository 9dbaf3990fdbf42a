// The simulator job script end to end, as plain bash on temp job dirs with the built bundle: a full stress
// run, each fault knob, and SIGTERM; after every run no stack process or port may be left behind.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { DisaggConfig } from '../../src/types.js';
import { alive, refused } from './helpers/processes.js';
import { BUNDLE, ensureSimBundle, ROOT } from './helpers/sim-bundle.js';

const SCRIPT = join(ROOT, 'scripts/disagg-sim.slurm');
const PERF_RE =
  /^.*?Median TTFT \(ms\):\s+([0-9.]+).*?$\n(?:.*\n)*?^.*?Median E2EL \(ms\):\s+([0-9.]+).*?$\n(?:.*\n)*?^.*?Benchmark with concurrency (\d+) done/gm;
const EARLY_FAILURE_RE = /\[E\]\s+Traceback[\s\S]*?mpi4py\.MPI\.Comm\.allgather/m;

const dirs: string[] = [];

beforeAll(ensureSimBundle, 120_000);

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function jobDir(cfg: DisaggConfig): string {
  const d = mkdtempSync(join(tmpdir(), 'disagg-sim-job-'));
  dirs.push(d);
  copyFileSync(BUNDLE, join(d, 'disagg-sim.mjs'));
  copyFileSync(SCRIPT, join(d, 'disagg-sim.slurm'));
  writeFileSync(join(d, 'config.yaml'), stringify(cfg));
  return d;
}

interface Run {
  code: number | null;
  stdout: string;
  wallMs: number;
}

/** A line in one of the job dir's logs (the file may not exist yet). */
function logHas(dir: string, file: string, text: string): () => boolean {
  return () => existsSync(join(dir, file)) && readFileSync(join(dir, file), 'utf8').includes(text);
}

/**
 * Runs the job script; once `killWhen` holds (checked every 100 ms) it sends SIGTERM to bash (what
 * scancel/our timeout does): on an event in the logs, never after a fixed time a loaded machine may not
 * have reached it by.
 */
function runJob(
  dir: string,
  id: string,
  killWhen?: () => boolean,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<Run> {
  const t0 = Date.now();
  return new Promise((done) => {
    const p = spawn('bash', [join(dir, 'disagg-sim.slurm')], {
      env: { ...process.env, DISAGG_JOB_DIR: dir, SLURM_JOB_ID: id, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stdout += c.toString()));
    const hard = setTimeout(() => p.kill('SIGKILL'), 150_000);
    const soft =
      killWhen === undefined
        ? undefined
        : setInterval(() => {
            if (!killWhen()) return;
            clearInterval(soft);
            p.kill('SIGTERM');
          }, 100);
    p.on('exit', (code) => {
      clearTimeout(hard);
      if (soft) clearInterval(soft);
      done({ code, stdout, wallMs: Date.now() - t0 });
    });
  });
}

/** No member of the stack is alive or listening, and no process mentions the (unique) job dir. */
async function expectNothingLeft(dir: string): Promise<void> {
  const stack = JSON.parse(readFileSync(join(dir, 'sim_stack.json'), 'utf8')) as {
    members: Array<{ pid: number; port: number; name: string }>;
  };
  expect(stack.members.length).toBeGreaterThanOrEqual(3);
  for (const m of stack.members) {
    expect(alive(m.pid), `${m.name} pid ${m.pid} still alive`).toBe(false);
    expect(await refused(m.port), `${m.name} port ${m.port} still open`).toBe(true);
  }
  const pg = spawnSync('pgrep', ['-f', dir], { encoding: 'utf8' });
  expect(pg.stdout.trim()).toBe('');
}

function base(extra: Partial<DisaggConfig> = {}): DisaggConfig {
  return {
    metadata: { model_name: 'sim-test' },
    benchmark: {
      multi_round: 2,
      concurrency_list: '1 2',
      input_length: 256,
      output_length: 256,
      streaming: true,
    },
    hardware: { num_ctx_servers: 1, num_gen_servers: 1 },
    worker_config: { ctx: { tensor_parallel_size: 4 }, gen: { tensor_parallel_size: 8, max_batch_size: 4 } },
    ...extra,
    simulator: { time_scale: 0.02, ...(extra.simulator ?? {}) },
  };
}

describe('disagg-sim.slurm as plain bash', () => {
  // Its speed (well under 20 s on a quiet machine) is printed, not asserted: a timed test fails on a
  // loaded one.
  it('runs a whole stress test (1 2 4 8 × 4 rounds, 1024/1024, 200 gsm8k)', async () => {
    const dir = jobDir(
      base({
        benchmark: {
          multi_round: 4,
          concurrency_list: '1 2 4 8',
          input_length: 1024,
          output_length: 1024,
          streaming: true,
        },
        hardware: { num_ctx_servers: 2, num_gen_servers: 1 },
        worker_config: {
          ctx: { tensor_parallel_size: 4, max_batch_size: 4, print_iter_log: true },
          gen: { tensor_parallel_size: 8, max_batch_size: 4, stream_interval: 20, print_iter_log: true },
        },
        accuracy: {
          enable_accuracy_test: true,
          tasks: {
            gsm8k: {
              model: 'local-completions',
              model_args_extra: 'num_concurrent=32,max_retries=3,max_gen_toks=256',
            },
          },
        },
        simulator: { time_scale: 0.02, accuracy: 0.6, num_questions: 200 },
      }),
    );
    const r = await runJob(dir, '4242');
    console.log(`disagg-sim stress job wall time: ${r.wallMs} ms`);
    expect(r.code, r.stdout).toBe(0);
    expect(readFileSync(join(dir, '8_done_4242.txt'), 'utf8').trim()).not.toBe('');
    const bench = readFileSync(join(dir, '6_bench.log'), 'utf8');
    expect([...bench.matchAll(PERF_RE)].map((m) => m[3])).toEqual(['1', '2', '4', '8']);
    for (const c of [1, 2, 4, 8]) {
      expect(bench).toContain(`Benchmarking with concurrency ${c} ... ${c * 4} prompts`);
      const res = JSON.parse(readFileSync(join(dir, `concurrency_${c}`, 'result.json'), 'utf8')) as Record<
        string,
        unknown
      >;
      expect(res).toMatchObject({ completed: c * 4, max_concurrency: c, num_prompts: c * 4 });
      expect(typeof res.median_ttft_ms).toBe('number');
    }
    const acc = readFileSync(join(dir, '7_accuracy_eval_gsm8k.log'), 'utf8');
    expect(acc).toMatch(/^local-completions \(model=.*num_concurrent=32.*\), gen_kwargs: \(None\)/m);
    const flex =
      /\|gsm8k\|\s+3\|flexible-extract\|\s+5\|exact_match\|↑\s*\|([0-9.]+)\|±\s*\|([0-9.]+)\|/.exec(acc);
    expect(flex).not.toBeNull();
    expect(Math.abs(Number(flex![1]) - 0.6)).toBeLessThan(3 * Number(flex![2]) + 1e-9);
    expect(readFileSync(join(dir, '3_output_CTX_1.log'), 'utf8')).toContain(
      'Uvicorn running on http://127.0.0.1:',
    );
    expect(readFileSync(join(dir, '3_output_GEN_0.log'), 'utf8')).toMatch(/iter = \d+, global_rank = 0/);
    expect(readFileSync(join(dir, '5_wait_server.log'), 'utf8')).toContain('is ready');
    await expectNothingLeft(dir);
  }, 300_000);

  it('with DISAGG_SIM_NOISE=0, a run under three CPU hogs gives the same numbers as a quiet run', async () => {
    const cfg = base({
      benchmark: { multi_round: 4, concurrency_list: '1 4 16', input_length: 512, output_length: 256 },
      simulator: { time_scale: 0.01 },
    });
    const env = { DISAGG_SIM_NOISE: '0' };
    const quiet = jobDir(cfg);
    expect((await runJob(quiet, '2001', undefined, env)).code).toBe(0);
    // Three busy loops on two cores, each ending by itself within 60 s and killed when the job ends.
    const hogs = Array.from({ length: 3 }, () =>
      spawn(process.execPath, ['-e', 'const end = Date.now() + 60000; while (Date.now() < end) {}'], {
        stdio: 'ignore',
      }),
    );
    let loaded: string;
    try {
      loaded = jobDir(cfg);
      expect((await runJob(loaded, '2002', undefined, env)).code).toBe(0);
    } finally {
      for (const h of hogs) h.kill('SIGKILL');
    }
    const parsed = (dir: string): unknown => {
      const r = spawnSync(process.execPath, [join(ROOT, 'bin/disagg.mjs'), 'parse', 'bench', dir, '--json'], {
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    };
    const a = parsed(quiet) as { blocks: unknown[] };
    expect(a.blocks).toHaveLength(3);
    expect(parsed(loaded)).toEqual(a);
    // And every concurrency's result.json: the same numbers, request by request.
    for (const c of [1, 4, 16]) {
      const read = (dir: string): Record<string, unknown> => {
        const j = JSON.parse(readFileSync(join(dir, `concurrency_${c}`, 'result.json'), 'utf8')) as Record<
          string,
          unknown
        >;
        delete j.date;
        return j;
      };
      expect(read(loaded)).toEqual(read(quiet));
    }
  }, 120_000);

  it('crash: the worker log carries a traceback matching the early-failure pattern; the job fails', async () => {
    const dir = jobDir(base({ simulator: { faults: { crash: { worker: 'gen', index: 0, after_s: 3 } } } }));
    const r = await runJob(dir, '1001');
    expect(r.code).toBe(1);
    const gen = readFileSync(join(dir, '3_output_GEN_0.log'), 'utf8');
    expect(gen).toMatch(EARLY_FAILURE_RE);
    expect(r.stdout).toContain(
      'GEN_0 exited unexpectedly (code 1, signal none): mpi4py.MPI.Exception: MPI_ERR_OTHER',
    );
    expect(existsSync(join(dir, '8_done_1001.txt'))).toBe(false);
    await expectNothingLeft(dir);
  }, 300_000);

  it('http_500_rate: failed requests are counted in 6_bench.log and the job fails', async () => {
    // The benchmark's failures are simulated; the eval's 40 requests (with retries) meet the router's
    // real fault, which logs each one.
    const dir = jobDir(
      base({
        accuracy: { enable_accuracy_test: true, tasks: { gsm8k: { model: 'local-completions' } } },
        simulator: { faults: { http_500_rate: 0.4 }, num_questions: 40 },
      }),
    );
    const r = await runJob(dir, '1002');
    expect(r.code).toBe(1);
    const bench = readFileSync(join(dir, '6_bench.log'), 'utf8');
    const failed = [...bench.matchAll(/Total failed requests:\s*(\d+)/g)].map((m) => Number(m[1]));
    expect(failed.length).toBeGreaterThan(0);
    expect(Math.max(...failed)).toBeGreaterThan(0);
    expect(bench).toMatch(/^Failed requests:\s+[1-9]/m);
    expect(bench).toContain('Error type: HTTP 500');
    expect(r.stdout).toMatch(/benchmark had \d+ failed requests/);
    expect(readFileSync(join(dir, '4_output_server.log'), 'utf8')).toContain('[E] Internal server error');
    await expectNothingLeft(dir);
  }, 300_000);

  it('hang: the job never finishes on its own; the timeout (SIGTERM) kills it and everything it started', async () => {
    const dir = jobDir(base({ simulator: { faults: { hang: { after_s: 2 } } } }));
    const r = await runJob(dir, '1003', logHas(dir, '4_output_server.log', 'Server stopped responding'));
    expect(r.code).toBe(143);
    expect(existsSync(join(dir, '8_done_1003.txt'))).toBe(false);
    expect(readFileSync(join(dir, '4_output_server.log'), 'utf8')).toContain('Server stopped responding');
    await expectNothingLeft(dir);
  }, 300_000);

  it('exit_code: the job exits with the configured code after the benchmark', async () => {
    const dir = jobDir(base({ simulator: { faults: { exit_code: 3 } } }));
    const r = await runJob(dir, '1004');
    expect(r.code).toBe(3);
    expect(readFileSync(join(dir, '6_bench.log'), 'utf8')).toContain('Benchmark with concurrency 2 done');
    expect(existsSync(join(dir, '8_done_1004.txt'))).toBe(false);
    await expectNothingLeft(dir);
  }, 300_000);

  it('SIGTERM mid-benchmark stops the stack and leaves no process or port behind', async () => {
    const dir = jobDir(
      base({ benchmark: { multi_round: 20, concurrency_list: '4', input_length: 256, output_length: 1024 } }),
    );
    // Mid-benchmark: the stack is up (its members recorded) and the benchmark has begun.
    const r = await runJob(
      dir,
      '1005',
      () =>
        existsSync(join(dir, 'sim_stack.json')) &&
        logHas(dir, '6_bench.log', 'Benchmarking with concurrency 4')(),
    );
    expect(r.code).toBe(143);
    expect(r.stdout).toContain('received SIGTERM');
    await expectNothingLeft(dir);
  }, 300_000);
});
