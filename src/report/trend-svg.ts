// A trend chart (one metric over a test's runs) drawn straight to SVG. A year of nightly history is
// thousands of these small charts; through Vega-Lite's compile/parse/render each costs ~30 ms, here well
// under 1 ms. The look is the Vega-Lite one of the other charts: same fonts, grid, colours, marks and the
// same SVG classes (`mark-line`, `mark-symbol`, `role-axis-title`), each point's tooltip as a <title>.
import { niceTicks } from './nice-ticks.js';

/** One point of a trend: a run's value and its gate verdict. */
export interface TrendRow {
  /** Run end, ISO 8601. */
  at: string;
  run: string;
  value: number;
  gate: string;
}

export interface TrendSvgOptions {
  /** The y axis title: the metric with its unit. */
  yTitle: string;
  /** Show the gate legend (only for a gated series: otherwise every point is "no gate"). */
  legend: boolean;
}

const FONT = 'system-ui, -apple-system, &quot;Segoe UI&quot;, Roboto, sans-serif';
const WIDTH = 230;
const HEIGHT = 120;
const GATE_COLOURS: Record<string, string> = { passed: '#16a34a', failed: '#dc2626', 'no gate': '#9ca3af' };
/** Point size 60 (area, as Vega-Lite's): radius √(60/π). */
const R = Math.round(Math.sqrt(60 / Math.PI) * 10) / 10;
/** A point's circle from (x, y) in relative arcs: thousands of points, so a few bytes each count. */
const ARCS = `a${R},${R},0,1,1-${2 * R},0a${R},${R},0,1,1,${2 * R},0`;
const circleAt = (x: number, y: number): string => `M${num(x + R)},${num(y)}${ARCS}`;

const ESCAPED: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ESCAPED[c] as string);
/** A tick label's width in px at 11 px (digits ~6.2 px, separators narrower): enough to keep clear of it. */
const labelWidth = (label: string): number =>
  [...label].reduce((w, c) => w + (c === ',' || c === '.' ? 3.2 : c === '-' ? 4 : 6.4), 0);
const num = (n: number): string => String(Math.round(n * 10) / 10);
// The font is set once on the <svg> and inherited: thousands of charts of ~10 labels each.
const text = (attrs: string, size: number, body: string, bold = false): string =>
  `<text ${attrs} font-size="${size}px"${bold ? ' font-weight="600"' : ''} fill="#000">${esc(body)}</text>`;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const TIME_STEPS = [
  MINUTE,
  5 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
  14 * DAY,
  30 * DAY,
  91 * DAY,
  365 * DAY,
];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/** `%d %b %H:%M` in UTC: 24-hour times, the same on every reader's machine. */
export function utcLabel(t: number): string {
  const d = new Date(t);
  return `${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
}

/** At most `count` time ticks, at round UTC times inside [lo, hi]. */
export function timeTicks(lo: number, hi: number, count = 4): number[] {
  const span = Math.max(hi - lo, MINUTE);
  const step = TIME_STEPS.find((s) => span / s <= count) ?? Math.ceil(span / count / DAY) * DAY;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi; t += step) ticks.push(t);
  return ticks.length ? ticks : [lo];
}

// Up to 4 decimals: values that differ only in the 3rd decimal (a steady TPOT) must differ on hover too.
const fmtValue = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 4 });

/** The hover text of a point: run id, end time (24-hour UTC), value, gate verdict. */
export function pointTitle(row: TrendRow, yTitle: string): string {
  const ended = row.at.replace('T', ' ').replace(/(\.\d+)?Z$/, '');
  return `run id: ${row.run}; ended (UTC): ${ended}; ${yTitle}: ${fmtValue.format(row.value)}; gate: ${row.gate}`;
}

/** The SVG of one trend chart: grey line through the runs, each run a point coloured by its gate. */
export function trendSvg(rows: readonly TrendRow[], opts: TrendSvgOptions): string {
  const times = rows.map((r) => Date.parse(r.at));
  let tLo = Infinity;
  let tHi = -Infinity;
  let vLo = Infinity;
  let vHi = -Infinity;
  rows.forEach((r, i) => {
    const t = times[i] as number;
    if (t < tLo) tLo = t;
    if (t > tHi) tHi = t;
    if (r.value < vLo) vLo = r.value;
    if (r.value > vHi) vHi = r.value;
  });
  if (!(tHi > tLo)) [tLo, tHi] = [tLo - HOUR, tHi + HOUR];
  const { ticks: yTicks, labels: yLabels, lo: yLo, hi: yHi } = niceTicks(vLo, vHi);
  // Room above the plot for a y title longer than the plot is high (about 7 px a bold character).
  const TOP = Math.max(10, Math.ceil((opts.yTitle.length * 7) / 2 - HEIGHT / 2) + 6);
  // The y title clear of the widest tick label (long ones: 1,000,000 or 12.3405), the plot moved right.
  const titleX = Math.max(55, Math.ceil(7 + Math.max(...yLabels.map(labelWidth)) + 9));
  const LEFT = titleX + 24;
  const x = (t: number) => ((t - tLo) / (tHi - tLo)) * WIDTH;
  const y = (v: number) => HEIGHT - ((v - yLo) / (yHi - yLo)) * HEIGHT;
  const xTicks = timeTicks(tLo, tHi);
  const legendTop = TOP + HEIGHT + 100;
  const w = LEFT + WIDTH + 9;
  const h = opts.legend ? legendTop + 30 : legendTop;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" class="marks" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="${FONT}">`,
    `<rect width="${w}" height="${h}" fill="white"/>`,
    `<g fill="none" transform="translate(${LEFT},${TOP})">`,
    // Grid first, under the marks.
    `<g class="mark-rule role-axis-grid">`,
    ...xTicks.map((t) => `<line x1="${num(x(t))}" x2="${num(x(t))}" y2="${HEIGHT}" stroke="#e5e7eb"/>`),
    ...yTicks.map((v) => `<line y1="${num(y(v))}" y2="${num(y(v))}" x2="${WIDTH}" stroke="#e5e7eb"/>`),
    `</g>`,
    // x axis: ticks, labels at -30°, title.
    `<g class="mark-group role-axis" aria-label="X-axis titled 'run end (UTC)'">`,
    `<line y1="${HEIGHT}" y2="${HEIGHT}" x2="${WIDTH}" stroke="#888"/>`,
    ...xTicks.map(
      (t) =>
        `<line x1="${num(x(t))}" x2="${num(x(t))}" y1="${HEIGHT}" y2="${HEIGHT + 5}" stroke="#888"/>` +
        text(
          `text-anchor="end" transform="translate(${num(x(t))},${HEIGHT + 7}) rotate(330) translate(0,9)"`,
          11,
          utcLabel(t),
        ),
    ),
    `<g class="mark-text role-axis-title">`,
    text(
      `text-anchor="middle" transform="translate(${WIDTH / 2},${HEIGHT + 82})"`,
      12,
      'run end (UTC)',
      true,
    ),
    `</g></g>`,
    // y axis: ticks, labels, the metric with its unit as title.
    `<g class="mark-group role-axis" aria-label="Y-axis titled '${esc(opts.yTitle)}'">`,
    `<line y2="${HEIGHT}" stroke="#888"/>`,
    ...yTicks.map(
      (v, i) =>
        `<line y1="${num(y(v))}" y2="${num(y(v))}" x2="-5" stroke="#888"/>` +
        text(`text-anchor="end" transform="translate(-7,${num(y(v) + 3)})"`, 11, yLabels[i] as string),
    ),
    `<g class="mark-text role-axis-title">`,
    text(
      `text-anchor="middle" transform="translate(-${num(titleX)},${HEIGHT / 2}) rotate(-90) translate(0,-3)"`,
      12,
      opts.yTitle,
      true,
    ),
    `</g></g>`,
  ];
  const px = times.map(x);
  const py = rows.map((r) => y(r.value));
  const coords = rows.map((_, i) => [num(px[i] as number), num(py[i] as number)] as const);
  out.push(
    `<g class="mark-line role-mark"><path d="M${coords.map(([a, b]) => `${a},${b}`).join('L')}" stroke="#6b7280" stroke-width="2"/></g>`,
    // The points' opacity once, inherited (fill-opacity is an inherited property).
    `<g class="mark-symbol role-mark" fill-opacity="0.7">`,
  );
  rows.forEach((r, i) => {
    const colour = GATE_COLOURS[r.gate] ?? GATE_COLOURS['no gate'];
    out.push(
      `<path aria-roledescription="point" d="${circleAt(px[i] as number, py[i] as number)}" fill="${colour}"><title>${esc(pointTitle(r, opts.yTitle))}</title></path>`,
    );
  });
  out.push(`</g>`);
  if (opts.legend) {
    out.push(
      `<g class="mark-group role-legend" transform="translate(0,${legendTop - TOP})">`,
      `<g class="mark-text role-legend-title">${text('transform="translate(0,9)"', 12, 'gate', true)}</g>`,
    );
    Object.entries(GATE_COLOURS).forEach(([gate, colour], i) => {
      const left = i * 78;
      out.push(
        `<path transform="translate(${left + 6},23)" d="M5,0A5,5,0,1,1,-5,0A5,5,0,1,1,5,0" fill="${colour}" opacity="0.7"/>`,
        text(`transform="translate(${left + 16},26)"`, 11, gate),
      );
    });
    out.push(`</g>`);
  }
  out.push(`</g></svg>`);
  return out.join('');
}
