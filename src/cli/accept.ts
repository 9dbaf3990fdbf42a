// `disagg accept <test>`: accept a test's new performance level. Its latest history run becomes the start
// of its baseline, so the history gate judges the next runs against that level, not the old one.
import { acceptLatest, historyPath } from '../results/history.js';
import { parseCommandArgs, UsageError, type CliCommand } from './io.js';
import { cliSettings } from './project-options.js';
import { ParseError } from '../errors.js';

export const usage =
  'usage: disagg accept <test id> [--output-path <dir>] [--config <vitest config file>] [--json]\n' +
  '  marks the latest run of <test id> in <output path>/history.jsonl as the new baseline start:\n' +
  '  the history gate then compares later runs only with it and the runs after it';

export const run: CliCommand = async (argv, io) => {
  const { values, positionals } = parseCommandArgs(
    argv,
    usage,
    {
      'output-path': { type: 'string' },
      config: { type: 'string' },
      json: { type: 'boolean' },
    },
    true,
  );
  const [test, ...extra] = positionals;
  if (!test || extra.length > 0) throw new UsageError(`give exactly one test id\n${usage}`);
  const options = await cliSettings(io, { config: values.config, outputPath: values['output-path'] });
  // A damaged line is skipped, and said (on stderr: --json keeps stdout one object).
  const accepted = await acceptLatest(options.outputPath, test, (m) => io.stderr(`note: ${m}\n`));
  const file = historyPath(options.outputPath);
  if (!accepted) throw new ParseError(`${file} has no run of ${test}: run the test first, then accept it`);
  if (values.json) {
    io.stdout(
      `${JSON.stringify({ accepted: { test, jobId: accepted.jobId, endTime: accepted.endTime }, file })}\n`,
    );
  } else {
    io.stdout(
      `${test}: the run of job ${accepted.jobId ?? '?'} (ended ${accepted.endTime}) is the new baseline start in ${file}\n`,
    );
  }
  return 0;
};
