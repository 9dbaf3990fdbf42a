/**
 * SLURM `--time` formats to milliseconds: `MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`, `D-HH:MM:SS`.
 * Returns undefined for anything else (including `UNLIMITED`).
 */
export function slurmTimeToMs(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value).trim();
  const m = /^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$/.exec(text);
  if (!m) return undefined;
  const [, d, a, b, c] = m;
  const days = Number(d ?? 0);
  let h = 0;
  let min = 0;
  let s = 0;
  if (d !== undefined) {
    h = Number(a);
    min = Number(b ?? 0);
    s = Number(c ?? 0);
  } else if (c !== undefined) {
    h = Number(a);
    min = Number(b);
    s = Number(c);
  } else {
    min = Number(a);
    s = Number(b ?? 0);
  }
  return (((days * 24 + h) * 60 + min) * 60 + s) * 1000;
}

/**
 * A human interval (`5s`, `5m`, `1h30m`, `250ms`, or a bare number of seconds) to milliseconds; `0` turns
 * a periodic thing off. Returns undefined for anything else.
 */
export function parseInterval(value: string): number | undefined {
  const text = value.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let rest = text;
  const part = /^(\d+(?:\.\d+)?)(ms|s|m|h)/;
  if (!rest) return undefined;
  while (rest) {
    const m = part.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * unit[m[2]];
    rest = rest.slice(m[0].length);
  }
  return Math.round(total);
}
