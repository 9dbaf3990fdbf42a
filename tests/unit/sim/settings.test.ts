import { describe, expect, it } from 'vitest';
import { resolveSettings } from '../../../src/sim/settings.js';

describe('resolveSettings', () => {
  it('accepts every concurrency_list shape and multiplies by num_gen_servers', () => {
    const conc = (v: string | number | number[]) =>
      resolveSettings({ benchmark: { concurrency_list: v } }).bench.concurrencies;
    expect(conc('1 2  4 8')).toEqual([1, 2, 4, 8]);
    expect(conc(16)).toEqual([16]);
    expect(conc([3, 5])).toEqual([3, 5]);
    expect(conc('12288')).toEqual([12288]);
    expect(
      resolveSettings({ benchmark: { concurrency_list: '1 4' }, hardware: { num_gen_servers: 2 } }).bench
        .concurrencies,
    ).toEqual([2, 8]);
  });

  it('reads both accuracy shapes and num_concurrent from model_args_extra', () => {
    const a = resolveSettings({
      accuracy: {
        enable_accuracy_test: true,
        tasks: {
          gsm8k: {
            model: 'local-completions',
            model_args_extra: 'num_concurrent=512,max_retries=3,max_gen_toks=16384',
          },
        },
      },
    });
    expect(a.accuracyEnabled).toBe(true);
    expect(a.tasks).toEqual([
      expect.objectContaining({ task: 'gsm8k', numConcurrent: 512, maxRetries: 3, maxGenToks: 16384 }),
    ]);
    const b = resolveSettings({
      accuracy: { enable_accuracy_test: true, tasks: 'gsm8k', model_args_extra: 'num_concurrent=8' },
    });
    expect(b.tasks[0]).toMatchObject({ task: 'gsm8k', numConcurrent: 8, model: 'local-completions' });
    expect(resolveSettings({}).accuracyEnabled).toBe(false);
  });

  it('reads worker config, MTP and simulator knobs with defaults', () => {
    const s = resolveSettings({
      worker_config: {
        gen: {
          tensor_parallel_size: 8,
          max_batch_size: 16,
          speculative_config: { num_nextn_predict_layers: 3 },
          stream_interval: 20,
        },
        ctx: { tensor_parallel_size: 4, max_batch_size: 2, max_num_tokens: 4480 },
      },
      simulator: {
        time_scale: 0.01,
        answer_styles: { strict: 3, flexible: 1 },
        faults: { hang: true, crash: { worker: 'ctx' } },
      },
    });
    expect(s.gen).toMatchObject({ tp: 8, maxBatchSize: 16, mtpLayers: 3, streamInterval: 20 });
    expect(s.ctx).toMatchObject({ tp: 4, maxBatchSize: 2, maxNumTokens: 4480 });
    expect(s.timeScale).toBe(0.01);
    expect(s.styles).toEqual({ strict: 0.75, flexible: 0.25, none: 0 });
    expect(s.faults.hangAfterS).toBe(0);
    expect(s.faults.crash).toMatchObject({ worker: 'ctx', index: 0 });
    expect(resolveSettings({}).timeScale).toBe(0.05);
  });
});

describe('slowdown knob', () => {
  it('reads simulator.slowdown, lets DISAGG_SIM_SLOWDOWN override it and rejects a bad factor', () => {
    expect(resolveSettings({}, {}).gen.slowdown).toBe(1);
    expect(resolveSettings({ simulator: { slowdown: 1.5 } }, {}).ctx.slowdown).toBe(1.5);
    expect(resolveSettings({ simulator: { slowdown: 1.5 } }, { DISAGG_SIM_SLOWDOWN: '2' }).gen.slowdown).toBe(
      2,
    );
    expect(() => resolveSettings({ simulator: { slowdown: 0 } }, {})).toThrow(/simulator.slowdown/);
    expect(() => resolveSettings({}, { DISAGG_SIM_SLOWDOWN: 'fast' })).toThrow(/DISAGG_SIM_SLOWDOWN/);
  });
});
