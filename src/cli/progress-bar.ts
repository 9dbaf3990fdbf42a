// A progress bar for long CLI work (`disagg report` over a big output dir, `disagg cancel` of many jobs),
// drawn on stderr only in a terminal: pipes, CI logs and --json output never see it.

export interface ProgressBar {
  /** `done` of `total` finished. */
  update(done: number): void;
  /** Clear the bar's line. */
  done(): void;
}

const WIDTH = 30;
const NONE: ProgressBar = { update: () => undefined, done: () => undefined };

/** The bar line for `done` of `total` (pure, for tests). */
export function renderBar(label: string, done: number, total: number): string {
  const share = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(share * WIDTH);
  return `${label} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${done}/${total}`;
}

/**
 * A bar on `write` (stderr) when `tty`; a no-op otherwise. Small totals draw no bar: it would flash.
 */
export function progressBar(
  write: (text: string) => void,
  tty: boolean,
  label: string,
  total: number,
  minTotal = 10,
): ProgressBar {
  if (!tty || total < minTotal) return NONE;
  let last = '';
  return {
    update(done) {
      const line = renderBar(label, done, total);
      if (line !== last) write(`\r${line}`);
      last = line;
    },
    done() {
      if (last) write(`\r${' '.repeat(last.length)}\r`);
      last = '';
    },
  };
}
