// Old-format upstream configs (`sequence:`, `environment.dataset_file`) are uploaded in the format newer
// submit.py reads (`benchmark.input_length/output_length/dataset_file`), and the user hears it once.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { main } from '../../../src/cli/main.js';
import { entryForFile, loadConfig, toUpstreamFormat } from '../../../src/config/index.js';
import { jobFiles } from '../../../src/executors/job-files.js';
import { CONFIG_FILE } from '../../../src/jobdir/files.js';
import { jobSpecFor } from '../../../src/plugin/job-spec.js';
import { resolveSettings } from '../../../src/settings/index.js';
import type { DisaggConfig } from '../../../src/types.js';
import { repoRoot } from './helpers.js';

const CORPUS = 'tests/fixtures/trtllm/test_configs';
const OLD = `${CORPUS}/disagg/perf/deepseek-r1-fp4_000.yaml`;
const WIDEEP_OLD = `${CORPUS}/wideep/perf/deepseek-r1-fp4_1k1k_dep32_bs32_nixl.yaml`;

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: { DISAGG_CONFIG_DIR: CORPUS },
    cwd: repoRoot,
  });
  return { code, stdout, stderr };
}

describe('toUpstreamFormat', () => {
  it('moves sequence lengths and environment.dataset_file under benchmark and drops sequence', () => {
    const old: DisaggConfig = {
      benchmark: { mode: 'e2e', streaming: true },
      sequence: { input_length: 8192, output_length: 1024 },
      environment: { dataset_file: '/data/x.json' },
    };
    const before = structuredClone(old);
    const { config, moved } = toUpstreamFormat(old);
    expect(old).toEqual(before); // pure
    expect(config.benchmark).toEqual({
      mode: 'e2e',
      streaming: true,
      input_length: 8192,
      output_length: 1024,
      dataset_file: '/data/x.json',
    });
    expect(config.sequence).toBeUndefined();
    expect(config.environment).toEqual({ dataset_file: '/data/x.json' });
    expect(moved).toEqual([
      'sequence.input_length → benchmark.input_length',
      'sequence.output_length → benchmark.output_length',
      'environment.dataset_file → benchmark.dataset_file',
    ]);
  });

  it('leaves a newer config as it is; a benchmark value wins over an old one', () => {
    const newer: DisaggConfig = { benchmark: { input_length: 1024, output_length: 1024, dataset_file: 'd' } };
    expect(toUpstreamFormat(newer)).toEqual({ config: newer, moved: [] });
    const both = toUpstreamFormat({
      benchmark: { input_length: 1024 },
      sequence: { input_length: 4096, output_length: 512 },
    });
    expect(both.config.benchmark).toEqual({ input_length: 1024, output_length: 512 });
    expect(both.moved).toEqual(['sequence.output_length → benchmark.output_length']);
  });

  it('the real old upstream configs load converted, and the uploaded config.yaml has the new keys', async () => {
    for (const rel of [OLD, WIDEEP_OLD]) {
      const file = path.join(repoRoot, rel);
      const loaded = loadConfig(entryForFile(file, path.join(repoRoot, CORPUS)));
      expect(loaded.formatMoves).toContain('sequence.input_length → benchmark.input_length');
      expect(loaded.config.benchmark).toMatchObject({ input_length: 1024, output_length: 1024 });
      expect(loaded.config.benchmark?.dataset_file).toEqual(expect.any(String));
      expect(loaded.config.sequence).toBeUndefined();
    }
    const options = resolveSettings({ configDir: CORPUS }, {}, repoRoot);
    const notes: string[] = [];
    const entry = entryForFile(path.join(repoRoot, OLD), options.configDir);
    const spec = await jobSpecFor(entry, options, 'run-1', (n) => notes.push(n));
    const uploaded = jobFiles(spec).find((f) => f.name === CONFIG_FILE);
    const written = parse(uploaded?.content ?? '') as DisaggConfig;
    expect(written.benchmark).toMatchObject({
      input_length: 1024,
      output_length: 1024,
      dataset_file: '/lustre/fs1/portfolios/coreai/projects/coreai_comparch_trtllm/common/',
    });
    expect(written.sequence).toBeUndefined();
    expect(notes).toEqual([
      'disagg/perf/deepseek-r1-fp4_000.yaml: old config format, uploaded in the format newer submit.py reads ' +
        '(sequence.input_length → benchmark.input_length, sequence.output_length → benchmark.output_length, ' +
        'environment.dataset_file → benchmark.dataset_file); update the file to silence this note',
    ]);
  });

  it('disagg validate prints the notice once per file', async () => {
    const v = await cli(['validate', OLD, OLD.replace('000', '015')]);
    expect(v.code).toBe(0);
    const lines = v.stderr.split('\n').filter((l) => l.includes('old config format'));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^note: .*deepseek-r1-fp4_000\.yaml: old config format/);
  });
});
