// The report page: one self-contained HTML file (styles, data and SVG charts inline, a few lines of
// script for the sortable table), so it opens offline from a copied folder or a CI artifact.
import type { Chart } from './charts.js';
import type { ParetoGroup } from './pareto.js';
import { sloText } from '../stats/goodput.js';
import { statusCounts, throughputPerGpu, type ReportData, type ReportTest } from './model.js';

/** Charts of one test, rendered beforehand (rendering is async, this module is not). */
export interface TestCharts {
  perf: Chart[];
  accuracy?: Chart;
  /** One small chart per metric and concurrency, laid out in a grid that wraps. */
  trend: Chart[];
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const esc = escapeHtml;

function fmt(n: number | undefined, digits = 1): string {
  return n === undefined || !Number.isFinite(n)
    ? '–'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits });
}

function duration(ms: number | undefined): string {
  if (ms === undefined) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60
    ? `${m}m${String(s % 60).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function pct(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? '–' : `${(x * 100).toFixed(2)}%`;
}

function anchor(testId: string): string {
  return `t-${testId.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/** A table cell with a sort key (numbers sort as numbers; a missing value sorts last). */
function cell(text: string, sort?: string | number, cls?: string): string {
  const key = sort === undefined ? '' : ` data-sort="${esc(String(sort))}"`;
  return `<td${key}${cls ? ` class="${cls}"` : ''}>${text}</td>`;
}

function badge(status: string): string {
  return `<span class="badge ${esc(status)}">${esc(status)}</span>`;
}

function peak(t: ReportTest, key: string): number | undefined {
  const values = t.perf.filter((p) => p.completed).map((p) => p.metrics[key]);
  const nums = values.filter((v): v is number => v !== undefined);
  return nums.length ? Math.max(...nums) : undefined;
}

function accuracyCell(t: ReportTest): { text: string; sort?: number } {
  if (!t.accuracy.length) return { text: '–' };
  const worst = t.accuracy.reduce((w, a) =>
    (a.observed ?? 0) - a.threshold < (w.observed ?? 0) - w.threshold ? a : w,
  );
  const text = t.accuracy
    .map((a) => `${esc(a.dataset)} ${pct(a.observed)} ${a.passed ? '≥' : '<'} ${pct(a.threshold)}`)
    .join('<br>');
  return { text, sort: (worst.observed ?? 0) - worst.threshold };
}

interface Column {
  title: string;
  cls?: string;
  /** The cell's HTML and sort key; undefined when the test has no value (a column with none is left out). */
  cell: (t: ReportTest) => { html: string; sort: string | number } | undefined;
}

/** The overview shows the first line (shortened); the test's section has the whole text. */
function firstLine(text: string, max = 200): string {
  const line = text.split('\n')[0];
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

function value(n: number | undefined, text: string) {
  return n === undefined || !Number.isFinite(n) ? undefined : { html: text, sort: n };
}

function perGpuPeak(t: ReportTest): number | undefined {
  const tput = peak(t, 'output_throughput');
  return t.gpus && tput !== undefined ? tput / t.gpus : undefined;
}

const COLUMNS: Column[] = [
  {
    title: 'Test',
    cls: 'name',
    cell: (t) => ({
      html: `<a href="#${anchor(t.testId)}">${esc(t.testId)}</a>${t.inRun ? ' <small class="in-run">this run</small>' : ''}`,
      sort: t.testId,
    }),
  },
  {
    title: 'Status',
    cell: (t) => ({
      html: `${badge(t.status)}${t.note ? ` <span class="note">${esc(t.note)}</span>` : ''}`,
      sort: ['failed', 'unknown', 'skipped', 'passed'].indexOf(t.status),
    }),
  },
  { title: 'Job', cell: (t) => (t.jobId ? { html: esc(t.jobId), sort: t.jobId } : undefined) },
  {
    title: 'SLURM state',
    cell: (t) => (t.jobState ? { html: esc(t.jobState), sort: t.jobState } : undefined),
  },
  { title: 'Queue', cls: 'num', cell: (t) => value(t.queueMs, duration(t.queueMs)) },
  { title: 'Run', cls: 'num', cell: (t) => value(t.runMs, duration(t.runMs)) },
  { title: 'GPUs', cls: 'num', cell: (t) => value(t.gpus, fmt(t.gpus, 0)) },
  {
    title: 'Concurrencies',
    cls: 'num',
    cell: (t) => {
      const cons = t.perf.map((p) => p.concurrency);
      return cons.length ? { html: esc(cons.join(', ')), sort: Math.max(...cons) } : undefined;
    },
  },
  {
    title: 'Peak output (tok/s)',
    cls: 'num',
    cell: (t) => value(peak(t, 'output_throughput'), fmt(peak(t, 'output_throughput'))),
  },
  { title: 'Peak tok/s/GPU', cls: 'num', cell: (t) => value(perGpuPeak(t), fmt(perGpuPeak(t))) },
  {
    title: 'Median TTFT at top concurrency (ms)',
    cls: 'num',
    cell: (t) => {
      const top = t.perf.filter((p) => p.completed).at(-1)?.metrics.median_ttft_ms;
      return value(top, fmt(top));
    },
  },
  {
    title: 'Accuracy (observed vs threshold)',
    cell: (t) => {
      const acc = accuracyCell(t);
      return acc.sort === undefined ? undefined : { html: acc.text, sort: acc.sort };
    },
  },
  {
    title: 'Failure / skip reason',
    cls: 'reason',
    cell: (t) => {
      const reason = t.failure ?? t.skipReason;
      return reason ? { html: esc(firstLine(reason)), sort: reason } : undefined;
    },
  },
];

function overview(tests: readonly ReportTest[]): string {
  const cells = COLUMNS.map((c) => tests.map((t) => c.cell(t)));
  const shown = COLUMNS.map((_, i) => i).filter((i) => i < 2 || cells[i].some((x) => x !== undefined));
  const head = shown
    .map((i, k) => `<th scope="col" data-col="${k}" tabindex="0">${esc(COLUMNS[i].title)}</th>`)
    .join('');
  const rows = tests.map((t, r) => {
    const tds = shown.map((i) => {
      const c = cells[i][r];
      return cell(c?.html ?? '–', c?.sort, COLUMNS[i].cls);
    });
    return `<tr data-test="${esc(t.testId)}" class="${esc(t.status)}">${tds.join('')}</tr>`;
  });
  return (
    `<div class="scroll"><table id="overview" class="sortable"><thead><tr>${head}</tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table></div>`
  );
}

function details(t: ReportTest): string {
  const items: Array<[string, string]> = [
    ['Job', t.jobId ?? '–'],
    ['SLURM state', [t.jobState, t.exitCode && `exit ${t.exitCode}`].filter(Boolean).join(', ') || '–'],
    ['Submitted', t.submittedAt ?? '–'],
    ['Ended', t.endedAt ?? '–'],
    ['Queue time', duration(t.queueMs)],
    ['Run time', duration(t.runMs)],
    ['Nodes', t.nodes ?? '–'],
    ['GPUs', fmt(t.gpus, 0)],
  ];
  return `<dl class="facts">${items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`;
}

type Point = ReportTest['perf'][number];

/** A column of the perf table: its header and the cell text, or undefined when the point lacks it. */
type PerfColumn = [string, (p: Point) => string | undefined];

function num(v: number | undefined, digits = 1): string | undefined {
  return v === undefined ? undefined : fmt(v, digits);
}

function medianP99(p: Point, m: string): string | undefined {
  const med = p.metrics[`median_${m}_ms`];
  const p99 = p.metrics[`p99_${m}_ms`];
  return med === undefined && p99 === undefined ? undefined : `${fmt(med)} / ${fmt(p99)}`;
}

/** The suite's Pareto charts, each with the table of its frontier's configs. */
function paretoSection(groups: readonly SuitePareto[]): string {
  if (!groups.length) return '';
  const parts = groups.map(({ group, chart }) => {
    const unit = group.perGpu ? 'tok/s/GPU' : 'output tok/s';
    // A CSV has no verdicts: a column of "unknown" says nothing.
    const withStatus = group.frontier.some((f) => f.status !== 'unknown');
    const rows = group.frontier
      .map(
        (f) =>
          `<tr class="${esc(f.status)}"><td class="name"><a href="#${anchor(f.testId)}">${esc(f.testId)}</a></td>` +
          `${withStatus ? `<td>${badge(f.status)}</td>` : ''}<td class="num">${f.concurrency}</td>` +
          `<td class="num">${fmt(f.perGpu)}</td><td class="num">${fmt(f.perUser)}</td></tr>`,
      )
      .join('');
    const est = group.estimated
      ? '<p class="logs">Estimated from median TTFT and E2EL (the CSV has no throughput): per user ≈ 1000 ÷ ((E2EL − TTFT) ÷ (OSL − 1)), total ≈ concurrency × OSL ÷ E2EL.</p>'
      : '';
    return (
      `<div class="pareto" data-workload="${esc(group.workload)}">${figure(chart)}<div>` +
      `<h3>Frontier of ${esc(group.workload)}</h3>${est}` +
      `<table class="data frontier"><thead><tr><th>config</th>${withStatus ? '<th>status</th>' : ''}<th>concurrency</th><th>${unit}</th><th>tok/s/user</th></tr></thead>` +
      `<tbody>${rows}</tbody></table><p class="logs">${group.points.length} point(s) of ${new Set(group.points.map((p) => p.testId)).size} config(s); ` +
      `a config × concurrency is on the frontier when no other has both more ${unit} and more tok/s/user.</p></div></div>`
    );
  });
  return `<h2 id="pareto">Pareto: throughput per GPU vs per user</h2>${parts.join('')}`;
}

function perfTable(t: ReportTest): string {
  if (!t.perf.length) return '';
  const all: PerfColumn[] = [
    ['output tok/s', (p) => num(p.metrics.output_throughput)],
    ['tok/s/GPU', (p) => num(throughputPerGpu(p, t.gpus))],
    ['req/s', (p) => num(p.metrics.request_throughput, 3)],
    ['TTFT med / p99 (ms)', (p) => medianP99(p, 'ttft')],
    ['TPOT med / p99 (ms)', (p) => medianP99(p, 'tpot')],
    ['ITL med / p99 (ms)', (p) => medianP99(p, 'itl')],
    ['E2EL med / p99 (ms)', (p) => medianP99(p, 'e2el')],
    ['failed req', (p) => num(p.metrics.failed_requests, 0)],
    ['goodput (req/s)', (p) => num(p.metrics.goodput, 3)],
    [
      'SLO attainment',
      (p) => (p.metrics.slo_attainment === undefined ? undefined : `${fmt(p.metrics.slo_attainment, 1)} %`),
    ],
  ];
  // A CSV holds only some metrics: leave out the columns no point has.
  const cols = all.filter(([, get]) => t.perf.some((p) => get(p) !== undefined));
  const rows = t.perf.map((p) => {
    const c = cols.map(([, get]) => `<td class="num">${get(p) ?? '–'}</td>`);
    return `<tr${p.completed ? '' : ' class="failed"'}><td class="num">${p.concurrency}${p.completed ? '' : ' (unfinished)'}</td>${c.join('')}</tr>`;
  });
  const slo = t.slo
    ? `<p class="slo">SLO: ${esc(sloText(t.slo))} (goodput: requests/s meeting every one)</p>`
    : '';
  return (
    slo +
    `<table class="data"><thead><tr><th>concurrency</th>${cols.map(([n]) => `<th>${esc(n)}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table>`
  );
}

function accuracyTable(t: ReportTest): string {
  if (!t.accuracy.length) return '';
  const rows = t.accuracy.map(
    (a) =>
      `<tr class="${a.passed ? 'passed' : 'failed'}"><td>${esc(a.dataset)}</td><td>${esc(a.filter ?? '–')}</td>` +
      `<td class="num">${a.run ?? '–'}</td><td class="num">${pct(a.observed)}</td><td class="num">${pct(a.threshold)}</td>` +
      `<td class="num">${pct(a.expected)}</td><td class="num">${fmt(a.n, 0)}</td><td class="num">${fmt(a.alpha, 3)}</td>` +
      `<td class="num">${fmt(a.beta, 3)}</td><td class="num">${pct(a.theta)}</td><td>${badge(a.passed ? 'passed' : 'failed')}</td></tr>`,
  );
  const msgs = t.accuracy.map((a) => `<li>${esc(a.message)}</li>`).join('');
  return (
    '<table class="data"><thead><tr><th>dataset</th><th>filter</th><th>run</th><th>observed</th><th>threshold</th>' +
    '<th>expected</th><th>n</th><th>alpha</th><th>beta</th><th>theta (min. detectable drop)</th><th>verdict</th></tr></thead>' +
    `<tbody>${rows.join('')}</tbody></table><details><summary>verdicts in words</summary><ul class="msgs">${msgs}</ul></details>`
  );
}

function figure(chart: Chart): string {
  const attrs = Object.entries(chart.attrs ?? {})
    .map(([k, v]) => ` data-${esc(k)}="${esc(v)}"`)
    .join('');
  return `<figure class="chart" data-chart="${esc(chart.kind)}"${attrs}><figcaption>${esc(chart.title)}</figcaption>${chart.svg}</figure>`;
}

/** Every gate check, or without gates every change against history: the console prints one line of it. */
function perfVerdicts(t: ReportTest): string {
  if (!t.perfVerdicts?.length) return '';
  const items = t.perfVerdicts.map((v) => {
    const what = v.kind === 'delta' ? 'vs history (no gate)' : `gate (${v.kind})`;
    const cls = v.passed === false ? 'failed' : v.passed ? 'passed' : 'none';
    return `<li class="${cls}"><strong>${esc(what)}:</strong> ${esc(v.message)}</li>`;
  });
  return `<ul class="perf-verdicts">${items.join('')}</ul>`;
}

function section(t: ReportTest, charts: TestCharts): string {
  const failure = t.failure
    ? `<div class="failure"><strong>Failure:</strong> ${esc(t.failure)}${t.logDir ? `<br><strong>Logs:</strong> <code>${esc(t.logDir)}</code>` : ''}</div>`
    : t.logDir
      ? `<p class="logs">Logs: <code>${esc(t.logDir)}</code></p>`
      : '';
  const skipped = t.skipReason
    ? `<div class="skip"><strong>Skipped:</strong> ${esc(t.skipReason)}</div>`
    : '';
  const incomplete = t.incomplete.length
    ? `<p class="warn">Unfinished concurrencies: ${t.incomplete.map((c) => esc(String(c))).join(', ')}</p>`
    : '';
  const perfCharts = charts.perf.length
    ? `<div class="charts">${charts.perf.map(figure).join('')}</div>`
    : '';
  const perf =
    perfCharts || t.perf.length ? `<h3>Performance</h3>${perfCharts}${perfTable(t)}${perfVerdicts(t)}` : '';
  const acc = t.accuracy.length
    ? `<h3>Accuracy</h3>${charts.accuracy ? `<div class="charts">${figure(charts.accuracy)}</div>` : ''}${accuracyTable(t)}`
    : '';
  const trend = charts.trend.length
    ? `<h3>History</h3><p class="logs">One chart per metric and concurrency, gated metrics first; ` +
      `points coloured by that run's gate verdict; times in UTC; hover a point for its run id.</p>` +
      `<div class="trend-grid">${charts.trend.map(figure).join('')}</div>`
    : '';
  const kind = [t.testType, t.category]
    .filter(Boolean)
    .map((k) => esc(k!))
    .join(' · ');
  return (
    `<section class="test ${esc(t.status)}" id="${anchor(t.testId)}" data-test="${esc(t.testId)}">` +
    `<h2>${badge(t.status)}${t.note ? ` <span class="note">${esc(t.note)}</span>` : ''} ${esc(t.testId)} <small>${kind}</small></h2>` +
    `${details(t)}${failure}${skipped}${incomplete}${perf}${acc}${trend}</section>`
  );
}

const STYLE = `
:root{--fg:#111827;--muted:#6b7280;--line:#e5e7eb;--pass:#16a34a;--fail:#dc2626;--unk:#6b7280;--skip:#ca8a04}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);margin:0;background:#f9fafb}
header{background:#111827;color:#f9fafb;padding:18px 28px}header h1{margin:0 0 4px;font-size:22px}header p{margin:2px 0;color:#d1d5db}
main{padding:20px 28px}
.counts span{margin-right:14px;font-weight:600}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;color:white;vertical-align:middle}
.badge.passed{background:var(--pass)}.badge.failed{background:var(--fail)}.badge.unknown{background:var(--unk)}.badge.skipped{background:var(--skip)}
table{border-collapse:collapse;background:white;margin:8px 0 16px}
th,td{border:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
th{background:#f3f4f6;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
#overview th{cursor:pointer;user-select:none}#overview th:hover{background:#e5e7eb}
#overview th[aria-sort=ascending]::after{content:" ▲"}#overview th[aria-sort=descending]::after{content:" ▼"}
#overview{font-size:13px}#overview th,#overview td{padding:4px 6px}
#overview td.reason{min-width:200px;max-width:320px;color:var(--fail);font-size:12px;white-space:pre-line}
.scroll{overflow-x:auto}
#overview td.name{font-family:ui-monospace,Menlo,monospace;font-size:12px;min-width:180px;max-width:300px;overflow-wrap:anywhere}
section.test{background:white;border:1px solid var(--line);border-left:5px solid var(--unk);border-radius:6px;padding:12px 18px;margin:18px 0}
section.test.passed{border-left-color:var(--pass)}section.test.failed{border-left-color:var(--fail)}section.test.skipped{border-left-color:var(--skip)}
section.test h2{font-size:16px;margin:4px 0 10px;font-family:ui-monospace,Menlo,monospace}section.test h2 small{color:var(--muted);font-family:system-ui,sans-serif;font-weight:400}
h3{font-size:14px;margin:14px 0 6px;color:#374151}
dl.facts{display:grid;grid-template-columns:repeat(4,auto 1fr);gap:2px 10px;margin:0 0 8px;font-size:13px}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
.failure{background:#fef2f2;border:1px solid #fecaca;color:#7f1d1d;padding:8px 12px;border-radius:4px;margin:8px 0;word-break:break-word}
.skip{background:#fefce8;border:1px solid #fde68a;color:#713f12;padding:8px 12px;border-radius:4px;margin:8px 0}
.failure{white-space:pre-line}
.note{color:var(--muted);font-size:12px;font-weight:400}
.pareto{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start;background:white;border:1px solid var(--line);border-radius:6px;padding:10px;margin:10px 0}
.pareto>figure.chart{flex:0 1 auto;max-width:100%}
.pareto>div{flex:1 1 460px;min-width:min(460px,100%)}
.pareto table.frontier{width:100%}
.pareto table.frontier td.name{font-family:ui-monospace,Menlo,monospace;font-size:12px;overflow-wrap:anywhere}
.slo{font-size:13px;color:#374151;margin:4px 0}
.warn{color:#92400e}.logs{color:var(--muted);font-size:12px}
code{font-family:ui-monospace,Menlo,monospace;font-size:12px}
.charts{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}
.trend-grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(280px,1fr));gap:10px}
.trend-grid figure.chart{min-width:0}
figure.chart svg{display:block;max-width:100%;height:auto}
figure.chart{margin:0;border:1px solid var(--line);border-radius:4px;padding:6px;background:white}
figure.chart figcaption{font-weight:600;font-size:13px;margin:0 0 4px 4px}
table.data{font-size:12px}tr.failed td{background:#fef2f2}
.notes{background:#fffbeb;border:1px solid #fde68a;padding:8px 12px;border-radius:4px}
ul.msgs{font-size:12px;color:#374151}
`;

/** Sort the overview on a header click; numbers as numbers, empty cells last. */
const SCRIPT = `
(function(){var t=document.getElementById('overview');if(!t)return;var hs=t.tHead.rows[0].cells;
function key(td){var s=td.getAttribute('data-sort');if(s===null||s==='')return null;var n=Number(s);return isNaN(n)?s.toLowerCase():n;}
function sort(i){var h=hs[i];var asc=h.getAttribute('aria-sort')!=='ascending';
for(var j=0;j<hs.length;j++)hs[j].removeAttribute('aria-sort');h.setAttribute('aria-sort',asc?'ascending':'descending');
var b=t.tBodies[0];var rows=Array.prototype.slice.call(b.rows);
rows.sort(function(x,y){var a=key(x.cells[i]),c=key(y.cells[i]);if(a===null&&c===null)return 0;if(a===null)return 1;if(c===null)return -1;
var r=(typeof a==='number'&&typeof c==='number')?a-c:String(a).localeCompare(String(c));return asc?r:-r;});
rows.forEach(function(r){b.appendChild(r);});}
for(var k=0;k<hs.length;k++)(function(k){hs[k].addEventListener('click',function(){sort(k);});
hs[k].addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();sort(k);}});})(k);})();
`;

/** ` (3 of this run)` in the header of a report written at the end of a run. */
function runText(data: ReportData): string {
  if (!data.tests.some((t) => t.inRun !== undefined)) return '';
  return ` (${data.tests.filter((t) => t.inRun).length} of this run)`;
}

/** One workload's Pareto group and its rendered chart. */
export interface SuitePareto {
  group: ParetoGroup;
  chart: Chart;
}

export function renderReportHtml(
  data: ReportData,
  charts: ReadonlyMap<string, TestCharts>,
  pareto: readonly SuitePareto[] = [],
): string {
  const counts = statusCounts(data.tests);
  const countText = (Object.entries(counts) as Array<[string, number]>)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `<span>${badge(s)} ${n}</span>`)
    .join('');
  const notes = data.notes.length
    ? `<div class="notes"><strong>Notes</strong><ul>${data.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul></div>`
    : '';
  const sections = data.tests
    .map((t) => section(t, charts.get(t.testId) ?? { perf: [], trend: [] }))
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${esc(data.title)}</title><style>${STYLE}</style></head>
<body><header><h1>${esc(data.title)}</h1><p>${data.tests.length} test(s)${runText(data)} · generated ${esc(data.generatedAt)} · from <code>${esc(data.source)}</code></p>
<p class="counts">${countText}</p></header>
<main>${notes}<h2>Overview</h2><p class="logs">Click a column header to sort.</p>${overview(data.tests)}
${paretoSection(pareto)}
${sections}</main>
<script>${SCRIPT}</script></body></html>
`;
}
