// The job-dir work, written once against `Host` for every scheduler: where a job dir lives, preparing
// and uploading it, the early-failure scan of worker logs, fetching logs back, reading a log's tail.
// File names come from the job-dir contract (src/jobdir/files.ts).

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SubmitError, TransportError } from '../errors.js';
import { isFetchedLog, WORKER_LOG_GLOBS, WORKER_LOG_RE } from '../jobdir/files.js';
import type { JobSpec, SubmittedJob } from '../types.js';
import { findFatal, SCAN_TAIL_BYTES } from './early-failure.js';
import { fileContent } from './job-files.js';
import { shq } from './shell-quote.js';
import type { Host, SubmissionPlan } from './types.js';

const MiB = 1024 * 1024;

/** A test id as a directory name (the original replaced ':' with '-'). */
export function jobDirName(testId: string): string {
  return testId.replace(/:/g, '-').replace(/[^A-Za-z0-9._+=@-]/g, '_');
}

/**
 * Where a job runs under a remote base dir: `<base>/<this machine>-<hash of the local output dir>/<test>`.
 * Two checkouts or CI jobs of the same user on one cluster never clear each other's job dirs, and a
 * rerun with the same output dir (a resume) finds its jobs again.
 */
export function remoteJobDir(base: string, spec: Pick<JobSpec, 'testId' | 'localLogDir'>): string {
  const space = createHash('sha256')
    .update(path.resolve(path.dirname(spec.localLogDir)))
    .digest('hex')
    .slice(0, 8);
  const machine = os.hostname().replace(/[^A-Za-z0-9.-]/g, '_') || 'host';
  return path.posix.join(base, `${machine}-${space}`, jobDirName(spec.testId));
}

/** Refuse to `rm -rf` anything that is not clearly a job dir. */
export function assertSafeJobDir(dir: string): void {
  const norm = path.posix.normalize(dir);
  const depth = norm.split('/').filter((s) => s !== '').length;
  if (!dir.startsWith('/') || norm !== dir.replace(/\/+$/, '') || dir.includes('/../') || depth < 2) {
    throw new SubmitError(
      `refusing to use ${JSON.stringify(dir)} as a job dir (must be an absolute path at least 2 levels deep)`,
      false,
    );
  }
}

export interface JobDirOptions {
  /** Files up to this size are fetched whole (default 16 MiB). */
  smallFileBytes?: number;
  /** Of bigger files, only this many trailing bytes are fetched (default 8 MiB). */
  tailBytes?: number;
  log?: (message: string) => void;
}

/** Job dirs on one host. */
export class JobDir {
  constructor(
    readonly host: Host,
    private readonly options: JobDirOptions = {},
  ) {}

  /**
   * A fresh, existing job dir with the plan's files in it. Fresh: old logs of a previous run must not be
   * mistaken for this job's. Existing before sbatch: a missing --output dir is FAILED/JobLaunchFailure
   * with no log at all.
   */
  async prepare(plan: SubmissionPlan): Promise<void> {
    assertSafeJobDir(plan.jobDir);
    const dirs = [plan.jobDir, ...(plan.controlDir !== plan.jobDir ? [plan.controlDir] : [])];
    const prep = await this.host.exec(
      dirs.map((d) => `rm -rf -- ${shq(d)} && mkdir -p -- ${shq(d)}`).join(' && '),
    );
    if (prep.code !== 0) {
      throw new SubmitError(
        `cannot prepare job dir ${plan.jobDir} on ${this.host.description}: ${prep.stderr.trim()}`,
        prep.code === null,
      );
    }
    await Promise.all(
      plan.files.map(async (f) => this.host.writeFile(f.remotePath, await fileContent(f), f.mode)),
    );
  }

  /** The fatal line of the first worker log (sorted by name) whose tail shows one. */
  async scanEarlyFailure(jobDir: string): Promise<string | undefined> {
    // Only the tail of each worker log crosses the wire: worker logs can be gigabytes.
    const cmd =
      `cd -- ${shq(jobDir)} 2>/dev/null || exit 0\n` +
      `for f in ${WORKER_LOG_GLOBS.join(' ')}; do [ -f "$f" ] || continue; printf '\\n\\036DISAGG-FILE %s\\n' "$f"; tail -c ${SCAN_TAIL_BYTES} -- "$f"; done`;
    const r = await this.host.exec(cmd);
    if (r.code !== 0) return undefined;
    const found: Array<[string, string]> = [];
    for (const part of r.stdout.split('\n\u001eDISAGG-FILE ').slice(1)) {
      const nl = part.indexOf('\n');
      const name = nl < 0 ? part : part.slice(0, nl);
      if (WORKER_LOG_RE.test(name)) found.push([name, nl < 0 ? '' : part.slice(nl + 1)]);
    }
    found.sort((a, b) => a[0].localeCompare(b[0]));
    for (const [name, tail] of found) {
      const fatal = findFatal(name, tail);
      if (fatal) return fatal;
    }
    return undefined;
  }

  /** The last `bytes` of one file of a job dir ('' when it does not exist). */
  async tail(jobDir: string, name: string, bytes: number): Promise<string> {
    const r = await this.host.exec(
      `tail -c ${Math.max(0, Math.floor(bytes))} -- ${shq(path.posix.join(jobDir, name))} 2>/dev/null || true`,
    );
    return r.stdout;
  }

  /** Copy the job's logs into `localDir`: small files whole, big ones tail-first with a note. */
  async fetchLogs(job: SubmittedJob, localDir: string): Promise<void> {
    await fs.promises.mkdir(localDir, { recursive: true });
    const small = this.options.smallFileBytes ?? 16 * MiB;
    const tail = this.options.tailBytes ?? 8 * MiB;
    const files = (await this.host.listFiles(job.jobDir)).filter((f) => isFetchedLog(f.path));
    const root = path.resolve(localDir);
    const errors: string[] = [];
    const queue = [...files];
    const worker = async (): Promise<void> => {
      for (let f = queue.shift(); f; f = queue.shift()) {
        const local = path.resolve(root, f.path);
        if (!local.startsWith(root + path.sep)) continue; // never write outside localDir
        const remote = path.posix.join(job.jobDir, f.path);
        try {
          if (f.size <= small) {
            await this.host.getFile(remote, local);
          } else {
            await this.host.getFile(remote, local, tail);
            await prependTruncationNote(local, f.size, tail, `${this.host.description}:${remote}`);
            this.options.log?.(
              `${job.testId}: ${f.path} is ${(f.size / MiB).toFixed(0)} MiB; fetched its last ${(tail / MiB).toFixed(0)} MiB`,
            );
          }
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // deleted since the listing
          errors.push(`${f.path}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    };
    // SshHost caps channels at 4 anyway; 4 workers keep them busy.
    await Promise.all([worker(), worker(), worker(), worker()]);
    if (errors.length > 0)
      throw new TransportError(`fetching logs of ${job.testId} from ${job.jobDir}: ${errors.join('; ')}`);
  }
}

/**
 * Mark a tail-fetched file: a note line first, then the tail minus its first partial line, so parsers
 * never see half a line.
 */
async function prependTruncationNote(
  local: string,
  fullSize: number,
  kept: number,
  origin: string,
): Promise<void> {
  const data = await fs.promises.readFile(local);
  const nl = data.indexOf(0x0a);
  const body = nl >= 0 && nl < data.length - 1 ? data.subarray(nl + 1) : data;
  const note =
    `[vitest-disagg] TRUNCATED: ${fullSize} bytes on the cluster; kept only the last ${kept} bytes ` +
    `(from the first full line). Full file: ${origin}\n`;
  await fs.promises.writeFile(local, Buffer.concat([Buffer.from(note), body]));
}
