import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliIO } from '../../../src/cli/io.js';
import { main } from '../../../src/cli/main.js';
import { fixturePath } from '../../fixtures/paths.js';

const CSV = fixturePath('trtllm', 'perf_script_test_results.csv');
const tmps: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'report-cli-'));
  tmps.push(d);
  return d;
}
afterEach(() => {
  for (const d of tmps.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function disagg(argv: string[], cwd = '/', env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const io: CliIO = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env, cwd };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

describe('disagg report', () => {
  it('renders the original CSV to --out', async () => {
    const out = path.join(tmp(), 'x.html');
    const r = await disagg(['report', CSV, '--out', out]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(`report: ${out} (14 test(s), 0 failed)\n`);
    const html = fs.readFileSync(out, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html.match(/<tr data-test=/g)).toHaveLength(14);
    expect(html).toContain('data-chart="perf-latency"');
  });

  it('--json prints one object on stdout; --out is relative to the working dir', async () => {
    const dir = tmp();
    const r = await disagg(['report', CSV, '--out', 'r.html', '--json'], dir);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      report: path.join(dir, 'r.html'),
      source: CSV,
      tests: 14,
      failed: 0,
    });
    expect(fs.existsSync(path.join(dir, 'r.html'))).toBe(true);
  });

  it('an output dir defaults to $OUTPUT_PATH and writes <dir>/report.html', async () => {
    const out = tmp();
    fs.copyFileSync(CSV, path.join(out, 'perf_script_test_results.csv'));
    const r = await disagg(['report', '--json'], '/', { OUTPUT_PATH: out });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ report: path.join(out, 'report.html'), tests: 14 });
  });

  it('a history file alone renders its trends', async () => {
    const dir = tmp();
    const file = path.join(dir, 'history.jsonl');
    const line = (run: string, v: number) =>
      JSON.stringify({
        test: 't',
        runId: run,
        endTime: `2026-11-2${run}T00:00:00Z`,
        passed: true,
        metrics: { '8': { output_throughput: v } },
        verdicts: [],
      });
    fs.writeFileSync(file, `${line('1', 1)}\n${line('2', 2)}\n`);
    const r = await disagg(['report', file, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ report: path.join(dir, 'history.html'), tests: 1 });
    const html = fs.readFileSync(path.join(dir, 'history.html'), 'utf8');
    expect(html).toContain('data-chart="trend"');
    // A run that passed without gates is passed, marked "no gate" (never "unknown").
    expect(html).toMatch(
      /<tr data-test="t" class="passed">.*?badge passed.*?<span class="note">no gate<\/span>/,
    );
    expect(html).not.toContain('badge unknown');
  });

  it('exit 1 on a missing input or a file that is not a perf CSV; with --json the error is on stdout', async () => {
    const missing = await disagg(['report', '/nonexistent/results.csv', '--json']);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout)).toEqual({
      error: '/nonexistent/results.csv: no such file or directory',
      usage: false,
    });
    const bad = path.join(tmp(), 'bad.csv');
    fs.writeFileSync(bad, 'a,b\n1,2\n');
    const plain = await disagg(['report', bad]);
    expect(plain.code).toBe(1);
    expect(plain.stdout).toBe('');
    expect(plain.stderr).toMatch(/^disagg report: .*bad\.csv: not a perf CSV/);
  });

  it('exit 2 on bad usage (two inputs, an unknown flag)', async () => {
    const two = await disagg(['report', CSV, CSV, '--json']);
    expect(two.code).toBe(2);
    expect(JSON.parse(two.stdout)).toMatchObject({ error: 'one input expected, got 2', usage: true });
    const flag = await disagg(['report', '--bogus']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/Unknown option '--bogus'/);
  });
});
