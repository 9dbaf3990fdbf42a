// Just enough of a JUnit XML reader for Vitest's own junit reporter output: test cases, their
// properties (in order, repeated names kept) and failure texts.

export interface JUnitCase {
  name: string;
  properties: Array<{ name: string; value: string }>;
  failures: string[];
  skipped: boolean;
}

function unescape(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

export function parseJUnit(xml: string): JUnitCase[] {
  if (!/^<\?xml[^>]*\?>\s*<testsuites[\s>]/.test(xml.trimStart()) || !xml.trimEnd().endsWith('</testsuites>'))
    throw new Error(`not a complete JUnit document:\n${xml.slice(0, 500)}`);
  const cases: JUnitCase[] = [];
  for (const m of xml.matchAll(/<testcase\b([^>]*)>([\s\S]*?)<\/testcase>/g)) {
    const name = /\bname="([^"]*)"/.exec(m[1])?.[1];
    if (name === undefined) throw new Error(`testcase without a name: ${m[0].slice(0, 200)}`);
    const body = m[2];
    const properties = [...body.matchAll(/<property name="([^"]*)" value="([^"]*)">/g)].map((p) => ({
      name: unescape(p[1]),
      value: unescape(p[2]),
    }));
    const failures = [...body.matchAll(/<failure\b([^>]*)>([\s\S]*?)<\/failure>/g)].map(
      (f) => `${unescape(/\bmessage="([^"]*)"/.exec(f[1])?.[1] ?? '')}\n${unescape(f[2])}`,
    );
    cases.push({ name: unescape(name), properties, failures, skipped: /<skipped\/>/.test(body) });
  }
  return cases;
}

/** The first value of a property, or undefined. */
export function prop(c: JUnitCase, name: string): string | undefined {
  return c.properties.find((p) => p.name === name)?.value;
}
