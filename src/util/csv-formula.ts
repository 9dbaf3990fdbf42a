// Spreadsheet formula injection (CWE-1236): a CSV field starting with `=`, `+`, `-`, `@`, a tab or a
// carriage return is run as a formula when the file is opened in Excel or LibreOffice, so a metric
// name such as `=HYPERLINK("http://…")` in a config would end up a live link in whoever opens the perf
// CSV. The usual remedy (OWASP): such a field gets a leading `'`, which spreadsheets show as text. Numbers
// stay numbers (`-1.5` is no formula), and a field already starting with `'` before one of those
// characters gets one more, so the reader's undo is exact.

const TRIGGER = /^'*[=+\-@\t\r]/;
/** A plain number as written by JavaScript or Python (`-1.5`, `+3`, `1e-5`, `-inf`, `nan`). */
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]?(?:inf|infinity|nan)$/i;

/** The field as written to a CSV: a non-numeric text that a spreadsheet would run gets a `'` first. */
export function neutraliseCsvField<T extends string | number>(value: T): T | string {
  if (typeof value !== 'string' || !TRIGGER.test(value) || NUMBER.test(value)) return value;
  return `'${value}`;
}

/** The field as it was before `neutraliseCsvField` (a text without the added `'` is unchanged). */
export function unneutraliseCsvField(value: string): string {
  return /^'+[=+\-@\t\r]/.test(value) ? value.slice(1) : value;
}
