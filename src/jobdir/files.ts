// The job-dir contract: the one place that spells the name of every file a job dir holds. The job's
// inputs are written by the executors; its logs by the job script (the simulator, src/sim, or a real
// TensorRT-LLM launcher); the parsers, results and broker read them. Everyone imports the names from
// here, so a rename is one edit (a unit test fails when a name is spelled anywhere else).
//
// Pure data and string functions: the simulator bundle imports this module too.

/** The resolved config, written by the executor (and read by the simulator). */
export const CONFIG_FILE = 'config.yaml';
/** The context / generation worker configs, as the original's submit.py writes them. */
export const CTX_CONFIG_FILE = 'ctx_config.yaml';
export const GEN_CONFIG_FILE = 'gen_config.yaml';

/** The simulator's job script and its self-contained bundle (uploaded into the job dir). */
export const SIM_SCRIPT = 'disagg-sim.slurm';
export const SIM_BUNDLE = 'disagg-sim.mjs';
/** The simulator script and variants of it (`disagg-sim-2.slurm`): no launcher arguments, no GPUs. */
export const SIM_SCRIPT_VARIANT_RE = /^disagg-sim\b/;

/** The job's own stdout / stderr, named like SLURM's default. */
export function slurmOutFile(jobId: string): string {
  return `slurm-${jobId}.out`;
}
export function slurmErrFile(jobId: string): string {
  return `slurm-${jobId}.err`;
}
/** The same names as sbatch `--output` / `--error` patterns (`%j` = job id). */
export const SLURM_OUT_PATTERN = slurmOutFile('%j');
export const SLURM_ERR_PATTERN = slurmErrFile('%j');

export type WorkerSide = 'CTX' | 'GEN';

/** One worker's log: `3_output_CTX_<i>.log` / `3_output_GEN_<i>.log`. */
export function workerLogFile(side: WorkerSide, index: number): string {
  return `3_output_${side}_${index}.log`;
}
/** Worker log names, current (`3_output_GEN_0.log`) and old (`output_gen_0.log`). */
export const WORKER_LOG_RE = /^(?:3_output_(?:GEN|CTX)_\d+|output_(?:gen|ctx)_\d+)\.log$/;
/** Shell globs matching the same names (for a scan that runs on the submit host). */
export const WORKER_LOG_GLOBS: readonly string[] = [
  '3_output_GEN_*.log',
  '3_output_CTX_*.log',
  'output_gen_*.log',
  'output_ctx_*.log',
];

/** The router (disaggregated server) log. */
export const SERVER_LOG = '4_output_server.log';
/** The wait-for-server log (health checks until the router answers). */
export const WAIT_SERVER_LOG = '5_wait_server.log';
/** The benchmark client's log: one block per concurrency. */
export const BENCH_LOG = '6_bench.log';

/** Per-concurrency benchmark results: `concurrency_<N>/result.json`. */
export function concurrencyDir(concurrency: number): string {
  return `concurrency_${concurrency}`;
}
export const CONCURRENCY_DIR_RE = /^concurrency_(\d+)$/;
export const RESULT_JSON = 'result.json';

/** Accuracy eval log of one task: `7_accuracy_eval_<task>.log` (older launchers: `7_accuracy_eval.log`). */
export function accuracyLogFile(task: string): string {
  return `7_accuracy_eval_${task}.log`;
}
export const ACCURACY_LOG_RE = /^7_accuracy_eval.*\.log$/;
/** Shell glob of the accuracy logs (for messages). */
export const ACCURACY_LOG_GLOB = '7_accuracy_eval_*.log';

/** Written by the job script when it finished: `8_done_<jobid>.txt`. */
export function doneMarkerFile(jobId: string): string {
  return `8_done_${jobId}.txt`;
}

/**
 * Written by the simulator's job script as its very last step, whatever the exit code (the done marker
 * is written on success only): `.disagg-exit-<jobid>` holds the exit code. Seeing it ends the wait of a
 * failed job too without a scheduler poll.
 */
export function exitMarkerFile(jobId: string): string {
  return `.disagg-exit-${jobId}`;
}

/**
 * The files whose appearance means the job has ended (or is about to): the done marker, the simulator
 * script's exit marker and the local scheduler's exit-code file. Watched to see a job's end early.
 */
export function completionMarkers(jobId: string): string[] {
  return [doneMarkerFile(jobId), exitMarkerFile(jobId), EXIT_CODE_FILE];
}

/** The simulator's stack description (router URL, member pids and logs), for people debugging a job. */
export const SIM_STACK_FILE = 'sim_stack.json';

/** Every parsed metric and verdict of the test, written by the fixtures. */
export const RESULTS_JSON = 'results.json';

/** Prefix of the idempotent-submit markers (`.disagg-submit-<attempt>.{lock,out,err,rc}`). */
export const SUBMIT_MARKER_PREFIX = '.disagg-submit';
export function submitMarker(attempt: number): string {
  return `${SUBMIT_MARKER_PREFIX}-${attempt}`;
}
/** The local scheduler's wrapper writes the job's exit code here (read back after a crash). */
export const EXIT_CODE_FILE = '.exit_code';
/**
 * The local scheduler's wrapper writes the epoch seconds at which the job's script started and ended
 * here (the end before the exit code): a later run learns the job's own queue and run times from them.
 */
export const JOB_START_FILE = '.started_at';
/**
 * The local scheduler's wrapper writes `<write-ahead token> <job id>` here when the job starts: a run
 * killed before it recorded the job finds it by its token even after the job ended.
 */
export const JOB_TOKEN_FILE = '.disagg_token';
export const JOB_END_FILE = '.ended_at';
/** submit.py wipes its `--log-dir`, so its input lives in this sibling dir. */
export function submitControlDir(jobDir: string): string {
  return `${jobDir}.submit`;
}

/**
 * In the submit.py control dir: the folder put first on submit.py's PATH, holding our `sbatch` shim
 * (it adds the write-ahead token), and the file where the shim records each job id it saw submitted.
 */
export const SBATCH_SHIM_DIR = 'bin';
export const SBATCH_SHIM = 'sbatch';
export const SHIM_JOB_IDS_FILE = 'submitted-job-ids';

/** A half-written upload (atomic write: temp file, then rename); `hex` is 8 random hex digits. */
export function partialUploadPath(file: string, hex: string): string {
  return `${file}.tmp-${hex}`;
}
export const PARTIAL_UPLOAD_RE = /\.tmp-[0-9a-f]{8}$/;

/** Files of a job dir that are not logs: never fetched back (markers, half-written uploads, the bundle). */
export function isFetchedLog(relativePath: string): boolean {
  const base = relativePath.split('/').pop() ?? relativePath;
  return (
    !base.startsWith(SUBMIT_MARKER_PREFIX) && !PARTIAL_UPLOAD_RE.test(base) && relativePath !== SIM_BUNDLE
  );
}

/**
 * Not a job-dir file but a run-dir one (`slurm_logs/runs/<runId>/`): the run's finished, judged job
 * entries, moved there from `jobs.json` (one JSON line per job, append-only).
 */
export const RUN_JOBS_ARCHIVE = 'jobs-archive.jsonl';

/**
 * Not a job-dir file but an output-dir one: where a writer moves the torn last line of a file it appends
 * to (`history.jsonl`, the perf CSV) before its next append, `<file>.torn-<time>`, kept for a look.
 */
export function tornFragmentPath(file: string, at: Date = new Date()): string {
  // `2026-12-06T00-41-07-123Z`: the time, safe in a file name.
  return `${file}.torn-${at.toISOString().replace(/[:.]/g, '-')}`;
}

/**
 * Not a job-dir file: the redo file of a line replaced in place near the end of an append-only file
 * (`history.jsonl` when a step merges its part), `<file>.rewrite`, there only while the rewrite runs.
 */
export function tailRewriteRedoPath(file: string): string {
  return `${file}.rewrite`;
}

/**
 * Beside the runs' archives (`slurm_logs/runs/<LATEST_JOBS_SUMMARY>`): each test's latest archived job
 * entry and the size/mtime of every archive it was built from, so `disagg report` of a whole output dir
 * reads one small file instead of a year of archived entries. Rebuilt from the archives when stale.
 */
export const LATEST_JOBS_SUMMARY = 'latest-jobs.json';

/**
 * Not a job-dir file but an output-dir one, beside `jobs.json`: the ledger's change journal (one JSON line
 * per ledger write, append-only; folded into `jobs.json` when it grows past a bound, and at a run's end).
 */
export const LEDGER_JOURNAL = 'jobs.journal.jsonl';
