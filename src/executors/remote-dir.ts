import path from 'node:path';

export const DEFAULT_REMOTE_DIR_NAME = 'vitest-disagg';

/** The remote work dir: the given dir (relative = under home), else `<home>/vitest-disagg`. */
export function remoteWorkDir(remoteDir: string | undefined, remoteHome: string): string {
  if (!remoteDir) return path.posix.join(remoteHome, DEFAULT_REMOTE_DIR_NAME);
  if (remoteDir === '~') return remoteHome;
  if (remoteDir.startsWith('~/')) return path.posix.join(remoteHome, remoteDir.slice(2));
  return remoteDir.startsWith('/') ? remoteDir : path.posix.join(remoteHome, remoteDir);
}
