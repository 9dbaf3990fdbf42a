// Reporters whose output is a document on stdout (JUnit or JSON without an output file, TAP): CI jobs
// redirect it (`vitest run --reporter=junit > junit.xml`), so the closing summary must not print there.
import { JUnitReporter } from 'vitest/node';

/** Vitest's reporters that print a machine-readable document, with the output file each may take. */
const DOCUMENT_REPORTERS = ['junit', 'json', 'tap', 'tap-flat'] as const;

type OutputFile = string | Partial<Record<string, string>> | undefined;

function nameAndOptions(entry: unknown): [string | undefined, { outputFile?: string }] {
  if (typeof entry === 'string') return [entry, {}];
  if (Array.isArray(entry) && typeof entry[0] === 'string')
    return [entry[0], (entry[1] ?? {}) as { outputFile?: string }];
  // The plugin swaps `junit` for its own JUnit reporter instance, which keeps the entry's options.
  if (entry instanceof JUnitReporter)
    return ['junit', ((entry as unknown as { options?: { outputFile?: string } }).options ?? {}) as object];
  return [undefined, {}];
}

/** True when one of the run's reporters writes its document to stdout. */
export function stdoutTaken(reporters: readonly unknown[], outputFile: OutputFile): boolean {
  return reporters.some((entry) => {
    const [name, options] = nameAndOptions(entry);
    if (!name || !(DOCUMENT_REPORTERS as readonly string[]).includes(name)) return false;
    if (name === 'tap' || name === 'tap-flat') return true;
    const file = options.outputFile ?? (typeof outputFile === 'string' ? outputFile : outputFile?.[name]);
    return !file;
  });
}
