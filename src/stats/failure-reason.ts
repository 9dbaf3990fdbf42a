// Why a verdict step failed a test, as data: the step records one line in the test's meta
// (`meta.disagg.failureReason`) as it throws, and the run summary prints that line instead of recognising
// the verdict by the wording of its message. Meta, not a property of the thrown Error: Vitest prints an
// Error's own properties under the failure ("Serialized Error: …"), which would repeat the verdict.
import type { DatasetVerdict, DisaggMeta } from '../types.js';

/** The accuracy step's reason when no dataset was judged (the config lists none). */
export const NO_ACCURACY_DATASET =
  'accuracy FAILED: no accuracy dataset was judged (metadata.accuracy.datasets is empty)';

/** The accuracy step's reason for its failed verdicts (in the order of its message): the first one's headline. */
export function accuracyFailureReason(failed: readonly Pick<DatasetVerdict, 'headline'>[]): string {
  const first = failed[0];
  if (!first) return NO_ACCURACY_DATASET;
  const more = failed.length - 1;
  return `accuracy ${first.headline}${more > 0 ? ` (and ${more} more)` : ''}`;
}

/** Records why the step about to throw fails its test (a test without disagg meta has no summary line). */
export function recordFailureReason(
  meta: Pick<DisaggMeta, 'failureReason'> | undefined,
  reason: string,
): void {
  if (meta) meta.failureReason = reason;
}

/**
 * The reason a step recorded, if any. Meta crosses from the worker to the main process and a hand-written
 * test may write it too: only a non-blank string counts.
 */
export function failureReasonOf(meta: { failureReason?: unknown } | undefined): string | undefined {
  const reason = meta?.failureReason;
  return typeof reason === 'string' && reason.trim() !== '' ? reason : undefined;
}
