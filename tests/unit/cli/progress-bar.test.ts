// Long CLI work shows a bar on stderr in a terminal, and nothing in a pipe, in CI or with --json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliIO } from '../../../src/cli/io.js';
import { main } from '../../../src/cli/main.js';
import { progressBar, renderBar } from '../../../src/cli/progress-bar.js';

describe('progress bar', () => {
  it('renders done of total', () => {
    expect(renderBar('cancelling', 0, 4)).toBe(`cancelling [${'-'.repeat(30)}] 0/4`);
    expect(renderBar('cancelling', 2, 4)).toBe(`cancelling [${'#'.repeat(15)}${'-'.repeat(15)}] 2/4`);
    expect(renderBar('cancelling', 4, 4)).toBe(`cancelling [${'#'.repeat(30)}] 4/4`);
  });

  it('draws only in a terminal and for enough work, and clears its line at the end', () => {
    const out: string[] = [];
    const write = (t: string) => void out.push(t);
    progressBar(write, false, 'x', 100).update(50);
    progressBar(write, true, 'x', 3).update(2);
    expect(out).toEqual([]);
    const bar = progressBar(write, true, 'x', 20);
    bar.update(10);
    bar.update(10); // same line: not redrawn
    bar.update(20);
    bar.done();
    expect(out).toEqual([
      `\r${renderBar('x', 10, 20)}`,
      `\r${renderBar('x', 20, 20)}`,
      expect.stringMatching(/^\r +\r$/),
    ]);
  });

  it('disagg report over an output dir of many tests draws it in a terminal, not with --json', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'report-bar-'));
    const logs = path.join(dir, 'slurm_logs');
    fs.mkdirSync(logs);
    for (let i = 0; i < 12; i++) fs.mkdirSync(path.join(logs, `disagg_perf_t${i}`));
    const run = async (argv: string[], tty: boolean) => {
      let stdout = '';
      let stderr = '';
      const io: CliIO = {
        stdout: (t) => void (stdout += t),
        stderr: (t) => void (stderr += t),
        env: {},
        cwd: dir,
        stderrIsTTY: tty,
      };
      return { code: await main(argv, io), stdout, stderr };
    };
    const tty = await run(['report', dir, '--out', path.join(dir, 'a.html')], true);
    expect(tty.code).toBe(0);
    expect(tty.stderr).toContain(`\r${renderBar('reading tests', 12, 12)}`);
    const json = await run(['report', dir, '--out', path.join(dir, 'b.html'), '--json'], true);
    expect(json).toMatchObject({ code: 0, stderr: '' });
    const pipe = await run(['report', dir, '--out', path.join(dir, 'c.html')], false);
    expect(pipe).toMatchObject({ code: 0, stderr: '' });
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
