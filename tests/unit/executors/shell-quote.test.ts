import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { renderSubmitCommand } from '../../../src/executors/sbatch.js';
import { shJoin, shq, splitShellWords } from '../../../src/executors/shell-quote.js';
import type { DisaggConfig } from '../../../src/types.js';

/** What bash makes of a command line: each argument on its own line, NUL-free. */
function bashArgs(line: string): string[] {
  const out = execFileSync('bash', ['-c', `printf '%s\\0' ${line}`]);
  return out.toString('utf8').split('\0').slice(0, -1);
}

describe('shq', () => {
  it('leaves safe words bare and single-quotes the rest', () => {
    expect(shq('--time=02:00:00')).toBe('--time=02:00:00');
    expect(shq('/home/bench/x/slurm-%j.out')).toBe('/home/bench/x/slurm-%j.out');
    expect(shq('')).toBe("''");
    expect(shq('a b')).toBe("'a b'");
    expect(shq("it's")).toBe("'it'\\''s'");
    expect(shq(42)).toBe('42');
  });

  it('round-trips hostile values through bash unchanged', () => {
    const values = [
      'x; touch /tmp/never',
      '$(id)',
      '`id`',
      'a\'b"c',
      'new\nline',
      '*',
      '~',
      '!event',
      '--job-name=$HOME',
      'tab\there',
      "''",
      '\\',
      'émoji ✓',
    ];
    expect(bashArgs(shJoin(values))).toEqual(values);
  });
});

describe('splitShellWords (extra_args)', () => {
  it('splits like a shell without expanding anything', () => {
    expect(splitShellWords('--gres=gpu:4 --exclusive')).toEqual(['--gres=gpu:4', '--exclusive']);
    expect(splitShellWords(`--comment="two words" --x='a b' c\\ d`)).toEqual([
      '--comment=two words',
      '--x=a b',
      'c d',
    ]);
    expect(splitShellWords('--a=$(touch /tmp/x) ;rm -rf /')).toEqual([
      '--a=$(touch',
      '/tmp/x)',
      ';rm',
      '-rf',
      '/',
    ]);
    expect(splitShellWords('  ')).toEqual([]);
    expect(splitShellWords("''")).toEqual(['']);
    expect(() => splitShellWords('--x="open')).toThrow(/unterminated double quote/);
    expect(() => splitShellWords("--x='open")).toThrow(/unterminated single quote/);
  });
});

describe('injection through a YAML value', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('job_name / extra_args / partition with shell syntax never run anything', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'disagg-inject-'));
    dirs.push(dir);
    const pwned = path.join(tmpdir(), `pwned-${randomBytes(6).toString('hex')}`);
    const bin = path.join(dir, 'bin');
    execFileSync('mkdir', ['-p', bin]);
    // A fake sbatch that records its arguments, one per line (NUL-separated), and prints a job id.
    const argsFile = path.join(dir, 'args');
    writeFileSync(
      path.join(bin, 'sbatch'),
      `#!/bin/bash\nprintf '%s\\0' "$@" > ${shq(argsFile)}\necho 4242\n`,
    );
    chmodSync(path.join(bin, 'sbatch'), 0o755);

    const config: DisaggConfig = {
      slurm: {
        job_name: `x; touch ${pwned}`,
        partition: `p$(touch ${pwned})`,
        account: `\`touch ${pwned}\``,
        extra_args: `--comment="a; touch ${pwned}" --x=$(touch\\ ${pwned})`,
        job_time: '00:10:00',
        script_file: 'disagg-sim.slurm',
      },
    };
    const jobDir = path.join(dir, "job dir 'q'");
    const cmd = renderSubmitCommand({
      config,
      testId: 't',
      jobDir,
      timeLimitMs: 60_000,
      scriptPath: path.join(jobDir, 'disagg-sim.slurm'),
      configPath: path.join(jobDir, 'config.yaml'),
    });
    const out = execFileSync('bash', ['-c', cmd.commandLine], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    });
    expect(out.toString().trim()).toBe('4242');
    expect(existsSync(pwned)).toBe(false);
    const args = readFileSync(argsFile, 'utf8').split('\0').slice(0, -1);
    expect(args).toEqual(cmd.argv.slice(1));
    expect(args).toContain(`--job-name=x; touch ${pwned}`);
    expect(args).toContain(`--comment=a; touch ${pwned}`);
  });
});
