/** What a CLI command gets: its arguments and where to write. Returns the exit code. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export type CliCommand = (argv: string[], io: CliIO) => Promise<number>;

/** Thrown for bad command-line usage; main prints the message and exits 2. */
export class UsageError extends Error {}
