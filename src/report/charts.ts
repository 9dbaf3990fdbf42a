// Charts as inline SVG, rendered at report-writing time with Vega-Lite (compiled to Vega, drawn by
// Vega's headless SVG renderer): the page needs no script and no network to show them.
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import {
  throughputPerGpu,
  throughputPerUser,
  type AccuracyPoint,
  type HistoryEntry,
  type ReportTest,
} from './model.js';
import { KEY_METRICS, TREND_RUNS } from './history.js';
import { metricLabel } from './metric-labels.js';
import type { ParetoGroup } from './pareto.js';
import { trendSvg, type TrendRow } from './trend-svg.js';

export interface Chart {
  /** Stable id, used by the page and the browser test (`perf-throughput`, `perf-latency`, …). */
  kind: string;
  title: string;
  svg: string;
  /** Extra `data-*` attributes of the chart's figure (a trend's metric and concurrency). */
  attrs?: Record<string, string>;
}

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

/** One look for every chart: readable fonts, light grid, no border. */
const CONFIG = {
  font: FONT,
  background: 'white',
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 600, gridColor: '#e5e7eb' },
  legend: { labelFontSize: 11, titleFontSize: 12, orient: 'bottom' },
  title: { fontSize: 13, anchor: 'start', fontWeight: 600 },
  header: { labelFontSize: 12, labelFontWeight: 600, titleFontSize: 0 },
  point: { size: 45, filled: true },
  line: { strokeWidth: 2 },
} as const;

/**
 * The SVG renderer writes a mark's tooltip only as its `aria-label`; a `<title>` child makes the
 * browser show it on hover, with no script (the label is already escaped for XML).
 */
export function withHoverTitles(svg: string): string {
  return svg.replace(
    /<path ([^>]*?)aria-label="([^"]*)"([^>]*?)aria-roledescription="(point|circle|square|symbol)"([^>]*?)\/>/g,
    '<path $1aria-label="$2"$3aria-roledescription="$4"$5><title>$2</title></path>',
  );
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vgSpec = compile({ ...spec, config: { ...CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec).spec;
  const view = new View(parse(vgSpec), { renderer: 'none' });
  try {
    return withHoverTitles(await view.toSVG());
  } finally {
    view.finalize();
  }
}

const CONCURRENCY_AXIS = {
  field: 'concurrency',
  type: 'quantitative',
  title: 'concurrency (requests in flight)',
  scale: { type: 'log', base: 2, nice: false },
  axis: { values: [] as number[], format: 'd' },
} as const;

function concurrencyAxis(values: number[]) {
  return { ...CONCURRENCY_AXIS, axis: { ...CONCURRENCY_AXIS.axis, values } };
}

const LATENCIES = [
  ['ttft', 'TTFT'],
  ['tpot', 'TPOT'],
  ['itl', 'ITL'],
  ['e2el', 'E2EL'],
] as const;

/** Throughput, latency percentiles and the per-GPU/per-user trade-off of one perf test. */
export async function perfCharts(test: ReportTest): Promise<Chart[]> {
  const points = test.perf.filter((p) => p.completed);
  if (!points.length) return [];
  const cons = points.map((p) => p.concurrency);
  const charts: Chart[] = [];

  const tput = points
    .filter((p) => p.metrics.output_throughput !== undefined)
    .map((p) => ({ concurrency: p.concurrency, value: p.metrics.output_throughput }));
  if (tput.length) {
    charts.push({
      kind: 'perf-throughput',
      title: 'Output throughput vs concurrency',
      svg: await renderSvg({
        width: 300,
        height: 200,
        data: { values: tput },
        mark: { type: 'line', point: true, color: '#2563eb' },
        encoding: {
          x: concurrencyAxis(cons),
          y: { field: 'value', type: 'quantitative', title: 'output tokens/s' },
          tooltip: [{ field: 'concurrency' }, { field: 'value', format: '.1f' }],
        },
      }),
    });
  }

  const lat = points.flatMap((p) =>
    LATENCIES.flatMap(([key, label]) =>
      (['median', 'p99'] as const).flatMap((stat) => {
        const v = p.metrics[`${stat}_${key}_ms`];
        return v === undefined ? [] : [{ concurrency: p.concurrency, metric: label, stat, value: v }];
      }),
    ),
  );
  if (lat.length) {
    charts.push({
      kind: 'perf-latency',
      title: 'Latency vs concurrency: median (solid) and p99 (dashed)',
      svg: await renderSvg({
        data: { values: lat },
        facet: {
          column: { field: 'metric', type: 'nominal', sort: LATENCIES.map(([, l]) => l), title: null },
        },
        spec: {
          width: 170,
          height: 170,
          mark: { type: 'line', point: true },
          encoding: {
            x: { ...concurrencyAxis(cons), title: 'concurrency' },
            y: { field: 'value', type: 'quantitative', title: 'latency (ms)' },
            color: {
              field: 'stat',
              type: 'nominal',
              title: 'statistic',
              legend: { orient: 'right', symbolType: 'stroke' },
              scale: { domain: ['median', 'p99'], range: ['#2563eb', '#dc2626'] },
            },
            strokeDash: {
              field: 'stat',
              type: 'nominal',
              title: 'statistic',
              scale: {
                domain: ['median', 'p99'],
                range: [
                  [1, 0],
                  [5, 3],
                ],
              },
            },
            tooltip: [
              { field: 'metric' },
              { field: 'stat' },
              { field: 'concurrency' },
              { field: 'value', format: '.1f' },
            ],
          },
        },
        resolve: { scale: { y: 'independent' } },
      }),
    });
  }

  const tradeoff = points.flatMap((p) => {
    const perGpu = throughputPerGpu(p, test.gpus);
    const perUser = throughputPerUser(p);
    return perGpu === undefined || perUser === undefined
      ? []
      : [{ concurrency: p.concurrency, perGpu, perUser, label: `c${p.concurrency}` }];
  });
  if (tradeoff.length) {
    const enc = {
      x: {
        field: 'perUser',
        type: 'quantitative',
        title: 'tokens/s per user (1000 / median TPOT)',
        scale: { zero: false },
      },
      y: {
        field: 'perGpu',
        type: 'quantitative',
        title: `tokens/s per GPU (${test.gpus} GPUs)`,
        scale: { zero: false },
      },
    } as const;
    charts.push({
      kind: 'perf-pareto',
      title: 'Throughput per GPU vs per user (labels: concurrency)',
      svg: await renderSvg({
        width: 300,
        height: 200,
        data: { values: tradeoff },
        encoding: enc,
        layer: [
          {
            mark: { type: 'line', point: true, color: '#059669' },
            encoding: { order: { field: 'concurrency' } },
          },
          {
            mark: { type: 'text', align: 'left', dx: 6, dy: -6, fontSize: 10, color: '#374151' },
            encoding: { text: { field: 'label' } },
          },
        ],
      }),
    });
  }
  // The two small charts side by side, the wide latency grid below them.
  const order = ['perf-throughput', 'perf-pareto', 'perf-latency'];
  return charts.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
}

/** Each verdict's observed value against its threshold (and the expected value). */
export async function accuracyChart(points: readonly AccuracyPoint[]): Promise<Chart | undefined> {
  const rows = points
    .filter((a) => Number.isFinite(a.threshold))
    .map((a) => ({
      label: `${a.dataset}${a.filter ? ` (${a.filter})` : ''}${a.run && points.length > 1 ? ` run ${a.run}` : ''}`,
      observed: a.observed,
      threshold: a.threshold,
      expected: a.expected,
      verdict: a.passed ? 'passed' : 'failed',
    }));
  if (!rows.length) return undefined;
  const y = { field: 'label', type: 'nominal', title: null, axis: { labelLimit: 260 } } as const;
  return {
    kind: 'accuracy',
    title: 'Accuracy: observed (dot) vs threshold (black tick) and expected (grey tick)',
    svg: await renderSvg({
      width: 360,
      height: { step: 34 },
      data: { values: rows },
      layer: [
        {
          mark: { type: 'tick', thickness: 3, color: '#111827', size: 24 },
          encoding: {
            y,
            x: {
              field: 'threshold',
              type: 'quantitative',
              title: 'score (fraction)',
              scale: { domain: [0, 1] },
            },
            tooltip: [{ field: 'threshold', format: '.4f' }],
          },
        },
        {
          mark: { type: 'tick', thickness: 1.5, color: '#9ca3af', size: 24 },
          encoding: { y, x: { field: 'expected', type: 'quantitative' } },
        },
        {
          mark: { type: 'point', filled: true, size: 110, shape: 'circle' },
          encoding: {
            y,
            x: { field: 'observed', type: 'quantitative' },
            color: {
              field: 'verdict',
              type: 'nominal',
              title: 'observed value',
              scale: { domain: ['passed', 'failed'], range: ['#16a34a', '#dc2626'] },
            },
            tooltip: [{ field: 'observed', format: '.4f' }, { field: 'verdict' }],
          },
        },
      ],
    }),
  };
}

/** A trend series: one metric at one concurrency over the runs of one test. */
interface Series {
  metric: string;
  concurrency: number | null;
  gated: boolean;
  rows: TrendRow[];
}

/** Gated metrics first, then the key metrics in their order, then by name; concurrencies as numbers. */
function seriesOrder(a: Series, b: Series): number {
  if (a.gated !== b.gated) return a.gated ? -1 : 1;
  const rank = (m: string) => {
    const i = (KEY_METRICS as readonly string[]).indexOf(m);
    return i < 0 ? KEY_METRICS.length : i;
  };
  return (
    rank(a.metric) - rank(b.metric) ||
    a.metric.localeCompare(b.metric) ||
    (a.concurrency ?? 0) - (b.concurrency ?? 0)
  );
}

/** The entries of each test, grouped once per history (a report asks for every test's). */
const grouped = new WeakMap<readonly HistoryEntry[], Map<string, HistoryEntry[]>>();
function byTest(entries: readonly HistoryEntry[]): Map<string, HistoryEntry[]> {
  let map = grouped.get(entries);
  if (!map) {
    map = new Map();
    for (const e of entries) {
      const list = map.get(e.testId);
      if (list) list.push(e);
      else map.set(e.testId, [e]);
    }
    grouped.set(entries, map);
  }
  return map;
}

/**
 * One small chart per metric and concurrency of one test across the runs in the history (each run's
 * gate verdict as the point's colour), so the page lays them out in a grid that wraps.
 */
export function trendCharts(testId: string, entries: readonly HistoryEntry[]): Chart[] {
  const all = byTest(entries).get(testId) ?? [];
  if (all.length < 2) return [];
  // The most recent runs only: a year of nightly runs would be a page of hundreds of MB (history.jsonl
  // keeps them all; `disagg compare` and the gate read them there).
  const mine = all.slice(-TREND_RUNS);
  const cut = all.length > mine.length ? ` · last ${mine.length} of ${all.length} runs` : '';
  const series = new Map<string, Series>();
  for (const e of mine) {
    for (const p of e.points) {
      const key = `${p.metric}\u0000${p.concurrency ?? ''}`;
      let s = series.get(key);
      if (!s) {
        s = { metric: p.metric, concurrency: p.concurrency, gated: false, rows: [] };
        series.set(key, s);
      }
      if (p.gate !== 'no gate') s.gated = true;
      s.rows.push({ at: e.at, run: e.runId, value: p.value, gate: p.gate });
    }
  }
  const charts: Chart[] = [];
  for (const s of [...series.values()].sort(seriesOrder)) {
    const label = metricLabel(s.metric);
    charts.push({
      kind: 'trend',
      title: `${label}${s.concurrency === null ? '' : ` · concurrency ${s.concurrency}`}${s.gated ? ' · gated' : ''}${cut}`,
      attrs: {
        metric: s.metric,
        ...(s.concurrency === null ? {} : { concurrency: String(s.concurrency) }),
        gated: String(s.gated),
      },
      // Drawn directly (src/report/trend-svg.ts): a year of history is thousands of these charts.
      svg: trendSvg(s.rows, { yTitle: label, legend: s.gated }),
    });
  }
  return charts;
}

/** The suite's Pareto chart of one workload: every test × concurrency, the frontier as a step line. */
export async function paretoChart(group: ParetoGroup): Promise<Chart> {
  const yTitle = `${group.perGpu ? 'output tokens/s per GPU' : 'output tokens/s (GPU count unknown)'}${group.estimated ? ' (est.)' : ''}`;
  const xTitle = `tokens/s per user (1000 / median TPOT)${group.estimated ? ' (est.)' : ''}`;
  const x = { field: 'perUser', type: 'quantitative', title: xTitle, scale: { zero: false } } as const;
  const y = { field: 'perGpu', type: 'quantitative', title: yTitle, scale: { zero: false } } as const;
  const rows = group.points.map((p) => ({
    ...p,
    config: p.testId,
    on: p.frontier ? 'frontier' : 'dominated',
  }));
  return {
    kind: 'suite-pareto',
    title: `${group.workload}: throughput per GPU vs per user (frontier: step line)`,
    attrs: { workload: group.workload },
    svg: await renderSvg({
      width: 520,
      height: 300,
      data: { values: rows },
      layer: [
        {
          transform: [{ filter: "datum.on === 'frontier'" }],
          mark: { type: 'line', interpolate: 'step-before', color: '#111827', strokeWidth: 1.5 },
          encoding: { x, y, order: { field: 'perUser' } },
        },
        {
          mark: { type: 'point', filled: true, size: 70 },
          encoding: {
            x,
            y,
            color: {
              field: 'config',
              type: 'nominal',
              title: 'config',
              legend: { orient: 'bottom', columns: 1, labelLimit: 460 },
            },
            shape: {
              field: 'on',
              type: 'nominal',
              title: null,
              scale: { domain: ['frontier', 'dominated'], range: ['diamond', 'circle'] },
            },
            tooltip: [
              { field: 'config' },
              { field: 'concurrency' },
              { field: 'perGpu', title: yTitle, format: ',.1f' },
              { field: 'perUser', title: xTitle, format: ',.1f' },
              { field: 'on', title: 'Pareto' },
            ],
          },
        },
      ],
    }),
  };
}
