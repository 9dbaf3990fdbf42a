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
