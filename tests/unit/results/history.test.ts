// The history file: one definition, appends idempotent per job (host, job id, submit time), safe under
// concurrent writers, the config hash ignores the simulator's knobs, and `accept` starts a new baseline.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  acceptLatest,
  appendHistoryRecord,
  baselineCandidates,
  historyPath,
  measurementHash,
  readHistoryRecords,
  recordedParts,
  recordJobPart,
  type HistoryRecord,
} from '../../../src/results/history.js';
import type { DisaggConfig } from '../../../src/types.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'disagg-history-'));

const rec = (jobId: string, endTime: string, extra: Partial<HistoryRecord> = {}): HistoryRecord => ({
  test: 't',
  endTime,
  passed: true,
  metrics: { '4': { output_throughput: 100 } },
  jobId,
  host: 'local:h',
  submittedAt: endTime,
  configHash: 'c',
  gpuType: 'GB200',
  ...extra,
});

describe('history writer', () => {
  it('appends one line per job and never the same job twice', async () => {
    const out = tmp();
    expect(await appendHistoryRecord(out, rec('1', '2026-01-01T00:00:00Z'))).toBe(true);
    expect(await appendHistoryRecord(out, rec('1', '2026-01-01T00:00:00Z'))).toBe(false);
    // A wrapped local id is another job: same id, other submit time.
    expect(await appendHistoryRecord(out, rec('1', '2026-01-02T00:00:00Z'))).toBe(true);
    expect(
      await recordedParts(out, { host: 'local:h', jobId: '1', submittedAt: '2026-01-01T00:00:00Z' }),
    ).toEqual(['perf']);
    expect(
      await recordedParts(out, { host: 'ssh:x', jobId: '1', submittedAt: '2026-01-01T00:00:00Z' }),
    ).toEqual([]);
    expect(fs.readFileSync(historyPath(out), 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('keeps every line when many writers append at once', async () => {
    const out = tmp();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        appendHistoryRecord(out, rec(String(i), `2026-01-01T00:00:${String(i).padStart(2, '0')}Z`)),
      ),
    );
    const records = await readHistoryRecords(out);
    expect(records.map((r) => r.jobId).sort((a, b) => Number(a) - Number(b))).toEqual(
      Array.from({ length: 20 }, (_, i) => String(i)),
    );
  });

  it('accept marks the latest run as the start of the baseline', async () => {
    const out = tmp();
    for (const [id, day] of [
      ['1', '01'],
      ['2', '02'],
      ['3', '03'],
    ])
      await appendHistoryRecord(out, rec(id, `2026-01-${day}T00:00:00Z`, { passed: id !== '3' }));
    expect((await acceptLatest(out, 't'))?.jobId).toBe('3');
    expect(await acceptLatest(out, 'other')).toBeUndefined();
    await appendHistoryRecord(out, rec('4', '2026-01-04T00:00:00Z'));
    const records = await readHistoryRecords(out);
    const base = baselineCandidates(records, { test: 't', configHash: 'c', gpuType: 'GB200' });
    expect(base.map((r) => [r.jobId, r.passed])).toEqual([
      ['3', true],
      ['4', true],
    ]);
    expect(baselineCandidates(records, { test: 't', configHash: 'd', gpuType: 'GB200' })).toEqual([]);
  });
});

describe('parts of one job', () => {
  it('merges the accuracy part into the perf line once; the run passes only if both passed', async () => {
    const out = tmp();
    const perf = rec('7', '2026-01-01T00:00:00Z', {
      verdicts: [
        { kind: 'history', metric: 'output_throughput', concurrency: 4, passed: true, message: 'p' },
      ],
    });
    const accuracy = rec('7', '2026-01-01T00:00:00Z', {
      passed: false,
      metrics: {},
      accuracy: { 'gsm8k/exact_match': 0.5 },
      verdicts: [
        { kind: 'accuracy', metric: 'gsm8k/exact_match', concurrency: null, passed: false, message: 'a' },
      ],
    });
    expect(await recordJobPart(out, accuracy, 'accuracy')).toBe('appended');
    expect(await recordJobPart(out, perf, 'perf')).toBe('merged');
    expect(await recordJobPart(out, perf, 'perf')).toBe('already');
    expect(await recordJobPart(out, accuracy, 'accuracy')).toBe('already');
    const [r, ...rest] = await readHistoryRecords(out);
    expect(rest).toEqual([]);
    expect(r).toMatchObject({
      passed: false,
      metrics: { '4': { output_throughput: 100 } },
      accuracy: { 'gsm8k/exact_match': 0.5 },
      parts: ['accuracy', 'perf'],
    });
    expect(r?.verdicts?.map((v) => v.message)).toEqual(['a', 'p']);
  });
});

describe('measurementHash', () => {
  const config: DisaggConfig = {
    benchmark: { concurrency_list: '4', input_length: 64 },
    worker_config: { ctx: { tensor_parallel_size: 1 }, gen: { tensor_parallel_size: 1 } },
    hardware: { num_ctx_servers: 1 },
  };
  it('ignores the simulator section and key order', () => {
    const slowed: DisaggConfig = { ...config, simulator: { slowdown: 1.5, faults: { http_500_rate: 0.1 } } };
    const reordered: DisaggConfig = {
      hardware: { num_ctx_servers: 1 },
      worker_config: { gen: { tensor_parallel_size: 1 }, ctx: { tensor_parallel_size: 1 } },
      benchmark: { input_length: 64, concurrency_list: '4' },
    };
    expect(measurementHash(slowed)).toBe(measurementHash(config));
    expect(measurementHash(reordered)).toBe(measurementHash(config));
  });
  it('changes with what defines the measurement', () => {
    expect(measurementHash({ ...config, benchmark: { concurrency_list: '8', input_length: 64 } })).not.toBe(
      measurementHash(config),
    );
  });
});
