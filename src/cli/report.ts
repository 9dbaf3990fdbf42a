// `disagg report [output dir | perf CSV | history.jsonl] [--out file] [--json]`: the HTML report of
// results already on disk (an output dir, our CSV or the original framework's, a history file).
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { REPORT_NAME, writeReport } from '../report/build.js';
import { testsFromCsv } from '../report/from-csv.js';
import { loadHistoryFile } from '../report/from-history.js';
import { loadOutputDir } from '../report/from-output.js';
import type { ReportData } from '../report/model.js';
import { parseCommandArgs, UsageError, type CliCommand, type CliIO } from './io.js';
import { cliSettings } from './project-options.js';
import { progressBar, type ProgressBar } from './progress-bar.js';
import { ParseError } from '../errors.js';

export const usage =
  'usage: disagg report [output dir | perf CSV | history.jsonl] [--out file.html] [--config <vitest config file>] [--json]\n' +
  '  default input: $OUTPUT_PATH (./output); default --out: <output dir>/report.html, <file>.html for a file';

async function load(
  input: string,
  io: CliIO,
  json: boolean,
): Promise<{ data: ReportData; defaultOut: string }> {
  let isDir: boolean;
  try {
    isDir = (await stat(input)).isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new ParseError(`${input}: no such file or directory`);
    throw err;
  }
  if (isDir) {
    // Reading thousands of job dirs takes a while: a bar in a terminal (never with --json or in a pipe).
    let bar: ProgressBar | undefined;
    const data = await loadOutputDir(input, {
      onProgress: (done, total) => {
        bar ??= progressBar(io.stderr, !json && io.stderrIsTTY === true, 'reading tests', total);
        bar.update(done);
      },
    });
    bar?.done();
    return { data, defaultOut: path.join(input, REPORT_NAME) };
  }
  const defaultOut = input.replace(/\.[^./]+$/, '') + '.html';
  if (/\.jsonl$/i.test(input)) return { data: await loadHistoryFile(input), defaultOut };
  const skipped: string[] = [];
  const tests = await testsFromCsv(input, (n) => skipped.push(n));
  if (!tests.length)
    throw new ParseError(
      `${input}: the CSV has a header but no rows${skipped.length ? ` (${skipped.join('; ')})` : ''}`,
    );
  return {
    data: {
      title: `vitest-disagg report: ${path.basename(input)}`,
      generatedAt: new Date().toISOString(),
      source: input,
      tests,
      history: [],
      notes: [CSV_ONLY_NOTE, ...skipped],
    },
    defaultOut,
  };
}

/** Said on the page only: it is what the input is, nothing was left out. */
const CSV_ONLY_NOTE =
  'Built from a perf CSV: it holds measurements only (no verdicts, job states or accuracy).';

async function report(argv: string[], io: CliIO, json: boolean): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    usage,
    { out: { type: 'string' }, config: { type: 'string' }, json: { type: 'boolean', default: false } },
    true,
  );
  if (values.help === true) {
    io.stdout(`${usage}\n`);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`one input expected, got ${positionals.length}\n${usage}`);
  // Default input: the output dir `npx vitest` writes (disagg() options of vitest.config.*, OUTPUT_PATH).
  const input = positionals[0]
    ? path.resolve(io.cwd, positionals[0])
    : (await cliSettings(io, { config: values.config })).outputPath;
  const { data, defaultOut } = await load(input, io, json);
  const file = await writeReport(data, values.out ? path.resolve(io.cwd, values.out) : defaultOut);
  const failed = data.tests.filter((t) => t.status === 'failed').length;
  // What was left out (damaged history lines, an unreadable CSV or ledger) is said here too, not only on the page.
  const notes = data.notes.filter((n) => n !== CSV_ONLY_NOTE);
  if (json) {
    io.stdout(
      `${JSON.stringify({ report: file, source: data.source, tests: data.tests.length, failed, ...(notes.length ? { notes } : {}) })}\n`,
    );
  } else {
    for (const n of notes) io.stderr(`note: ${n}\n`);
    io.stdout(`report: ${file} (${data.tests.length} test(s), ${failed} failed)\n`);
  }
  return 0;
}

export const run: CliCommand = async (argv, io) => {
  const json = argv.includes('--json');
  if (!json) return report(argv, io, false);
  // With --json every outcome is one JSON object on stdout, errors too (scripts read one stream).
  try {
    return await report(argv, io, true);
  } catch (err) {
    const isUsage = err instanceof UsageError;
    io.stdout(`${JSON.stringify({ error: (err as Error).message.split('\n')[0], usage: isUsage })}\n`);
    return isUsage ? 2 : 1;
  }
};
