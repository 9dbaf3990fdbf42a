// Live progress and CI outputs through the whole plugin on the local executor: heartbeat lines in a
// non-TTY run, and the JUnit `<properties>` of each test (job, state, log dir, every perf metric per
// concurrency, accuracy value and threshold) with failure texts that carry the reason and the log path.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../fixtures/paths.js';
import { parseJUnit, prop, type JUnitCase } from './helpers/junit-xml.js';
import { VITEST } from './helpers/suite-run.js';

const SUITES = path.join(repoRoot, 'tests/fixtures/suites');

function runSuite(suite: string, args: string[], env: Record<string, string>, timeout: number) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), `progress-${suite}-`));
  const r = spawnSync(process.execPath, [VITEST, 'run', ...args.map((a) => a.replace('<out>', out))], {
    cwd: repoRoot,
    env: {
      ...process.env,
      DISAGG_CONFIG_DIR: path.join(SUITES, suite),
      DISAGG_EXECUTOR: 'local',
      OUTPUT_PATH: out,
      GPU_TYPE: 'GB200',
      ...env,
    },
    encoding: 'utf8',
    timeout,
  });
  return { out, status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('heartbeat (non-TTY run)', () => {
  it('a ~20 s job with DISAGG_HEARTBEAT=5s prints at least 3 heartbeat lines', { timeout: 120_000 }, () => {
    const r = runSuite('slow', [], { DISAGG_HEARTBEAT: '5s' }, 110_000);
    expect(r.status, r.output).toBe(0);
    const beats = r.output
      .split('\n')
      .filter((l) =>
        /^\[vitest-disagg\] job \d+ disagg_stress_slow heartbeat: RUNNING \d+s \/ 5m00s/.test(l),
      );
    expect(beats.length, r.output).toBeGreaterThanOrEqual(3);
    expect(r.output).toMatch(/^\[vitest-disagg\] job \d+ disagg_stress_slow RUNNING since \d\d:\d\d:\d\d$/m);
    expect(r.output).toMatch(/^\[vitest-disagg\] job \d+ disagg_stress_slow COMPLETED$/m);
  });
});

interface JsonReport {
  testResults: Array<{
    assertionResults: Array<{
      title: string;
      meta?: { disagg?: { perf?: { metrics: Record<string, Record<string, number>> } } };
    }>;
  }>;
}

describe('JUnit properties (--reporter=junit)', () => {
  let cases: JUnitCase[];
  let json: JsonReport;
  let output: string;

  beforeAll(() => {
    const r = runSuite(
      'progress',
      [
        '--reporter=junit',
        '--reporter=json',
        '--outputFile.junit=<out>/junit.xml',
        '--outputFile.json=<out>/report.json',
      ],
      { DISAGG_BATCH_SIZE: '3' },
      170_000,
    );
    output = r.output;
    const xml = path.join(r.out, 'junit.xml');
    if (!fs.existsSync(xml)) throw new Error(`vitest wrote no JUnit report (exit ${r.status}):\n${r.output}`);
    cases = parseJUnit(fs.readFileSync(xml, 'utf8'));
    json = JSON.parse(fs.readFileSync(path.join(r.out, 'report.json'), 'utf8')) as JsonReport;
  }, 180_000);

  const byName = (stem: string) => {
    const c = cases.find((x) => x.name.endsWith(`disagg_stress_${stem}`));
    if (!c) throw new Error(`no testcase for ${stem}: ${cases.map((x) => x.name).join(', ')}\n${output}`);
    return c;
  };

  it('a passing test: job id, state, an existing log dir, every perf metric per concurrency, accuracy vs threshold', () => {
    const c = byName('healthy');
    expect(c.failures).toEqual([]);
    expect(prop(c, 'disagg.jobId')).toMatch(/^\d+$/);
    expect(prop(c, 'disagg.state')).toBe('COMPLETED');
    const logDir = prop(c, 'disagg.logDir') as string;
    expect(fs.existsSync(path.join(logDir, '6_bench.log')), logDir).toBe(true);
    expect(prop(c, 'disagg.perf.concurrencies')).toBe('1,4');
    // Every metric the perf step parsed (the JSON report's meta.disagg) is a property, per concurrency.
    const meta = json.testResults
      .flatMap((f) => f.assertionResults)
      .find((a) => a.title === 'disagg_stress_healthy')?.meta?.disagg;
    const metrics = meta?.perf?.metrics ?? {};
    expect(Object.keys(metrics).sort()).toEqual(['1', '4']);
    for (const [con, values] of Object.entries(metrics)) {
      expect(Object.keys(values).length).toBeGreaterThan(5);
      for (const [name, value] of Object.entries(values))
        expect(prop(c, `disagg.perf.con${con}.${name}`), `con${con}.${name}`).toBe(String(value));
    }
    const observed = Number(prop(c, 'disagg.accuracy.gsm8k.value'));
    const threshold = Number(prop(c, 'disagg.accuracy.gsm8k.threshold'));
    expect(observed).toBeGreaterThanOrEqual(threshold);
    expect(threshold).toBeGreaterThan(0);
    expect(prop(c, 'disagg.accuracy.gsm8k.passed')).toBe('true');
    // The job's live state changes, as annotated while the test waited.
    const live = c.properties.filter((p) => p.name === 'disagg:job').map((p) => p.value);
    expect(live[0]).toMatch(/^job \d+ submitted$/);
    expect(live).toContainEqual(expect.stringMatching(/^job \d+ RUNNING since /));
    expect(live.at(-1)).toMatch(/^job \d+ COMPLETED$/);
  });

  it('an accuracy failure: value below its threshold, the _ERROR log dir, failure text with the verdict and that dir', () => {
    const c = byName('accuracy-drop');
    expect(prop(c, 'disagg.state')).toBe('COMPLETED');
    const observed = Number(prop(c, 'disagg.accuracy.gsm8k.value'));
    expect(observed).toBeLessThan(Number(prop(c, 'disagg.accuracy.gsm8k.threshold')));
    expect(prop(c, 'disagg.accuracy.gsm8k.passed')).toBe('false');
    const logDir = prop(c, 'disagg.logDir') as string;
    expect(logDir).toMatch(/_ERROR$/);
    expect(fs.existsSync(logDir)).toBe(true);
    expect(c.failures).toHaveLength(1);
    expect(c.failures[0]).toMatch(/FAILED: observed/);
    expect(c.failures[0]).toContain(`logs: ${logDir}`);
  });

  it('a failed job: its state and the failure text with the exit code and the log path', () => {
    const c = byName('exit-code');
    expect(prop(c, 'disagg.state')).toBe('FAILED');
    const logDir = prop(c, 'disagg.logDir') as string;
    expect(logDir).toMatch(/_ERROR$/);
    expect(fs.existsSync(logDir)).toBe(true);
    expect(c.failures).toHaveLength(1);
    expect(c.failures[0]).toMatch(/ended FAILED \(exit code 3/);
    expect(c.failures[0]).toContain(`Logs: ${logDir}`);
    // Nothing was measured, nothing is invented.
    expect(c.properties.some((p) => p.name.startsWith('disagg.perf.'))).toBe(false);
  });
});
