// The run summary's reason line for a failed accuracy test is the reason the accuracy step recorded
// (`meta.disagg.failureReason`), not a cut of the error message: one real `vitest run` of the plugin on the
// local simulator (local processes only), with the fault suite's accuracy-drop config alone.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../fixtures/paths.js';
import { plain, resultOf, runSuite, type FinishedSuite, type JsonAssertion } from './helpers/suite-run.js';

const DROP = path.join(repoRoot, 'tests/fixtures/suites/faults/disagg/stress/accuracy-drop.yaml');
const TEST = 'disagg_stress_accuracy-drop';

describe('the summary of a failed accuracy test (local executor)', () => {
  let run: FinishedSuite;
  let test: JsonAssertion;

  beforeAll(() => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'summary-reason-'));
    const configs = path.join(tmp, 'configs');
    fs.mkdirSync(path.join(configs, 'disagg/stress'), { recursive: true });
    fs.copyFileSync(DROP, path.join(configs, 'disagg/stress/accuracy-drop.yaml'));
    const out = path.join(tmp, 'out');
    // The timeout only turns a hung run into a failed test; the run ends on its own.
    run = runSuite(configs, out, {
      json: path.join(tmp, 'report.json'),
      timeoutMs: 170_000,
      env: { DISAGG_EXECUTOR: 'local' },
    });
    test = resultOf(run.report, TEST, run.output);
  }, 180_000);

  it('prints the reason the accuracy step recorded, whole and alone on its line', () => {
    expect(run.exit, run.output).toBe(1);
    expect(test.status).toBe('failed');
    // What the step recorded, as the main process received it with the test's meta.
    const recorded = (test.meta?.disagg as { failureReason?: unknown } | undefined)?.failureReason;
    expect(recorded).toMatch(
      /^accuracy gsm8k \(flexible-extract, exact_match\): FAILED: observed [\d.]+ \([\d.]+%\) is below the threshold [\d.]+ \([\d.]+%\)$/,
    );
    // The error's first line goes on past it: the summary's line cannot be that line (or a cut of it
    // by length) unless the reporter prints the recorded reason.
    const firstLine = (test.failureMessages[0] ?? '').split('\n')[0] as string;
    expect(firstLine).toContain(`${recorded as string}; expected `);
    expect(plain(run.output)).toContain(`\n          reason: ${recorded as string}\n`);
  });
});
