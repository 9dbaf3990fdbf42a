// The sbatch shim put first on submit.py's PATH, run for real under bash with a fake sbatch further
// down PATH: it must add the token before the script, pass everything else through and record the id.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SBATCH_SHIM, SBATCH_SHIM_DIR, SHIM_JOB_IDS_FILE } from '../../../src/jobdir/files.js';
import { SHIM_TOKEN_VAR, sbatchShimScript } from '../../../src/executors/sbatch-shim.js';

let work: string;
let control: string;
let fakeDir: string;
beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), 'disagg-shim-'));
  control = path.join(work, 'job.submit');
  mkdirSync(path.join(control, SBATCH_SHIM_DIR), { recursive: true });
  const shim = path.join(control, SBATCH_SHIM_DIR, SBATCH_SHIM);
  writeFileSync(shim, sbatchShimScript());
  chmodSync(shim, 0o755);
  fakeDir = path.join(work, 'fake bin');
  mkdirSync(fakeDir);
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

/** A fake sbatch that logs its argv (one per line) and its PATH, then prints `out` and exits `code`. */
function fakeSbatch(out: string, code = 0): void {
  const f = path.join(fakeDir, 'sbatch');
  writeFileSync(
    f,
    `#!/bin/bash\nprintf '%s\\n' "$@" > '${work}/argv'\nprintf '%s' "$PATH" > '${work}/path'\n` +
      `printf '${out}\\n'\nexit ${code}\n`,
  );
  chmodSync(f, 0o755);
}

/** `sbatch …` as submit.py runs it: found on PATH, the shim's dir first. */
function runSbatch(
  args: string[],
  token?: string,
  rest = `${fakeDir}:/usr/bin:/bin`,
): { code: number | null; stdout: string; stderr: string } {
  const shimDir = path.join(control, SBATCH_SHIM_DIR);
  const env: Record<string, string> = { PATH: `${shimDir}:${rest}` };
  if (token !== undefined) env[SHIM_TOKEN_VAR] = token;
  const r = spawnSync('sbatch', args, { env, encoding: 'utf8', cwd: control });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const ids = (): string => readFileSync(path.join(control, SHIM_JOB_IDS_FILE), 'utf8');

describe('sbatch shim', () => {
  it('adds --comment=<token> before the options and the script; arguments reach the real sbatch intact', () => {
    fakeSbatch('Submitted batch job 4242');
    const args = [
      '--nodes=2',
      '--output=/l d/slurm-%j.out',
      '/s/disaggr_torch.slurm',
      '--isl',
      '1024',
      'a b',
      '',
    ];
    const r = runSbatch(args, 'disagg-tok-1');
    expect(r).toEqual({ code: 0, stdout: 'Submitted batch job 4242\n', stderr: '' });
    expect(readFileSync(path.join(work, 'argv'), 'utf8')).toBe(
      ['--comment=disagg-tok-1', ...args].join('\n') + '\n',
    );
    // The real sbatch runs without the shim's dir on PATH (a nested call never loops back).
    expect(readFileSync(path.join(work, 'path'), 'utf8')).toBe(`${fakeDir}:/usr/bin:/bin`);
    expect(ids()).toBe('4242\n');
    // A second submission (a retry) is recorded after the first.
    fakeSbatch('77;cluster');
    expect(runSbatch(['x.slurm'], 't').stdout).toBe('77;cluster\n');
    expect(ids()).toBe('4242\n77\n');
  });

  it('without a token it adds nothing; a refusal passes its exit code and records no id', () => {
    fakeSbatch('Submitted batch job 5');
    runSbatch(['x.slurm', '--flag']);
    expect(readFileSync(path.join(work, 'argv'), 'utf8')).toBe('x.slurm\n--flag\n');
    fakeSbatch('sbatch: error: Invalid partition name specified', 1);
    rmSync(path.join(control, SHIM_JOB_IDS_FILE));
    const r = runSbatch(['x.slurm'], 't');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Invalid partition name specified');
    expect(existsSync(path.join(control, SHIM_JOB_IDS_FILE))).toBe(false);
  });

  it('with no other sbatch on PATH it fails with 127 and says so', () => {
    // Only the tools the shim uses (this machine may have a real sbatch in /usr/bin).
    const tools = path.join(work, 'tools');
    mkdirSync(tools);
    for (const t of ['bash', 'env', 'dirname', 'sed', 'head']) {
      const found = spawnSync('bash', ['-c', `command -v ${t}`], { encoding: 'utf8' }).stdout.trim();
      symlinkSync(found, path.join(tools, t));
    }
    const r = runSbatch(['x.slurm'], 't', tools);
    expect(r.code).toBe(127);
    expect(r.stderr).toMatch(/sbatch shim: no sbatch on PATH besides .*job\.submit\/bin/);
  });
});
