// Settings are read only in the settings core (src/settings). Everything else takes resolved values, so
// one documented precedence holds everywhere. The simulator (src/sim) is a separate program and exempt.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../config/helpers.js';

const SCANNED = ['src', 'fixtures'];
const EXEMPT = ['src/settings/', 'src/sim/'];

/** Variables that are settings: reading one from any env-like object outside the core is a bypass. */
const KNOWN = [
  'OUTPUT_PATH',
  'GPU_TYPE',
  'DEBUG_MODE',
  'DEBUG_JOB_ID',
  'SSH_AUTH_SOCK',
  'USER',
  'HOME',
  'SCRIPT_DIR',
  'SLURM_PARTITION',
  'SLURM_ACCOUNT',
  'SLURM_JOB_NAME',
  'CONTAINER_IMAGE',
  'MODEL_DIR',
  'DATASET_DIR',
  'WORK_DIR',
  'HF_HOME_DIR',
  'REPO_DIR',
  'TRTLLM_WHEEL_PATH',
];

const PROCESS_ENV = /\bprocess\s*\.\s*env\b|\bprocess\s*\[\s*['"]env['"]\s*\]/;
const VAR_READ = new RegExp(
  // any identifier ending in env/Env (env, io.env, childEnv, this.env), then .NAME, ?.NAME or ['NAME']
  String.raw`\b\w*[eE]nv\s*(?:\?\.|\.)\s*(DISAGG_\w+|${KNOWN.join('|')})\b` +
    String.raw`|\b\w*[eE]nv\s*(?:\?\.)?\[\s*['"\x60](DISAGG_\w+|${KNOWN.join('|')})['"\x60]\s*\]`,
);

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|mts|js|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** `file:line: text` for every env read outside the settings core; comments are not code. */
export function envReads(root: string): string[] {
  const hits: string[] = [];
  for (const top of SCANNED) {
    for (const file of sourceFiles(path.join(root, top))) {
      const rel = path.relative(root, file).split(path.sep).join('/');
      if (EXEMPT.some((e) => rel.startsWith(e))) continue;
      fs.readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          const code = line
            .replace(/\/\*.*?(\*\/|$)/g, '')
            .replace(/\/\/.*$/, '')
            .replace(/^\s*\*.*$/, '');
          if (PROCESS_ENV.test(code) || VAR_READ.test(code)) hits.push(`${rel}:${i + 1}: ${line.trim()}`);
        });
    }
  }
  return hits;
}

describe('settings are read only in src/settings', () => {
  it('the scanner finds process.env and DISAGG_*/known variable reads (and not comments)', () => {
    const dir = fs.mkdtempSync(path.join(repoRoot, 'node_modules', '.env-scan-'));
    try {
      fs.mkdirSync(path.join(dir, 'src', 'x'), { recursive: true });
      fs.mkdirSync(path.join(dir, 'src', 'settings'), { recursive: true });
      fs.mkdirSync(path.join(dir, 'fixtures'));
      fs.writeFileSync(
        path.join(dir, 'src', 'x', 'a.ts'),
        [
          'const a = process.env;',
          'const b = io.env.DISAGG_TEST_LIST;',
          "const c = env['MODEL_DIR'];",
          'const d = this.env?.SCRIPT_DIR;',
          '// process.env in a comment',
          '/** on top of process.env */',
          'const e = options.envFile;',
          'const f = vars.MODEL_DIR;',
        ].join('\n'),
      );
      fs.writeFileSync(path.join(dir, 'src', 'settings', 'ok.ts'), 'export const e = process.env;\n');
      expect(envReads(dir)).toEqual([
        'src/x/a.ts:1: const a = process.env;',
        'src/x/a.ts:2: const b = io.env.DISAGG_TEST_LIST;',
        "src/x/a.ts:3: const c = env['MODEL_DIR'];",
        'src/x/a.ts:4: const d = this.env?.SCRIPT_DIR;',
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('no file in src/ or fixtures/ outside src/settings and src/sim reads the environment', () => {
    expect(envReads(repoRoot)).toEqual([]);
  });
});
