// The sbatch hook of the kill -9 tests (kill-submission, submit-py): a wrapper first on PATH (the
// vitest process's PATH for 'slurm'; the lab's sshd puts `$LOCAL_CLUSTER_DIR/hook-bin` first for 'ssh')
// that signals before and after the real call, so a test kills vitest on that event, not on a timer.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Transparent unless the job dir (`--chdir`, else the folder of `--output`, which is all a submit.py
 * line names) has an ancestor holding `.sbatch-hook` (the signal dir).
 */
const WRAPPER = `#!/bin/bash
# Test hook of tests/integration/kill-submission.test.ts and submit-py.test.ts (removed after them).
real=__REAL__
dir=
out_dir=
for a in "$@"; do case $a in --chdir=*) dir=\${a#--chdir=} ;; --output=*) out_dir=\${a#--output=} ;; esac; done
[ -n "$dir" ] || { [ -n "$out_dir" ] && dir=$(dirname "$out_dir"); }
hook=
d=$dir
while [ -n "$d" ] && [ "$d" != / ] && [ "$d" != . ]; do
  if [ -f "$d/.sbatch-hook" ]; then hook=$(cat "$d/.sbatch-hook"); break; fi
  d=$(dirname "$d")
done
[ -n "$hook" ] || exec "$real" "$@"
echo "$dir" >>"$hook/calls"
mode=$(cat "$hook/arm" 2>/dev/null)
if [ "$mode" = final ]; then
  # The final run: jobs start at once (a duplicate would show in the counts, not hang).
  args=(); for a in "$@"; do case $a in --begin=*) ;; *) args+=("$a") ;; esac; done
  exec "$real" "\${args[@]}"
fi
[ -n "$mode" ] || exec "$real" "$@"
# A run is known by its job dirs' parent; a killed run's late calls die with it (never reach sbatch).
run=$(dirname "$dir")
dead() { grep -qxF "$run" "$hook/dead-runs" 2>/dev/null; }
dead && exit 1
wait_release() { i=0; while [ ! -e "$hook/release" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done; }
if ! mkdir "$hook/claimed" 2>/dev/null; then
  # Another call of this run holds the armed step: this one dies with the run, before its sbatch.
  wait_release; exit 1
fi
if dead; then rmdir "$hook/claimed"; exit 1; fi
echo "$run" >"$hook/claimed/run"
if [ "$mode" = before ]; then
  echo "$dir" >"$hook/signal"; wait_release; exit 1
fi
out=$("$real" "$@"); rc=$?
echo "\${out%%;*} $dir" >>"$hook/submitted"
echo "$dir" >"$hook/signal"
wait_release
printf '%s\\n' "$out"; exit $rc
`;

/** Writes the wrapper as `<hookBin>/sbatch`, calling the sbatch found on PATH now. */
export function installSbatchHook(hookBin: string): void {
  const real = spawnSync('bash', ['-c', 'command -v sbatch'], { encoding: 'utf8' }).stdout.trim();
  if (!real) throw new Error('sbatch is not on PATH');
  fs.writeFileSync(path.join(hookBin, 'sbatch'), WRAPPER.replace('__REAL__', real), { mode: 0o755 });
}

/** Every job (any state, MinJobAge keeps finished ones) whose work dir is under `base`: id, name, state. */
export function clusterJobs(base: string): Array<{ id: string; name: string; state: string }> {
  const r = spawnSync('squeue', ['-h', '-t', 'all', '-o', '%i|%j|%T|%Z'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`squeue failed: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('|'))
    .filter((f) => (f[3] ?? '').startsWith(base + '/'))
    .map(([id, name, state]) => ({ id: id as string, name: name as string, state: state as string }));
}

export function lines(file: string): string[] {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}
