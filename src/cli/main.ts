import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../util/package-root.js';
import { UsageError, type CliIO, type CliModule } from './io.js';

const COMMANDS: Record<string, { summary: string; load: () => Promise<CliModule> }> = {
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
  compare: {
    summary: 'compare perf against a baseline; exit 1 on a regression',
    load: () => import('./compare.js'),
  },
  accept: {
    summary: "accept a test's latest run as its new perf baseline (history gate)",
    load: () => import('./accept.js'),
  },
  report: {
    summary: 'write the HTML report of an output dir, perf CSV or history',
    load: () => import('./report.js'),
  },
  sim: {
    summary: 'run the simulator: `sim serve --config FILE [--port N]` serves an OpenAI endpoint',
    load: () => import('./sim.js'),
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'usage: disagg <command> [options]',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'every command takes --help, --version and --json (errors then come as {"error": …} on stdout);',
    'list, validate, dry-run and cancel read the disagg() options of ./vitest.config.* (--config <file>).',
    'exit codes: 0 ok, 1 failure, 2 bad usage. docs: README.md of vitest-disagg',
  ].join('\n');
}

function version(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** Flags before a `--` (after it everything is a positional). */
function flagsOf(argv: string[]): string[] {
  const end = argv.indexOf('--');
  return end < 0 ? argv : argv.slice(0, end);
}

export async function main(argv: string[], io: CliIO): Promise<number> {
  const flags = flagsOf(argv);
  const json = flags.includes('--json');
  const fail = (code: number, message: string, command?: string): number => {
    if (json) io.stdout(`${JSON.stringify({ error: message })}\n`);
    else io.stderr(`disagg${command ? ` ${command}` : ''}: ${message}\n`);
    return code;
  };
  if (flags.includes('--version') || flags.includes('-V')) {
    io.stdout(json ? `${JSON.stringify({ version: version() })}\n` : `vitest-disagg ${version()}\n`);
    return 0;
  }
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    if (!name && json) return fail(2, 'no command given');
    io.stdout(usage() + '\n');
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    if (json) return fail(2, `unknown command "${name}"`);
    io.stderr(`disagg: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  const mod = await command.load();
  if (flags.includes('--help') || flags.includes('-h')) {
    io.stdout(json ? `${JSON.stringify({ usage: mod.usage })}\n` : `${mod.usage}\n`);
    return 0;
  }
  try {
    return await mod.run(rest, io);
  } catch (err) {
    return fail(err instanceof UsageError ? 2 : 1, (err as Error).message, name);
  }
}
