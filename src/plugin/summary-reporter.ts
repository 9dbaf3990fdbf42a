import type { Reporter, TestModule, Vitest } from 'vitest/node';
import type { BrokerEvents } from '../broker/events.js';
import { onBrokerEvents } from '../broker/registry.js';
import { otherRunHolding } from '../broker/run-lock.js';
import type { RunTest } from '../report/from-run.js';
import { failureReasonOf } from '../stats/failure-reason.js';
import type { DisaggMeta } from '../types.js';
import { stdoutTaken } from './stdout-reporters.js';

/** What the broker's events told about one test's job. */
interface JobTimeline {
  submittedAt?: number;
  runningAt?: number;
  endedAt?: number;
  /** The scheduler's last reason while the job waited (`Priority`, `Resources`…). */
  pendingReason?: string;
  nodes?: string;
  concurrency?: number;
  resumed?: boolean;
}

function pct(x: number | undefined): string {
  return x === undefined || Number.isNaN(x) ? '–' : `${(x * 100).toFixed(2)}%`;
}

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** `queued 12s (Resources), ran 3m05s on node[1-2], reached con 64` from a job's timeline. */
export function describeTimeline(t: JobTimeline): string {
  const parts: string[] = [];
  if (t.submittedAt !== undefined) {
    const started = t.runningAt ?? t.endedAt;
    if (started !== undefined) {
      parts.push(
        `queued ${duration(started - t.submittedAt)}${t.pendingReason ? ` (${t.pendingReason})` : ''}`,
      );
    } else if (t.pendingReason) parts.push(`pending (${t.pendingReason})`);
  }
  if (t.runningAt !== undefined && t.endedAt !== undefined) {
    parts.push(`ran ${duration(t.endedAt - t.runningAt)}${t.nodes ? ` on ${t.nodes}` : ''}`);
  }
  if (t.concurrency !== undefined) parts.push(`reached con ${t.concurrency}`);
  return parts.join(', ');
}

const REASON_CHARS = 480;

/**
 * A failed test's reason in one line, cut to a length that fits a terminal line or two. The reason the
 * failing step recorded (`recorded`, from `meta.disagg.failureReason`: an accuracy verdict's first
 * clause) comes first; the test's error has the verdict in full. Else the first line of the failure
 * message; a first line that is a header (`x.yaml: 2 config error(s):`) brings the first item under it,
 * whole, and says how many more there are.
 */
export function reasonLine(message: string | undefined, recorded?: string): string {
  let line: string;
  if (recorded !== undefined && recorded.trim() !== '') {
    line = recorded.trim().replace(/\s*\n\s*/g, ' ');
  } else {
    const lines = (message ?? '')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    line = (lines[0] ?? 'failed without a message').replace(/^Error: /, '');
    if (line.endsWith(':') && lines.length > 1) {
      const more = lines.length - 2;
      line = `${line} ${lines[1]}${more > 0 ? ` (and ${more} more)` : ''}`;
    }
  }
  return line.length > REASON_CHARS ? `${line.slice(0, REASON_CHARS - 1)}…` : line;
}

// The plugin adds a summary reporter to every run (whatever `--reporter` list it has) and a user may
// name one too (`--reporter=vitest-disagg/reporter`, loaded as another module instance): the first one
// Vitest initialises for a Vitest instance prints, the others stay silent. Behind a global symbol, as
// those instances share no module state.
const CLAIMS = Symbol.for('vitest-disagg.summary-reporter');
type ClaimHolder = { [CLAIMS]?: WeakMap<object, object> };

function claim(vitest: object, reporter: object): boolean {
  const holder = globalThis as ClaimHolder;
  const claims = (holder[CLAIMS] ??= new WeakMap());
  const owner = claims.get(vitest);
  if (owner && owner !== reporter) return false;
  claims.set(vitest, reporter);
  return true;
}

/**
 * One line per disagg test at the end of a run: state, job, queue and run time, concurrencies measured,
 * accuracy against its threshold, and where the logs are (after an `_ERROR` rename, the renamed dir) —
 * what a person scans after a night of GPU jobs. Job timing comes from the broker's events.
 */
export class DisaggSummaryReporter implements Reporter {
  private readonly timelines = new Map<string, JobTimeline>();
  private unsubscribe?: () => void;
  private outputPath?: string;
  /** False when another summary reporter serves this run (see `claim`). */
  private active = true;
  /** Print to stderr: a reporter's document (JUnit, JSON, TAP) owns stdout. */
  private toStderr = false;

  onInit(vitest?: Vitest): void {
    this.active = vitest ? claim(vitest, this) : true;
    if (!this.active) return;
    const config = vitest?.config as { reporters?: unknown[]; outputFile?: string | Record<string, string> };
    this.toStderr = stdoutTaken(config?.reporters ?? [], config?.outputFile);
    this.unsubscribe ??= onBrokerEvents((events) => this.subscribe(events));
    this.outputPath = vitest?.config.provide?.disaggOptions?.outputPath;
  }

  /** Record what the broker says about each job (public so a test can feed it events). */
  subscribe(events: BrokerEvents): () => void {
    const at = (iso: string) => Date.parse(iso);
    const offs = [
      events.on('submitted', (e) => {
        this.timelines.set(e.testId, { submittedAt: at(e.submittedAt), resumed: e.resumed });
      }),
      events.on('states', (changes) => {
        for (const e of changes) {
          const t = this.timelines.get(e.testId);
          if (!t) continue;
          if (e.state === 'PENDING' && e.reason && e.reason !== 'None') t.pendingReason = e.reason;
          // The job's own start and end when the scheduler recorded them (a job may start and end
          // between two polls); else when a poll first saw it running or finished.
          if (e.startedAt) t.runningAt = at(e.startedAt);
          else if (e.state === 'RUNNING' && t.runningAt === undefined) t.runningAt = at(e.since);
          if (e.nodes) t.nodes = e.nodes;
          if (e.terminal) t.endedAt = at(e.endedAt ?? e.since);
        }
      }),
      events.on('progress', (e) => {
        const t = this.timelines.get(e.testId);
        if (t && e.concurrency !== undefined) t.concurrency = e.concurrency;
      }),
    ];
    return () => offs.forEach((off) => off());
  }

  async onTestRunEnd(testModules: ReadonlyArray<TestModule>): Promise<void> {
    if (!this.active) return;
    const lines: string[] = [];
    const csvs = new Set<string>();
    const runTests: RunTest[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const meta = (test.meta() as { disagg?: Partial<DisaggMeta> }).disagg;
        if (!meta) continue;
        const state = test.result().state;
        const perf = meta.perf?.concurrencies?.length ? `con ${meta.perf.concurrencies.join(',')}` : '';
        const acc = (meta.accuracy?.verdicts ?? [])
          .map((v) => `${v.dataset} ${pct(v.observed)} ${v.passed ? '≥' : '<'} ${pct(v.threshold)}`)
          .join('; ');
        if (meta.perf?.csv) csvs.add(meta.perf.csv);
        // A test without a job says why in its reason line, not "no job".
        const job = meta.jobId ? `job ${meta.jobId} ${meta.jobState ?? ''}`.trim() : '';
        const timeline = meta.testId ? this.timelines.get(meta.testId) : undefined;
        const result = test.result();
        const errors = (result.errors ?? []).map((e) => e.message);
        const skipNote = result.state === 'skipped' ? result.note : undefined;
        runTests.push({ meta, state, errors, skipNote, timeline });
        const timing = timeline ? describeTimeline(timeline) : '';
        const why =
          state === 'failed'
            ? reasonLine(errors[0], failureReasonOf(meta))
            : state === 'skipped' && skipNote
              ? skipNote
              : '';
        lines.push(
          `  ${state.padEnd(7)} ${meta.testId ?? test.name}  ${[job, timing, perf, acc].filter(Boolean).join(' | ')}`.trimEnd() +
            (why ? `\n          reason: ${why}` : '') +
            (meta.perf?.worst ? `\n          worst perf delta: ${meta.perf.worst}` : '') +
            (meta.logDir ? `\n          logs: ${meta.logDir}` : ''),
        );
      }
    }
    if (!lines.length) return;
    const out = ['', 'vitest-disagg summary', ...lines];
    for (const csv of csvs) out.push(`  perf CSV: ${csv}`);
    // The HTML report of this run (src/report): written here because only the run knows each test's
    // status, failure message and queue time.
    // Loaded here, not at import: the charting library is heavy and vitest.config.* imports this module.
    const { outputPathOf, writeRunReport } = await import('../report/from-run.js');
    const outputPath = this.outputPath ?? outputPathOf(runTests);
    const holder = outputPath ? otherRunHolding(outputPath) : undefined;
    if (holder) {
      out.push(`  report not written: ${outputPath} belongs to run ${holder.runId} (pid ${holder.pid}) now`);
    } else if (outputPath) {
      try {
        out.push(`  report:   ${await writeRunReport(outputPath, runTests)}`);
      } catch (err) {
        out.push(`  report not written: ${(err as Error).message}`);
      }
    }
    (this.toStderr ? console.error : console.log)(out.join('\n') + '\n');
  }
}

export default DisaggSummaryReporter;
