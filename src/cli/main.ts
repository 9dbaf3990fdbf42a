import { UsageError, type CliCommand, type CliIO } from './io.js';

const COMMANDS: Record<string, { summary: string; load: () => Promise<{ run: CliCommand }> }> = {
  list: {
    summary: 'list every config: test name, file, type, category, tags, skip reason',
    load: () => import('./list.js'),
  },
  validate: { summary: 'validate configs; exit 1 on any error', load: () => import('./validate.js') },
  parse: {
    summary: 'parse a benchmark or accuracy log (bench|accuracy <log>)',
    load: () => import('./parse.js'),
  },
  threshold: {
    summary: 'compute the accuracy hypothesis-test threshold',
    load: () => import('./threshold.js'),
  },
  'dry-run': {
    summary: 'show what a config would upload and run, without submitting',
    load: () => import('./dry-run.js'),
  },
  cancel: { summary: 'cancel every live job in $OUTPUT_PATH/jobs.json', load: () => import('./cancel.js') },
  report: {
    summary: 'write the HTML report of an output dir, perf CSV or history',
    load: () => import('./report.js'),
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'usage: disagg <command> [options]   (every command takes --json)',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'docs: README.md of vitest-disagg',
  ].join('\n');
}

export async function main(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(usage() + '\n');
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr(`disagg: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  try {
    return await (await command.load()).run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`disagg ${name}: ${err.message}\n`);
      return 2;
    }
    io.stderr(`disagg ${name}: ${(err as Error).message}\n`);
    return 1;
  }
}
