// Polling that keeps failing (login node unreachable, squeue broken) for longer than its budget: the
// run says so and cancels its jobs; jobs that cannot be cancelled either stay in the ledger and the
// message names them and the command that cancels them later.

/** Default budget: polling may fail this long before the run gives up on its jobs. */
export const POLL_GIVE_UP_MS = 600_000;

/** `60 s`, `3 s`; under 10 s with one decimal (`0.2 s`), so short test budgets read right. */
export function secondsText(ms: number): string {
  return ms < 10_000 ? `${Math.round(ms / 100) / 10} s` : `${Math.round(ms / 1000)} s`;
}

export function pollFailedNotice(
  failures: number,
  failingForMs: number,
  budgetMs: number,
  error: string,
): string {
  return `poll failed (${failures} in a row, for ${secondsText(failingForMs)} of ${secondsText(budgetMs)}): ${error}`;
}

export function pollGiveUpReason(failingForMs: number, error: string): string {
  return `polling failed for ${secondsText(failingForMs)} (${error}); gave up`;
}

/** One line a person can act on: which jobs remain and how to cancel them. */
export function jobsLeftMessage(
  jobIds: readonly string[],
  ledgerFile: string,
  outputPath: string,
  cancelError: string,
): string {
  return (
    `could not cancel job(s) ${jobIds.join(', ')} either (${cancelError}); they stay listed in ` +
    `${ledgerFile} — cancel them with \`npx disagg cancel --output-path ${outputPath}\``
  );
}
