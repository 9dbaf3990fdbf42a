// What a SLURM pending reason means for a test runner: wait (the queue is working), never (this job, as
// submitted, can never start) or held (a person must act). See SchedMD's "Job Reason Codes".

export type PendingClass = 'wait' | 'never' | 'held';

/** The reason code: `ReqNodeNotAvail, UnavailableNodes:node[1-2]` → `ReqNodeNotAvail`. */
export function reasonCode(reason: string): string {
  return reason.trim().split(/[\s,(]/)[0] ?? '';
}

const NEVER = new Set([
  'PartitionTimeLimit',
  'PartitionNodeLimit',
  'BadConstraints',
  'DependencyNeverSatisfied',
  'InvalidAccount',
  'InvalidQOS',
  'AccountNotAllowed',
  'QOSNotAllowed',
  'PartitionConfig',
  'ReqNodeNotAvail',
]);

const HELD = new Set(['JobHeldUser', 'JobHeldAdmin']);

/**
 * Per-job limits of a QOS or an association that the job alone exceeds (`QOSMaxWallDurationPerJobLimit`,
 * `AssocMaxNodesPerJobLimit`, `QOSMaxCpuPerJobLimit`…). Group limits (`AssocGrp*`, `QOSGrp*`) and per-user
 * job counts only mean "wait until other jobs end".
 */
function perJobLimit(code: string): boolean {
  return /^(QOS|Assoc)Max\w*PerJob\w*$/.test(code) || code === 'QOSMinGRES' || /^QOSMin\w+$/.test(code);
}

/**
 * `ReqNodeNotAvail` is "never" only when the nodes it waits for are down or drained: the scheduler
 * checks their state (`explainPending`) before anything is cancelled.
 */
export function classifyPendingReason(reason: string | undefined): PendingClass {
  if (!reason) return 'wait';
  if (/launch failed requeued held/i.test(reason)) return 'held';
  const code = reasonCode(reason);
  if (HELD.has(code)) return 'held';
  if (NEVER.has(code) || perJobLimit(code)) return 'never';
  return 'wait';
}

/** What the user can do about a never-startable job, by reason code. */
export function neverStartHint(code: string): string {
  switch (code) {
    case 'PartitionTimeLimit':
      return 'lower slurm.job_time or pick another partition';
    case 'PartitionNodeLimit':
      return 'lower the node count (hardware / worker layout) or pick another partition';
    case 'BadConstraints':
      return 'fix the constraints or resources the job asks for (slurm.extra_args)';
    case 'DependencyNeverSatisfied':
      return 'the job depends on a job that failed; fix or drop the dependency';
    case 'ReqNodeNotAvail':
      return 'the requested nodes are down or drained; ask an admin or request other nodes';
    case 'InvalidAccount':
    case 'AccountNotAllowed':
      return 'use an account the partition allows (slurm.account / DISAGG_ACCOUNT)';
    case 'InvalidQOS':
    case 'QOSNotAllowed':
      return 'use a QOS the partition and account allow';
    case 'PartitionConfig':
      return 'the partition cannot satisfy the request; pick another partition';
    default:
      return 'the job alone exceeds a per-job limit of its QOS or account; ask for less or use another QOS/account';
  }
}
