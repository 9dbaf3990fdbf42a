#!/usr/bin/env bash
# Body of `npm test`: static checks, then the local SLURM + sshd cluster, all our tests, the stress suite.
# Needs root (the cluster script starts munged/slurmctld/slurmd/sshd and installs Debian packages if missing).
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

step() { printf '\n==> %s\n' "$*" >&2; }

step 'typecheck (tsc --noEmit)'
npx tsc --noEmit
step 'lint (eslint)'
npx eslint .
step 'format (prettier --check)'
npx prettier --check .

step 'chromium for the report browser test (scripts/ensure-chromium.sh)'
bash scripts/ensure-chromium.sh

step 'local cluster: start (scripts/local-cluster.sh)'
# Registered before start: stop is idempotent and also cleans up after a failed start. Logs are kept
# in $LOCAL_CLUSTER_DIR/log (CI artifacts) unless the caller sets LOCAL_CLUSTER_KEEP_LOGS=0.
trap 'LOCAL_CLUSTER_KEEP_LOGS=${LOCAL_CLUSTER_KEEP_LOGS:-1} bash scripts/local-cluster.sh stop' EXIT
cluster_env="$(bash scripts/local-cluster.sh start)"
set -a
eval "$cluster_env"
set +a

reports="$(mktemp -d)"
status=0
step 'unit + integration tests (vitest.unit.config.ts)'
npx vitest run --config vitest.unit.config.ts --reporter=default --reporter=json \
  --outputFile.json="$reports/unit.json" || status=1

step 'stress suite (vitest.config.ts, embedded default configs)'
OUTPUT_PATH="$reports/output" npx vitest run --reporter=default --reporter=json \
  --reporter=./src/plugin/summary-reporter.ts --outputFile.json="$reports/stress.json" || status=1

# One closing line over both runs, in the plain form CI tools read.
node -e '
  let p = 0, f = 0, s = 0;
  for (const file of process.argv.slice(1)) {
    let r;
    try { r = require(file); } catch { f++; console.error(`no report: ${file}`); continue; }
    p += r.numPassedTests; f += r.numFailedTests; s += r.numPendingTests + r.numTodoTests;
  }
  console.log(`vitest: ${p} passed, ${f} failed, ${s} skipped`);
' "$reports/unit.json" "$reports/stress.json"
exit "$status"
