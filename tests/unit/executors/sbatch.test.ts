import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  chooseLauncher,
  computeNodeCounts,
  parseSubmitOutput,
  renderSubmitCommand,
  slurmTime,
  startsWithoutArguments,
  submitPyMissing,
} from '../../../src/executors/sbatch.js';
import { SettingsError } from '../../../src/errors.js';
import type { DisaggConfig } from '../../../src/types.js';
import { fixturePath } from '../../fixtures/paths.js';

const load = (rel: string): DisaggConfig =>
  parse(readFileSync(fixturePath('trtllm', 'test_configs', rel), 'utf8')) as DisaggConfig;

/** Real configs: nodes = Σ ceil(tp·pp·cp × servers / gpus_per_node), as the original's submit.py. */
const REAL: Array<[string, { ctx: number; gen: number; total: number }]> = [
  // ctx 2 × tp4 → 2 nodes; gen 1 × tp16 → 4
  [
    'disagg/perf/deepseek-r1-fp4_1k1k_ctx2_gen1_dep16_bs128_eplb0_mtp3_ccb-NIXL.yaml',
    { ctx: 2, gen: 4, total: 6 },
  ],
  // ctx 3 × pp4 → 3; gen 1 × tp8 → 2
  [
    'disagg/perf/deepseek-r1-fp4_128k8k_ctx3_pp4_gen1_dep8_bs16_eplb0_mtp1-Default.yaml',
    { ctx: 3, gen: 2, total: 5 },
  ],
  // ctx 1 × tp4 → 1; gen 4 × tp8 → 8
  [
    'disagg/perf/deepseek-r1-fp4_1k1k_ctx1_gen4_tep8_bs32_eplb0_mtp0_ccb-UCX.yaml',
    { ctx: 1, gen: 8, total: 9 },
  ],
  // ctx 1 × pp4 → 1; gen 13 × tp4 → 13
  [
    'disagg/perf/deepseek-r1-fp4_128k8k_ctx1_pp4_gen13_tep4_bs1_eplb0_mtp0-Default.yaml',
    { ctx: 1, gen: 13, total: 14 },
  ],
  // ctx tp4 cp1; gen tp32 → 8
  [
    'disagg/perf-sanity/gb200-deepseek-v32-fp4_32k4k_ctx1_dep4_bs1_gen1_dep32_bs64_eplb288_mtp1_ccb-UCX.yaml',
    { ctx: 1, gen: 8, total: 9 },
  ],
];

describe('node counts on real TensorRT-LLM configs', () => {
  it.each(REAL)('%s', (rel, want) => {
    const n = computeNodeCounts(load(rel));
    expect({ ctx: n.ctxNodes, gen: n.genNodes, total: n.totalNodes }).toEqual(want);
    expect(n.totalTasks).toBe(want.total * 4);
  });

  it('context parallelism counts, partial nodes round up per side', () => {
    const n = computeNodeCounts({
      hardware: { gpus_per_node: 8, num_ctx_servers: 3, num_gen_servers: 1 },
      worker_config: {
        ctx: { tensor_parallel_size: 2, context_parallel_size: 2 }, // world 4 × 3 = 12 GPUs → 2 nodes
        gen: { tensor_parallel_size: 1 }, // 1 GPU → 1 node
      },
    });
    expect(n).toMatchObject({ ctxWorldSize: 4, ctxNodes: 2, genNodes: 1, totalNodes: 3, totalTasks: 24 });
  });

  it('refuses a config without gpus_per_node', () => {
    expect(() => computeNodeCounts({ worker_config: { gen: {} } })).toThrow(/gpus_per_node is required/);
  });
});

describe('renderSubmitCommand (sbatch)', () => {
  const base = {
    testId: 'disagg_perf_x',
    jobDir: '/home/bench/vitest-disagg/disagg_perf_x',
    timeLimitMs: 90 * 60_000,
    scriptPath: '/home/bench/vitest-disagg/disagg_perf_x/disaggr_torch.slurm',
    configPath: '/home/bench/vitest-disagg/disagg_perf_x/config.yaml',
  };

  it('renders every argument from slurm + hardware of a real config', () => {
    const config = load('disagg/perf/deepseek-r1-fp4_1k1k_ctx2_gen1_dep16_bs128_eplb0_mtp3_ccb-NIXL.yaml');
    const cmd = renderSubmitCommand({ ...base, config, partition: 'gb200', account: 'acct' });
    expect(cmd.launcher).toBe('sbatch');
    expect(cmd.argv).toEqual([
      'sbatch',
      '--parsable',
      '--partition=gb200',
      '--account=acct',
      '--time=02:00:00',
      '--job-name=unified-benchmark',
      '--nodes=6',
      '--ntasks=24',
      '--ntasks-per-node=4',
      '--segment=6',
      '--no-requeue',
      `--chdir=${base.jobDir}`,
      `--output=${base.jobDir}/slurm-%j.out`,
      `--error=${base.jobDir}/slurm-%j.err`,
      '--gres=gpu:4',
      base.scriptPath,
    ]);
    expect(cmd.commandLine).toBe(`DISAGG_JOB_DIR=${base.jobDir} ${cmd.argv.join(' ')}`);
  });

  it('refuses unresolved placeholders instead of sending --partition=<partition>', () => {
    const config = load('disagg/perf/deepseek-r1-fp4_1k1k_ctx2_gen1_dep16_bs128_eplb0_mtp3_ccb-NIXL.yaml');
    expect(() => renderSubmitCommand({ ...base, config })).toThrow(
      /slurm.partition is still the placeholder <partition>/,
    );
  });

  it('simulator: one task, time from the spec when job_time is absent, job name from the test id', () => {
    const cmd = renderSubmitCommand({
      ...base,
      config: { slurm: { script_file: 'disagg-sim.slurm' }, hardware: { gpus_per_node: 4 } },
      scriptPath: `${base.jobDir}/disagg-sim.slurm`,
    });
    expect(cmd.argv).toContain('--nodes=1');
    expect(cmd.argv).toContain('--ntasks=1');
    expect(cmd.argv).toContain('--time=01:30:00');
    expect(cmd.argv).toContain('--job-name=disagg-disagg_perf_x');
    expect(cmd.argv.some((a) => a.startsWith('--partition'))).toBe(false);
  });

  it("--segment by default as upstream submit.py, off with set_segment: false, never for the simulator's one task", () => {
    const config = (slurm: DisaggConfig['slurm']): DisaggConfig => ({
      slurm,
      hardware: { gpus_per_node: 4, num_ctx_servers: 1, num_gen_servers: 1 },
      worker_config: { ctx: { tensor_parallel_size: 4 }, gen: { tensor_parallel_size: 8 } },
    });
    expect(renderSubmitCommand({ ...base, config: config({}) }).argv).toContain('--segment=3');
    expect(renderSubmitCommand({ ...base, config: config({ set_segment: true }) }).argv).toContain(
      '--segment=3',
    );
    const off = renderSubmitCommand({ ...base, config: config({ set_segment: false }) }).argv;
    expect(off.some((a) => a.startsWith('--segment'))).toBe(false);
    // SLURM 22.05 (the lab) does not know --segment: the simulator's jobs must start there.
    const sim = renderSubmitCommand({
      ...base,
      config: config({ script_file: 'disagg-sim.slurm', set_segment: true }),
    }).argv;
    expect(sim.some((a) => a.startsWith('--segment'))).toBe(false);
  });

  it('--no-requeue unless slurm.requeue is true (a job on a failed node ends as NODE_FAIL)', () => {
    const config = (slurm: DisaggConfig['slurm']): DisaggConfig => ({
      slurm: { script_file: 'disagg-sim.slurm', ...slurm },
      hardware: { gpus_per_node: 4 },
    });
    const argv = (c: DisaggConfig): string[] => renderSubmitCommand({ ...base, config: c }).argv;
    expect(argv(config({}))).toContain('--no-requeue');
    expect(argv(config({})).includes('--requeue')).toBe(false);
    expect(argv(config({ requeue: false }))).toContain('--no-requeue');
    expect(argv(config({ requeue: true }))).toContain('--requeue');
    expect(argv(config({ requeue: true })).includes('--no-requeue')).toBe(false);
    // before the script path: sbatch reads options only up to the script
    const a = argv(config({}));
    expect(a.indexOf('--no-requeue')).toBeLessThan(a.length - 1);
  });

  it('escapes % in the job dir of --output/--error (sbatch expands %x, %j there), not elsewhere', () => {
    // A config file named n%x%j.yaml: its test id and job dir carry the % signs.
    const jobDir = '/w/disagg_stress_n%x%j';
    const cmd = renderSubmitCommand({
      ...base,
      testId: 'disagg_stress_n%x%j',
      jobDir,
      config: { slurm: { script_file: 'disagg-sim.slurm' }, hardware: { gpus_per_node: 4 } },
      scriptPath: `${jobDir}/disagg-sim.slurm`,
    });
    expect(cmd.argv).toContain('--output=/w/disagg_stress_n%%x%%j/slurm-%j.out');
    expect(cmd.argv).toContain('--error=/w/disagg_stress_n%%x%%j/slurm-%j.err');
    // --chdir and --job-name are taken literally by sbatch.
    expect(cmd.argv).toContain(`--chdir=${jobDir}`);
    expect(cmd.argv).toContain('--job-name=disagg-disagg_stress_n%x%j');
  });
});

describe('slurmTime', () => {
  it('takes job_time, validates it, else rounds the spec limit up to minutes', () => {
    expect(slurmTime({ slurm: { job_time: '02:00:00' } }, 1)).toBe('02:00:00');
    expect(slurmTime({ slurm: { job_time: '1-00:00:00' } }, 1)).toBe('1-00:00:00');
    expect(slurmTime({}, 61_000)).toBe('00:02:00');
    expect(slurmTime({}, 1)).toBe('00:01:00');
    expect(slurmTime({}, 36 * 3600_000)).toBe('1-12:00:00');
    expect(() => slurmTime({ slurm: { job_time: '2h; reboot' } }, 1)).toThrow(/not a SLURM time/);
  });
});

describe('submit.py launcher', () => {
  const real = { slurm: { script_file: 'disaggr_torch.slurm' } };
  const sim = { slurm: { script_file: 'disagg-sim.slurm' } };
  const own = { slurm: { script_file: 'launch/own-job.sh' } };

  it('auto (the default): the simulator and declared job-dir scripts → sbatch, any other script → submit.py', () => {
    // The DISAGG_LAUNCHER value arrives as the `launcher` setting (resolved by src/settings).
    expect(chooseLauncher(real, undefined)).toBe('submit.py');
    expect(chooseLauncher(real, 'auto')).toBe('submit.py');
    expect(chooseLauncher(sim, undefined)).toBe('sbatch');
    expect(chooseLauncher({ slurm: { script_file: 'disagg-sim-2.slurm' } }, 'auto')).toBe('sbatch');
    // `simulator:` in the config makes any script the simulator's.
    expect(chooseLauncher(real, 'auto', { simulator: true })).toBe('sbatch');
    expect(chooseLauncher(own, 'auto')).toBe('submit.py');
    // Declared by its file name, whatever folder the config names it in.
    expect(chooseLauncher(own, 'auto', { jobDirScripts: ['own-job.sh'] })).toBe('sbatch');
    expect(startsWithoutArguments(own, { jobDirScripts: ['own-job.sh'] })).toBe(true);
    expect(startsWithoutArguments(real)).toBe(false);
  });

  it('an explicit choice is honoured where it can work; sbatch for a script needing arguments is refused', () => {
    expect(chooseLauncher(real, 'submit.py')).toBe('submit.py');
    expect(chooseLauncher(own, 'submit.py', { jobDirScripts: ['own-job.sh'] })).toBe('submit.py');
    // submit.py cannot start the simulator: one run-wide setting still serves a mixed suite.
    expect(chooseLauncher(sim, 'submit.py')).toBe('sbatch');
    expect(chooseLauncher(sim, 'sbatch')).toBe('sbatch');
    expect(chooseLauncher(own, 'sbatch', { jobDirScripts: ['own-job.sh'] })).toBe('sbatch');
    expect(() => chooseLauncher(real, 'sbatch')).toThrow(SettingsError);
    expect(() => chooseLauncher(real, 'sbatch')).toThrow(
      /launcher sbatch cannot start disaggr_torch\.slurm: .*needs the ~30 arguments submit\.py passes it.*sbatch would start it with none.*list disaggr_torch\.slurm in slurm\.jobDirScripts \/ DISAGG_JOB_DIR_SCRIPTS/,
    );
    expect(() => chooseLauncher(real, 'srun')).toThrow(/must be auto, sbatch or submit\.py, got "srun"/);
  });

  it('the missing-submit.py message names the variable, the path looked at and the fix', () => {
    const msg = submitPyMissing('disaggr_torch.slurm', '/opt/l/submit.py', 'SCRIPT_DIR=/opt/l');
    expect(msg).toContain('no submit.py at /opt/l/submit.py (the folder comes from SCRIPT_DIR=/opt/l)');
    expect(msg).toMatch(/Fix: set SCRIPT_DIR \(or DISAGG_SCRIPT_DIR\)/);
    expect(submitPyMissing('disaggr_torch.slurm', undefined, undefined)).toMatch(
      /SCRIPT_DIR \(or DISAGG_SCRIPT_DIR, or the slurm\.scriptDir option\) is not set\. Fix:/,
    );
  });

  it('puts the sbatch shim first on PATH and hands it the write-ahead token', () => {
    const config = load('disagg/perf/deepseek-r1-fp4_1k1k_ctx2_gen1_dep16_bs128_eplb0_mtp3_ccb-NIXL.yaml');
    const cmd = renderSubmitCommand({
      config,
      testId: 't',
      jobDir: '/w/t',
      timeLimitMs: 1,
      scriptPath: '',
      configPath: '/w/t.submit/config.yaml',
      launcher: 'submit.py',
      scriptDir: '/opt/l',
      shimDir: '/w/t.submit/bin',
      comment: 'disagg-tok1',
    });
    expect(cmd.env).toEqual({ PATH: '/w/t.submit/bin:$PATH', DISAGG_SUBMIT_TOKEN: 'disagg-tok1' });
    expect(cmd.commandLine).toBe(
      `PATH=/w/t.submit/bin:"$PATH" DISAGG_SUBMIT_TOKEN=disagg-tok1 python3 /opt/l/submit.py -c /w/t.submit/config.yaml --log-dir /w/t`,
    );
  });

  it('renders python3 $SCRIPT_DIR/submit.py -c <config> --log-dir <dir>', () => {
    const config = load('disagg/perf/deepseek-r1-fp4_1k1k_ctx2_gen1_dep16_bs128_eplb0_mtp3_ccb-NIXL.yaml');
    const cmd = renderSubmitCommand({
      config,
      testId: 't',
      jobDir: '/w/t dir',
      timeLimitMs: 1,
      scriptPath: '',
      configPath: '/w/t dir.submit/config.yaml',
      launcher: 'submit.py',
    });
    expect(cmd.argv).toEqual([
      'python3',
      '$SCRIPT_DIR/submit.py',
      '-c',
      '/w/t dir.submit/config.yaml',
      '--log-dir',
      '/w/t dir',
    ]);
    expect(cmd.commandLine).toBe(
      `python3 "\${SCRIPT_DIR:?SCRIPT_DIR is not set}/submit.py" -c '/w/t dir.submit/config.yaml' --log-dir '/w/t dir'`,
    );
    const withDir = renderSubmitCommand({
      config,
      testId: 't',
      jobDir: '/w/t',
      timeLimitMs: 1,
      scriptPath: '',
      configPath: '/w/c.yaml',
      launcher: 'submit.py',
      scriptDir: '/opt/trtllm/examples/disaggregated/slurm/benchmark',
    });
    expect(withDir.commandLine).toBe(
      'python3 /opt/trtllm/examples/disaggregated/slurm/benchmark/submit.py -c /w/c.yaml --log-dir /w/t',
    );
  });
});

describe('parseSubmitOutput', () => {
  it('reads --parsable ids (with cluster) and "Submitted batch job N"', () => {
    expect(parseSubmitOutput('5983001\n')).toBe('5983001');
    expect(parseSubmitOutput('5983001;local\n')).toBe('5983001');
    expect(parseSubmitOutput('[INFO] writing files\nSubmitted batch job 77\n')).toBe('77');
    expect(parseSubmitOutput('sbatch: error: nope')).toBeUndefined();
  });
});
