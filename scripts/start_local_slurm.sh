#!/usr/bin/env bash
# Starts a single-node Slurm on this machine (munged, slurmctld, slurmd as plain daemons, no
# systemd), so that tests/slurm_job_test.cc (cluster/slurm_job.h) has a real cluster to submit to.
# Meant for CI containers (Debian 12, root, no systemd, maybe no cgroup delegation) and developer
# machines. Idempotent: when the daemons already answer and the configuration is unchanged it
# does nothing. `--stop` stops what it started.
#
# It writes $SLURM_CONF (default /etc/slurm/slurm.conf) only when there is none or when the
# existing one starts with the marker line below: a real cluster's slurm.conf is never touched.
#
# Environment: SCALESFM_SLURM_TIMEOUT  seconds to wait for the node to become idle [60]
#              SCALESFM_SLURM_DIR      state, spool, logs and pid files [/var/lib/scalesfm-slurm]
set -euo pipefail

readonly marker="# scalesfm-local-slurm: scripts/start_local_slurm.sh wrote this file"
readonly conf="${SLURM_CONF:-/etc/slurm/slurm.conf}"
readonly base="${SCALESFM_SLURM_DIR:-/var/lib/scalesfm-slurm}"
readonly timeout="${SCALESFM_SLURM_TIMEOUT:-60}"
readonly munge_key=/etc/munge/munge.key
readonly munge_run=/run/munge
readonly munge_log=/var/log/munge/munged.log
readonly script_args=("$@")

say() { echo "start_local_slurm: $*"; }
fail() {
  echo "start_local_slurm: ERROR: $*" >&2
  exit 1
}

# The last lines of each daemon's log, for an error message that says why.
print_logs() {
  local f
  for f in "$base/log/slurmctld.log" "$base/log/slurmd.log" "$munge_log"; do
    [ -f "$f" ] || continue
    echo "----- last lines of $f -----" >&2
    tail -n "$([ "$f" = "$munge_log" ] && echo 10 || echo 30)" "$f" >&2
  done
}

# Whether the process in pid file $1 is alive and named $2. A zombie counts as dead: where PID 1
# does not reap orphans (some container inits), a crashed daemon stays in the process table.
pid_alive() {
  local pid
  [ -s "$1" ] || return 1
  pid="$(cat "$1")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] || return 1
  ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null
}

# Starts daemon $1 (it forks itself) with arguments $2...; fails with the logs unless its pid
# file names a live process within 10 s (slurmctld forks before it checks its host name).
start_daemon() {
  local name="$1" _
  shift
  "$name" "$@" || {
    print_logs
    fail "$name did not start"
  }
  for _ in $(seq 50); do
    if pid_alive "$base/$name.pid" "$name"; then
      sleep 0.2
      # Still alive a moment later: it got past its start-up checks.
      if pid_alive "$base/$name.pid" "$name"; then
        say "started $name (pid $(cat "$base/$name.pid"))"
        return 0
      fi
    fi
    sleep 0.2
  done
  print_logs
  fail "$name exited right after it started (see its log above)"
}

# Sends SIGTERM to the process in pid file $1 and waits up to 10 s (then SIGKILL).
stop_pid_file() {
  local pid_file="$1" what="$2" pid _
  if ! pid_alive "$pid_file" "$what"; then
    rm -f "$pid_file"
    return 0
  fi
  pid="$(cat "$pid_file")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    pid_alive "$pid_file" "$what" || break
    sleep 0.2
  done
  if pid_alive "$pid_file" "$what"; then
    kill -9 "$pid" 2>/dev/null || true
    say "stopped $what (pid $pid) with SIGKILL"
  else
    say "stopped $what (pid $pid)"
  fi
  rm -f "$pid_file"
}

# Starting or stopping daemons needs root: without it, run again through sudo when there is one
# (the checks above it need no privileges, so a healthy cluster needs no password).
need_root() {
  [ "$(id -u)" -ne 0 ] || return 0
  command -v sudo >/dev/null 2>&1 || fail "needs root to start munged, slurmctld and slurmd"
  say "not root: running again with sudo"
  exec sudo -- env SLURM_CONF="$conf" SCALESFM_SLURM_DIR="$base" \
    SCALESFM_SLURM_TIMEOUT="$timeout" bash "$0" "${script_args[@]}"
}

munge_answers() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

node_name() {
  local n
  n="$(hostname -s 2>/dev/null || true)"
  echo "${n:-localhost}"
}

# The node's state as sinfo reports it ("idle", "mixed", "down*", ...); empty when sinfo fails.
node_state() { sinfo -h -n "$1" -o %T 2>/dev/null | head -n 1 || true; }

node_usable() {
  case "$1" in
    idle | mixed | allocated | completing) return 0 ;;
    *) return 1 ;;
  esac
}

stop_all() {
  need_root
  if [ -f "$conf" ] && [ "$(head -n 1 "$conf")" != "$marker" ]; then
    say "$conf was not written by this script; its daemons are left alone"
  else
    stop_pid_file "$base/slurmd.pid" slurmd
    stop_pid_file "$base/slurmctld.pid" slurmctld
  fi
  # munged only when this script started it: a system-wide munged serves other software too.
  if [ -f "$base/munged.started" ]; then
    if munged -s >/dev/null 2>&1; then say "stopped munged"; fi
    rm -f "$base/munged.started"
  fi
  say "done"
}

start_munge() {
  if munge_answers; then
    say "munged already answers"
    return 0
  fi
  if [ ! -s "$munge_key" ]; then
    mkdir -p "$(dirname "$munge_key")"
    if command -v mungekey >/dev/null 2>&1; then
      mungekey --create --keyfile="$munge_key"
    else
      dd if=/dev/urandom of="$munge_key" bs=1 count=1024 status=none
    fi
    say "created $munge_key"
  fi
  # munged refuses keys and directories that others can read or write.
  chown munge:munge "$(dirname "$munge_key")" "$munge_key"
  chmod 0700 "$(dirname "$munge_key")"
  chmod 0400 "$munge_key"
  mkdir -p "$munge_run" /var/log/munge /var/lib/munge
  chown munge:munge "$munge_run" /var/log/munge /var/lib/munge
  chmod 0755 "$munge_run"
  chmod 0700 /var/log/munge
  chmod 0711 /var/lib/munge
  # A munged that died leaves its socket behind, and a new one refuses to start over it.
  if ! pgrep -x munged >/dev/null 2>&1; then rm -f "$munge_run"/munge.socket.2*; fi
  local why
  if why="$(runuser -u munge -- munged 2>&1)"; then
    say "started munged as the munge user"
  elif munged --force; then
    # Containers whose /var/log or /run have unusual owners make munged's security checks fail
    # for the munge user; as root with --force it runs anyway (acceptable on a test node).
    say "started munged as root with --force (as the munge user: ${why//$'\n'/ })"
  else
    print_logs
    fail "munged did not start"
  fi
  mkdir -p "$base"
  touch "$base/munged.started"
  local _
  for _ in $(seq 50); do
    munge_answers && return 0
    sleep 0.2
  done
  print_logs
  fail "munged started but \`munge -n | unmunge\` does not work"
}

# The configuration for this machine, on stdout.
render_conf() {
  local node="$1" hw cpus mem
  hw="$(slurmd -C | head -n 1)" || fail "\`slurmd -C\` failed"
  cpus="$(sed -n 's/.*\bCPUs=\([0-9]*\).*/\1/p' <<<"$hw")"
  mem="$(sed -n 's/.*\bRealMemory=\([0-9]*\).*/\1/p' <<<"$hw")"
  [[ -n "$cpus" && -n "$mem" ]] || fail "cannot read CPUs and RealMemory from \`slurmd -C\`: $hw"
  cat <<EOF
$marker
# A single-node test cluster. No cgroups (containers often lack cgroup v2 delegation), no
# accounting database: processes are tracked through /proc and jobs are not confined.
ClusterName=scalesfm
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MailProg=/bin/true
ReturnToService=2
SchedulerType=sched/backfill
# One task per logical CPU: with CR_CPU and only CPUs= given, 1-CPU array tasks share nothing
# but the node, so N of them run at once.
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
# The node's configuration is what this script wrote, even if the memory slurmd sees shrinks.
SlurmdParameters=config_overrides
StateSaveLocation=$base/state
SlurmdSpoolDir=$base/spool
SlurmctldPidFile=$base/slurmctld.pid
SlurmdPidFile=$base/slurmd.pid
SlurmctldLogFile=$base/log/slurmctld.log
SlurmdLogFile=$base/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
InactiveLimit=0
KillWait=10
MinJobAge=300
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
}

start_all() {
  local tool
  for tool in munged munge unmunge slurmctld slurmd sinfo scontrol; do
    command -v "$tool" >/dev/null 2>&1 ||
      fail "$tool not found: install slurm-wlm and munge (scripts/install_deps.sh)"
  done
  local start_ns node
  start_ns="$(date +%s%N)"
  node="$(node_name)"

  if [ -f "$conf" ] && [ "$(head -n 1 "$conf")" != "$marker" ]; then
    # A real cluster (or a hand-written set-up): use it if it answers, never rewrite it.
    if [ -n "$(sinfo -h -o %T 2>/dev/null)" ]; then
      say "$conf was not written by this script and Slurm answers: using it as it is"
      exit 0
    fi
    fail "$conf was not written by this script (no marker line) and Slurm does not answer;" \
      "not touching it. Start that cluster's daemons, or move the file away to get a local one."
  fi

  local new_conf changed=0
  new_conf="$(render_conf "$node")"
  if [ ! -f "$conf" ] || [ "$(cat "$conf")" != "$new_conf" ]; then changed=1; fi

  if [ "$changed" -eq 0 ] && munge_answers && pid_alive "$base/slurmctld.pid" slurmctld &&
    pid_alive "$base/slurmd.pid" slurmd && node_usable "$(node_state "$node")"; then
    say "Slurm is already up (node $node $(node_state "$node")); nothing to do"
    exit 0
  fi

  need_root
  start_munge

  mkdir -p "$base/state" "$base/spool" "$base/log" "$(dirname "$conf")"
  local ctld_flags=()
  if [ "$changed" -eq 1 ]; then
    stop_pid_file "$base/slurmd.pid" slurmd
    stop_pid_file "$base/slurmctld.pid" slurmctld
    printf '%s\n' "$new_conf" >"$conf.tmp.$$"
    chmod 0644 "$conf.tmp.$$"
    mv "$conf.tmp.$$" "$conf"
    say "wrote $conf: $(grep '^NodeName=' <<<"$new_conf")"
    # Jobs saved under another configuration (another host name, CPU count) would confuse the
    # new controller; this is a scratch cluster, so it starts empty.
    ctld_flags=(-c)
  fi
  if pid_alive "$base/slurmctld.pid" slurmctld; then
    say "slurmctld is running (pid $(cat "$base/slurmctld.pid"))"
  else
    start_daemon slurmctld "${ctld_flags[@]}"
  fi
  if pid_alive "$base/slurmd.pid" slurmd; then
    say "slurmd is running (pid $(cat "$base/slurmd.pid"))"
  else
    start_daemon slurmd
  fi

  local state resumed=0
  while true; do
    state="$(node_state "$node")"
    if node_usable "$state"; then break; fi
    local d
    for d in slurmctld slurmd; do
      if ! pid_alive "$base/$d.pid" "$d"; then
        print_logs
        fail "$d exited while the node came up (see its log above)"
      fi
    done
    # A node that the saved state remembers as down or drained comes back on request.
    if [ "$resumed" -eq 0 ] && [[ "$state" == down* || "$state" == drain* ]]; then
      scontrol update NodeName="$node" State=RESUME >/dev/null 2>&1 || true
      resumed=1
    fi
    if [ $((($(date +%s%N) - start_ns) / 1000000000)) -ge "$timeout" ]; then
      print_logs
      fail "node $node is not idle after ${timeout} s (sinfo says '${state:-no answer}')"
    fi
    sleep 0.5
  done
  local ms seconds
  ms=$((($(date +%s%N) - start_ns) / 1000000))
  seconds="$((ms / 1000)).$(printf %03d $((ms % 1000)))"
  say "Slurm is up: node $node $state, partition local (${seconds} s)"
}

case "${1:-}" in
  "") start_all ;;
  --stop) stop_all ;;
  -h | --help)
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
    ;;
  *) fail "unknown option '$1' (use --stop or no option)" ;;
esac
