import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { linkLatest, renameToError, runDirFor } from '../../../src/broker/job-dirs.js';
import type { LedgerData } from '../../../src/broker/ledger.js';
import { renderReport } from '../../../src/report/build.js';
import { gpusOfTestId, testsFromCsv, testsFromCsvText } from '../../../src/report/from-csv.js';
import { loadOutputDir } from '../../../src/report/from-output.js';
import { failureText, writeRunReport } from '../../../src/report/from-run.js';
import { gpuCount } from '../../../src/report/gpus.js';
import { throughputPerGpu, throughputPerUser } from '../../../src/report/model.js';
import { paretoGroups } from '../../../src/report/pareto.js';
import { fixturePath } from '../../fixtures/paths.js';

const tmps: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'report-model-'));
  tmps.push(d);
  return d;
}
afterEach(() => {
  for (const d of tmps.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const CONFIG_YAML = `
hardware: { gpus_per_node: 4, num_ctx_servers: 1, num_gen_servers: 2 }
worker_config:
  ctx: { tensor_parallel_size: 4 }
  gen: { tensor_parallel_size: 4, pipeline_parallel_size: 2 }
`;

function block(concurrency: number, tput: number, completed = true) {
  return {
    concurrency,
    completed,
    warmup: false,
    metrics: {
      output_throughput: tput,
      median_ttft_ms: 100 * concurrency,
      p99_ttft_ms: 150 * concurrency,
      failed_requests: 0,
    },
  };
}

describe('report data from the original CSV (tests/fixtures/trtllm)', () => {
  it('groups rows by test and concurrency and maps the old metric names to parser keys', async () => {
    const tests = await testsFromCsv(fixturePath('trtllm', 'perf_script_test_results.csv'));
    expect(tests).toHaveLength(14);
    const t = tests.find(
      (x) => x.testId === 'disagg_perf_file:deepseek-r1-fp4_015_8k1k_dep:16_bs:64_mtp:0_ccbackend:UCX',
    );
    expect(t).toBeDefined();
    expect(t?.category).toBe('perf');
    expect(t?.status).toBe('unknown');
    const p = t?.perf.find((x) => x.concurrency === 1075);
    expect(p?.metrics).toMatchObject({ median_ttft_ms: 1122.63, median_e2el_ms: 22521.71 });
    // Estimates for the Pareto view (OSL 1k = 1024): TPOT ≈ (22521.71 − 1122.63) ÷ 1023 ms,
    // throughput ≈ 1075 users × 1024 tokens ÷ 22.52171 s.
    expect(p?.metrics.est_median_tpot_ms).toBeCloseTo(20.918, 3);
    expect(p?.metrics.est_output_throughput).toBeCloseTo(48877.28, 1);
    expect(t?.workload).toBe('deepseek-r1-fp4 · 8k/1k');
    // The original's ids name only the gen side: no GPU count.
    expect(t?.gpus).toBeUndefined();
    // 2025-10-31 00:53:53 → 01:05:36, read as local time.
    expect(t?.submittedAt).toBe(new Date(2025, 9, 31, 0, 53, 53).toISOString());
    expect(t?.runMs).toBe(703_000);
    // 104 rows = 52 (test, concurrency) points × 2 metrics.
    expect(tests.reduce((n, x) => n + x.perf.length, 0)).toBe(52);
  });

  it('gives one Pareto group per model/ISL/OSL, estimated, with total throughput (no GPU counts)', async () => {
    const groups = paretoGroups(await testsFromCsv(fixturePath('trtllm', 'perf_script_test_results.csv')));
    expect(groups.map((g) => [g.workload, g.points.length, g.perGpu, g.estimated])).toEqual([
      ['deepseek-r1-fp4 · 1k/1k', 26, false, true],
      ['deepseek-r1-fp4 · 8k/1k', 26, false, true],
    ]);
    for (const g of groups) {
      // Every frontier point beats each other point on at least one axis.
      for (const f of g.frontier)
        for (const q of g.points)
          expect(q.perUser > f.perUser && q.perGpu > f.perGpu, `${q.testId}@${q.concurrency}`).toBe(false);
      const ranks = g.frontier.map((f) => f.perUser);
      expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    }
    const html = await renderReport({
      title: 't',
      generatedAt: 'now',
      source: 'x.csv',
      tests: await testsFromCsv(fixturePath('trtllm', 'perf_script_test_results.csv')),
      history: [],
      notes: [],
    });
    expect(html.match(/data-chart="suite-pareto"/g)).toHaveLength(2);
    expect(html).toContain('Estimated from median TTFT and E2EL');
  });

  it('gpusOfTestId reads a deployment spelled in full', () => {
    expect(gpusOfTestId('disagg_perf_m_1k1k_ctx1_dep4_gen2_tep8_bs16')).toBe(1 * 4 + 2 * 8);
    expect(gpusOfTestId('disagg_perf_file:m_000_1k1k_tep:8_bs:32')).toBeUndefined();
  });

  it('a CSV without the perf columns is an error naming the file and the columns; a bad row is skipped with a notice', () => {
    expect(() => testsFromCsvText('a,b\n1,2\n', 'x.csv')).toThrow(
      /x\.csv: not a perf CSV: column\(s\) test_name, perf_metric, metric_type missing/,
    );
    const bad = 'perf_case_name,perf_metric,metric_type\nnot-a-case,1,SERVER_MEDIAN_TTFT\n';
    const notices: string[] = [];
    expect(testsFromCsvText(bad, 'y.csv', (n) => notices.push(n))).toEqual([]);
    const noTest = 'perf_case_name,perf_metric,metric_type\nx_con:4,1,SERVER_MEDIAN_TTFT\n';
    expect(testsFromCsvText(noTest, 'z.csv', (n) => notices.push(n))).toEqual([]);
    expect(notices).toEqual([
      expect.stringMatching(
        /^y\.csv: skipped 1 damaged line\(s\) \(line 2: test_name "not-a-case" does not end in _con:/,
      ),
      expect.stringMatching(/^z\.csv: skipped 1 damaged line\(s\) \(line 2: perf_case_name must look like/),
    ]);
  });
});

describe('report data from an output dir', () => {
  function writeTest(out: string, runId: string, testId: string, results: object): string {
    const dir = runDirFor(out, runId, testId);
    linkLatest(dir);
    fs.writeFileSync(path.join(dir, 'config.yaml'), CONFIG_YAML);
    fs.writeFileSync(path.join(dir, 'results.json'), JSON.stringify(results));
    return dir;
  }

  it('reads results.json, the config GPUs and the ledger; an _ERROR dir with a FAILED job is a failed test', async () => {
    const out = tmp();
    const run = '20261129-040000-abcd';
    writeTest(out, run, 'disagg_perf_a', {
      testId: 'disagg_perf_a',
      jobId: '11',
      perf: { blocks: [block(4, 400), block(1, 120), { ...block(16, 0), completed: false }], missing: [32] },
      accuracy: {
        verdicts: [
          {
            dataset: 'gsm8k',
            filter: 'flexible-extract',
            observed: 0.9,
            threshold: 0.8,
            n: 1319,
            alpha: 0.05,
            theta: 0.048,
            passed: true,
            message: 'ok',
          },
        ],
      },
    });
    const failedDir = writeTest(out, run, 'disagg_stress_b', { testId: 'disagg_stress_b', jobId: '12' });
    renameToError(failedDir);
    const ledger: LedgerData = {
      version: 1,
      runs: [],
      jobs: [
        {
          testId: 'disagg_perf_a',
          configHash: 'h',
          executor: 'local',
          jobId: '11',
          jobDir: '/x',
          state: 'COMPLETED',
          runId: run,
          submittedAt: '2026-11-29T04:00:00.000Z',
          updatedAt: '2026-11-29T04:01:00.000Z',
          endedAt: '2026-11-29T04:01:00.000Z',
          consumed: true,
        },
        {
          testId: 'disagg_stress_b',
          configHash: 'h',
          executor: 'local',
          jobId: '12',
          jobDir: '/y',
          state: 'FAILED',
          exitCode: '3:0',
          reason: 'NonZeroExitCode',
          runId: run,
          submittedAt: '2026-11-29T04:00:00.000Z',
          updatedAt: '2026-11-29T04:00:30.000Z',
          endedAt: '2026-11-29T04:00:30.000Z',
          consumed: true,
        },
      ],
    };
    fs.writeFileSync(path.join(out, 'jobs.json'), JSON.stringify(ledger));

    const data = await loadOutputDir(out);
    expect(data.tests.map((t) => t.testId)).toEqual(['disagg_perf_a', 'disagg_stress_b']);
    const [a, b] = data.tests;
    expect(a.status).toBe('failed'); // concurrency 16 unfinished, 32 missing
    expect(a.incomplete).toEqual([16, 32]);
    expect(a.failure).toMatch(/concurrency 16, 32 did not finish/);
    expect(a.gpus).toBe(4 + 2 * 8);
    expect(a.perf.map((p) => p.concurrency)).toEqual([1, 4, 16]);
    expect(a.runMs).toBe(60_000);
    expect(a.accuracy[0]).toMatchObject({
      dataset: 'gsm8k',
      n: 1319,
      alpha: 0.05,
      theta: 0.048,
      passed: true,
    });
    expect(throughputPerGpu(a.perf[1], a.gpus)).toBe(20);
    expect(throughputPerUser(a.perf[1])).toBe(100);
    expect(b.status).toBe('failed');
    expect(b.logDir).toMatch(/disagg_stress_b_ERROR$/);
    expect(b.failure).toBe('job 12 ended FAILED (exit code 3:0, NonZeroExitCode)');
    expect(data.history).toEqual([]);
  });

  it('what the run recorded (status, failure, queue time) wins over what is derived', async () => {
    const out = tmp();
    writeTest(out, '20261129-040000-abcd', 'disagg_stress_c', {
      jobId: '5',
      perf: { blocks: [block(2, 50)], missing: [] },
      run: { status: 'passed', queueMs: 12_000, runMs: 34_000, gpus: 3 },
    });
    const [c] = (await loadOutputDir(out)).tests;
    expect(c).toMatchObject({ status: 'passed', queueMs: 12_000, runMs: 34_000, gpus: 3, jobId: '5' });
    expect(c.failure).toBeUndefined();
  });

  it('a run’s report shows every test of the output dir at its latest state, this run’s marked', async () => {
    const out = tmp();
    const runA = '20261129-040000-aaaa';
    const runB = '20261129-050000-bbbb';
    const run = (runId: string, ids: string[], jobBase: number) =>
      ids.map((testId, i) => ({
        meta: {
          testId,
          jobId: String(jobBase + i),
          logDir: writeTest(out, runId, testId, {
            jobId: String(jobBase + i),
            perf: { blocks: [block(2, 10 * (jobBase + i))], missing: [] },
          }),
        },
        state: 'passed',
        errors: [],
      }));
    await writeRunReport(out, run(runA, ['disagg_perf_1', 'disagg_perf_2', 'disagg_perf_3'], 10));
    const report = await writeRunReport(out, run(runB, ['disagg_perf_3', 'disagg_perf_4'], 20));
    const html = fs.readFileSync(report, 'utf8');
    for (const id of ['disagg_perf_1', 'disagg_perf_2', 'disagg_perf_3', 'disagg_perf_4'])
      expect(html, id).toContain(`data-test="${id}"`);
    expect(html).toContain('4 test(s) (2 of this run)');

    // The same selection as data: test 3 from run B (its job 20), 1 and 2 from run A, run B's marked.
    const data = await loadOutputDir(out, {
      run: new Map([
        ['disagg_perf_3', runDirFor(out, runB, 'disagg_perf_3')],
        ['disagg_perf_4', runDirFor(out, runB, 'disagg_perf_4')],
      ]),
    });
    expect(data.tests.map((t) => [t.testId, t.jobId, t.inRun])).toEqual([
      ['disagg_perf_1', '10', false],
      ['disagg_perf_2', '11', false],
      ['disagg_perf_3', '20', true],
      ['disagg_perf_4', '21', true],
    ]);
    // A report of results on disk marks nothing.
    expect((await loadOutputDir(out)).tests.map((t) => t.inRun)).toEqual(Array(4).fill(undefined));
  });

  it('shows every change against history (the console prints only the largest) and every gate check', async () => {
    const out = tmp();
    const delta = (metric: string, pct: number) => ({
      kind: 'delta',
      metric,
      concurrency: 2,
      passed: null,
      message: `${metric} at concurrency 2: is ${pct} % above the baseline 1 (median of 3 runs, noise ±1.0 %)`,
    });
    writeTest(out, '20261129-040000-abcd', 'disagg_perf_d', {
      jobId: '5',
      perf: { blocks: [block(2, 50)], missing: [] },
      deltas: [delta('output_throughput', 1), delta('median_ttft_ms', 30), delta('median_tpot_ms', 2)],
    });
    writeTest(out, '20261129-040000-abcd', 'disagg_perf_g', {
      jobId: '6',
      perf: { blocks: [block(2, 50)], missing: [] },
      gates: [
        { kind: 'limit', metric: 'p99_ttft_ms', concurrency: 2, passed: false, message: 'p99 over → FAILED' },
      ],
    });
    const data = await loadOutputDir(out);
    const [d, g] = data.tests;
    expect(d.perfVerdicts?.map((v) => v.message)).toEqual([
      delta('output_throughput', 1).message,
      delta('median_ttft_ms', 30).message,
      delta('median_tpot_ms', 2).message,
    ]);
    expect(g.perfVerdicts).toEqual([{ kind: 'limit', passed: false, message: 'p99 over → FAILED' }]);
    const html = await renderReport(data);
    expect(html).toContain(
      '<strong>vs history (no gate):</strong> median_ttft_ms at concurrency 2: is 30 % above',
    );
    expect(html).toContain('<li class="failed"><strong>gate (limit):</strong> p99 over → FAILED</li>');
  });

  it('reads history.jsonl when present and notes the lines it cannot use', async () => {
    const out = tmp();
    writeTest(out, '20261129-040000-abcd', 'disagg_stress_c', { perf: { blocks: [block(2, 50)] } });
    const line = (runId: string, v: number, passed: boolean) =>
      JSON.stringify({
        test: 'disagg_stress_c',
        runId,
        endTime: `2026-11-2${runId}T00:00:00Z`,
        passed,
        metrics: { '2': { output_throughput: v } },
        verdicts: [{ kind: 'history', metric: 'output_throughput', concurrency: 2, passed, message: 'm' }],
      });
    fs.writeFileSync(
      path.join(out, 'history.jsonl'),
      `${line('1', 40, true)}\nnot json\n${line('2', 30, false)}\n`,
    );
    const data = await loadOutputDir(out);
    expect(data.history.map((h) => [h.runId, h.points[0].value, h.gates[0].passed])).toEqual([
      ['1', 40, true],
      ['2', 30, false],
    ]);
    expect(data.notes.join('\n')).toMatch(
      /history\.jsonl: skipped 1 damaged line\(s\) \(line 2: not (JSON|a history record)/,
    );
    const html = await renderReport(data);
    expect(html).toContain('data-chart="trend"');
  });

  it('a missing output dir is an error naming it', async () => {
    await expect(loadOutputDir('/nonexistent/out')).rejects.toThrow('/nonexistent/out: no such output dir');
  });
});

describe('the rendered page', () => {
  it('is self-contained: inline SVG charts, no external script, style or image', async () => {
    const tests = await testsFromCsv(fixturePath('trtllm', 'perf_script_test_results.csv'));
    const html = await renderReport({
      title: 't',
      generatedAt: 'now',
      source: 's',
      tests,
      history: [],
      notes: [],
    });
    expect(html.match(/<tr data-test=/g)).toHaveLength(14);
    expect((html.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(14);
    expect(html).not.toMatch(/<script[^>]+src=|<link |@import|url\(/i);
    // Only XML namespaces mention http: never a src or href.
    expect(html).not.toMatch(/(src|href)="https?:/i);
  });

  it('escapes test ids and messages', async () => {
    const html = await renderReport({
      title: '<t>',
      generatedAt: 'now',
      source: 's',
      tests: [
        { testId: 'x<script>', status: 'failed', failure: '"&<b>', perf: [], incomplete: [], accuracy: [] },
      ],
      history: [],
      notes: [],
    });
    expect(html).not.toContain('x<script>');
    expect(html).not.toContain('"&<b>');
    expect(html).toContain('x&#60;script&#62;');
  });
});

describe('helpers', () => {
  it('gpuCount: servers × tp × pp × cp per side; none without workers', () => {
    expect(
      gpuCount({
        hardware: { num_ctx_servers: 2, num_gen_servers: 1 },
        worker_config: {
          ctx: { tensor_parallel_size: 4 },
          gen: { tensor_parallel_size: 8, context_parallel_size: 2 },
        },
      }),
    ).toBe(2 * 4 + 16);
    expect(gpuCount({})).toBeUndefined();
  });

  it('failureText keeps the first lines of the first error without colours', () => {
    const long = `\u001b[31mjob 7 FAILED\u001b[39m\n${Array.from({ length: 10 }, (_, i) => `line ${i}`).join('\n')}`;
    expect(failureText([long])).toBe('job 7 FAILED\nline 0\nline 1\nline 2\nline 3\nline 4');
    expect(failureText([])).toBeUndefined();
  });
});
