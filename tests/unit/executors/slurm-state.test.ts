import { describe, expect, it } from 'vitest';
import {
  isAccountingDisabled,
  isInvalidJobIdError,
  isRetryableSubmitError,
  parseSacct,
  parseScontrol,
  parseSqueue,
  scontrolFields,
  toJobState,
} from '../../../src/executors/slurm-state.js';

// A real `scontrol show job -o` line from the local 22.05 cluster (exit 3 case).
const SCONTROL_FAILED =
  'JobId=8875155 JobName=wrap UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901758 Nice=0 Account=(null) ' +
  'QOS=(null) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ' +
  'ExitCode=3:0 RunTime=00:00:01 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-27T21:47:20 ' +
  'AllocNode:Sid=localhost:4382 ReqNodeList=(null) NodeList=node1 NumNodes=1 NumCPUs=1 CPUs/Task=1 ' +
  'ReqB:S:C:T=0:0:*:* TRES=cpu=1,node=1,billing=1 Socks/Node=* WorkDir=/tmp StdOut=/tmp/x-8875155.out Power= ';

const scontrol = (id: string, state: string, reason: string, exit: string): string =>
  `JobId=${id} JobName=my job UserId=bench(1001) JobState=${state} Reason=${reason} Dependency=(null) ExitCode=${exit} RunTime=00:00:01 Power= `;

describe('§8 job outcomes', () => {
  // case → squeue %T, scontrol JobState/Reason/ExitCode, sacct State/ExitCode, expected JobState
  const ROWS: Array<{
    name: string;
    squeue: string;
    scontrol: [string, string, string];
    sacct?: [string, string];
    state: string;
  }> = [
    {
      name: 'ok',
      squeue: 'COMPLETED',
      scontrol: ['COMPLETED', 'None', '0:0'],
      sacct: ['COMPLETED', '0:0'],
      state: 'COMPLETED',
    },
    {
      name: 'exit 3',
      squeue: 'FAILED',
      scontrol: ['FAILED', 'NonZeroExitCode', '3:0'],
      sacct: ['FAILED', '3:0'],
      state: 'FAILED',
    },
    {
      name: '--output dir missing',
      squeue: 'FAILED',
      scontrol: ['FAILED', 'JobLaunchFailure', '0:53'],
      sacct: ['FAILED', '0:53'],
      state: 'FAILED',
    },
    {
      name: 'kill -9 $$',
      squeue: 'FAILED',
      scontrol: ['FAILED', 'JobLaunchFailure', '0:9'],
      state: 'FAILED',
    },
    {
      name: 'scancel running',
      squeue: 'CANCELLED',
      scontrol: ['CANCELLED', 'None', '0:15'],
      sacct: ['CANCELLED by 1001', '0:0'],
      state: 'CANCELLED',
    },
    {
      name: 'scancel pending',
      squeue: 'CANCELLED',
      scontrol: ['CANCELLED', 'Priority', '0:0'],
      state: 'CANCELLED',
    },
    { name: 'time limit', squeue: 'TIMEOUT', scontrol: ['TIMEOUT', 'TimeLimit', '0:15'], state: 'TIMEOUT' },
  ];

  it.each(ROWS)('$name', (row) => {
    const sq = parseSqueue(`42|${row.squeue}||${row.scontrol[1]}\n`).get('42');
    expect(sq?.state).toBe(row.state);
    const sc = parseScontrol(scontrol('42', ...row.scontrol)).get('42');
    expect(sc).toMatchObject({ state: row.state, exitCode: row.scontrol[2] });
    expect(sc?.reason).toBe(row.scontrol[1] === 'None' ? undefined : row.scontrol[1]);
    if (row.sacct) {
      const sa = parseSacct(`42|${row.sacct[0]}|${row.sacct[1]}|None\n`).get('42');
      expect(sa).toMatchObject({ state: row.state, exitCode: row.sacct[1] });
    }
  });

  it('COMPLETING (scancel of a running job, until its processes die) is not terminal', () => {
    expect(parseSqueue('42|COMPLETING|node1|None').get('42')?.state).toBe('COMPLETING');
    expect(toJobState('CG')).toBe('COMPLETING');
  });

  it('sacct: CANCELLED by <uid> becomes a reason', () => {
    expect(parseSacct('7|CANCELLED by 1001|0:0|None').get('7')).toMatchObject({
      state: 'CANCELLED',
      reason: 'cancelled by uid 1001',
    });
  });
});

describe('parseSqueue', () => {
  it('reads many jobs, skips blank lines and array/het components', () => {
    const m = parseSqueue(
      '1|PENDING||Priority\n2|RUNNING|node1|None\n\n3_1|RUNNING|node2|None\n4|PENDING|(null)|(Resources)\n',
    );
    expect([...m.keys()]).toEqual(['1', '2', '4']);
    expect(m.get('1')).toMatchObject({ state: 'PENDING', reason: 'Priority' });
    expect(m.get('1')?.nodes).toBeUndefined();
    expect(m.get('2')?.reason).toBeUndefined();
    expect(m.get('2')?.nodes).toBe('node1');
    expect(m.get('4')?.nodes).toBeUndefined();
  });
  it('node lists with brackets, ranges and commas stay whole; a reason with | keeps its text', () => {
    const m = parseSqueue('5|RUNNING|gpu[01-03,07],cpu-a1|None\n6|PENDING||a|b\n');
    expect(m.get('5')).toMatchObject({ state: 'RUNNING', nodes: 'gpu[01-03,07],cpu-a1' });
    expect(m.get('5')?.reason).toBeUndefined();
    expect(m.get('6')?.reason).toBe('a|b');
  });
  it('empty output (unknown ids are skipped silently) is an empty map', () => {
    expect(parseSqueue('').size).toBe(0);
  });
  it('maps every state word', () => {
    for (const [word, state] of [
      ['CONFIGURING', 'CONFIGURING'],
      ['SUSPENDED', 'SUSPENDED'],
      ['REQUEUED', 'REQUEUED'],
      ['REQUEUE_HOLD', 'REQUEUED'],
      ['RESIZING', 'RESIZING'],
      ['NODE_FAIL', 'NODE_FAIL'],
      ['OUT_OF_MEMORY', 'OUT_OF_MEMORY'],
      ['PREEMPTED', 'PREEMPTED'],
      ['BOOT_FAIL', 'BOOT_FAIL'],
      ['DEADLINE', 'DEADLINE'],
      ['RUNNING+', 'RUNNING'],
      ['WHATEVER', 'UNKNOWN'],
    ] as const) {
      expect(toJobState(word)).toBe(state);
    }
  });
});

describe('parseSacct', () => {
  it('last row wins (lag rows, requeues), ids filtered', () => {
    const out =
      '10|RUNNING|0:0|None\n10|COMPLETED|0:0|None\n11|FAILED|2:0|NonZeroExitCode\n10.batch|COMPLETED|0:0|\n';
    const m = parseSacct(out);
    expect(m.get('10')).toMatchObject({ state: 'COMPLETED', exitCode: '0:0' });
    expect(m.get('11')).toMatchObject({ state: 'FAILED', exitCode: '2:0', reason: 'NonZeroExitCode' });
    expect(m.size).toBe(2);
  });
  it('works without the Reason column', () => {
    expect(parseSacct('5|TIMEOUT|0:15').get('5')).toMatchObject({ state: 'TIMEOUT', exitCode: '0:15' });
  });
});

describe('parseScontrol', () => {
  it('reads a real line and concatenated outputs; ignores error lines', () => {
    const m = parseScontrol(
      `${SCONTROL_FAILED}\nslurm_load_jobs error: Invalid job id specified\n${scontrol('9', 'RUNNING', 'None', '0:0')}\n`,
    );
    expect(m.get('8875155')).toMatchObject({ state: 'FAILED', reason: 'NonZeroExitCode', exitCode: '3:0' });
    expect(m.get('9')).toMatchObject({ state: 'RUNNING' });
  });
  it('splits keys with colons and slashes, values with spaces and =', () => {
    const f = scontrolFields(SCONTROL_FAILED);
    expect(f.get('AllocNode:Sid')).toBe('localhost:4382');
    expect(f.get('TRES')).toBe('cpu=1,node=1,billing=1');
    expect(f.get('CPUs/Task')).toBe('1');
    expect(f.get('Power')).toBe('');
    expect(scontrolFields(scontrol('1', 'PENDING', 'None', '0:0')).get('JobName')).toBe('my job');
  });
});

describe('error classification', () => {
  it('recognises the messages SLURM prints', () => {
    expect(isInvalidJobIdError('slurm_load_jobs error: Invalid job id specified')).toBe(true);
    expect(isAccountingDisabled('Slurm accounting storage is disabled')).toBe(true);
    expect(
      isRetryableSubmitError(
        "sbatch: error: QOSMaxSubmitJobPerUserLimit\nsbatch: error: Batch job submission failed: Job violates accounting/QOS policy (job submit limit, user's size and/or time limits)",
      ),
    ).toBe(true);
    expect(isRetryableSubmitError('sbatch: error: AssocMaxSubmitJobLimit')).toBe(true);
    expect(
      isRetryableSubmitError(
        'sbatch: error: invalid partition specified: nope\nsbatch: error: Batch job submission failed: Invalid partition name specified',
      ),
    ).toBe(false);
  });
});
