import { parseArgs, type ParseArgsConfig } from 'node:util';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** What a CLI command gets: its arguments and where to write. Returns the exit code. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** stderr is a terminal: long work may draw a progress bar there. */
  stderrIsTTY?: boolean;
}

/**
 * The real process streams for `bin/disagg.mjs`. Output to a closed pipe (`disagg cancel | head`) ends
 * the command quietly, like other command-line tools, instead of crashing with EPIPE.
 */
export function processIO(proc: NodeJS.Process = process): CliIO {
  let closed = false;
  const onError = (err: NodeJS.ErrnoException): void => {
    if (err.code !== 'EPIPE') throw err;
    if (closed) return;
    closed = true;
    // Whatever was left to say has no reader; the exit code stays what the command decided so far.
    proc.exit(typeof proc.exitCode === 'number' ? proc.exitCode : 0);
  };
  proc.stdout.on('error', onError);
  proc.stderr.on('error', onError);
  return {
    stdout: (t) => {
      if (!closed) proc.stdout.write(t);
    },
    stderr: (t) => {
      if (!closed) proc.stderr.write(t);
    },
    env: proc.env,
    cwd: proc.cwd(),
    stderrIsTTY: proc.stderr.isTTY === true,
  };
}

export type CliCommand = (argv: string[], io: CliIO) => Promise<number>;

/** Thrown for bad command-line usage; main prints the message and exits 2. */
export class UsageError extends Error {}

/** A command module: its usage text (for --help and usage errors) and its runner. */
export interface CliModule {
  usage: string;
  run: CliCommand;
}

/**
 * Flags of one command: a bad flag is a UsageError carrying the usage text; `--help`/`-h` is handled by
 * the caller when `help` is true (print usage, exit 0).
 */
type HelpOption = { help: { type: 'boolean'; short: 'h' }; version: { type: 'boolean'; short: 'V' } };
type CommandArgs<O extends OptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O & HelpOption; allowPositionals: boolean; strict: true }>
>;

export function parseCommandArgs<const O extends OptionsConfig>(
  argv: string[],
  usage: string,
  options: O,
  allowPositionals = false,
): CommandArgs<O> {
  try {
    return parseArgs({
      args: argv,
      // --help and --version are answered by main before a command runs; accepted here so they parse.
      options: {
        ...options,
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
      } as O & HelpOption,
      allowPositionals,
      strict: true,
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${usage}`);
  }
}
