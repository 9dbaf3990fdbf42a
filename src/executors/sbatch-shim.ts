// The `sbatch` shim put first on PATH for TensorRT-LLM's submit.py. submit.py builds its own sbatch line,
// and sbatch 22.05 reads no comment from the environment, so the write-ahead token (`--comment`, what
// `reconcile` finds with squeue `%k` / sacct `Comment`) can only be added on the way to the real sbatch.
// The shim also records each job id it saw, so a submit.py that printed no id still names its job.

import { SHIM_JOB_IDS_FILE } from '../jobdir/files.js';

/** Carries the token from our submit command to the shim (not a setting: only the shim reads it). */
export const SHIM_TOKEN_VAR = 'DISAGG_SUBMIT_TOKEN';

/** The shim's bash source: adds `--comment=<token>`, runs the real sbatch, records the job id. */
export function sbatchShimScript(): string {
  return [
    '#!/usr/bin/env bash',
    '# vitest-disagg: adds the write-ahead token to the job submit.py submits, then runs the real sbatch.',
    'set -u',
    'self=$(cd -- "$(dirname -- "$0")" && pwd -P) || exit 127',
    // The real sbatch is the first one on PATH once this dir is gone (also what it runs with, so a
    // nested call never loops back here).
    'clean=',
    'IFS=: read -r -a parts <<<"$PATH"',
    'for p in "${parts[@]}"; do',
    '  [ -n "$p" ] || continue',
    '  [ "$(cd -- "$p" 2>/dev/null && pwd -P)" = "$self" ] && continue',
    '  clean=${clean:+$clean:}$p',
    'done',
    'real=$(PATH=$clean; command -v sbatch) || { echo "sbatch shim: no sbatch on PATH besides $self" >&2; exit 127; }',
    'args=()',
    // Options must precede the script, whose arguments follow it: the token goes first.
    `if [ -n "\${${SHIM_TOKEN_VAR}:-}" ]; then args+=("--comment=$${SHIM_TOKEN_VAR}"); fi`,
    'out=$(PATH=$clean "$real" ${args[@]+"${args[@]}"} "$@")',
    'rc=$?',
    '[ -n "$out" ] && printf \'%s\\n\' "$out"',
    // `Submitted batch job N` (what submit.py relays) or `N[;cluster]` (--parsable).
    "id=$(printf '%s\\n' \"$out\" | sed -n -e 's/.*Submitted batch job \\([0-9][0-9]*\\).*/\\1/p' -e 's/^\\([0-9][0-9]*\\)\\(;.*\\)\\{0,1\\}$/\\1/p' | head -n 1)",
    `[ -n "$id" ] && printf '%s\\n' "$id" >>"$self/../${SHIM_JOB_IDS_FILE}"`,
    'exit "$rc"',
    '',
  ].join('\n');
}
