// TRT-LLM-looking log lines (`[MM/DD/YYYY-HH:MM:SS] [TRT-LLM] [I] …`) so the worker logs read like the
// real ones and the early-failure patterns (`[E] Traceback …`) apply unchanged.
import { appendFileSync } from 'node:fs';

export type Level = 'I' | 'W' | 'E' | 'D';

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

export function trtTimestamp(d = new Date()): string {
  return `${pad(d.getMonth() + 1)}/${pad(d.getDate())}/${d.getFullYear()}-${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export interface SimLogger {
  log(level: Level, msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  /** Raw line(s), no prefix (tracebacks, uvicorn-style access lines). */
  raw(text: string): void;
}

/** Logger writing synchronously (so a crash never loses the last lines) to a file or to stdout. */
export function createLogger(file?: string): SimLogger {
  const write = (text: string): void => {
    if (file) appendFileSync(file, text);
    else process.stdout.write(text);
  };
  const log = (level: Level, msg: string): void => write(`[${trtTimestamp()}] [TRT-LLM] [${level}] ${msg}\n`);
  return {
    log,
    info: (m) => log('I', m),
    warn: (m) => log('W', m),
    error: (m) => log('E', m),
    raw: (t) => write(t.endsWith('\n') ? t : `${t}\n`),
  };
}
