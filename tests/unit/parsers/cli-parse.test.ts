import { describe, expect, it } from 'vitest';
import { run } from '../../../src/cli/parse.js';
import { UsageError, type CliIO } from '../../../src/cli/io.js';
import { fixtureLog, fixtureLogs } from '../../fixtures/paths.js';

function capture(): { io: CliIO; out: () => string } {
  let out = '';
  const io: CliIO = { stdout: (t) => (out += t), stderr: () => undefined, env: {}, cwd: fixtureLogs };
  return { io, out: () => out };
}

describe('disagg parse', () => {
  it('bench --json gives the documented shape', async () => {
    const { io, out } = capture();
    expect(await run(['bench', 'bench_trtllm_srun.log', '--json'], io)).toBe(0);
    const data = JSON.parse(out()) as { blocks: Array<Record<string, unknown>>; missing: number[] };
    expect(data.blocks[1]).toMatchObject({ concurrency: 4, completed: true, warmup: false });
    expect((data.blocks[1].metrics as Record<string, number>).successful_requests).toBe(32);
    expect(data.blocks[0].warmup).toBe(true);
    expect(data.missing).toEqual([]);
  });

  it('accuracy --json gives the documented shape', async () => {
    const { io, out } = capture();
    expect(await run(['accuracy', fixtureLog('acc_gsm8k_srun_two_runs.log'), '--json'], io)).toBe(0);
    const data = JSON.parse(out()) as { runs: Array<{ results: unknown[] }> };
    expect(data.runs).toHaveLength(2);
    expect(data.runs[0].results[1]).toEqual({
      task: 'gsm8k',
      filter: 'strict-match',
      metric: 'exact_match',
      value: 0.9402,
      stderr: 0.0065,
      n_shot: 5,
      version: '3',
    });
  });

  it('prints readable text without --json', async () => {
    const { io, out } = capture();
    await run(['bench', 'bench_crash_no_block.log'], io);
    expect(out()).toMatch(/block 1: concurrency 4/);
    expect(out()).toMatch(/announced but no result block: concurrency 8/);
    const acc = capture();
    await run(['accuracy', 'acc_multi_task.log'], acc.io);
    expect(acc.out()).toMatch(/humaneval\s+create_test\s+pass@1\s+0.3171/);
  });

  it('bad usage throws UsageError', async () => {
    const { io } = capture();
    await expect(run([], io)).rejects.toThrow(UsageError);
    await expect(run(['perf', 'x.log'], io)).rejects.toThrow(UsageError);
    await expect(run(['bench', 'x.log', '--bogus'], io)).rejects.toThrow(UsageError);
    await expect(run(['bench', 'does-not-exist.log'], io)).rejects.toThrow(/no such file/);
  });
});
