// Shared helpers for the config unit tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, makeEntry } from '../../../src/config/index.js';
import type { Category, LoadedConfig } from '../../../src/types.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const fixtures = path.join(repoRoot, 'tests/fixtures/configs');

let tmpRoot: string | undefined;
export function tmpDir(): string {
  tmpRoot ??= fs.mkdtempSync(path.join(os.tmpdir(), 'disagg-config-test-'));
  return tmpRoot;
}

/** Write `text` to <tmp>/<testType>/<category>/<name>.yaml and load it. */
export function loadText(
  text: string,
  opts: {
    category?: Category;
    testType?: string;
    name?: string;
    /** Placeholder values (as the settings core resolves them). */
    vars?: Record<string, string>;
    gpuType?: string;
    strict?: boolean;
  } = {},
): LoadedConfig {
  const category = opts.category ?? 'stress';
  const testType = opts.testType ?? 'disagg';
  const dir = path.join(tmpDir(), testType, category);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${opts.name ?? 'cfg'}-${Math.random().toString(36).slice(2, 8)}.yaml`);
  fs.writeFileSync(file, text);
  return loadConfig(makeEntry(file, tmpDir(), testType, category), {
    vars: opts.vars ?? {},
    gpuType: opts.gpuType,
    strict: opts.strict,
  });
}

/** A minimal valid stress config; `patch` lines are spliced in by tests via string replace. */
export const MINIMAL = `metadata:
  model_name: tiny
  accuracy:
    datasets:
      - name: gsm8k
        expected_value: 0.85
benchmark:
  streaming: true
  concurrency_list: '1 2 4'
  input_length: 1024
  output_length: 1024
accuracy:
  enable_accuracy_test: true
  tasks: gsm8k
worker_config:
  ctx:
    max_seq_len: 2048
  gen:
    tensor_parallel_size: 4
    enable_attention_dp: false
    max_batch_size: 32
    max_num_tokens: 128
    max_seq_len: 2176
`;
