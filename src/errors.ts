// Every error vitest-disagg raises on purpose, by the stage it comes from. Callers decide by class (and
// `retryable`), never by message text: the broker retries only a retryable SubmitError.

/** Base class: `stage` says where in config → job → logs → results → verdict it happened. */
export class DisaggError extends Error {
  readonly stage:
    'config' | 'settings' | 'submit' | 'scheduler' | 'transport' | 'parse' | 'results' | 'usage';

  constructor(stage: DisaggError['stage'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.stage = stage;
    this.name = new.target.name;
  }
}

/** A config file is unusable (syntax, schema, semantic rule, unresolved placeholder, too big). */
export class ConfigError extends DisaggError {
  constructor(
    message: string,
    /** The file, when the error is about one. */
    readonly file?: string,
    options?: { cause?: unknown },
  ) {
    super('config', message, options);
  }
}

/** A plugin option, env var or env file value is invalid. */
export class SettingsError extends DisaggError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('settings', message, options);
  }
}

/** A job could not be submitted. `retryable`: the same submission may succeed later (QOS limit, lost link). */
export class SubmitError extends DisaggError {
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super('submit', message, options);
  }
}

/** A scheduler command (squeue, sacct, scancel, a process-group signal) failed. */
export class SchedulerError extends DisaggError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('scheduler', message, options);
  }
}

/** The link to the submit host failed (SSH connect, host key, lost connection, file transfer). */
export class TransportError extends DisaggError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('transport', message, options);
  }
}

/** A log or result file could not be parsed. */
export class ParseError extends DisaggError {
  constructor(
    message: string,
    readonly file?: string,
    options?: { cause?: unknown },
  ) {
    super('parse', message, options);
  }
}

/** Results could not be written (CSV, results file, ledger). */
export class ResultsError extends DisaggError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('results', message, options);
  }
}

/** Another run that is still alive writes into the same OUTPUT_PATH: this run refuses to start. */
export class OutputInUseError extends ResultsError {
  constructor(
    message: string,
    /** The lock file naming the other run. */
    readonly lockFile: string,
  ) {
    super(message);
  }
}

/** Whether an error says the same operation may succeed if tried again. */
export function isRetryable(error: unknown): boolean {
  return error instanceof SubmitError ? error.retryable : error instanceof TransportError;
}
