import { describe, expect, it } from 'vitest';
import { logDirFor, resolveOptions } from '../../../src/plugin/options.js';
import { slurmTimeToMs } from '../../../src/util/duration.js';

describe('resolveOptions', () => {
  it('has the documented defaults', () => {
    const o = resolveOptions({}, {}, '/repo');
    expect(o).toMatchObject({
      configDir: '/repo/stress-configs',
      executor: 'local',
      outputPath: '/repo/output',
      gpuType: 'GB200',
      maxJobsInFlight: 2,
      watch: false,
      resume: true,
      debug: { enabled: false },
    });
  });

  it('lets env variables override plugin options', () => {
    const o = resolveOptions(
      { configDir: 'a', executor: 'local', outputPath: 'o', maxJobsInFlight: 3, resume: true },
      {
        DISAGG_CONFIG_DIR: '/cfg',
        DISAGG_EXECUTOR: 'ssh',
        OUTPUT_PATH: '/out',
        DISAGG_BATCH_SIZE: '0',
        DISAGG_RESUME: '0',
        GPU_TYPE: 'H100',
        DISAGG_SSH_HOST: 'login',
        DISAGG_SSH_PORT: '2222',
        DEBUG_MODE: '1',
        DEBUG_JOB_ID: '7',
      },
      '/repo',
    );
    expect(o).toMatchObject({
      configDir: '/cfg',
      executor: 'ssh',
      outputPath: '/out',
      maxJobsInFlight: 0,
      resume: false,
      gpuType: 'H100',
      debug: { enabled: true, jobId: '7' },
    });
    expect(o.ssh).toMatchObject({ host: 'login', port: 2222 });
    expect(o.pollMinMs).toBe(2000);
    expect(logDirFor(o, 't1')).toBe('/out/slurm_logs/t1');
  });

  it('rejects an unknown executor and a non-numeric batch size with the variable name', () => {
    expect(() => resolveOptions({}, { DISAGG_EXECUTOR: 'pbs' })).toThrow(
      /DISAGG_EXECUTOR=pbs.*local, slurm, ssh/,
    );
    expect(() => resolveOptions({}, { DISAGG_BATCH_SIZE: 'many' })).toThrow(/DISAGG_BATCH_SIZE=many/);
  });
});

describe('slurmTimeToMs', () => {
  it.each([
    ['30', 30 * 60_000],
    ['10:30', 10 * 60_000 + 30_000],
    ['04:00:00', 4 * 3_600_000],
    ['1-02', 26 * 3_600_000],
    ['1-02:03', (26 * 60 + 3) * 60_000],
    ['2-00:00:10', 48 * 3_600_000 + 10_000],
  ])('%s', (text, ms) => expect(slurmTimeToMs(text)).toBe(ms));
  it('returns undefined for UNLIMITED and garbage', () => {
    expect(slurmTimeToMs('UNLIMITED')).toBeUndefined();
    expect(slurmTimeToMs(undefined)).toBeUndefined();
  });
});
