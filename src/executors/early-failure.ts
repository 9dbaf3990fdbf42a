// Fatal patterns in worker logs that doom a job: seeing one, we cancel early instead of burning GPU
// hours until the time limit. The first two are the original framework's; the third catches any
// fatal `[E]` traceback (the original's file-name glob stopped matching when logs were renamed).

export interface FatalPattern {
  name: string;
  regex: RegExp;
}

export const FATAL_PATTERNS: readonly FatalPattern[] = [
  { name: 'MPI communication error', regex: /\[E\]\s+Traceback[\s\S]*?mpi4py\.MPI\.Comm\.allgather/ },
  { name: 'Pickle serialization error', regex: /\[E\]\s+Traceback[\s\S]*?pickle data was truncated/ },
  {
    name: 'Fatal worker error',
    regex:
      /\[E\]\s+Traceback \(most recent call last\):[\s\S]*?\n\s*(?:\S+: )?([A-Za-z_.]*(?:Error|Exception)[^\n]*)/,
  },
];

/** Bytes of each worker log's tail to scan (the original read the last 100 KiB). */
export const SCAN_TAIL_BYTES = 100 * 1024;

/** The fatal line in one worker log's tail, as `<file>: <pattern name>: <line>`, or undefined. */
export function findFatal(fileName: string, tail: string): string | undefined {
  for (const { name, regex } of FATAL_PATTERNS) {
    const m = regex.exec(tail);
    if (!m) continue;
    const line =
      m[1] ??
      m[0]
        .split('\n')
        .filter((l) => l.trim())
        .pop() ??
      '';
    return `${fileName}: ${name}: ${line.trim()}`;
  }
  return undefined;
}
