// Issue 21, item 6: gate mistakes are found with the config (`disagg validate`, `--strict`, run start),
// not after the GPU job ran: an unknown (misspelt) metric with a suggestion, a concurrency the config does
// not run, a direction nobody can tell, contradictory settings. Each names the file, the YAML path and
// what to do; mistakes are warnings unless strict, invalid gates are always errors.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../../src/cli/io.js';
import { run as validate } from '../../../src/cli/validate.js';
import { makeEntry } from '../../../src/config/index.js';
import { jobSpecFor } from '../../../src/plugin/job-spec.js';
import { resolveOptions } from '../../../src/plugin/options.js';
import { repoRoot } from '../config/helpers.js';

const BASE = fs
  .readFileSync(path.join(repoRoot, 'tests/fixtures/suites/gates/disagg/perf/gated.yaml'), 'utf8')
  .replace(/^gates:[\s\S]*$/m, '')
  .replace("concurrency_list: '4'", "concurrency_list: '4 8'");

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-config-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function configWith(name: string, gates: string, base = BASE): string {
  const dir = path.join(root, name, 'disagg', 'perf');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, `${base}gates:\n${gates}`);
  return file;
}

async function validateFile(file: string, ...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const io: CliIO = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: {}, cwd: root };
  const code = await validate([file, ...argv], io);
  return { code, stdout, stderr };
}

const lineOf = (file: string, text: string): number =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(text)) + 1;

describe('gates checked with the config', () => {
  it('a misspelt metric: a warning with a suggestion, an error under --strict', async () => {
    const file = configWith('misspelt', '  - metric: p99_ttf_ms\n    limit: 2000\n');
    const rel = path.relative(root, file);
    const line = lineOf(file, 'p99_ttf_ms');
    const r = await validateFile(file);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `^${rel}:${line}:\\d+ gates\\[0\\]\\.metric: warning: unknown metric "p99_ttf_ms" \\(did you mean p99_ttft_ms\\?\\).*use a key of \`disagg parse bench --json\``,
      ),
    );
    const strict = await validateFile(file, '--strict');
    expect(strict.code).toBe(1);
    expect(strict.stdout).toMatch(
      new RegExp(`^${rel}:${line}:\\d+ gates\\[0\\]\\.metric: unknown metric "p99_ttf_ms"`),
    );
  });

  it('known names pass: bench keys, original CSV names, custom metric_names, any <stat>_<metric> key, goodput and slo_attainment', async () => {
    const file = configWith(
      'known',
      [
        '  - metric: output_throughput',
        '    limit: 10',
        '  - metric: SERVER_P99_TTFT',
        '    limit: 2000',
        '  - metric: p99_9_tpot_ms',
        '    limit: 50',
        '  - metric: median_e2el_ms',
        '    concurrency: [4, 8]',
        '    reference: 900',
        '  - metric: p99_queueing_time_ms',
        '    limit: 100',
        '  - metric: MY_TOKENS_PER_GPU',
        '    higher_is_better: true',
        '    limit: 5',
        '  - metric: goodput',
        '    limit: 1',
        '  - metric: slo_attainment',
        '    limit: 99',
        '',
      ].join('\n'),
      BASE.replace('  precision: fp8', '  precision: fp8\n  metrics:\n    metric_names: [MY_TOKENS_PER_GPU]'),
    );
    const r = await validateFile(file, '--strict');
    expect(r.stdout).toBe('');
    expect(r.code).toBe(0);
  });

  it('a concurrency not in concurrency_list, and one listed twice', async () => {
    const file = configWith(
      'concurrency',
      '  - metric: p99_ttft_ms\n    concurrency: [8, 64, 8]\n    limit: 2000\n',
    );
    const r = await validateFile(file, '--strict');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'gates[0].concurrency[1]: concurrency 64 is not in benchmark.concurrency_list (4 8): the gate would fail ' +
        'with "not measured" after the job ran; use one of 4, 8 or add 64 to concurrency_list',
    );
    expect(r.stdout).toContain('gates[0].concurrency[2]: concurrency 8 is listed twice; list it once');
  });

  it('a metric of unknown direction without higher_is_better is an error even without --strict', async () => {
    const file = configWith('direction', '  - metric: total_requests\n    limit: 10\n');
    const r = await validateFile(file);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'gates[0].higher_is_better: whether more or less total_requests is better is not known from its name: ' +
        'set higher_is_better: true or false',
    );
  });

  it('contradictory settings: direction against the name, a reference beyond the limit, an unused tolerance', async () => {
    const file = configWith(
      'contradictions',
      [
        '  - metric: p99_ttft_ms',
        '    higher_is_better: true',
        '    limit: 2000',
        '  - metric: p99_ttft_ms',
        '    limit: 2000',
        '    reference: 2500',
        '  - metric: output_throughput',
        '    limit: 10',
        '    tolerance: 0.1',
        '',
      ].join('\n'),
    );
    const r = await validateFile(file);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(
      /gates\[0\]\.higher_is_better: warning: higher_is_better: true contradicts the metric's name/,
    );
    expect(lines[1]).toMatch(
      /gates\[1\]\.reference: warning: reference 2500 is already above the limit 2000/,
    );
    expect(lines[2]).toMatch(
      /gates\[2\]\.tolerance: warning: tolerance applies only to reference and history/,
    );
    expect((await validateFile(file, '--strict')).code).toBe(1);
  });

  it('at run start: the job spec of a config with a gate mistake is refused under strict, before any submit', async () => {
    const file = configWith('runstart', '  - metric: p99_ttf_ms\n    limit: 2000\n');
    const configDir = path.join(root, 'runstart');
    const entry = makeEntry(file, configDir, 'disagg', 'perf');
    const options = resolveOptions({ configDir, outputPath: path.join(root, 'out'), strict: true }, {}, root);
    await expect(jobSpecFor(entry, options)).rejects.toThrow(
      /gates\[0\]\.metric: unknown metric "p99_ttf_ms" \(did you mean p99_ttft_ms\?\)/,
    );
  });

  it('suite-wide gates of disagg({ gates }) are checked against a config without gates of its own', async () => {
    const dir = path.join(root, 'option', 'disagg', 'perf');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'option.yaml');
    fs.writeFileSync(file, BASE);
    const entry = makeEntry(file, path.join(root, 'option'), 'disagg', 'perf');
    const options = resolveOptions(
      {
        configDir: path.join(root, 'option'),
        outputPath: path.join(root, 'out'),
        strict: true,
        gates: [{ metric: 'p99_ttft_ms', concurrency: 16, limit: 1 }],
      },
      {},
      root,
    );
    await expect(jobSpecFor(entry, options)).rejects.toThrow(
      /gates\[0\] of disagg\(\{ gates \}\) \(this config has no gates of its own\): concurrency 16 is not in benchmark\.concurrency_list/,
    );
  });
});
