import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertSubmittable, resolvePlaceholders } from '../../../src/config/index.js';
import { parseEnvFile } from '../../../src/settings/env-file.js';
import { resolveSettings } from '../../../src/settings/index.js';
import type { DisaggConfig } from '../../../src/types.js';
import { loadText, MINIMAL, tmpDir } from './helpers.js';

const cfg = (): DisaggConfig => ({
  metadata: {
    model_name: 'kimi-k2-thinking-fp4',
    model_dir_name: 'Kimi',
    dataset_file: 'ds/a.json',
    script_file: 'disaggr_torch.slurm',
  },
  slurm: { partition: '<partition>', account: '<account>', job_name: 'explicit-name' },
  benchmark: { dataset_file: '<dataset_file>' },
  environment: {
    container_mount: '<container_mount>',
    container_image: '<container_image>',
    model_path: '<model_path>',
    work_dir: '<full_path_to_work_dir>',
  },
  accuracy: {
    env_var: { HF_HOME: '<hf_home_path>' },
    tasks: { t: { extra_kwargs: { custom_config: '<repo_path>/tests/x.yaml' } } },
  },
  worker_config: { gen: { note: '<model_path>' }, ctx: {} },
});

const ENV = {
  SLURM_PARTITION: 'batch',
  SLURM_ACCOUNT: 'acct',
  CONTAINER_IMAGE: 'img.sqsh',
  MODEL_DIR: '/models',
  DATASET_DIR: '/data',
  SCRIPT_DIR: '/scripts',
  WORK_DIR: '/work',
  OUTPUT_PATH: '/out',
  HF_HOME_DIR: '/hf',
  REPO_DIR: '/repo',
  TRTLLM_WHEEL_PATH: '/wheels/trtllm.whl',
};

describe('resolvePlaceholders', () => {
  it('fills placeholders from env with the original names and derived values', () => {
    const r = resolvePlaceholders(cfg(), ENV);
    expect(r.unresolved).toEqual([]);
    expect(r.config.slurm).toMatchObject({ partition: 'batch', account: 'acct', job_name: 'explicit-name' });
    expect(r.config.benchmark?.dataset_file).toBe('/data/ds/a.json');
    expect(r.config.environment).toEqual({
      container_mount:
        '/work:/work,/scripts:/scripts,/models:/models,/out:/out,/data:/data,/repo:/repo,/wheels:/wheels,tmpfs:/dev/shm:size=640G',
      container_image: 'img.sqsh',
      model_path: '/models/Kimi',
      work_dir: '/scripts',
    });
    expect(r.config.accuracy).toEqual({
      env_var: { HF_HOME: '/hf' },
      tasks: { t: { extra_kwargs: { custom_config: '/repo/tests/x.yaml' } } },
    });
    // worker configs go to TensorRT-LLM untouched
    expect(r.config.worker_config?.gen).toEqual({ note: '<model_path>' });
    expect(Object.keys(r.resolvedVars).sort()).toEqual(Object.keys(ENV).sort());
  });

  it('never overwrites explicit values and does not mutate the input', () => {
    const input = cfg();
    input.slurm = { partition: 'mine', account: '<account>' };
    const r = resolvePlaceholders(input, ENV);
    expect(r.config.slurm).toEqual({ partition: 'mine', account: 'acct' });
    expect(input.slurm.account).toBe('<account>');
  });

  it('lists unresolved placeholders with the variable that fills them', () => {
    const r = resolvePlaceholders(cfg(), { SLURM_PARTITION: 'p', MODEL_DIR: '/m' });
    expect(r.unresolved).toEqual(
      expect.arrayContaining([
        { path: 'slurm.account', placeholder: '<account>', variable: 'SLURM_ACCOUNT' },
        {
          path: 'environment.container_mount',
          placeholder: '<container_mount>',
          variable: 'WORK_DIR, SCRIPT_DIR, OUTPUT_PATH',
        },
        {
          path: 'environment.container_image',
          placeholder: '<container_image>',
          variable: 'CONTAINER_IMAGE',
        },
        {
          path: 'accuracy.tasks.t.extra_kwargs.custom_config',
          placeholder: '<repo_path>',
          variable: 'REPO_DIR',
        },
      ]),
    );
    expect(r.config.environment?.model_path).toBe('/m/Kimi');
  });

  it('reads DISAGG_ENV_FILE; the process environment wins over the file', () => {
    const file = path.join(tmpDir(), 'cluster.env');
    fs.writeFileSync(file, '# cluster\nexport SLURM_PARTITION="from-file"\nSLURM_ACCOUNT=acct # trailing\n');
    const vars = resolveSettings({}, { DISAGG_ENV_FILE: file, SLURM_PARTITION: 'from-env' }).placeholderVars;
    const r = resolvePlaceholders(cfg(), vars);
    expect(r.config.slurm).toMatchObject({ partition: 'from-env', account: 'acct' });
    expect(() => resolveSettings({}, { DISAGG_ENV_FILE: '/nope/x.env' })).toThrow(
      /Cannot read env file \/nope\/x.env/,
    );
  });

  it('parses env files: export, quotes, comments, $VAR expansion', () => {
    expect(
      parseEnvFile(
        [
          '# comment',
          '',
          'export A=1',
          "B='two words'",
          'C="$A-x" ',
          'D=${A}/y # note',
          "E='$A'",
          'not a line',
        ].join('\n'),
      ),
    ).toEqual({ A: '1', B: 'two words', C: '1-x', D: '1/y', E: '$A' });
  });
});

describe('assertSubmittable', () => {
  it('throws naming each unresolved field and its variable', () => {
    const loaded = loadText(
      MINIMAL + 'slurm:\n  partition: <partition>\nenvironment:\n  container_image: <container_image>\n',
      {
        vars: { CONTAINER_IMAGE: 'img' },
      },
    );
    expect(loaded.unresolved).toEqual([
      { path: 'slurm.partition', placeholder: '<partition>', variable: 'SLURM_PARTITION' },
    ]);
    expect(() => assertSubmittable(loaded)).toThrow(
      /slurm\.partition is still the placeholder "<partition>": set SLURM_PARTITION/,
    );
    const ok = loadText(MINIMAL + 'slurm:\n  partition: <partition>\n', { vars: { SLURM_PARTITION: 'p' } });
    expect(() => assertSubmittable(ok)).not.toThrow();
    expect(ok.config.slurm?.partition).toBe('p');
  });

  it('names unknown placeholders too', () => {
    const loaded = loadText(MINIMAL + 'environment:\n  cuda_architectures: <your arch>\n');
    expect(() => assertSubmittable(loaded)).toThrow(
      /environment\.cuda_architectures is still the placeholder "<your arch>": no environment variable/,
    );
  });
});
