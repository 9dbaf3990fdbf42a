#!/usr/bin/env bash
# Install Debian's chromium for the report's browser test (tests/integration/report-browser.test.ts)
# when it is missing, the way scripts/local-cluster.sh installs the SLURM packages. Idempotent and
# silent when chromium is there. Needs root (apt-get) only when it installs.
#   CHROMIUM_NO_INSTALL=1  never run apt-get: fail saying what is missing
set -euo pipefail

BIN=/usr/bin/chromium
[[ -x $BIN ]] && exit 0

die() { printf 'ensure-chromium: %s\n' "$*" >&2; exit 1; }
[[ ${CHROMIUM_NO_INSTALL:-0} == 1 ]] && die "$BIN is missing and CHROMIUM_NO_INSTALL=1: run apt-get install -y chromium"
[[ $(id -u) == 0 ]] || die "$BIN is missing; install it as root: apt-get update && apt-get install -y chromium"

printf 'ensure-chromium: installing Debian package chromium\n' >&2
aptlog="/tmp/ensure-chromium.$$.log"
rc=0
{
  DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold chromium
} >"$aptlog" 2>&1 || rc=$?
if ((rc != 0)); then
  tail -n 30 "$aptlog" >&2
  die "apt-get failed (exit $rc) installing chromium (full log: $aptlog)"
fi
rm -f "$aptlog"
[[ -x $BIN ]] || die "chromium installed but $BIN is not there"
printf 'ensure-chromium: installed %s\n' "$("$BIN" --version 2>/dev/null || echo chromium)" >&2
