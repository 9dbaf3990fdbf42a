// The whole plugin, on the local executor and through ssh → sbatch → slurmd on the real local cluster:
// every fault knob of the simulator ends in a failed test whose message carries the cause, a healthy
// config passes, an unsupported one is skipped with its reason, and nothing of any stack (process or
// port) is left behind.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../fixtures/paths.js';
import { requireClusterEnv } from './helpers/cluster.js';
import { alive, refused } from './helpers/processes.js';
import { assertionsOf, plain, runSuite, type JsonAssertion, type JsonReport } from './helpers/suite-run.js';

const SUITE = path.join(repoRoot, 'tests/fixtures/suites/faults');

// Local runs the configs as one test module per folder (concurrent tests in one module), ssh as one per YAML.
describe.each([
  ['local', 'folder'],
  ['ssh', 'config'],
] as const)('fault knobs through the whole plugin (%s executor, testModules %s)', (executor, testModules) => {
  let out: string;
  let report: JsonReport;
  let stderr: string;
  let exitCode: number | null;

  function result(stem: string): JsonAssertion {
    const all = assertionsOf(report);
    const r = all.find((a) => a.title === `disagg_stress_${stem}`);
    if (!r) throw new Error(`no result for ${stem}; got ${all.map((a) => a.title).join(', ')}`);
    return r;
  }

  beforeAll(() => {
    if (executor === 'ssh') requireClusterEnv();
    out = fs.mkdtempSync(path.join(os.tmpdir(), `suite-faults-${executor}-`));
    const r = runSuite(SUITE, out, {
      json: path.join(out, 'report.json'),
      env: { DISAGG_EXECUTOR: executor, DISAGG_TEST_MODULES: testModules, DISAGG_BATCH_SIZE: '4' },
      // SLURM enforces the hang's 15 s limit at its 1-minute granularity: 60–90 s.
      timeoutMs: 280_000,
    });
    stderr = r.stderr + r.stdout;
    exitCode = r.exit;
    report = r.report;
  }, 300_000);

  it('fails the run, passes the healthy config and skips the unsupported one with its reason', () => {
    expect(exitCode).toBe(1);
    expect(result('healthy').status, result('healthy').failureMessages.join('\n')).toBe('passed');
    expect(result('h100-only').status).toBe('skipped');
    expect(stderr).toMatch(/not supported on GB200 \(supported: H100\)/);
  });

  it('a crashed worker: the message carries the traceback line', () => {
    const r = result('crash');
    expect(r.status).toBe('failed');
    expect(r.failureMessages.join('\n')).toMatch(/mpi4py\.MPI/);
  });

  it('HTTP 500s: the message carries the failed-request count', () => {
    const r = result('http500');
    expect(r.status).toBe('failed');
    expect(r.failureMessages.join('\n')).toMatch(
      /\d+ (?:of \d+ )?(?:request\(s\) )?failed|failed requests?:?\s*\d+/i,
    );
  });

  it('a hang: the job is killed at its time limit and the message says TIMEOUT', () => {
    const r = result('hang');
    expect(r.status).toBe('failed');
    expect(r.failureMessages.join('\n')).toMatch(/TIMEOUT/);
  });

  it('a non-zero exit: the message carries the state and exit code', () => {
    const r = result('exit-code');
    expect(r.status).toBe('failed');
    expect(r.failureMessages.join('\n')).toMatch(/FAILED \(exit code 3:0/);
  });

  it('an accuracy drop fails the gate with the verdict in words', () => {
    const r = result('accuracy-drop');
    expect(r.status).toBe('failed');
    expect(r.failureMessages.join('\n')).toMatch(/gsm8k.*FAILED.*observed 0\.\d+.*threshold 0\.\d+/s);
  });

  it("a failed accuracy gate: printed once, no expect boilerplate, located at the dataset's expected_value", () => {
    const output = plain(stderr);
    const message = result('accuracy-drop').failureMessages.join('\n');
    expect(message).not.toMatch(/expected (?:false|true) to be|Object\.is/);
    expect(message.match(/gsm8k \(flexible-extract, exact_match\): FAILED/g)).toHaveLength(1);
    // The whole console output: the full verdict once (the error), one short line, the theta warning
    // once; the closing summary recaps the verdict's first clause only.
    expect(output.match(/one-sided hypothesis test with n=/g)).toHaveLength(1);
    expect(output).toMatch(
      /reason: accuracy gsm8k \(flexible-extract, exact_match\): FAILED: observed [\d.]+ \([\d.]+%\) is below the threshold [\d.]+ \([\d.]+%\)\n/,
    );
    expect(output.match(/accuracy gsm8k FAILED: [\d.]+% < threshold/g)).toHaveLength(1);
    expect(output.match(/Warning: theta is/g)?.length ?? 0).toBeLessThanOrEqual(1);
    const yaml = fs.readFileSync(path.join(SUITE, 'disagg/stress/accuracy-drop.yaml'), 'utf8').split('\n');
    const line = yaml.findIndex((l) => /^\s*expected_value:/.test(l)) + 1;
    expect(line).toBeGreaterThan(0);
    // The failure's location (the stack line the code frame is drawn from) is that YAML line.
    expect(output).toMatch(
      new RegExp(`accuracy-drop\\.yaml:${line}:\\d+\\n(?:.*\\n){0,3}.*expected_value: `),
    );
  });

  it('failed tests keep their logs in <dir>_ERROR; the healthy one in <dir>', () => {
    const logs = path.join(out, 'slurm_logs');
    expect(fs.existsSync(path.join(logs, 'disagg_stress_crash_ERROR'))).toBe(true);
    expect(fs.existsSync(path.join(logs, 'disagg_stress_healthy'))).toBe(true);
    expect(fs.existsSync(path.join(logs, 'disagg_stress_healthy_ERROR'))).toBe(false);
  });

  it('failure messages and test meta name log dirs that exist after the _ERROR rename', () => {
    let checked = 0;
    // Job failures (`Logs: …`) and verdict failures (`…; logs: …`) alike.
    for (const stem of ['crash', 'hang', 'exit-code', 'http500', 'accuracy-drop']) {
      const r = result(stem);
      const logs = /\blogs: (\S+)$/im.exec(r.failureMessages.join('\n'))?.[1];
      expect(logs, `${stem}: no "logs:" in ${r.failureMessages.join('\n')}`).toMatch(/_ERROR$/);
      expect(fs.existsSync(logs as string), `${stem}: ${logs} does not exist`).toBe(true);
      expect(r.meta?.disagg?.logDir).toBe(logs);
      checked++;
    }
    expect(checked).toBe(5);
  });

  it('leaves no process or port of any stack behind', async () => {
    const logs = path.join(out, 'slurm_logs');
    let checked = 0;
    for (const dir of fs.readdirSync(logs)) {
      const file = path.join(logs, dir, 'sim_stack.json');
      if (!fs.existsSync(file)) continue;
      const stack = JSON.parse(fs.readFileSync(file, 'utf8')) as {
        members: Array<{ pid: number; port: number; name: string }>;
      };
      for (const m of stack.members) {
        expect(alive(m.pid), `${dir}: ${m.name} pid ${m.pid} still alive`).toBe(false);
        expect(await refused(m.port), `${dir}: ${m.name} port ${m.port} still open`).toBe(true);
        checked++;
      }
    }
    // Not vacuous: most of the 6 jobs recorded their stack (3 members each). Under heavy load a job that is
    // killed early (time limit, early-failure cancel) can die before it writes sim_stack.json.
    expect(checked).toBeGreaterThanOrEqual(4 * 3);
    if (executor === 'local') {
      // A killed process group can take a moment to be reaped (longer on a loaded machine): wait until
      // none is left, at most 30 s, then name what is left.
      let left = '';
      for (let i = 0; i < 300; i++) {
        left = spawnSync('pgrep', ['-a', '-f', out], { encoding: 'utf8' }).stdout.trim();
        if (!left) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(left, 'processes still mention the output dir').toBe('');
    }
  });
});
