// Text formats the simulator writes, byte-compatible with the real tools (samples: tests/fixtures/samples):
// benchmark_serving's result block and lm-eval's header line + markdown table.

// ---------------------------------------------------------------- benchmark_serving block

const WIDTH = 50;

/** Python `"{s:{c}^{n}}".format(...)`: centred, the odd pad char goes to the right. */
export function center(s: string, fill: string, width = WIDTH): string {
  const pad = Math.max(0, width - s.length);
  const left = Math.floor(pad / 2);
  return fill.repeat(left) + s + fill.repeat(pad - left);
}

/** `"{:<40} {:<10}"` for ints. */
export function intLine(label: string, v: number): string {
  return `${label.padEnd(40)} ${String(Math.round(v)).padEnd(10)}`;
}

/** `"{:<40} {:<10.2f}"` for floats. */
export function floatLine(label: string, v: number, digits = 2): string {
  return `${label.padEnd(40)} ${v.toFixed(digits).padEnd(10)}`;
}

export interface LatencySummary {
  mean: number;
  median: number;
  std: number;
  p99: number;
}

export interface BenchMetrics {
  totalRequests: number;
  completed: number;
  failed: number;
  durationS: number;
  totalInput: number;
  totalOutput: number;
  requestThroughput: number;
  outputThroughput: number;
  totalTokenThroughput: number;
  userThroughput: number;
  /** Present when the server reported speculative decoding (MTP) statistics. */
  avgDecoded?: LatencySummary & { min: number; max: number };
  ttft: LatencySummary;
  tpot: LatencySummary;
  itl: LatencySummary;
  e2el: LatencySummary;
}

const SECTIONS: Array<[keyof Pick<BenchMetrics, 'ttft' | 'tpot' | 'itl' | 'e2el'>, string, string]> = [
  ['ttft', 'Time to First Token', 'TTFT'],
  ['tpot', 'Time per Output Token (excl. 1st token)', 'TPOT'],
  ['itl', 'Inter-token Latency', 'ITL'],
  ['e2el', 'End-to-end Latency', 'E2EL'],
];

/** TRT-LLM benchmark_serving result block (current label set, Std Dev lines, P99, ttft,tpot,itl,e2el). */
export function formatBenchBlock(m: BenchMetrics): string {
  const lines: string[] = [center(' Serving Benchmark Result ', '=')];
  lines.push(intLine('Total requests:', m.totalRequests));
  lines.push(intLine('Successful requests:', m.completed));
  lines.push(intLine('Failed requests:', m.failed));
  lines.push(floatLine('Benchmark duration (s):', m.durationS));
  lines.push(intLine('Total input tokens:', m.totalInput));
  lines.push(intLine('Total generated tokens:', m.totalOutput));
  lines.push(floatLine('Request throughput (req/s):', m.requestThroughput));
  lines.push(floatLine('Output token throughput (tok/s):', m.outputThroughput));
  lines.push(floatLine('Total Token throughput (tok/s):', m.totalTokenThroughput));
  lines.push(floatLine('User throughput (tok/s):', m.userThroughput));
  if (m.failed > 0) {
    lines.push('=======================!FAILED REQUESTS!=======================');
    lines.push(`Total failed requests: ${m.failed}`);
    lines.push('=====================!CHECK LOG FOR ERRORS!====================');
  }
  if (m.avgDecoded) {
    const a = m.avgDecoded;
    const lbl = 'Avg Decoded Tokens per Iter:';
    lines.push(center('Avg Decoded Tokens per Iter', '-'));
    lines.push(floatLine(`Mean ${lbl}`, a.mean));
    lines.push(floatLine(`Median ${lbl}`, a.median));
    lines.push(floatLine(`Std Dev ${lbl}`, a.std));
    lines.push(floatLine(`Min ${lbl}`, a.min));
    lines.push(floatLine(`Max ${lbl}`, a.max));
    lines.push(floatLine(`P99 ${lbl}`, a.p99));
  }
  for (const [key, title, short] of SECTIONS) {
    const s = m[key];
    lines.push(center(title, '-'));
    lines.push(floatLine(`Mean ${short} (ms):`, s.mean));
    lines.push(floatLine(`Median ${short} (ms):`, s.median));
    lines.push(floatLine(`Std Dev ${short} (ms):`, s.std));
    lines.push(floatLine(`P99 ${short} (ms):`, s.p99));
  }
  lines.push('='.repeat(WIDTH));
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------- lm-eval

export interface LmEvalRow {
  task: string;
  version: string;
  filter: string;
  nShot: string;
  metric: string;
  arrow: string;
  value: string;
  pm: string;
  stderr: string;
}

/** lm-eval CLI header line printed before the table. */
export function lmEvalHeader(model: string, modelArgs: string): string {
  return `${model} (${modelArgs}), gen_kwargs: (None), limit: None, num_fewshot: None, batch_size: 1`;
}

type Align = 'left' | 'right';
const COLUMNS: Array<[keyof LmEvalRow, string, Align]> = [
  ['task', 'Tasks', 'left'],
  ['version', 'Version', 'right'],
  ['filter', 'Filter', 'left'],
  ['nShot', 'n-shot', 'right'],
  ['metric', 'Metric', 'left'],
  ['arrow', '', 'left'],
  ['value', 'Value', 'right'],
  ['pm', '', 'left'],
  ['stderr', 'Stderr', 'right'],
];

/** pytablewriter MarkdownTableWriter layout as lm-eval's make_table prints it (min column width 3). */
export function formatLmEvalTable(rows: readonly LmEvalRow[]): string {
  const widths = COLUMNS.map(([key, head]) =>
    Math.max(3, head.length, ...rows.map((r) => [...r[key]].length)),
  );
  const cell = (text: string, w: number, align: Align): string => {
    const pad = w - [...text].length;
    return align === 'left' ? text + ' '.repeat(pad) : ' '.repeat(pad) + text;
  };
  const header = COLUMNS.map(([, head], i) => center(head, ' ', widths[i] as number));
  const sep = COLUMNS.map(([, , align], i) => {
    const w = widths[i] as number;
    return align === 'right' ? '-'.repeat(w - 1) + ':' : '-'.repeat(w);
  });
  const body = rows.map((r) => COLUMNS.map(([key, , align], i) => cell(r[key], widths[i] as number, align)));
  return [header, sep, ...body].map((cells) => `|${cells.join('|')}|`).join('\n') + '\n';
}
