// The limit behind a never-start reason, read from scontrol/sinfo output as SLURM 22.05 prints it.
import { describe, expect, it } from 'vitest';
import { SlurmExecutor } from '../../../src/executors/slurm.js';
import type { CommandResult } from '../../../src/executors/types.js';
import { ScriptedHost } from './scripted-host.js';
import type { SubmittedJob } from '../../../src/types.js';

const ok = (stdout: string): CommandResult => ({ code: 0, stdout, stderr: '' });
const JOB: SubmittedJob = { jobId: '3821683', testId: 't', jobDir: '/w/t', submittedAt: '' };
const SHOW_JOB =
  'JobId=3821683 JobName=wrap UserId=bench(1001) JobState=PENDING Reason=PartitionTimeLimit Dependency=(null) ' +
  'TimeLimit=00:05:00 TimeMin=N/A Partition=short NumNodes=3 NumCPUs=1\n';
const SHOW_PARTITION =
  'PartitionName=short AllowGroups=ALL Default=NO QoS=N/A MaxNodes=2 MaxTime=00:01:00 MinNodes=0 LLN=NO ' +
  'Nodes=node[1-4] State=UP TotalCPUs=16 TotalNodes=4\n';

function executor(answer: (command: string) => CommandResult) {
  const host = new ScriptedHost(answer);
  return { host, ex: new SlurmExecutor({ host }) };
}

const cluster = (c: string): CommandResult =>
  c.startsWith('scontrol show job')
    ? ok(SHOW_JOB)
    : c.startsWith('scontrol show partition')
      ? ok(SHOW_PARTITION)
      : { code: 1, stdout: '', stderr: 'unexpected' };

describe('SlurmScheduler.explainPending', () => {
  it('PartitionTimeLimit: the job time against the partition MaxTime, two scontrol calls', async () => {
    const { host, ex } = executor(cluster);
    await expect(ex.explainPending(JOB, 'PartitionTimeLimit')).resolves.toEqual({
      never: true,
      detail: 'job_time 00:05:00 exceeds partition short MaxTime 00:01:00',
    });
    expect(host.calls).toEqual(['scontrol show job -o 3821683', 'scontrol show partition -o short']);
  });

  it('PartitionNodeLimit: the node count against the partition bounds', async () => {
    const { ex } = executor(cluster);
    await expect(ex.explainPending(JOB, 'PartitionNodeLimit')).resolves.toEqual({
      never: true,
      detail: 'the job asks for 3 node(s); partition short allows 0..2 (TotalNodes 4)',
    });
  });

  it('other never reasons need no command; an unreadable job keeps the verdict without detail', async () => {
    const { host, ex } = executor(cluster);
    await expect(ex.explainPending(JOB, 'QOSMaxWallDurationPerJobLimit')).resolves.toEqual({ never: true });
    expect(host.calls).toEqual([]);
    const gone = executor(() => ({ code: 1, stdout: '', stderr: 'Invalid job id specified' }));
    await expect(gone.ex.explainPending(JOB, 'PartitionTimeLimit')).resolves.toEqual({ never: true });
  });

  it('ReqNodeNotAvail is "never" only while every listed node is down or drained', async () => {
    const reason = 'ReqNodeNotAvail, UnavailableNodes:node[1-2]';
    const down = executor(() => ok('node1 down*\nnode1 down*\nnode2 drain\nnode2 drain\n'));
    await expect(down.ex.explainPending(JOB, reason)).resolves.toEqual({
      never: true,
      detail: 'node(s) node1 (down*), node2 (drain) are down or drained',
    });
    expect(down.host.calls).toEqual([`sinfo -h -N -n 'node[1-2]' -o '%N %t'`]);
    const back = executor(() => ok('node1 down*\nnode2 idle\n'));
    await expect(back.ex.explainPending(JOB, reason)).resolves.toEqual({ never: false });
    const noList = executor(() => ok(''));
    await expect(noList.ex.explainPending(JOB, 'ReqNodeNotAvail')).resolves.toEqual({ never: false });
  });
});
