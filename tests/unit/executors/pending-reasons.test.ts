import { describe, expect, it } from 'vitest';
import { classifyPendingReason, neverStartHint, reasonCode } from '../../../src/executors/pending-reasons.js';

describe('pending reasons', () => {
  it.each([
    'PartitionTimeLimit',
    'PartitionNodeLimit',
    'BadConstraints',
    'DependencyNeverSatisfied',
    'InvalidAccount',
    'InvalidQOS',
    'QOSMaxWallDurationPerJobLimit',
    'QOSMaxNodePerJobLimit',
    'QOSMaxCpuPerJobLimit',
    'AssocMaxNodesPerJobLimit',
    'AssocMaxWallDurationPerJobLimit',
    'ReqNodeNotAvail, UnavailableNodes:node[1-2]',
  ])('%s can never start', (reason) => {
    expect(classifyPendingReason(reason)).toBe('never');
  });

  it.each([
    'Priority',
    'Resources',
    'BeginTime',
    'Dependency',
    'Reservation',
    'AssocGrpCpuLimit',
    'AssocGrpNodeLimit',
    'QOSGrpNodeLimit',
    'QOSMaxJobsPerUserLimit',
    'AssocMaxJobsLimit',
    'JobArrayTaskLimit',
    'NodeDown',
    'PartitionDown',
    'PartitionInactive',
    'None',
  ])('%s only means wait', (reason) => {
    expect(classifyPendingReason(reason)).toBe('wait');
  });

  it('held jobs are neither waited on silently nor cancelled', () => {
    expect(classifyPendingReason('JobHeldAdmin')).toBe('held');
    expect(classifyPendingReason('JobHeldUser')).toBe('held');
    expect(classifyPendingReason('launch failed requeued held')).toBe('held');
  });

  it('no reason is a wait', () => {
    expect(classifyPendingReason(undefined)).toBe('wait');
    expect(classifyPendingReason('')).toBe('wait');
  });

  it('takes the code out of a reason with details and gives a hint per code', () => {
    expect(reasonCode('ReqNodeNotAvail, UnavailableNodes:node1')).toBe('ReqNodeNotAvail');
    expect(neverStartHint('PartitionTimeLimit')).toBe('lower slurm.job_time or pick another partition');
    expect(neverStartHint('QOSMaxWallDurationPerJobLimit')).toMatch(/per-job limit/);
  });
});
