// The job-dir contract (src/jobdir/files.ts) is the one place that spells a job dir's file names: a
// rename there must reach the simulator, the executors, the broker, the parsers and the results.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  accuracyLogFile,
  ACCURACY_LOG_RE,
  CONCURRENCY_DIR_RE,
  concurrencyDir,
  doneMarkerFile,
  isFetchedLog,
  slurmOutFile,
  SUBMIT_MARKER_PREFIX,
  WORKER_LOG_RE,
  workerLogFile,
} from '../../../src/jobdir/files.js';
import { repoRoot } from '../../fixtures/paths.js';

const CONTRACT = path.join('src', 'jobdir', 'files.ts');

/** Literals that name a job-dir file (generic words like `config.yaml` would also match CLI usage text). */
const LITERALS: ReadonlyArray<[string, RegExp]> = [
  ['6_bench.log', /6_bench\.log/],
  ['8_done_', /8_done_/],
  ['7_accuracy_eval', /7_accuracy_eval/],
  ['3_output_GEN/CTX', /3_output_(?:GEN|CTX)/],
  ['output_gen/ctx (old names)', /\boutput_(?:gen|ctx)_/],
  ['4_output_server.log', /4_output_server/],
  ['5_wait_server.log', /5_wait_server/],
  ['concurrency_<N>', /concurrency_(?!list)[$<\d{]/],
  ['result.json', /\bresult\.json/],
  ['results.json', /\bresults\.json/],
  ['ctx_config.yaml / gen_config.yaml', /\b(?:ctx|gen)_config\.yaml/],
  ['slurm-<id>.out/.err', /slurm-(?:%j|\$\{|<)/],
  ['submit markers', /\.disagg-submit/],
  ['simulator script/bundle', /disagg-sim\.(?:slurm|mjs)/],
  ['simulator stack file', /sim_stack\.json/],
  ['local exit-code file', /['"`]\.exit_code\b/],
  ['run jobs archive', /jobs-archive\.jsonl/],
  ['torn fragment moved aside', /\.torn-/],
  ['ledger journal', /jobs\.journal\.jsonl/],
];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(repoRoot, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(rel));
    else if (/\.(?:ts|mts|js|mjs)$/.test(e.name)) out.push(rel);
  }
  return out;
}

describe('job-dir contract', () => {
  it('no source file (src, fixtures, scripts) outside src/jobdir/files.ts spells a job-dir file name', () => {
    // scripts/build-sim.mjs runs under plain node (no TS imports): it names the bundle it builds. The
    // config type is generated from the schema, whose descriptions name files for the user.
    const exempt = new Set([
      CONTRACT,
      path.join('scripts', 'build-sim.mjs'),
      path.join('src', 'config-type.generated.ts'),
    ]);
    const files = [...sourceFiles('src'), ...sourceFiles('fixtures'), ...sourceFiles('scripts')].filter(
      (f) => !exempt.has(f),
    );
    expect(files.length).toBeGreaterThan(50);
    const offences: string[] = [];
    for (const file of files) {
      const lines = readFileSync(path.join(repoRoot, file), 'utf8').split('\n');
      lines.forEach((line, i) => {
        for (const [what, re] of LITERALS) if (re.test(line)) offences.push(`${file}:${i + 1}: ${what}`);
      });
    }
    expect(offences).toEqual([]);
  });

  it('the contract itself spells every name it is checked for', () => {
    const text = readFileSync(path.join(repoRoot, CONTRACT), 'utf8');
    for (const [what, re] of LITERALS) expect(re.test(text), what).toBe(true);
  });

  it('names and patterns agree with each other', () => {
    expect(WORKER_LOG_RE.test(workerLogFile('GEN', 3))).toBe(true);
    expect(WORKER_LOG_RE.test(workerLogFile('CTX', 0))).toBe(true);
    expect(ACCURACY_LOG_RE.test(accuracyLogFile('gsm8k'))).toBe(true);
    expect(CONCURRENCY_DIR_RE.exec(concurrencyDir(16))?.[1]).toBe('16');
    expect(doneMarkerFile('42')).toMatch(/42/);
    expect(slurmOutFile('42')).toMatch(/42\.out$/);
    expect(isFetchedLog(`${SUBMIT_MARKER_PREFIX}-0.out`)).toBe(false);
    expect(isFetchedLog(`${concurrencyDir(1)}/x`)).toBe(true);
  });
});
