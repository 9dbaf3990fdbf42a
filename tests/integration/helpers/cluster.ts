// The local cluster's settings, as `scripts/local-cluster.sh start` exports them. Tests that need the
// cluster fail (never skip) with the command that starts it.
export const CLUSTER_VARS = [
  'DISAGG_SSH_HOST',
  'DISAGG_SSH_PORT',
  'DISAGG_SSH_USER',
  'DISAGG_SSH_KEY',
  'DISAGG_SSH_KNOWN_HOSTS',
  'DISAGG_REMOTE_DIR',
  'SLURM_CONF',
  'LOCAL_CLUSTER_SLOTS',
  'LOCAL_CLUSTER_PARTITION',
] as const;

export type ClusterVar = (typeof CLUSTER_VARS)[number];

export function requireClusterEnv(): Record<ClusterVar, string> {
  const missing = CLUSTER_VARS.filter((k) => !process.env[k]);
  if (missing.length > 0) {
    throw new Error(
      `local cluster env missing (${missing.join(', ')}). Start the cluster first (as root): ` +
        '`set -a; eval "$(bash scripts/local-cluster.sh start)"; set +a` and run vitest in the same shell, ' +
        'or run `npm test`, which starts it, runs all tests and stops it.',
    );
  }
  return process.env as Record<ClusterVar, string>;
}
