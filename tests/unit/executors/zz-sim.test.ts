import { it, expect } from 'vitest';
import { createExecutor } from '../../../src/executors/registry.js';
import { entryForFile } from '../../../src/config/index.js';
import { jobSpecFor } from '../../../src/plugin/job-spec.js';
import { resolveOptions } from '../../../src/plugin/options.js';
import { TERMINAL_STATES } from '../../../src/types.js';
import { readdirSync, readFileSync } from 'node:fs';
it('sim over ssh', async () => {
  const opts = resolveOptions({ outputPath: '/tmp/zz-sim-out' }, { ...process.env, DISAGG_EXECUTOR: 'ssh' }, '/work/main');
  const entry = entryForFile('/work/main/stress-configs/disagg/perf/deepseek-r1-fp4_1k1k_ctx1_gen1_dep8_bs64_mtp1_ccb-SIM.yaml', opts.configDir);
  const spec = await jobSpecFor(entry, opts);
  const ex = await createExecutor('ssh', opts);
  const job = await ex.submit(spec);
  for (;;) {
    const st = (await ex.poll([job])).get(job.jobId)!;
    if (TERMINAL_STATES.has(st.state) || st.state === 'UNKNOWN') { console.log(st); break; }
    await new Promise((r) => setTimeout(r, 1000));
  }
  await ex.fetchLogs(job, spec.localLogDir);
  console.log(readdirSync(spec.localLogDir));
  const out = readdirSync(spec.localLogDir).find((f) => f.endsWith('.out') || f.endsWith('.err'));
  for (const f of readdirSync(spec.localLogDir).filter((f) => f.startsWith('slurm-'))) console.log(f, readFileSync(`${spec.localLogDir}/${f}`, 'utf8').slice(-800));
  await ex.close();
}, 300_000);
