import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SettingsError } from '../../../src/errors.js';
import { resolveOptions } from '../../../src/plugin/options.js';
import {
  resolveSettings,
  withFlags,
  type DisaggOptions,
  type ResolvedOptions,
} from '../../../src/settings/index.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'disagg-settings-'));

function envFile(lines: Record<string, string>): string {
  const file = path.join(root, `${Math.random().toString(36).slice(2)}.env`);
  fs.writeFileSync(
    file,
    Object.entries(lines)
      .map(([k, v]) => `export ${k}=${v}\n`)
      .join(''),
  );
  return file;
}

interface Row {
  variable: string;
  /** Three distinct values: [env, env file, option]. */
  values: [string, string, unknown];
  option: (v: unknown) => DisaggOptions;
  read: (o: ResolvedOptions) => unknown;
  /** What `read` gives for a raw value (paths are made absolute, numbers parsed, …). */
  expect?: (v: unknown) => unknown;
  fallback: unknown;
}

const abs = (v: unknown) => path.resolve(root, String(v));
const es = (o: ResolvedOptions) => o.executorSettings;

const ROWS: Row[] = [
  {
    variable: 'DISAGG_CONFIG_DIR',
    values: ['e', 'f', 'o'],
    option: (v) => ({ configDir: v as string }),
    read: (o) => o.configDir,
    expect: abs,
    fallback: abs('stress-configs'),
  },
  {
    variable: 'DISAGG_EXECUTOR',
    values: ['ssh', 'slurm', 'local'],
    option: (v) => ({ executor: v as 'local' }),
    read: (o) => [o.executor, es(o).kind],
    expect: (v) => [v, v],
    fallback: ['local', 'local'],
  },
  {
    variable: 'OUTPUT_PATH',
    values: ['e', 'f', 'o'],
    option: (v) => ({ outputPath: v as string }),
    read: (o) => [o.outputPath, o.placeholderVars.OUTPUT_PATH],
    expect: (v) => [abs(v), abs(v)],
    fallback: [abs('output'), abs('output')],
  },
  {
    variable: 'GPU_TYPE',
    values: ['H100', 'B200', 'GB300'],
    option: (v) => ({ gpuType: v as string }),
    read: (o) => o.gpuType,
    fallback: 'GB200',
  },
  {
    variable: 'DISAGG_TEST_LIST',
    values: ['e.txt', 'f.txt', 'o.txt'],
    option: (v) => ({ testList: v as string }),
    read: (o) => o.testList,
    expect: abs,
    fallback: undefined,
  },
  {
    variable: 'DISAGG_BATCH_SIZE',
    values: ['3', '5', 7],
    option: (v) => ({ maxJobsInFlight: v as number }),
    read: (o) => o.maxJobsInFlight,
    expect: Number,
    fallback: 2,
  },
  {
    variable: 'DISAGG_RESUME',
    values: ['0', '1', false],
    option: (v) => ({ resume: v as boolean }),
    read: (o) => o.resume,
    expect: (v) => v === true || v === '1',
    fallback: true,
  },
  {
    variable: 'DISAGG_STRICT',
    values: ['1', '0', true],
    option: (v) => ({ strict: v as boolean }),
    read: (o) => o.strict,
    expect: (v) => v === true || v === '1',
    fallback: false,
  },
  {
    variable: 'DISAGG_VERBOSE',
    values: ['1', '0', true],
    option: (v) => ({ verbose: v as boolean }),
    read: (o) => o.verbose,
    expect: (v) => v === true || v === '1',
    fallback: false,
  },
  {
    variable: 'DISAGG_SSH_HOST',
    values: ['he', 'hf', 'ho'],
    option: (v) => ({ ssh: { host: v as string } }),
    read: (o) => [es(o).ssh.host, o.ssh.host],
    expect: (v) => [v, v],
    fallback: [undefined, undefined],
  },
  {
    variable: 'DISAGG_SSH_PORT',
    values: ['2201', '2202', 2203],
    option: (v) => ({ ssh: { port: v as number } }),
    read: (o) => es(o).ssh.port,
    expect: Number,
    fallback: undefined,
  },
  {
    variable: 'DISAGG_SSH_USER',
    values: ['ue', 'uf', 'uo'],
    option: (v) => ({ ssh: { username: v as string } }),
    read: (o) => es(o).ssh.username,
    fallback: undefined,
  },
  {
    variable: 'DISAGG_SSH_KEY',
    values: ['/ke', '/kf', '/ko'],
    option: (v) => ({ ssh: { privateKeyPath: v as string } }),
    read: (o) => es(o).ssh.privateKeyPath,
    fallback: undefined,
  },
  {
    variable: 'DISAGG_SSH_KNOWN_HOSTS',
    values: ['/a:/b', '/f', '/o'],
    option: (v) => ({ ssh: { knownHostsPath: v as string } }),
    read: (o) => es(o).ssh.knownHostsPaths,
    expect: (v) => String(v).split(':'),
    fallback: undefined,
  },
  {
    variable: 'DISAGG_SSH_PROXY_JUMP',
    values: ['je', 'jf', 'jo'],
    option: (v) => ({ ssh: { proxyJump: v as string } }),
    read: (o) => es(o).ssh.proxyJump,
    fallback: undefined,
  },
  {
    variable: 'DISAGG_SSH_CONFIG',
    values: ['/ce', '/cf', '/co'],
    option: (v) => ({ ssh: { configPath: v as string } }),
    read: (o) => es(o).ssh.sshConfigPath,
    fallback: '/home/t/.ssh/config',
  },
  {
    variable: 'DISAGG_REMOTE_DIR',
    values: ['/re', '/rf', '/ro'],
    option: (v) => ({ ssh: { remoteDir: v as string } }),
    read: (o) => es(o).ssh.remoteDir,
    fallback: undefined,
  },
  {
    variable: 'DISAGG_PARTITION',
    values: ['pe', 'pf', 'po'],
    option: (v) => ({ slurm: { partition: v as string } }),
    read: (o) => es(o).partition,
    fallback: undefined,
  },
  {
    variable: 'DISAGG_ACCOUNT',
    values: ['ae', 'af', 'ao'],
    option: (v) => ({ slurm: { account: v as string } }),
    read: (o) => es(o).account,
    fallback: undefined,
  },
  {
    variable: 'DISAGG_LAUNCHER',
    values: ['submit.py', 'sbatch', 'auto'],
    option: (v) => ({ slurm: { launcher: v as 'sbatch' } }),
    read: (o) => es(o).launcher,
    fallback: undefined,
  },
  {
    variable: 'DISAGG_SBATCH_RESOURCES',
    values: ['single', 'config', 'single'],
    option: (v) => ({ slurm: { resources: v as 'config' } }),
    read: (o) => es(o).resources,
    fallback: undefined,
  },
  {
    variable: 'DISAGG_SCRIPT_DIR',
    values: ['/se', '/sf', '/so'],
    option: (v) => ({ slurm: { scriptDir: v as string } }),
    read: (o) => es(o).scriptDir,
    fallback: undefined,
  },
];

const BASE = { HOME: '/home/t', USER: 't' };

describe('settings precedence: env > DISAGG_ENV_FILE > disagg() options > defaults', () => {
  for (const row of ROWS) {
    it(row.variable, () => {
      const [e, f, o] = row.values;
      const want = row.expect ?? ((v: unknown) => v);
      const file = envFile({ [row.variable]: f });
      expect(row.read(resolveSettings({}, BASE, root))).toEqual(row.fallback);
      expect(row.read(resolveSettings(row.option(o), BASE, root))).toEqual(want(o));
      expect(row.read(resolveSettings({ ...row.option(o), envFile: file }, BASE, root))).toEqual(want(f));
      const all = resolveSettings({ ...row.option(o), envFile: file }, { ...BASE, [row.variable]: e }, root);
      expect(row.read(all)).toEqual(want(e));
      // An empty variable counts as unset.
      const empty = resolveSettings(row.option(o), { ...BASE, [row.variable]: '' }, root);
      expect(row.read(empty)).toEqual(want(o));
    });
  }

  it('variables without an option: DEBUG_MODE, DEBUG_JOB_ID, placeholders (env > env file > unset)', () => {
    const file = envFile({ DEBUG_MODE: '1', DEBUG_JOB_ID: 'f', MODEL_DIR: '/mf', SLURM_PARTITION: 'pf' });
    expect(resolveSettings({}, BASE, root)).toMatchObject({ debug: { enabled: false, jobId: undefined } });
    const fromFile = resolveSettings({ envFile: file }, BASE, root);
    expect(fromFile.debug).toEqual({ enabled: true, jobId: 'f' });
    expect(fromFile.placeholderVars).toMatchObject({ MODEL_DIR: '/mf', SLURM_PARTITION: 'pf' });
    const fromEnv = resolveSettings(
      { envFile: file },
      { ...BASE, DEBUG_MODE: '0', DEBUG_JOB_ID: 'e', MODEL_DIR: '/me' },
      root,
    );
    expect(fromEnv.debug).toEqual({ enabled: false, jobId: 'e' });
    expect(fromEnv.placeholderVars).toMatchObject({ MODEL_DIR: '/me', SLURM_PARTITION: 'pf' });
    // Only placeholder variables are carried to the workers, never the whole environment.
    expect(Object.keys(fromEnv.placeholderVars)).not.toContain('HOME');
  });

  it('DISAGG_ENV_FILE beats the envFile option and is relative to the project root', () => {
    const a = envFile({ GPU_TYPE: 'A' });
    const b = envFile({ GPU_TYPE: 'B' });
    expect(resolveSettings({ envFile: a }, { DISAGG_ENV_FILE: path.basename(b) }, root)).toMatchObject({
      gpuType: 'B',
      envFile: b,
    });
  });

  it('SCRIPT_DIR from the env file is where job scripts are looked for (and submit.py lives)', () => {
    const file = envFile({ SCRIPT_DIR: 'launcher' });
    const o = resolveSettings({ envFile: file, executor: 'slurm' }, BASE, root);
    expect(o.executorSettings.scriptSearchDirs).toEqual([path.join(root, 'launcher')]);
    // On this machine submit.py runs from the control dir, so the folder is made absolute.
    expect(o.executorSettings.scriptDir).toBe(path.join(root, 'launcher'));
    expect(o.executorSettings.scriptDirSource).toBe(`SCRIPT_DIR=launcher (in ${file})`);
    expect(o.placeholderVars.SCRIPT_DIR).toBe('launcher');
    // Over SSH the same folder is the launcher folder on the cluster for scripts not found here.
    const ssh = resolveSettings({ envFile: file, executor: 'ssh' }, BASE, root);
    expect(ssh.executorSettings.remoteScriptDir).toBe('launcher');
    expect(ssh.executorSettings.scriptDir).toBe('launcher');
    expect(o.executorSettings.remoteScriptDir).toBeUndefined();
    // DISAGG_SCRIPT_DIR names submit.py's folder when it differs from SCRIPT_DIR.
    expect(
      resolveSettings({ envFile: file }, { DISAGG_SCRIPT_DIR: '/s' }, root).executorSettings.scriptDir,
    ).toBe('/s');
  });

  it('SSH agent, local user and home come from this shell only; the child env is passed through', () => {
    const o = resolveSettings(
      {},
      { SSH_AUTH_SOCK: '/tmp/agent', USER: 'alice', HOME: '/h/a', SLURM_CONF: '/c' },
      root,
    );
    expect(o.executorSettings).toMatchObject({
      ssh: { agent: '/tmp/agent', sshConfigPath: '/h/a/.ssh/config' },
      localUser: 'alice',
      homeDir: '/h/a',
      childEnv: { SLURM_CONF: '/c' },
    });
  });

  it('local runs at most 2 jobs at once by default, clusters unlimited; local polls faster', () => {
    expect(resolveSettings({}, {}, root)).toMatchObject({
      maxJobsInFlight: 2,
      pollMinMs: 250,
      pollMaxMs: 2000,
    });
    expect(resolveSettings({ executor: 'slurm' }, {}, root)).toMatchObject({
      maxJobsInFlight: 0,
      pollMinMs: 2000,
      pollMaxMs: 30_000,
    });
  });

  it('is plain data (provided to workers) and keeps the old resolveOptions name', () => {
    const o = resolveOptions({ ssh: { host: 'h' } }, { ...BASE, DISAGG_PARTITION: 'p' }, root);
    expect(JSON.parse(JSON.stringify(o))).toEqual(JSON.parse(JSON.stringify(structuredClone(o))));
    expect(o).toEqual(resolveSettings({ ssh: { host: 'h' } }, { ...BASE, DISAGG_PARTITION: 'p' }, root));
  });

  it('invalid values are SettingsErrors naming the variable and where it was set', () => {
    const file = envFile({ DISAGG_EXECUTOR: 'pbs' });
    expect(() => resolveSettings({ envFile: file }, {}, root)).toThrow(SettingsError);
    expect(() => resolveSettings({ envFile: file }, {}, root)).toThrow(
      `DISAGG_EXECUTOR=pbs (in ${file}) is not one of local, slurm, ssh`,
    );
    expect(() => resolveSettings({}, { DISAGG_BATCH_SIZE: 'many' }, root)).toThrow(
      'DISAGG_BATCH_SIZE=many is not a whole number',
    );
    expect(() => resolveSettings({}, { DISAGG_STRICT: 'maybe' }, root)).toThrow(
      /DISAGG_STRICT=maybe must be 1 or 0/,
    );
    expect(() => resolveSettings({ slurm: { launcher: 'x' as 'sbatch' } }, {}, root)).toThrow(
      "option slurm.launcher: 'x' is not one of auto, sbatch, submit.py",
    );
    expect(() => resolveSettings({ envFile: 'missing.env' }, {}, root)).toThrow(
      new RegExp(`Cannot read env file ${path.join(root, 'missing.env')}`),
    );
  });

  it('command-line flags win over env (relative paths from the working dir)', () => {
    const env = withFlags(
      { DISAGG_CONFIG_DIR: '/e', DISAGG_EXECUTOR: 'ssh' },
      { configDir: 'c', executor: 'local', strict: true },
      '/cwd',
    );
    expect(resolveSettings({}, env, root)).toMatchObject({
      configDir: '/cwd/c',
      executor: 'local',
      strict: true,
    });
  });
});
