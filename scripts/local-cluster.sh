#!/usr/bin/env bash
# Local test cluster for vitest-disagg: a real SLURM 22.05 cluster (munge, slurmctld, N x slurmd as fake
# nodes on this host) plus a real OpenSSH sshd on 127.0.0.1 with key-only login for an unprivileged user.
# No systemd needed. Must run as root (Debian 12; installs what REQUIRED_PKGS lists when missing).
#
#   scripts/local-cluster.sh start    # idempotent; stdout = `export KEY=VALUE` lines only (eval them)
#   scripts/local-cluster.sh status   # exit 0 only if healthy
#   scripts/local-cluster.sh stop     # kills everything it started, removes its symlinks
#
# Typical use:   set -a; eval "$(scripts/local-cluster.sh start)"; set +a
#
# Settings (env, default in brackets):
#   LOCAL_CLUSTER_DIR         lab directory (state, configs, keys, logs)   [<repo>/.local-cluster]
#   LOCAL_CLUSTER_NODES       number of fake slurmd nodes node1..N          [4]
#   LOCAL_CLUSTER_CPUS        CPU slots per node (1-CPU jobs per node)      [4]
#   LOCAL_CLUSTER_PARTITION   partition name (default partition)           [debug]
#   LOCAL_CLUSTER_USER        user for ssh logins and jobs                  [bench]
#   LOCAL_CLUSTER_SSH_PORT    sshd port on 127.0.0.1                        [2222]
#   LOCAL_CLUSTER_SSH_MAX_SESSIONS                                          [10]
#   LOCAL_CLUSTER_CTLD_PORT   slurmctld port; slurmd ports follow it        [6817]
#   LOCAL_CLUSTER_KILL_WAIT   SLURM KillWait seconds                        [5]
#   LOCAL_CLUSTER_MIN_JOB_AGE SLURM MinJobAge seconds                       [3600]
#   LOCAL_CLUSTER_FIRST_JOB_ID                                              [random]
#   LOCAL_CLUSTER_ACCOUNTING  1 = MariaDB + slurmdbd so that sacct works    [0]
#                             (limits enforced: root and the user are in account "lab", QOS "normal")
#   LOCAL_CLUSTER_DB_PORT     MariaDB port on 127.0.0.1 (accounting only)   [3307]
#   LOCAL_CLUSTER_SMOKE       0 = skip the smoke job (first job then waits ~3 s) [1]
#   LOCAL_CLUSTER_NO_INSTALL  1 = never run apt-get                         [0]
#   LOCAL_CLUSTER_KEEP_LOGS   1 = stop keeps <dir>/log                      [0]
set -Eeuo pipefail
# never die silently
trap 'printf "[local-cluster] ERROR: unexpected failure (exit %s) at line %s: %s\n" "$?" "$LINENO" "$BASH_COMMAND" >&2' ERR

# stdout is reserved for the export lines: everything else goes to stderr.
exec 3>&1 1>&2

SCRIPT_PATH="$(readlink -f "${BASH_SOURCE[0]}")"
REPO="$(cd "$(dirname "$SCRIPT_PATH")/.." && pwd)"

LAB="${LOCAL_CLUSTER_DIR:-$REPO/.local-cluster}"
# status/stop: settings not given in the env come from the running lab (so that
# `LOCAL_CLUSTER_DIR=/x scripts/local-cluster.sh status` checks /x with the ports it was started with).
if [[ ${1:-} == status || ${1:-} == stop ]] && [[ -r $LAB/settings ]]; then
  while IFS='=' read -r k v; do
    case $k in
    nodes) : "${LOCAL_CLUSTER_NODES:=$v}" ;;
    cpus) : "${LOCAL_CLUSTER_CPUS:=$v}" ;;
    partition) : "${LOCAL_CLUSTER_PARTITION:=$v}" ;;
    user) : "${LOCAL_CLUSTER_USER:=$v}" ;;
    ssh_port) : "${LOCAL_CLUSTER_SSH_PORT:=$v}" ;;
    max_sessions) : "${LOCAL_CLUSTER_SSH_MAX_SESSIONS:=$v}" ;;
    ctld_port) : "${LOCAL_CLUSTER_CTLD_PORT:=$v}" ;;
    kill_wait) : "${LOCAL_CLUSTER_KILL_WAIT:=$v}" ;;
    min_job_age) : "${LOCAL_CLUSTER_MIN_JOB_AGE:=$v}" ;;
    accounting) : "${LOCAL_CLUSTER_ACCOUNTING:=$v}" ;;
    db_port) : "${LOCAL_CLUSTER_DB_PORT:=$v}" ;;
    esac
  done <"$LAB/settings"
fi
NODES="${LOCAL_CLUSTER_NODES:-4}"
CPUS="${LOCAL_CLUSTER_CPUS:-4}"
PARTITION="${LOCAL_CLUSTER_PARTITION:-debug}"
LUSER="${LOCAL_CLUSTER_USER:-bench}"
SSH_PORT="${LOCAL_CLUSTER_SSH_PORT:-2222}"
SSH_MAX_SESSIONS="${LOCAL_CLUSTER_SSH_MAX_SESSIONS:-10}"
CTLD_PORT="${LOCAL_CLUSTER_CTLD_PORT:-6817}"
KILL_WAIT="${LOCAL_CLUSTER_KILL_WAIT:-5}"
MIN_JOB_AGE="${LOCAL_CLUSTER_MIN_JOB_AGE:-3600}"
ACCOUNTING="${LOCAL_CLUSTER_ACCOUNTING:-0}"
SMOKE="${LOCAL_CLUSTER_SMOKE:-1}"
NO_INSTALL="${LOCAL_CLUSTER_NO_INSTALL:-0}"
KEEP_LOGS="${LOCAL_CLUSTER_KEEP_LOGS:-0}"
SLURMD_PORT=$((CTLD_PORT + 1))
DBD_PORT=$((SLURMD_PORT + NODES)) # after the slurmd port range (pitfall: port clash)
DB_PORT="${LOCAL_CLUSTER_DB_PORT:-3307}"
# Bump when the generated configs change meaning: a running cluster with another version is restarted.
LAYOUT_VERSION=2

SLURM_CONF_PATH="$LAB/etc/slurm.conf"
SSH_DIR="$LAB/ssh"
SSH_KEY="$SSH_DIR/id_ed25519"
KNOWN_HOSTS="$SSH_DIR/known_hosts"
HOST_KEY="$SSH_DIR/ssh_host_ed25519_key"
MUNGE_DIR="$LAB/munge"
MUNGE_SOCKET="$MUNGE_DIR/munge.socket"
RUN="$LAB/run"
LOG="$LAB/log"
MARK="LOCAL_CLUSTER_DAEMON=$LAB" # env marker on every daemon (and thus on job processes)
KEY_COMMENT="local-cluster@$LAB"

T0=${EPOCHREALTIME/./}
elapsed() { local d=$((${EPOCHREALTIME/./} - T0)); printf '%d.%02d' $((d / 1000000)) $((d % 1000000 / 10000)); }
say() { printf '[local-cluster %6ss] %s\n' "$(elapsed)" "$*" >&2; }
die() {
  printf '[local-cluster] ERROR: %s\n' "$*" >&2
  exit 1
}

# ------------------------------------------------------------------------------------------------ checks

validate_settings() {
  [[ $EUID -eq 0 ]] || die "must run as root (it starts munged/slurmctld/slurmd/sshd and manages user '$LUSER')"
  local v
  for v in NODES CPUS SSH_PORT SSH_MAX_SESSIONS CTLD_PORT KILL_WAIT MIN_JOB_AGE DB_PORT; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "LOCAL_CLUSTER_$v must be a number, got '${!v}'"
  done
  ((NODES >= 1 && NODES <= 64)) || die "LOCAL_CLUSTER_NODES must be 1..64"
  ((CPUS >= 1)) || die "LOCAL_CLUSTER_CPUS must be >= 1"
  [[ $LAB = /* ]] || die "LOCAL_CLUSTER_DIR must be absolute: $LAB"
  [[ $LAB != *[[:space:]\"\'\\\$]* ]] || die "LOCAL_CLUSTER_DIR must not contain spaces, quotes, \\ or \$: $LAB"
  [[ $LUSER =~ ^[a-z_][a-z0-9_-]*$ ]] || die "bad LOCAL_CLUSTER_USER '$LUSER'"
  [[ $PARTITION =~ ^[A-Za-z0-9_-]+$ ]] || die "bad LOCAL_CLUSTER_PARTITION '$PARTITION'"
  [[ $LUSER != root ]] || die "LOCAL_CLUSTER_USER must be an unprivileged user"
  if ((SSH_PORT >= CTLD_PORT && SSH_PORT <= DBD_PORT)) || { [[ $ACCOUNTING == 1 ]] && ((DB_PORT >= CTLD_PORT && DB_PORT <= DBD_PORT)); }; then
    die "port clash: ssh $SSH_PORT / mariadb $DB_PORT inside the slurm range $CTLD_PORT..$DBD_PORT"
  fi
}

settings_fingerprint() {
  printf '%s\n' "lab=$LAB" "nodes=$NODES" "cpus=$CPUS" "partition=$PARTITION" "user=$LUSER" \
    "ssh_port=$SSH_PORT" "max_sessions=$SSH_MAX_SESSIONS" "ctld_port=$CTLD_PORT" "kill_wait=$KILL_WAIT" \
    "min_job_age=$MIN_JOB_AGE" "accounting=$ACCOUNTING" "db_port=$DB_PORT" "layout=$LAYOUT_VERSION"
}

user_home() { getent passwd "$LUSER" | cut -d: -f6; }

ssh_base() { # [command...] as $LUSER, host key checked against our known_hosts, at most 20 s
  timeout 20 ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$KNOWN_HOSTS" \
    -o GlobalKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o IdentityAgent=none -o ConnectTimeout=5 \
    -o LogLevel=ERROR -i "$SSH_KEY" -p "$SSH_PORT" "$LUSER@127.0.0.1" "$@"
}

# /proc helpers (no dependency on procps) -----------------------------------------------------------

proc_alive() { # alive and not a zombie (no forks: this runs in loops)
  local s
  { read -r s <"/proc/$1/stat"; } 2>/dev/null || return 1
  s=${s##*) }
  [[ -n $s && ${s:0:1} != Z && ${s:0:1} != X ]]
}
proc_comm() {
  local c=
  { read -r c <"/proc/$1/comm"; } 2>/dev/null || true
  printf '%s' "$c"
}
PIDF= # set by pid_from_file
pid_from_file() { # pidfile expected-comm -> 0 and PIDF=pid if alive and comm matches
  local f=$1 comm=$2 pid= c=
  PIDF=
  { read -r pid <"$f"; } 2>/dev/null || return 1
  pid=${pid//[^0-9]/}
  [[ -n $pid ]] && proc_alive "$pid" || return 1
  { read -r c <"/proc/$pid/comm"; } 2>/dev/null || return 1
  [[ $c == "$comm"* ]] || return 1
  PIDF=$pid
}
marked_pids() { # processes whose environment carries our marker
  local f pid
  while read -r f; do
    pid=${f#/proc/}
    pid=${pid%/environ}
    [[ $pid == "$$" || $pid == "$BASHPID" ]] || printf '%s\n' "$pid"
  done < <(grep -lzxF -- "$MARK" /proc/[0-9]*/environ 2>/dev/null || true)
}
descendants() { # pids... -> those pids and all their descendants
  local -A kids=()
  local d s pid ppid
  local -a f
  for d in /proc/[0-9]*; do
    { read -r s <"$d/stat"; } 2>/dev/null || continue
    pid=${d#/proc/}
    s=${s##*) }
    read -r -a f <<<"$s"
    kids[${f[1]}]+=" $pid"
  done
  local -a queue=("$@") out=()
  while ((${#queue[@]})); do
    pid=${queue[0]}
    queue=("${queue[@]:1}")
    out+=("$pid")
    # shellcheck disable=SC2206
    [[ -n ${kids[$pid]:-} ]] && queue+=(${kids[$pid]})
  done
  printf '%s\n' "${out[@]}" | sort -un
}

# start/stop of one lab dir are serialised (several sessions may run `start` at once; the second one
# then finds the cluster healthy and reuses it). The lock lives outside the lab dir, which stop removes.
take_lock() {
  local dir=/run/lock
  [[ -d $dir && -w $dir ]] || dir=/tmp
  exec 9>"$dir/local-cluster-$(printf '%s' "$LAB" | cksum | cut -d' ' -f1).lock"
  if ! flock -n 9; then
    say "waiting for another start/stop of $LAB"
    flock -w 300 9 || die "timed out waiting for the lock of $LAB"
  fi
}

port_in_use() { (exec 5<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ------------------------------------------------------------------------------------------------ health

daemon_list() { # name pidfile comm log
  echo "munged $MUNGE_DIR/munged.pid munged $MUNGE_DIR/munged.log"
  if [[ $ACCOUNTING == 1 ]]; then
    echo "mariadbd $RUN/mariadbd.pid mariadbd $LOG/mariadb.log"
    echo "slurmdbd $RUN/slurmdbd.pid slurmdbd $LOG/slurmdbd.log"
  fi
  echo "slurmctld $RUN/slurmctld.pid slurmctld $LOG/slurmctld.log"
  local i
  for ((i = 1; i <= NODES; i++)); do echo "slurmd:node$i $RUN/slurmd-node$i.pid slurmd $LOG/slurmd-node$i.log"; done
  echo "sshd $RUN/sshd.pid sshd $LOG/sshd.log"
}

# check_health [verbose] -> 0 if healthy. verbose=1 prints one line per component on stdout (status).
# The ssh round trip (~0.3 s) runs in the background while the local checks run.
HEALTH_SSH_PID=
HEALTH_SSH_OUT=
check_health() {
  local rc=0
  HEALTH_SSH_OUT=$(mktemp /tmp/local-cluster-health.XXXXXX)
  ssh_base 'echo "$SLURM_CONF"; sinfo -h -o %a' >"$HEALTH_SSH_OUT" 2>&1 3>&- 9>&- &
  HEALTH_SSH_PID=$!
  check_health_inner "$@" || rc=$?
  if [[ -n $HEALTH_SSH_PID ]]; then
    kill "$HEALTH_SSH_PID" 2>/dev/null || true
    wait "$HEALTH_SSH_PID" 2>/dev/null || true
  fi
  rm -f "$HEALTH_SSH_OUT"
  return $rc
}
check_health_inner() {
  local verbose=${1:-0} ok=0 name pf comm lg out bad
  report() { [[ $verbose == 1 ]] && printf '%-14s %s\n' "$1" "$2" >&3 || true; }
  command -v scontrol >/dev/null && [[ -x /usr/sbin/sshd ]] || {
    report packages "missing (slurm/openssh not installed)"
    return 1
  }
  [[ -f $SLURM_CONF_PATH ]] || {
    report config "missing $SLURM_CONF_PATH (not started)"
    return 1
  }
  while read -r name pf comm lg; do
    if pid_from_file "$pf" "$comm"; then report "$name" "running (pid $PIDF)"; else
      report "$name" "NOT running"
      ok=1
    fi
  done < <(daemon_list)
  ((ok == 0)) || return 1
  export SLURM_CONF="$SLURM_CONF_PATH"
  if out=$(timeout 5 scontrol ping 2>&1) && grep -q 'is UP' <<<"$out"; then report ctld-ping UP; else
    report ctld-ping "DOWN: $(tr '\n' ' ' <<<"$out")"
    return 1
  fi
  out=$(timeout 5 sinfo -h -N -p "$PARTITION" -o '%N %T' 2>&1) || {
    report nodes "sinfo failed: $out"
    return 1
  }
  bad=$(awk '$2 !~ /^(idle|allocated|mixed|completing|planned)$/' <<<"$out")
  if [[ $(wc -l <<<"$out") -ne $NODES || -n $bad ]]; then
    report nodes "unhealthy: $(tr '\n' ' ' <<<"$out")"
    return 1
  fi
  report nodes "$NODES healthy: $(awk '{print $1"="$2}' <<<"$out" | tr '\n' ' ')"
  local sshrc=0
  wait "$HEALTH_SSH_PID" || sshrc=$?
  HEALTH_SSH_PID=
  out=$(cat "$HEALTH_SSH_OUT")
  if ((sshrc == 0)) && [[ $out == "$SLURM_CONF_PATH"$'\n'up* ]]; then
    report ssh "ok ($LUSER@127.0.0.1:$SSH_PORT, key login, sees SLURM_CONF)"
  else
    report ssh "FAILED: $(tr '\n' ' ' <<<"$out")"
    return 1
  fi
  [[ -f $LAB/settings ]] || return 1
  return 0
}

# ------------------------------------------------------------------------------------------------ install

REQUIRED_PKGS=(slurmctld slurmd slurm-client munge openssh-server openssh-client)

ensure_packages() {
  local pkgs=("${REQUIRED_PKGS[@]}") missing=() p
  [[ $ACCOUNTING == 1 ]] && pkgs+=(slurmdbd mariadb-server mariadb-client)
  for p in "${pkgs[@]}"; do
    [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true) == "install ok installed" ]] || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  [[ $NO_INSTALL == 1 ]] && die "missing packages and LOCAL_CLUSTER_NO_INSTALL=1: ${missing[*]}"
  say "installing Debian packages: ${missing[*]}"
  local made_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then # keep postinst scripts from starting daemons
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  local rc=0 aptlog="/tmp/local-cluster-apt.$$.log"
  {
    DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
  } >"$aptlog" 2>&1 || rc=$?
  ((made_policy)) && rm -f /usr/sbin/policy-rc.d
  if ((rc != 0)); then
    tail -n 30 "$aptlog" >&2
    die "apt-get failed (exit $rc) installing: ${missing[*]} (full log: $aptlog)"
  fi
  rm -f "$aptlog"
  say "installed: ${missing[*]}"
}

ensure_user() {
  if ! getent passwd "$LUSER" >/dev/null; then
    say "creating user $LUSER"
    useradd -m -s /bin/bash "$LUSER"
  fi
  # useradd stores '!' (locked); with UsePAM no, sshd then refuses even key auth.
  local pw
  pw=$(getent shadow "$LUSER" | cut -d: -f2)
  [[ $pw == '!'* ]] && usermod -p '*' "$LUSER"
  local home
  home=$(user_home)
  [[ -d $home ]] || install -d -o "$LUSER" -g "$(id -gn "$LUSER")" -m 0755 "$home"
  install -d -o "$LUSER" -g "$(id -gn "$LUSER")" -m 0700 "$home/.ssh"
  local ak="$home/.ssh/authorized_keys"
  touch "$ak"
  grep -vF " $KEY_COMMENT" "$ak" >"$ak.tmp" || true
  cat "$SSH_KEY.pub" >>"$ak.tmp"
  mv "$ak.tmp" "$ak"
  chown "$LUSER:$(id -gn "$LUSER")" "$ak"
  chmod 0600 "$ak"
  install -d -o "$LUSER" -g "$(id -gn "$LUSER")" -m 0755 "$home/disagg"
}

# Jobs run `node` as $LUSER: make sure it is on the default PATH and usable by that user.
ensure_node() {
  local std_path=/usr/local/bin:/usr/bin:/bin:/usr/games node_bin real
  if runuser -u "$LUSER" -- env -i PATH="$std_path" HOME=/tmp node --version >/dev/null 2>&1; then return 0; fi
  node_bin=$(command -v node) || die "node is not installed (needed by jobs running as $LUSER)"
  real=$(readlink -f "$node_bin")
  if [[ -e /usr/local/bin/node && ! -L /usr/local/bin/node ]]; then
    die "/usr/local/bin/node exists but $LUSER cannot run it; fix its permissions"
  fi
  if runuser -u "$LUSER" -- test -x "$real"; then
    say "linking /usr/local/bin/node -> $real for $LUSER"
    ln -sfn "$real" /usr/local/bin/node
  else
    say "copying $real to /usr/local/bin/node ($LUSER cannot reach it)"
    rm -f /usr/local/bin/node
    install -m 0755 "$real" /usr/local/bin/node
  fi
  echo /usr/local/bin/node >>"$LAB/created-paths"
  runuser -u "$LUSER" -- env -i PATH="$std_path" HOME=/tmp node --version >/dev/null 2>&1 ||
    die "$LUSER still cannot run node after linking /usr/local/bin/node"
}

# ------------------------------------------------------------------------------------------------ configs

write_slurm_conf() {
  local host=$1 first_id=$2 i
  {
    cat <<EOF
# generated by scripts/local-cluster.sh -- do not edit
ClusterName=local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmctldPort=$CTLD_PORT
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
StateSaveLocation=$LAB/state/ctld
SlurmdSpoolDir=$LAB/state/spool/%n
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd-%n.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$LOG/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
MinJobAge=$MIN_JOB_AGE
FirstJobId=$first_id
KillWait=$KILL_WAIT
ReturnToService=2
SlurmdParameters=config_overrides
MpiDefault=none
SwitchType=switch/none
MailProg=/bin/true
# Jobs over a partition limit are accepted and sit PENDING (PartitionTimeLimit…), as on many sites:
# the never-start tests rely on it.
EnforcePartLimits=NO
EOF
    if [[ $ACCOUNTING == 1 ]]; then
      echo "AccountingStorageType=accounting_storage/slurmdbd"
      echo "AccountingStorageHost=127.0.0.1"
      echo "AccountingStoragePort=$DBD_PORT"
      echo "AccountingStorageEnforce=associations,limits,qos"
    else
      echo "AccountingStorageType=accounting_storage/none"
    fi
    for ((i = 1; i <= NODES; i++)); do
      echo "NodeName=node$i NodeHostname=$host NodeAddr=127.0.0.1 Port=$((SLURMD_PORT + i - 1)) CPUs=$CPUS RealMemory=4000 State=UNKNOWN"
    done
    echo "PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP"
    # A partition with a 1-minute MaxTime (never the default): a longer job_time there can never start.
    echo "PartitionName=short Nodes=ALL Default=NO MaxTime=1 State=UP"
  } >"$SLURM_CONF_PATH"
  chmod 0644 "$SLURM_CONF_PATH"
}

write_sshd_config() {
  cat >"$SSH_DIR/sshd_config" <<EOF
# generated by scripts/local-cluster.sh -- do not edit
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $HOST_KEY
PidFile $RUN/sshd.pid
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AllowUsers $LUSER
AuthorizedKeysFile .ssh/authorized_keys
UsePAM no
X11Forwarding no
AllowTcpForwarding yes
PrintMotd no
LogLevel VERBOSE
MaxSessions $SSH_MAX_SESSIONS
MaxStartups 10:30:100
SetEnv SLURM_CONF=$SLURM_CONF_PATH $MARK PATH=$LAB/hook-bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
Subsystem sftp internal-sftp
EOF
  chmod 0644 "$SSH_DIR/sshd_config"
}

# ------------------------------------------------------------------------------------------------ start

fail_component() { # name log
  printf '\n[local-cluster] ERROR: %s failed to start. Last lines of %s:\n' "$1" "$2" >&2
  if [[ -s $2 ]]; then tail -n 25 "$2" | sed 's/^/    /' >&2; else echo "    (empty or missing)" >&2; fi
  local f
  for f in "$LOG"/*.out; do # daemons' own stdout/stderr: fatal config errors land here, before the log opens
    [[ -s $f ]] || continue
    printf '[local-cluster] %s:\n' "$f" >&2
    tail -n 10 "$f" | sed 's/^/    /' >&2
  done
  if [[ $1 == slurmd* ]]; then
    printf '[local-cluster] slurmctld.log tail:\n' >&2
    tail -n 10 "$LOG/slurmctld.log" 2>/dev/null | sed 's/^/    /' >&2 || true
  fi
  printf '[local-cluster] stopping what was started (logs kept in %s)\n' "$LOG" >&2
  LOCAL_CLUSTER_KEEP_LOGS=1 KEEP_LOGS=1 do_stop >&2 || true
  exit 1
}

wait_until() { # timeout-seconds component log command...
  local limit=$1 comp=$2 lg=$3
  shift 3
  local end=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < end)) || fail_component "$comp" "$lg"
    sleep 0.05
  done
}

spawn() { # log command... : daemon with our marker, no inherited stdio (so $(...) around us returns)
  local lg=$1
  shift
  env "$MARK" SLURM_CONF="$SLURM_CONF_PATH" "$@" </dev/null >>"$lg" 2>&1 3>&- 9>&-
}

ctld_up() { scontrol ping 2>/dev/null | grep -q 'is UP'; }
nodes_idle() {
  local out
  out=$(sinfo -h -N -p "$PARTITION" -o '%N %T' 2>/dev/null) || return 1
  [[ $(grep -c ' idle$' <<<"$out") -eq $NODES ]]
}

start_accounting() {
  local host=$1 pw
  pw=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
  install -d -m 0700 "$LAB/mysql"
  say "initialising MariaDB in $LAB/mysql"
  mariadb-install-db --no-defaults --user=root --datadir="$LAB/mysql" --auth-root-authentication-method=socket \
    --skip-test-db >"$LOG/mariadb-install.log" 2>&1 || fail_component mariadb-install-db "$LOG/mariadb-install.log"
  (
    cd /
    env "$MARK" setsid /usr/sbin/mariadbd --no-defaults --user=root --datadir="$LAB/mysql" --port=$DB_PORT \
      --bind-address=127.0.0.1 --socket="$RUN/mariadbd.sock" --pid-file="$RUN/mariadbd.pid" \
      --skip-name-resolve --log-error="$LOG/mariadb.log" </dev/null >>"$LOG/mariadb.log" 2>&1 3>&- 9>&- &
  )
  wait_until 30 mariadbd "$LOG/mariadb.log" mariadb --no-defaults -S "$RUN/mariadbd.sock" -uroot -e 'select 1'
  mariadb --no-defaults -S "$RUN/mariadbd.sock" -uroot -e "
    CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$pw';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1'; FLUSH PRIVILEGES;" ||
    fail_component mariadbd "$LOG/mariadb.log"
  # slurmdbd has no -f: it reads slurmdbd.conf next to $SLURM_CONF, mode 0600.
  cat >"$LAB/etc/slurmdbd.conf" <<EOF
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
DbdHost=$host
DbdAddr=127.0.0.1
DbdPort=$DBD_PORT
SlurmUser=root
PidFile=$RUN/slurmdbd.pid
LogFile=$LOG/slurmdbd.log
DebugLevel=info
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=$pw
StorageLoc=slurm_acct_db
EOF
  chmod 0600 "$LAB/etc/slurmdbd.conf"
  # 22.05's sacct/sacctmgr/slurmctld->slurmdbd ignore AuthInfo=socket= and use the default socket.
  install -d -m 0755 /run/munge
  take_symlink /run/munge/munge.socket.2 "$MUNGE_SOCKET" ||
    say "WARNING: sacct/sacctmgr use /run/munge/munge.socket.2, which is not ours: accounting may fail"
  spawn "$LOG/slurmdbd.log" /usr/sbin/slurmdbd
  wait_until 20 slurmdbd "$LOG/slurmdbd.log" port_in_use "$DBD_PORT"
  # the cluster is not registered automatically: add it before slurmctld starts
  local end=$((SECONDS + 15))
  until sacctmgr -i add cluster local >>"$LOG/slurmdbd.log" 2>&1 || sacctmgr -n list cluster format=cluster 2>/dev/null | grep -qw local; do
    ((SECONDS < end)) || fail_component "slurmdbd (sacctmgr add cluster)" "$LOG/slurmdbd.log"
    sleep 0.2
  done
  # Limits are enforced (AccountingStorageEnforce), so every user that submits needs an association:
  # root (local submissions) and $LUSER (over ssh), in account "lab" with the default QOS "normal",
  # whose limits (e.g. MaxSubmitJobsPerUser) then refuse sbatch like a real site's QOS.
  sacctmgr -i add account lab >>"$LOG/slurmdbd.log" 2>&1 || true
  sacctmgr -i add user root,"$LUSER" account=lab >>"$LOG/slurmdbd.log" 2>&1 || true
  [[ $(sacctmgr -n -P list assoc format=user 2>/dev/null | grep -cxE "root|$LUSER") -ge 2 ]] ||
    fail_component "slurmdbd (sacctmgr add user root,$LUSER)" "$LOG/slurmdbd.log"
}

# take_symlink path target: create path -> target if path is absent, a dangling symlink or already a
# symlink into this lab; never replace a real file or another live cluster's symlink.
take_symlink() {
  local path=$1 target=$2
  if [[ -e $path || -L $path ]]; then
    if [[ ! -L $path ]]; then
      say "note: $path is a real file; leaving it (clients use SLURM_CONF / their own settings)"
      return 1
    fi
    if [[ -e $path && $(readlink "$path") != "$LAB"/* ]]; then
      say "note: $path -> $(readlink "$path") belongs to another running lab; leaving it"
      return 1
    fi
  fi
  ln -sfn "$target" "$path"
  echo "$path" >>"$LAB/created-paths"
}

emit_env() {
  local home cpus_total=$((NODES * CPUS))
  home=$(user_home)
  {
    printf 'export %s=%q\n' \
      DISAGG_SSH_HOST 127.0.0.1 \
      DISAGG_SSH_PORT "$SSH_PORT" \
      DISAGG_SSH_USER "$LUSER" \
      DISAGG_SSH_KEY "$SSH_KEY" \
      DISAGG_SSH_KNOWN_HOSTS "$KNOWN_HOSTS" \
      DISAGG_REMOTE_DIR "$home/disagg" \
      SLURM_CONF "$SLURM_CONF_PATH" \
      LOCAL_CLUSTER_DIR "$LAB" \
      LOCAL_CLUSTER_NODES "$NODES" \
      LOCAL_CLUSTER_CPUS "$CPUS" \
      LOCAL_CLUSTER_SLOTS "$cpus_total" \
      LOCAL_CLUSTER_PARTITION "$PARTITION" \
      LOCAL_CLUSTER_ACCOUNTING "$ACCOUNTING"
  } >"$LAB/env.sh.tmp"
  mv "$LAB/env.sh.tmp" "$LAB/env.sh"
  cat "$LAB/env.sh" >&3
}

do_start() {
  validate_settings
  local fp
  fp=$(settings_fingerprint)
  if [[ -f $LAB/settings && $(cat "$LAB/settings") == "$fp" && -f $LAB/env.sh ]] && check_health 0; then
    say "already running and healthy ($LAB)"
    emit_env
    return 0
  fi
  if [[ -d $LAB ]]; then
    say "stopping previous/unhealthy cluster in $LAB"
    KEEP_LOGS=0 do_stop
  fi

  ensure_packages
  local host first_id i
  host=$(hostname -s)
  first_id=${LOCAL_CLUSTER_FIRST_JOB_ID:-$((1000000 + (RANDOM * 32768 + RANDOM) % 8000000))}

  # Ports must be free (slurmctld/slurmd listen on 0.0.0.0; a probe on 127.0.0.1 sees them).
  local ports=("$CTLD_PORT" "$SSH_PORT")
  for ((i = 0; i < NODES; i++)); do ports+=($((SLURMD_PORT + i))); done
  [[ $ACCOUNTING == 1 ]] && ports+=("$DBD_PORT" "$DB_PORT")
  for i in "${ports[@]}"; do
    port_in_use "$i" && die "port $i on 127.0.0.1 is already in use (another cluster or service?); set LOCAL_CLUSTER_SSH_PORT / LOCAL_CLUSTER_CTLD_PORT"
  done

  say "creating $LAB ($NODES nodes x $CPUS CPUs, partition $PARTITION, ssh port $SSH_PORT)"
  install -d -m 0755 "$LAB" "$LAB/etc" "$RUN" "$LOG" "$LAB/state" "$LAB/state/ctld" "$LAB/state/spool"
  install -d -m 0700 "$SSH_DIR"
  # Empty unless a test puts a command wrapper here (e.g. an sbatch that signals before/after the real
  # call): first on PATH for SSH sessions, so tests can watch what the ssh executor runs.
  install -d -m 0755 "$LAB/hook-bin"
  install -d -m 0755 -o munge -g munge "$MUNGE_DIR"
  : >"$LAB/created-paths"
  # every component of the path must be traversable by others (munged, and $LUSER reading slurm.conf)
  local p=$LAB
  while [[ $p != / ]]; do
    [[ $(($(stat -c '%#a' "$p") & 1)) -eq 1 ]] || die "$p is not o+x; munged and $LUSER need to traverse it (chmod o+x $p or set LOCAL_CLUSTER_DIR)"
    p=$(dirname "$p")
  done

  ssh-keygen -q -t ed25519 -N '' -C "local-cluster-host@$LAB" -f "$HOST_KEY"
  ssh-keygen -q -t ed25519 -N '' -C "$KEY_COMMENT" -f "$SSH_KEY"
  printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cut -d' ' -f1-2 "$HOST_KEY.pub")" >"$KNOWN_HOSTS"
  chmod 0644 "$KNOWN_HOSTS"
  ssh-keygen -lf "$HOST_KEY.pub" | awk '{print $2}' >"$SSH_DIR/host_key_sha256"

  mungekey --create --keyfile="$MUNGE_DIR/munge.key" >/dev/null 2>&1 ||
    dd if=/dev/urandom of="$MUNGE_DIR/munge.key" bs=1024 count=1 status=none
  chown munge:munge "$MUNGE_DIR/munge.key"
  chmod 0400 "$MUNGE_DIR/munge.key"

  ensure_user
  ensure_node
  write_slurm_conf "$host" "$first_id"
  write_sshd_config
  export SLURM_CONF="$SLURM_CONF_PATH"

  # plain `sinfo` for root (and `su $LUSER`) without SLURM_CONF: /etc/slurm/slurm.conf -> ours,
  # but only if that path is absent or already a symlink.
  install -d -m 0755 /etc/slurm
  take_symlink /etc/slurm/slurm.conf "$SLURM_CONF_PATH" || true

  install -d -m 0755 /run/sshd
  /usr/sbin/sshd -t -f "$SSH_DIR/sshd_config" >"$LOG/sshd.log" 2>&1 || fail_component "sshd (config test)" "$LOG/sshd.log"

  say "starting munged"
  runuser -u munge -- env "$MARK" /usr/sbin/munged --socket="$MUNGE_SOCKET" --key-file="$MUNGE_DIR/munge.key" \
    --pid-file="$MUNGE_DIR/munged.pid" --log-file="$MUNGE_DIR/munged.log" --seed-file="$MUNGE_DIR/munged.seed" \
    </dev/null >>"$LOG/munged.out" 2>&1 3>&- 9>&- || fail_component munged "$MUNGE_DIR/munged.log"
  wait_until 10 munged "$MUNGE_DIR/munged.log" test -S "$MUNGE_SOCKET"

  if [[ $ACCOUNTING == 1 ]]; then start_accounting "$host"; fi

  say "starting slurmctld and $NODES slurmd"
  spawn "$LOG/slurmctld.out" /usr/sbin/slurmctld -i -f "$SLURM_CONF_PATH" || fail_component slurmctld "$LOG/slurmctld.log"
  for ((i = 1; i <= NODES; i++)); do
    spawn "$LOG/slurmd-node$i.out" /usr/sbin/slurmd -f "$SLURM_CONF_PATH" -N "node$i" ||
      fail_component "slurmd node$i" "$LOG/slurmd-node$i.log"
  done
  spawn "$LOG/sshd.out" /usr/sbin/sshd -f "$SSH_DIR/sshd_config" -E "$LOG/sshd.log" || fail_component sshd "$LOG/sshd.log"

  wait_until 20 slurmctld "$LOG/slurmctld.log" ctld_up
  local end=$((SECONDS + 30))
  until nodes_idle; do
    if ((SECONDS >= end)); then
      sinfo -N -p "$PARTITION" >&2 || true
      for ((i = 1; i <= NODES; i++)); do
        pid_from_file "$RUN/slurmd-node$i.pid" slurmd || fail_component "slurmd node$i" "$LOG/slurmd-node$i.log"
      done
      fail_component "slurmd (nodes not idle)" "$LOG/slurmd-node1.log"
    fi
    sleep 0.05
  done
  wait_until 15 sshd "$LOG/sshd.log" ssh_base true
  local out
  out=$(ssh_base 'echo "$SLURM_CONF"; command -v node && node --version' 2>&1) ||
    fail_component "ssh session as $LUSER (node/SLURM_CONF check): $out" "$LOG/sshd.log"
  [[ $out == "$SLURM_CONF_PATH"$'\n'* ]] || fail_component "ssh session does not see SLURM_CONF ($out)" "$LOG/sshd.log"
  su "$LUSER" -c 'node --version' >/dev/null 2>&1 || die "su $LUSER -c 'node --version' fails"

  if [[ $SMOKE == 1 ]]; then
    # absorbs the ~3 s first-job delay; also proves: ssh -> sbatch as $LUSER -> slurmd -> node
    say "smoke job (ssh -> sbatch as $LUSER -> node --version)"
    # shellcheck disable=SC2016
    local smoke='set -e; f=$HOME/.local-cluster-smoke.out; rm -f "$f"
      id=$(sbatch --parsable -o "$f" --wrap "node --version"); id=${id%%;*}
      for i in $(seq 300); do
        s=$(squeue -h -t all -j "$id" -o %T)
        case $s in
          COMPLETED) rm -f "$f"; echo "job $id COMPLETED"; exit 0;;
          FAILED|CANCELLED*|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED)
            echo "job $id $s"; scontrol show job "$id"; cat "$f" 2>/dev/null; exit 1;;
        esac
        sleep 0.05
      done
      echo "job $id still $s after 15 s"; scancel "$id"; exit 1'
    out=$(ssh_base "$smoke" 2>&1) || {
      printf '%s\n' "$out" >&2
      fail_component "smoke job" "$LOG/slurmctld.log"
    }
    say "$out"
  fi

  printf '%s\n' "$fp" >"$LAB/settings"
  emit_env
  say "ready: $NODES nodes x $CPUS CPUs = $((NODES * CPUS)) slots; ssh $LUSER@127.0.0.1:$SSH_PORT"
}

# ------------------------------------------------------------------------------------------------ stop

kill_pids() { # signal pids...
  local sig=$1 p
  shift
  for p in "$@"; do kill "-$sig" "$p" 2>/dev/null || true; done
}

do_stop() {
  [[ $EUID -eq 0 ]] || die "must run as root"
  local -a daemons=() jobs=() tree=()
  local pf comm pid p
  if [[ -f $SLURM_CONF_PATH ]] && command -v scancel >/dev/null; then
    export SLURM_CONF="$SLURM_CONF_PATH"
    if pid_from_file "$RUN/slurmctld.pid" slurmctld; then
      local ids
      ids=$(timeout 5 squeue -h -o %A 2>/dev/null || true)
      if [[ -n $ids ]]; then
        say "cancelling $(wc -w <<<"$ids") job(s)"
        # shellcheck disable=SC2086
        timeout 5 scancel $ids 2>/dev/null || true
        local end=$((SECONDS + 2))
        while ((SECONDS < end)) && [[ -n $(timeout 2 squeue -h -t PD,R,CG -o %A 2>/dev/null || true) ]]; do sleep 0.1; done
      fi
    fi
  fi
  # Our daemons, from their pid files (comm checked, so a recycled pid is never signalled). Globbed, not
  # from the current settings: the running cluster may have been started with another node count.
  local -A isdaemon=()
  local -a phase1=() phase2=() phase3=() phase4=()
  for pf in "$MUNGE_DIR/munged.pid" "$RUN"/*.pid; do
    [[ -f $pf ]] || continue
    comm=$(basename "$pf" .pid)
    comm=${comm%%-*}
    pid_from_file "$pf" "$comm" || continue
    pid=$PIDF
    daemons+=("$pid")
    isdaemon[$pid]=1
    case $comm in
    sshd | slurmd) phase1+=("$pid") ;;
    slurmctld) phase2+=("$pid") ;;
    slurmdbd | mariadbd) phase3+=("$pid") ;;
    *) phase4+=("$pid") ;; # munged last: the others talk to it while shutting down
    esac
  done
  # Job processes: marked processes that are not daemons, plus their whole trees (a job submitted
  # locally carries the marker only on its slurmstepd).
  sweep() {
    jobs=()
    for p in $(marked_pids); do
      # slurmctld's helper child slurmscriptd is no job: killing it makes slurmctld hang on shutdown
      [[ -n ${isdaemon[$p]:-} || $(proc_comm "$p") == slurmscriptd ]] || jobs+=("$p")
    done
    if ((${#jobs[@]})); then
      mapfile -t tree < <(descendants "${jobs[@]}")
      local -a victims=()
      for p in "${tree[@]}"; do
        [[ -n ${isdaemon[$p]:-} || $p == "$$" || $p == "$BASHPID" || $(proc_comm "$p") == slurmscriptd ]] || victims+=("$p")
      done
      ((${#victims[@]})) && kill_pids KILL "${victims[@]}"
    fi
    return 0
  }
  sweep
  ((${#daemons[@]})) && say "stopping ${#daemons[@]} daemon(s)"
  stop_group() { # pids...: SIGTERM, wait up to 5 s, then SIGKILL
    (($#)) || return 0
    kill_pids TERM "$@"
    local end=$((SECONDS + 5)) left
    while :; do
      left=()
      for p in "$@"; do proc_alive "$p" && left+=("$p"); done
      ((${#left[@]})) || return 0
      if ((SECONDS >= end)); then
        say "SIGKILL to ${left[*]} ($(for p in "${left[@]}"; do proc_comm "$p"; done | tr '\n' ' '))"
        kill_pids KILL "${left[@]}"
        sleep 0.2
        return 0
      fi
      sleep 0.05
    done
  }
  stop_group "${phase1[@]}"
  stop_group "${phase2[@]}"
  stop_group "${phase3[@]}"
  stop_group "${phase4[@]}"
  isdaemon=()
  sweep # final sweep: anything still carrying the marker (stray job processes, sshd session children)
  # Symlinks / files we created outside the lab dir, only if they are still ours.
  if [[ -f $LAB/created-paths ]]; then
    while read -r p; do
      [[ -n $p ]] || continue
      if [[ -L $p ]]; then
        case $(readlink "$p") in "$LAB"/* | /usr/* | /opt/* | /home/* | /root/*) rm -f "$p" ;; esac
      elif [[ $p == /usr/local/bin/node && -f $p ]]; then
        rm -f "$p"
      fi
    done <"$LAB/created-paths"
  fi
  # Also clean up symlinks into this lab left by a crashed/partial start.
  for p in /etc/slurm/slurm.conf /run/munge/munge.socket.2; do
    [[ -L $p && $(readlink "$p") == "$LAB"/* ]] && rm -f "$p"
  done
  # Our key in the user's authorized_keys.
  if getent passwd "$LUSER" >/dev/null; then
    local ak
    ak="$(user_home)/.ssh/authorized_keys"
    if [[ -f $ak ]] && grep -qF " $KEY_COMMENT" "$ak"; then
      grep -vF " $KEY_COMMENT" "$ak" >"$ak.tmp" || true
      cat "$ak.tmp" >"$ak"
      rm -f "$ak.tmp"
    fi
  fi
  if [[ -d $LAB ]]; then
    if [[ $KEEP_LOGS == 1 ]]; then
      [[ -f $MUNGE_DIR/munged.log ]] && cp "$MUNGE_DIR/munged.log" "$LOG/" 2>/dev/null || true
      find "$LAB" -mindepth 1 -maxdepth 1 ! -name log -exec rm -rf {} +
      say "stopped; logs kept in $LOG"
    else
      rm -rf "$LAB"
      say "stopped"
    fi
  else
    say "not running"
  fi
}

do_status() {
  validate_settings
  if check_health 1; then
    printf 'healthy: %s nodes x %s CPUs = %s slots, partition %s, lab %s\n' "$NODES" "$CPUS" "$((NODES * CPUS))" "$PARTITION" "$LAB" >&3
    return 0
  fi
  printf 'NOT healthy (lab %s)\n' "$LAB" >&3
  return 1
}

case "${1:-}" in
start)
  validate_settings
  take_lock
  do_start
  ;;
stop)
  validate_settings
  take_lock
  do_stop
  ;;
status) do_status || exit 1 ;;
*)
  echo "usage: $0 start|stop|status" >&2
  exit 2
  ;;
esac
