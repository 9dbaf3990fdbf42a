// The perf step's goodput: per-request data of each concurrency's result file when an SLO is set, the
// log's own "Request goodput" line otherwise, a warning when an SLO is set and neither is there.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { addGoodput } from '../../../fixtures/steps/goodput-step.js';
import { concurrencyDir, RESULT_JSON } from '../../../src/jobdir/files.js';
import type { BenchBlock } from '../../../src/types.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function jobDir(results: Record<number, unknown>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'goodput-step-'));
  dirs.push(dir);
  for (const [c, data] of Object.entries(results)) {
    fs.mkdirSync(path.join(dir, concurrencyDir(Number(c))), { recursive: true });
    fs.writeFileSync(path.join(dir, concurrencyDir(Number(c)), RESULT_JSON), JSON.stringify(data));
  }
  return dir;
}

const block = (concurrency: number, metrics: Record<string, number> = {}): BenchBlock => ({
  concurrency,
  completed: true,
  warmup: false,
  metrics: { ...metrics },
});

describe('addGoodput', () => {
  it('adds goodput and slo_attainment from the per-request data (TTFT ≤ 100 ms)', async () => {
    // 4 requests in 2 s: TTFT 50, 100, 150 ms and one failed → 2 good: 1 req/s, 50 %.
    const dir = jobDir({
      4: {
        duration: 2,
        ttfts: [0.05, 0.1, 0.15, 0],
        itls: [[0.01], [0.01], [0.01], []],
        output_lens: [2, 2, 2, 0],
        errors: ['', '', '', 'timeout'],
      },
    });
    const blocks = [block(4)];
    expect(await addGoodput(blocks, dir, { ttft_ms: 100 })).toEqual([]);
    expect(blocks[0].metrics).toEqual({ goodput: 1, slo_attainment: 50 });
  });

  it("without an SLO takes the log's Request goodput line; without either adds nothing", async () => {
    const dir = jobDir({});
    const printed = block(8, { request_goodput: 2, duration_s: 10, total_requests: 40 });
    const plain = block(16, { request_throughput: 3 });
    expect(await addGoodput([printed, plain], dir, undefined)).toEqual([]);
    expect(printed.metrics).toMatchObject({ goodput: 2, slo_attainment: 50 });
    expect(plain.metrics).toEqual({ request_throughput: 3 });
  });

  it('with an SLO but no per-request data and no printed goodput: a warning, no metric', async () => {
    const dir = jobDir({});
    const blocks = [block(2, { request_throughput: 1 })];
    const warnings = await addGoodput(blocks, dir, { tpot_ms: 20 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/concurrency 2: no per-request data .*goodput not measured/);
    expect(blocks[0].metrics.goodput).toBeUndefined();
  });
});
