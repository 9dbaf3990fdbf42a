import { mkdtemp, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  findAccuracyLogs,
  parseAccuracyLog,
  parseAccuracyLogs,
  parseAccuracyText,
} from '../../../src/parsers/accuracy.js';
import { fixtureLog } from '../../fixtures/paths.js';

describe('parseAccuracyLog', () => {
  it('gsm8k with srun prefixes and two runs: continuation rows, version carried, headers kept', async () => {
    const runs = await parseAccuracyLog(fixtureLog('acc_gsm8k_srun_two_runs.log'));
    expect(runs).toHaveLength(2);
    expect(runs[0].header).toMatch(/^local-completions \(model=\/models\/DeepSeek-R1-FP4,/);
    expect(runs[0].results).toEqual([
      {
        task: 'gsm8k',
        filter: 'flexible-extract',
        metric: 'exact_match',
        value: 0.953,
        stderr: 0.0058,
        n_shot: 5,
        version: '3',
      },
      {
        task: 'gsm8k',
        filter: 'strict-match',
        metric: 'exact_match',
        value: 0.9402,
        stderr: 0.0065,
        n_shot: 5,
        version: '3',
      },
    ]);
    expect(runs[1].results.map((r) => r.value)).toEqual([0.9484, 0.9378]);
  });

  it('several tasks in one padded table, short and padded values, N/A stderr, any metric', async () => {
    const [run, ...more] = await parseAccuracyLog(fixtureLog('acc_multi_task.log'));
    expect(more).toEqual([]);
    expect(run.header).toMatch(/^local-chat-completions \(\{'model'/);
    expect(run.results.map((r) => [r.task, r.filter, r.metric, r.value, r.stderr, r.n_shot])).toEqual([
      ['gsm8k', 'flexible-extract', 'exact_match', 0.93, 0.0255, 5],
      ['gsm8k', 'strict-match', 'exact_match', 0.9, 0.0302, 5],
      ['hellaswag', 'none', 'acc', 0.596, 0.0049, 5],
      ['hellaswag', 'none', 'acc_norm', 0.7766, 0.0042, 5],
      ['humaneval', 'create_test', 'pass@1', 0.3171, null, 0],
      ['arc_easy', 'none', 'acc', 0.8, null, null],
    ]);
    expect(run.results[5].version).toBe('1.0');
  });

  it('mmlu: indented subtasks, and the groups table does not start a new run', async () => {
    const runs = await parseAccuracyLog(fixtureLog('acc_mmlu_groups.log'));
    expect(runs).toHaveLength(1);
    const tasks = runs[0].results.map((r) => r.task);
    expect(tasks).toEqual([
      'mmlu',
      'humanities',
      'formal_logic',
      'high_school_european_history',
      'other',
      'social sciences',
      'stem',
    ]);
    expect(runs[0].results[0]).toMatchObject({ metric: 'acc', value: 0.5486, n_shot: null, version: '2' });
  });
});

describe('parseAccuracyText', () => {
  it('old tables without Filter/n-shot columns', () => {
    const runs = parseAccuracyText(
      [
        '|Task |Version|Metric|Value|   |Stderr|',
        '|-----|------:|------|----:|---|-----:|',
        '|boolq|      1|acc   |0.75 |±  |0.01  |',
      ].join('\n'),
    );
    expect(runs[0].results).toEqual([
      { task: 'boolq', filter: 'none', metric: 'acc', value: 0.75, stderr: 0.01, n_shot: null, version: '1' },
    ]);
  });

  it('a repeated task/filter/metric inside one table starts a new run', () => {
    const t = [
      '|Tasks|Version|Filter|n-shot|Metric|   |Value|   |Stderr|',
      '|-----|------:|------|-----:|------|---|----:|---|-----:|',
      '|a    |      1|none  |     0|acc   |↑  |  0.5|±  |  0.1|',
      '|b    |      1|none  |     0|acc   |↑  |  0.6|±  |  0.1|',
      '|a    |      1|none  |     0|acc   |↑  |  0.7|±  |  0.1|',
    ].join('\n');
    expect(parseAccuracyText(t).map((r) => r.results.map((x) => `${x.task}=${x.value}`))).toEqual([
      ['a=0.5', 'b=0.6'],
      ['a=0.7'],
    ]);
  });

  it('ignores pipes outside tables and rows without a number', () => {
    expect(parseAccuracyText('| not | a | table |\nfoo | bar\n')).toEqual([]);
  });
});

describe('findAccuracyLogs / parseAccuracyLogs', () => {
  it('finds per-task and old single-name logs, sorted; per-task logs form one run', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'acc-'));
    try {
      await copyFile(fixtureLog('acc_mmlu_groups.log'), path.join(dir, '7_accuracy_eval_mmlu.log'));
      await writeFile(
        path.join(dir, '7_accuracy_eval_gsm8k.log'),
        [
          '|Tasks|Version|     Filter     |n-shot|  Metric   |   |Value |   |Stderr|',
          '|-----|------:|----------------|-----:|-----------|---|-----:|---|-----:|',
          '|gsm8k|      3|flexible-extract|     5|exact_match|↑  |0.9591|±  |0.0055|',
        ].join('\n'),
      );
      await writeFile(path.join(dir, '7_accuracy_eval.log'), '');
      await writeFile(path.join(dir, '6_bench.log'), '');
      await writeFile(path.join(dir, 'accuracy_eval_gsm8k.log'), '');
      const files = await findAccuracyLogs(dir);
      expect(files.map((f) => path.basename(f))).toEqual([
        '7_accuracy_eval.log',
        '7_accuracy_eval_gsm8k.log',
        '7_accuracy_eval_mmlu.log',
      ]);
      const runs = await parseAccuracyLogs(files);
      expect(runs).toHaveLength(1);
      expect(new Set(runs[0].results.map((r) => r.task))).toContain('gsm8k');
      expect(new Set(runs[0].results.map((r) => r.task))).toContain('mmlu');
      expect(await findAccuracyLogs(path.join(dir, 'nope'))).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
