// `disagg parse bench <log|dir> [--json]` and `disagg parse accuracy <log|dir> [--json]`.
// The JSON shapes are a stable API (README): {"blocks":[…],"missing":[…]} and {"runs":[…]}.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { AccuracyRun, BenchParseResult } from '../types.js';
import { findAccuracyLogs, parseAccuracyLogs } from '../parsers/accuracy.js';
import { loadBenchResults, parseBenchLog } from '../parsers/bench.js';
import { parseCommandArgs, UsageError, type CliCommand, type CliIO } from './io.js';

export const usage = 'usage: disagg parse bench|accuracy <log file or log dir> [--json]';

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new UsageError(`no such file or directory: ${p}`);
    throw err;
  }
}

function benchText(result: BenchParseResult): string {
  const lines: string[] = [];
  result.blocks.forEach((b, i) => {
    const flags = [b.warmup ? 'warm-up' : '', b.completed ? '' : 'INCOMPLETE (no done line)'].filter(Boolean);
    lines.push(
      `block ${i + 1}: concurrency ${b.concurrency ?? '?'}${flags.length ? ` [${flags.join(', ')}]` : ''}`,
    );
    for (const [k, v] of Object.entries(b.metrics)) lines.push(`  ${k.padEnd(32)} ${v}`);
  });
  if (result.blocks.length === 0) lines.push('no Serving Benchmark Result block found');
  if (result.missing.length > 0)
    lines.push(`announced but no result block: concurrency ${result.missing.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

function accuracyText(runs: AccuracyRun[]): string {
  if (runs.length === 0) return 'no lm-eval result table found\n';
  const lines: string[] = [];
  runs.forEach((run, i) => {
    lines.push(`run ${i + 1}${run.header ? `: ${run.header}` : ''}`);
    for (const r of run.results) {
      const err = r.stderr === null ? '' : ` ± ${r.stderr}`;
      lines.push(`  ${r.task.padEnd(20)} ${r.filter.padEnd(18)} ${r.metric.padEnd(14)} ${r.value}${err}`);
    }
  });
  return `${lines.join('\n')}\n`;
}

async function parseBench(target: string): Promise<BenchParseResult> {
  // A dir means a job's log dir: per-concurrency result files are preferred there, as in the fixtures.
  return (await isDirectory(target)) ? loadBenchResults(target) : parseBenchLog(target);
}

async function parseAccuracy(target: string): Promise<AccuracyRun[]> {
  const files = (await isDirectory(target)) ? await findAccuracyLogs(target) : [target];
  return parseAccuracyLogs(files);
}

export const run: CliCommand = async (argv: string[], io: CliIO): Promise<number> => {
  const parsed = parseCommandArgs(argv, usage, { json: { type: 'boolean', default: false } }, true);
  if (parsed.values.help === true) {
    io.stdout(`${usage}\n`);
    return 0;
  }
  const [kind, target, ...extra] = parsed.positionals;
  if ((kind !== 'bench' && kind !== 'accuracy') || target === undefined || extra.length > 0) {
    throw new UsageError(usage);
  }
  const file = path.resolve(io.cwd, target);
  const json = parsed.values.json === true;
  if (kind === 'bench') {
    const result = await parseBench(file);
    io.stdout(
      json ? `${JSON.stringify({ blocks: result.blocks, missing: result.missing })}\n` : benchText(result),
    );
    return 0;
  }
  const runs = await parseAccuracy(file);
  io.stdout(json ? `${JSON.stringify({ runs })}\n` : accuracyText(runs));
  return 0;
};
