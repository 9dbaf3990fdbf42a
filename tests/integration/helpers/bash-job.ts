import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { JobSpec } from '../../../src/types.js';

/**
 * The bash job's script name: it reads nothing from its arguments, so executors given
 * `jobDirScripts: [BASH_JOB_SCRIPT]` start it with plain sbatch (launcher auto).
 */
export const BASH_JOB_SCRIPT = 'job.sh';

/**
 * A JobSpec whose job is a tiny bash script next to its config file, in `<work>/<testId>/`: the smallest
 * real job for testing executors against SLURM.
 */
export function bashJobSpec(
  work: string,
  testId: string,
  script: string,
  extra: { jobTime?: string } = {},
): JobSpec {
  const dir = path.join(work, testId);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, BASH_JOB_SCRIPT), `#!/bin/bash\n${script}\n`);
  return {
    testId,
    configHash: testId,
    config: {
      slurm: {
        script_file: BASH_JOB_SCRIPT,
        job_name: `disagg-${testId}`,
        ...(extra.jobTime ? { job_time: extra.jobTime } : {}),
      },
      worker_config: { ctx: { tensor_parallel_size: 1 }, gen: { tensor_parallel_size: 1 } },
    },
    configFile: path.join(dir, 'config.yaml'),
    localLogDir: path.join(dir, 'logs'),
    timeLimitMs: 5 * 60_000,
  };
}
