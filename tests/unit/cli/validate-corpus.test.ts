// `disagg validate` on the 48 real TensorRT-LLM configs (7 perf-sanity) (tests/fixtures/trtllm/test_configs, copied
// unmodified): real suites run concurrencies above the gen batch size on purpose, so by default that is
// a warning and the corpus has no errors; `--strict` makes exactly those configs fail.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { main } from '../../../src/cli/main.js';
import { repoRoot } from '../config/helpers.js';

const CORPUS = 'tests/fixtures/trtllm/test_configs';

interface Report {
  valid: boolean;
  errors: number;
  files: Array<{ file: string; valid: boolean; problems: Array<{ severity: string; message: string }> }>;
}

async function validate(...flags: string[]): Promise<{ code: number; report: Report }> {
  let stdout = '';
  const code = await main(['validate', CORPUS, '--json', ...flags], {
    stdout: (t) => (stdout += t),
    stderr: () => undefined,
    env: {},
    cwd: repoRoot,
  });
  return { code, report: JSON.parse(stdout) as Report };
}

/** Computed here from the YAML, independently of the checks: concurrency > gen batch (× TP with attention DP). */
function overConcurrency(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.yaml') && /\/(perf|accuracy|stress)$/.test(dir)) {
        const c = parse(fs.readFileSync(p, 'utf8')) as {
          benchmark: { concurrency_list: string | number[] };
          worker_config: {
            gen: { max_batch_size: number; enable_attention_dp?: boolean; tensor_parallel_size?: number };
          };
        };
        const gen = c.worker_config.gen;
        const limit = gen.max_batch_size * (gen.enable_attention_dp ? (gen.tensor_parallel_size ?? 1) : 1);
        const list = String(c.benchmark.concurrency_list)
          .split(/[\s,]+/)
          .filter(Boolean)
          .map(Number);
        if (list.some((n) => n > limit)) out.push(path.relative(repoRoot, p));
      }
    }
  };
  walk(path.join(repoRoot, CORPUS));
  return out.sort();
}

describe('disagg validate on the TensorRT-LLM corpus', () => {
  const expected = overConcurrency();

  it('the corpus has 48 configs (7 of them perf-sanity), 16 of them above the batch size', async () => {
    const { report } = await validate();
    expect(report.files).toHaveLength(48);
    expect(expected).toHaveLength(16);
  });

  it('0 errors by default; the over-concurrency configs carry warnings that say by how much', async () => {
    const { code, report } = await validate();
    expect(code).toBe(0);
    expect(report).toMatchObject({ valid: true, errors: 0 });
    const warned = report.files.filter((f) =>
      f.problems.some((p) => /exceeds gen max_batch_size .* by \d+/.test(p.message)),
    );
    expect(warned.map((f) => f.file).sort()).toEqual(expected);
    for (const f of warned) for (const p of f.problems) expect(p.severity).toBe('warning');
  });

  it('--strict reports exactly the 16 over-concurrency configs, and nothing else', async () => {
    const { code, report } = await validate('--strict');
    expect(code).toBe(1);
    const invalid = report.files.filter((f) => !f.valid);
    expect(invalid.map((f) => f.file).sort()).toEqual(expected);
    for (const f of invalid)
      for (const p of f.problems)
        expect(p.message).toMatch(/^concurrency \d+ exceeds gen max_batch_size \d+/);
  });
});
