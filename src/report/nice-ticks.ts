// The y scale of a trend chart: a domain holding every value with a little headroom and 3–6 round
// ticks (1, 2 or 5 × 10^k apart) with labels that tell them apart. A flat series, a single point or
// values that differ only in the 3rd decimal must still show a readable scale (earlier code could give
// one or two ticks there).

export interface NiceScale {
  /** The axis domain: every value inside, with headroom on both sides. */
  lo: number;
  hi: number;
  /** Ascending multiples of `step`, all inside [lo, hi]. */
  ticks: number[];
  step: number;
  /** One label per tick, distinct, as many decimals as the step needs, thousands grouped. */
  labels: string[];
}

export interface NiceTicksOptions {
  /** Fewest ticks (default 3). */
  minTicks?: number;
  /** Most ticks when a step between the two bounds exists (default 6); else the first step above. */
  maxTicks?: number;
}

/** Share of the data's span added on each side, so no point sits on the plot's edge. */
const HEADROOM = 0.05;
/** Relative span under which doubles cannot hold distinct round ticks: the series counts as flat. */
const FLAT = 1e-12;
/** The tick count aimed at between the bounds. */
const AIM = 5;
const MULTIPLES = [1, 2, 5] as const;

/** `n × m × 10^k` as the double nearest the decimal (no `0.30000000000000004`), never `-0`. */
function tickValue(n: number, m: number, k: number): number {
  // Dividing an exact integer by an exact power of ten rounds once, to the nearest double.
  const v = k >= 0 ? n * m * 10 ** k : (n * m) / 10 ** -k;
  return v + 0;
}

/** One formatter per decimal count: building an Intl.NumberFormat costs more than a chart's other work. */
const fixedFormats = new Map<number, Intl.NumberFormat>();
function fixed(decimals: number): Intl.NumberFormat {
  let f = fixedFormats.get(decimals);
  if (!f) {
    f = new Intl.NumberFormat('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
    fixedFormats.set(decimals, f);
  }
  return f;
}

/** Labels for ticks `step = m × 10^k` apart: the step's last digit shown, so neighbours differ. */
function tickLabels(ticks: readonly number[], k: number): string[] {
  const biggest = Math.max(...ticks.map(Math.abs));
  // Beyond what fixed notation reads well (or Intl allows): exponent form with the step's digit.
  if (k < -12 || biggest >= 1e15) {
    const exponent = Math.floor(Math.log10(biggest || 1));
    const digits = Math.min(100, Math.max(0, exponent - k));
    return ticks.map((v) => v.toExponential(digits));
  }
  const format = fixed(Math.max(0, -k));
  return ticks.map((v) => format.format(v));
}

/**
 * The y scale over values from `min` to `max`: 3–6 round ticks (aiming at 5) inside a domain with 5%
 * headroom. A flat series gets a margin of about a tenth of its order of magnitude (value 0: 0..1).
 * Non-finite bounds count as absent (none at all: 0..1).
 */
export function niceTicks(min: number, max: number, opts: NiceTicksOptions = {}): NiceScale {
  const minTicks = Math.max(2, opts.minTicks ?? 3);
  const maxTicks = Math.max(minTicks, opts.maxTicks ?? 6);
  let a = Number.isFinite(min) ? min : Number.isFinite(max) ? max : 0;
  let b = Number.isFinite(max) ? max : a;
  if (a > b) [a, b] = [b, a];
  const size = Math.max(Math.abs(a), Math.abs(b));
  if (b - a <= size * FLAT) {
    const v = (a + b) / 2;
    if (v === 0) [a, b] = [0, 1];
    else {
      const margin = 10 ** (Math.floor(Math.log10(Math.abs(v))) - 1);
      [a, b] = [v - margin, v + margin];
    }
  }
  const pad = (b - a) * HEADROOM;
  const lo = a - pad;
  const hi = b + pad;
  // Candidate steps from a hundredth of the domain up to the whole of it, finest first.
  const top = Math.floor(Math.log10(hi - lo));
  let best: { n0: number; count: number; m: number; k: number } | undefined;
  let fallback: typeof best;
  for (let k = top - 2; k <= top; k++) {
    for (const m of MULTIPLES) {
      const step = tickValue(1, m, k);
      const n0 = Math.ceil(lo / step);
      const count = Math.floor(hi / step) - n0 + 1;
      if (count < minTicks) continue;
      if (count <= maxTicks) {
        if (!best || Math.abs(count - AIM) < Math.abs(best.count - AIM)) best = { n0, count, m, k };
      } else fallback = { n0, count, m, k };
    }
  }
  // A step is always found: a hundredth of the domain gives dozens of ticks.
  const pick = (best ?? fallback) as NonNullable<typeof best>;
  const ticks = Array.from({ length: pick.count }, (_, i) => tickValue(pick.n0 + i, pick.m, pick.k));
  return {
    // A tick the division put a hair outside the domain widens it rather than falls off it.
    lo: Math.min(lo, ticks[0] as number),
    hi: Math.max(hi, ticks[ticks.length - 1] as number),
    ticks,
    step: tickValue(1, pick.m, pick.k),
    labels: tickLabels(ticks, pick.k),
  };
}
