// The disagg command as a user meets it: help, version, exit codes, JSON errors, and the settings it
// takes from the project's vitest.config.* (the same ones `npx vitest` uses).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { repoRoot } from '../config/helpers.js';

/** `runs/<run id>/<rest>`, the per-run job dir layout (src/broker/job-dirs.ts). */
const RUN_DIR = (rest: string): RegExp =>
  new RegExp(`^runs/[0-9]{8}-[0-9]{6}-[0-9a-f]{4}/${rest.replace(/[.]/g, '\\.')}$`);

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function disagg(argv: string[], cwd = repoRoot, env: Record<string, string> = {}): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: { HOME: os.homedir(), ...env },
    cwd,
  });
  return { code, stdout, stderr };
}

const COMMANDS = ['list', 'validate', 'parse', 'threshold', 'dry-run', 'cancel'];
const version = (
  JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }
).version;

describe('disagg: help, version, usage errors', () => {
  for (const cmd of COMMANDS) {
    it(`${cmd}: --help, --version, exit 2 on a bad flag, JSON errors with --json`, async () => {
      const help = await disagg([cmd, '--help']);
      expect(help).toMatchObject({ code: 0, stderr: '' });
      expect(help.stdout).toMatch(new RegExp(`^usage: disagg ${cmd} `));
      expect(await disagg([cmd, '-h'])).toEqual(help);

      expect(await disagg([cmd, '--version'])).toEqual({
        code: 0,
        stdout: `vitest-disagg ${version}\n`,
        stderr: '',
      });
      expect(await disagg([cmd, '--version', '--json'])).toEqual({
        code: 0,
        stdout: `${JSON.stringify({ version })}\n`,
        stderr: '',
      });

      const bad = await disagg([cmd, '--no-such-flag']);
      expect(bad.code).toBe(2);
      expect(bad.stdout).toBe('');
      expect(bad.stderr).toContain(`disagg ${cmd}: Unknown option '--no-such-flag'`);

      const badJson = await disagg([cmd, '--no-such-flag', '--json']);
      expect(badJson.code).toBe(2);
      expect(badJson.stderr).toBe('');
      const j = JSON.parse(badJson.stdout) as { error: string };
      expect(Object.keys(j)).toEqual(['error']);
      expect(j.error).toContain("Unknown option '--no-such-flag'");
    });
  }

  it('sim: a passthrough to the simulator bundle; no simulator command is a usage error', async () => {
    const help = await disagg(['sim', '--help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^usage: disagg sim <command>/);
    expect(help.stdout).toContain('serve --config FILE [--dir DIR] [--port N]');
    const none = await disagg(['sim']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('usage: disagg sim');
  });

  it('no command: usage and exit 2; unknown command: exit 2 (JSON with --json); --version alone', async () => {
    const none = await disagg([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toContain('usage: disagg <command>');
    expect(await disagg(['--help'])).toMatchObject({ code: 0 });
    expect(await disagg(['--version'])).toEqual({
      code: 0,
      stdout: `vitest-disagg ${version}\n`,
      stderr: '',
    });
    expect((await disagg(['frobnicate'])).code).toBe(2);
    expect(await disagg(['frobnicate', '--json'])).toEqual({
      code: 2,
      stdout: `${JSON.stringify({ error: 'unknown command "frobnicate"' })}\n`,
      stderr: '',
    });
  });

  it('missing arguments are usage errors (exit 2) in every command that takes them', async () => {
    for (const argv of [['dry-run'], ['parse'], ['threshold'], ['dry-run', 'a.yaml', '--executor', 'pbs']]) {
      const r = await disagg([...argv, '--json']);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(JSON.parse(r.stdout), argv.join(' ')).toHaveProperty('error');
    }
  });

  it('a failure (not usage) exits 1; with --json the error is JSON on stdout, nothing on stderr', async () => {
    const r = await disagg(['list', '--config-dir', 'no/such/dir', '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect((JSON.parse(r.stdout) as { error: string }).error).toMatch(
      /^Config directory not found: .*no\/such\/dir/,
    );
    const env = await disagg(['list', '--json'], repoRoot, { DISAGG_EXECUTOR: 'pbs' });
    expect(env).toMatchObject({ code: 1, stderr: '' });
    expect(JSON.parse(env.stdout)).toEqual({ error: 'DISAGG_EXECUTOR=pbs is not one of local, slurm, ssh' });
  });
});

/** A project of its own: vitest.config.ts with disagg() options, one config, node_modules linked. */
function project(config: (plugin: string) => string, file = 'vitest.config.ts'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disagg-cli-project-'));
  fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'));
  // As the README asks of a project: ESM, so vitest.config.ts is loaded as a module.
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
  const cfgDir = path.join(dir, 'my-configs', 'disagg', 'stress');
  fs.mkdirSync(cfgDir, { recursive: true });
  fs.copyFileSync(
    path.join(repoRoot, 'tests/fixtures/suites/short/disagg/stress/short-1.yaml'),
    path.join(cfgDir, 'short-1.yaml'),
  );
  const plugin = path.join(repoRoot, 'src/plugin/index.ts').split(path.sep).join('/');
  fs.writeFileSync(path.join(dir, file), config(plugin));
  return dir;
}

describe('disagg reads the disagg() options of vitest.config.*', () => {
  const withOptions = (plugin: string) =>
    `import { defineConfig } from 'vitest/config';\n` +
    `import { disagg } from '${plugin}';\n` +
    `export default defineConfig({ plugins: [disagg({ configDir: 'my-configs', executor: 'slurm', outputPath: 'out' })] });\n`;

  it('list, validate, dry-run and cancel see configDir, executor and outputPath from vitest.config.ts', async () => {
    const dir = project(withOptions);
    const list = await disagg(['list', '--json'], dir);
    expect(list.code).toBe(0);
    const l = JSON.parse(list.stdout) as { configDir: string; configs: Array<{ name: string }> };
    expect(l.configDir).toBe(path.join(dir, 'my-configs'));
    expect(l.configs.map((c) => c.name)).toEqual(['disagg_stress_short-1']);

    const v = await disagg(['validate', '--json'], dir);
    expect(v.code).toBe(0);
    expect((JSON.parse(v.stdout) as { files: unknown[] }).files).toHaveLength(1);

    const dry = await disagg(['dry-run', 'my-configs/disagg/stress/short-1.yaml', '--json'], dir);
    expect(dry.code).toBe(0);
    const d = JSON.parse(dry.stdout) as { executor: string; jobDir: string; argv: string[] };
    expect(d.executor).toBe('slurm');
    // A dry run plans the job dir of a new run (slurm_logs/runs/<run id>/<test>) without creating it.
    expect(path.relative(path.join(dir, 'out', 'slurm_logs'), d.jobDir)).toMatch(
      RUN_DIR('disagg_stress_short-1'),
    );
    expect(d.argv[0]).toBe('sbatch');

    const cancel = await disagg(['cancel', '--json'], dir);
    expect(cancel).toEqual({
      code: 0,
      stdout: `${JSON.stringify({ cancelled: [], refused: [], alreadyEnded: [] })}\n`,
      stderr: '',
    });
    const text = await disagg(['cancel'], dir);
    expect(text.stdout).toBe(`no live jobs in ${path.join(dir, 'out', 'jobs.json')}\n`);

    // The environment still wins over the file's options, as for `npx vitest`.
    const envWins = await disagg(['dry-run', 'my-configs/disagg/stress/short-1.yaml', '--json'], dir, {
      DISAGG_EXECUTOR: 'local',
    });
    expect((JSON.parse(envWins.stdout) as { executor: string }).executor).toBe('local');
  });

  it('--config chooses another file; a missing one is an error naming it', async () => {
    const dir = project(withOptions, 'other.config.ts');
    // No vitest.config.* here: defaults (configDir stress-configs under the project).
    const none = await disagg(['list', '--json'], dir);
    expect(none.code).toBe(1);
    expect((JSON.parse(none.stdout) as { error: string }).error).toContain(path.join(dir, 'stress-configs'));
    const other = await disagg(['list', '--json', '--config', 'other.config.ts'], dir);
    expect(other.code).toBe(0);
    expect((JSON.parse(other.stdout) as { configDir: string }).configDir).toBe(path.join(dir, 'my-configs'));
    const missing = await disagg(['list', '--config', 'nope.config.ts'], dir);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      `--config nope.config.ts: no such file (${path.join(dir, 'nope.config.ts')})`,
    );
  });

  it('finds disagg() inside an inline test.projects entry', async () => {
    const dir = project(
      (plugin) =>
        `import { defineConfig } from 'vitest/config';\n` +
        `import { disagg } from '${plugin}';\n` +
        `export default defineConfig({ test: { projects: [{ test: { name: 'unit' } }, ` +
        `{ plugins: [disagg({ configDir: 'my-configs', outputPath: 'out2' })] }] } });\n`,
    );
    const list = await disagg(['list', '--json'], dir);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { configDir: string }).configDir).toBe(path.join(dir, 'my-configs'));
  });

  it('dry-run defaults to the plugin default executor, local, and shows the local command and files', async () => {
    const dir = project(
      (plugin) =>
        `import { defineConfig } from 'vitest/config';\nimport { disagg } from '${plugin}';\n` +
        `export default defineConfig({ plugins: [disagg({ configDir: 'my-configs' })] });\n`,
    );
    const r = await disagg(['dry-run', 'my-configs/disagg/stress/short-1.yaml'], dir);
    expect(r.code).toBe(0);
    const jobDir = /job dir: +(\S+)/.exec(r.stdout)?.[1] ?? '';
    expect(path.relative(path.join(dir, 'output', 'slurm_logs'), jobDir)).toMatch(
      RUN_DIR('disagg_stress_short-1'),
    );
    expect(fs.existsSync(jobDir), 'a dry run creates nothing').toBe(false);
    expect(r.stdout).toContain(`executor:  local → this machine`);
    expect(r.stdout).toContain(` bash ${jobDir}/disagg-sim.slurm\n`);
    expect(r.stdout).toContain(`→ ${jobDir}/config.yaml`);
  });

  it('SCRIPT_DIR from DISAGG_ENV_FILE is where dry-run (the executor plan) finds the job script', async () => {
    const dir = project(
      (plugin) =>
        `import { defineConfig } from 'vitest/config';\nimport { disagg } from '${plugin}';\n` +
        `export default defineConfig({ plugins: [disagg({ configDir: 'my-configs', envFile: 'cluster.env' })] });\n`,
    );
    const cfg = path.join(dir, 'my-configs/disagg/stress/short-1.yaml');
    const text = fs.readFileSync(cfg, 'utf8').replaceAll('disagg-sim.slurm', 'my-job.slurm');
    fs.writeFileSync(cfg, text.slice(0, text.indexOf('simulator:')));
    fs.mkdirSync(path.join(dir, 'launcher'));
    fs.writeFileSync(path.join(dir, 'launcher', 'my-job.slurm'), '#!/bin/bash\necho hi\n');
    // my-job.slurm reads its config from the job dir: plain sbatch starts it.
    const jobDirScript = 'DISAGG_JOB_DIR_SCRIPTS=my-job.slurm\n';
    fs.writeFileSync(path.join(dir, 'cluster.env'), `export SCRIPT_DIR=launcher\n${jobDirScript}`);
    const r = await disagg(['dry-run', cfg, '--executor', 'slurm', '--json'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as {
      files: Array<{ name: string; path: string; size: number }>;
      argv: string[];
    };
    const script = plan.files.find((f) => f.name === 'my-job.slurm') as { path: string; size: number };
    expect(script.size).toBe(20);
    expect(path.relative(path.join(dir, 'output/slurm_logs'), script.path)).toMatch(
      RUN_DIR('disagg_stress_short-1/my-job.slurm'),
    );
    expect(plan.argv.at(-1)).toBe(script.path);
    // Without the env file the script is not found, and the error says to set SCRIPT_DIR.
    fs.writeFileSync(path.join(dir, 'cluster.env'), `# no SCRIPT_DIR\n${jobDirScript}`);
    const missing = await disagg(['dry-run', cfg, '--executor', 'slurm', '--json'], dir);
    expect(missing.code).toBe(1);
    expect((JSON.parse(missing.stdout) as { error: string }).error).toMatch(
      /job script my-job.slurm not found.*set SCRIPT_DIR/,
    );
  });

  it('dry-run of a disaggr_torch.slurm config: submit.py with SCRIPT_DIR holding it, an error naming SCRIPT_DIR without', async () => {
    const dir = project(
      (plugin) =>
        `import { defineConfig } from 'vitest/config';\nimport { disagg } from '${plugin}';\n` +
        `export default defineConfig({ plugins: [disagg({ configDir: 'my-configs', envFile: 'cluster.env' })] });\n`,
    );
    const cfg = path.join(dir, 'my-configs/disagg/stress/short-1.yaml');
    const text = fs.readFileSync(cfg, 'utf8').replaceAll('disagg-sim.slurm', 'disaggr_torch.slurm');
    fs.writeFileSync(cfg, text.slice(0, text.indexOf('simulator:')));
    const launcher = path.join(dir, 'launcher');
    fs.mkdirSync(launcher);
    fs.writeFileSync(path.join(launcher, 'disaggr_torch.slurm'), '#!/bin/bash\necho "$@"\n');
    fs.writeFileSync(path.join(launcher, 'submit.py'), '# stand-in\n');
    fs.writeFileSync(path.join(dir, 'cluster.env'), 'SCRIPT_DIR=launcher\n');
    const r = await disagg(['dry-run', cfg, '--executor', 'slurm', '--json'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as {
      launcher: string;
      host: string;
      jobDir: string;
      cwd: string;
      argv: string[];
      commandLine: string;
      uploadedConfig: string;
      submitPy: string;
      script: string;
      workerConfigs: Array<{ name: string; path: string; writtenBy: string }>;
      files: Array<{ name: string; path: string }>;
    };
    const control = `${plan.jobDir}.submit`;
    expect(plan).toMatchObject({
      launcher: 'submit.py',
      host: 'this machine',
      cwd: control,
      submitPy: path.join(launcher, 'submit.py'),
      uploadedConfig: path.join(control, 'config.yaml'),
      script: path.join(control, 'disaggr_torch.slurm'),
    });
    expect(plan.argv).toEqual([
      'python3',
      path.join(launcher, 'submit.py'),
      '-c',
      path.join(control, 'config.yaml'),
      '--log-dir',
      plan.jobDir,
    ]);
    expect(plan.commandLine).toContain(`PATH=${control}/bin:"$PATH" `);
    expect(plan.workerConfigs.map((w) => [w.path, w.writtenBy])).toEqual([
      [path.join(plan.jobDir, 'ctx_config.yaml'), 'submit.py'],
      [path.join(plan.jobDir, 'gen_config.yaml'), 'submit.py'],
    ]);
    expect(plan.files.map((f) => f.name)).toEqual(['config.yaml', 'disaggr_torch.slurm', 'sbatch']);
    // The text form says where it runs and who writes the worker configs.
    const t = await disagg(['dry-run', cfg, '--executor', 'slurm'], dir);
    expect(t.code).toBe(0);
    expect(t.stdout).toContain('launcher:  submit.py\n');
    expect(t.stdout).toContain(`submit.py: ${path.join(launcher, 'submit.py')}\n`);
    expect(t.stdout).toMatch(/ctx_config\.yaml {2}→ \S+\/ctx_config\.yaml {2}\(written by submit\.py\)/);
    expect(t.stdout).toMatch(/would run on this machine \(in \S+\.submit\):\n {2}PATH=/);
    expect(t.stdout).toMatch(
      /note: submit\.py's sbatch runs through .*bin\/sbatch, which adds --comment=<write-ahead token>/,
    );
    // Without submit.py the dry run fails, naming SCRIPT_DIR and the path looked at.
    fs.rmSync(path.join(launcher, 'submit.py'));
    const missing = await disagg(['dry-run', cfg, '--executor', 'slurm', '--json'], dir);
    expect(missing.code).toBe(1);
    const error = (JSON.parse(missing.stdout) as { error: string }).error;
    expect(error).toContain(`no submit.py at ${path.join(launcher, 'submit.py')}`);
    expect(error).toMatch(/comes from SCRIPT_DIR=launcher .*Fix: set SCRIPT_DIR/);
    // launcher sbatch would start it without its arguments: an error with the reason, never a fine line.
    fs.writeFileSync(path.join(dir, 'cluster.env'), 'SCRIPT_DIR=launcher\nDISAGG_LAUNCHER=sbatch\n');
    const bare = await disagg(['dry-run', cfg, '--executor', 'slurm'], dir);
    expect(bare.code).toBe(1);
    expect(bare.stdout + bare.stderr).toMatch(/launcher sbatch cannot start disaggr_torch\.slurm/);
  });
});
