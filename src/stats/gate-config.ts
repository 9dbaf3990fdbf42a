// Perf gates checked with the config, before any job is submitted (`disagg validate`, `--strict`, run
// start): a misspelt metric, a concurrency the config does not run, a direction nobody can tell or
// settings that contradict each other would otherwise fail the test only after its GPU job ran.
// Invalid gates (the perf step could not evaluate them) are errors; mistakes that would make a valid
// gate fail or judge nothing are errors under strict, warnings otherwise. Injected into the config
// loader as `extraChecks` (the config stage cannot know metric names or directions).
import { parseConcurrencyList, type CheckInput } from '../config/checks.js';
import { closestKey, type PathSegments } from '../config/problems.js';
import { FIXED_BENCH_KEYS } from '../parsers/bench-labels.js';
import { ATTAINMENT_METRIC, GOODPUT_METRIC } from './goodput.js';
import {
  benchKeyForMetricName,
  DEFAULT_PERF_METRIC_NAMES,
  WIDEEP_PERF_METRIC_NAMES,
} from '../parsers/metric-names.js';
import type { PerfGateSpec, Problem } from '../types.js';
import { metricDirection } from './direction.js';
import { gateProblems } from './gates.js';

/** Metrics benchmark_serving prints with statistics (`P99 TTFT (ms)` → p99_ttft_ms). */
const STAT_METRICS = [
  'ttft_ms',
  'tpot_ms',
  'itl_ms',
  'e2el_ms',
  'queueing_time_ms',
  'request_ar',
  'avg_decoded_tokens_per_iter',
];
const STATS = ['mean', 'median', 'std', 'min', 'max', 'p50', 'p90', 'p95', 'p99', 'p99_9'];
/** Keys the bench parser makes from any `<stat> <metric> (<unit>)` line (p99.9 → p99_9_…). */
const STAT_KEY = /^(mean|median|std|min|max|p\d+(?:_\d+)?)_[a-z0-9_]+$/;

/** Named metrics a gate may use, for the suggestion. */
function knownMetrics(custom: readonly string[]): string[] {
  return [
    ...FIXED_BENCH_KEYS,
    ...STATS.flatMap((s) => STAT_METRICS.map((m) => `${s}_${m}`)),
    ...DEFAULT_PERF_METRIC_NAMES,
    ...WIDEEP_PERF_METRIC_NAMES,
    GOODPUT_METRIC,
    ATTAINMENT_METRIC,
    ...custom,
  ];
}

/**
 * A name some benchmark reports: a known key, an original CSV name, a custom name, or a
 * `<stat>_<metric>` key of another metric — unless it is a likely typo of a known one (`p99_ttf_ms`).
 */
function isKnownMetric(metric: string, custom: readonly string[]): boolean {
  const known = knownMetrics(custom);
  if (known.includes(metric) || benchKeyForMetricName(metric) !== undefined) return true;
  return STAT_KEY.test(metric) && closestKey(metric, known) === undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Problems of the config's `gates` (or, for a config without its own, of the suite-wide `optionGates`
 * of `disagg({ gates })`, reported at the config's root), each with its YAML path and what to do.
 */
export function gateConfigProblems(input: CheckInput, optionGates: readonly PerfGateSpec[] = []): Problem[] {
  const { config, parsed, strict = false } = input;
  const out: Problem[] = [];
  const own = (config as { gates?: unknown }).gates;
  const fromOption = own === undefined;
  const gates: unknown[] = fromOption ? [...optionGates] : Array.isArray(own) ? own : [];
  const metadata = isObject(config.metadata) ? config.metadata : {};
  const names = isObject(metadata.metrics) ? metadata.metrics.metric_names : undefined;
  const custom = Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string') : [];
  const measured = parseConcurrencyList(
    isObject(config.benchmark) ? config.benchmark.concurrency_list : undefined,
  );

  gates.forEach((raw, i) => {
    if (!isObject(raw)) return; // the schema reported it
    const gate = raw as PerfGateSpec;
    const where: PathSegments = fromOption ? [] : ['gates', i];
    const prefix = fromOption
      ? `gates[${i}] of disagg({ gates }) (this config has no gates of its own): `
      : '';
    const add = (severity: Problem['severity'], segs: PathSegments, message: string): void => {
      out.push(
        parsed.problem(severity, [...where, ...(fromOption ? [] : segs)], prefix + message, {
          source: 'check',
        }),
      );
    };
    const mistake = strict ? 'error' : 'warning';
    // Invalid gates: the perf step could not evaluate them at all.
    for (const p of gateProblems(gate)) add('error', p.path ? p.path.split('.') : [], p.message);
    if (typeof gate.metric !== 'string' || gate.metric === '') return;

    if (!isKnownMetric(gate.metric, custom)) {
      const hint = closestKey(gate.metric, knownMetrics(custom));
      add(
        mistake,
        ['metric'],
        `unknown metric "${gate.metric}"${hint ? ` (did you mean ${hint}?)` : ''}: no benchmark reports it, so ` +
          'the gate would fail with "not measured" after the job ran; use a key of `disagg parse bench --json` ' +
          '(e.g. p99_ttft_ms, output_throughput), an original CSV name (SERVER_P99_TTFT) or one of ' +
          'metadata.metrics.metric_names',
      );
    }
    const cons = gate.concurrency === undefined ? [] : [gate.concurrency].flat();
    cons.forEach((c, j) => {
      const segs = Array.isArray(gate.concurrency) ? ['concurrency', j] : ['concurrency'];
      if (typeof c !== 'number') return;
      if (cons.indexOf(c) !== j) add(mistake, segs, `concurrency ${c} is listed twice; list it once`);
      else if (measured.length > 0 && !measured.includes(c))
        add(
          mistake,
          segs,
          `concurrency ${c} is not in benchmark.concurrency_list (${measured.join(' ')}): the gate would fail ` +
            `with "not measured" after the job ran; use one of ${measured.join(', ')} or add ${c} to concurrency_list`,
        );
    });

    // Contradictory settings.
    const named = metricDirection(gate.metric);
    if (
      gate.higher_is_better !== undefined &&
      named !== 'unknown' &&
      (named === 'higher') !== gate.higher_is_better
    )
      add(
        mistake,
        ['higher_is_better'],
        `higher_is_better: ${gate.higher_is_better} contradicts the metric's name (${gate.metric}: ` +
          `${named} is better); remove higher_is_better or check the metric`,
      );
    const lower = gate.higher_is_better === undefined ? named === 'lower' : !gate.higher_is_better;
    if (
      typeof gate.limit === 'number' &&
      typeof gate.reference === 'number' &&
      (gate.higher_is_better !== undefined || named !== 'unknown') &&
      (lower ? gate.reference > gate.limit : gate.reference < gate.limit)
    )
      add(
        mistake,
        ['reference'],
        `reference ${gate.reference} is already ${lower ? 'above' : 'below'} the limit ${gate.limit}: a run that ` +
          'matches the reference fails the limit; fix one of them',
      );
    if (gate.tolerance !== undefined && gate.reference === undefined && !gate.history)
      add(
        mistake,
        ['tolerance'],
        'tolerance applies only to reference and history, and this gate has neither; remove it or add reference',
      );
  });
  return out;
}
