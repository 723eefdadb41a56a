#!/usr/bin/env bash
# A real one-node Slurm for the tests: `scripts/slurm.sh start` installs it when missing
# (Debian's slurm-wlm), writes the project's configuration, starts munged, slurmctld and
# slurmd and waits until the node is idle; `scripts/slurm.sh stop` stops the daemons it
# started, each by the pid in its pid file. Both need root. With CI=true a Slurm that
# cannot be started fails the run; otherwise its tests are skipped.
# `scripts/slurm.sh --list` prints what it provides ("command NAME" a line), and `start`
# checks each of them after installing.
set -uo pipefail
# Every command Jobmon's Slurm code, its tests and benchmarks run, and the daemons.
COMMANDS="sbatch squeue scontrol sinfo scancel sacct munged slurmctld slurmd"
here="$(cd "$(dirname "$0")" && pwd)"
RUN=/run/slurm
MUNGE_PID=/run/munge/munged.pid

fail() {
  echo "slurm: $*" >&2
  if [ "${CI:-}" = "true" ]; then exit 1; fi
  echo "slurm: its tests will be skipped (with CI=true they fail)" >&2
  exit 0
}

# A daemon runs if its pid file names a live process of that name (pids are reused).
running() {
  [ -f "$1" ] || return 1
  local pid; pid="$(cat "$1")"
  [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$(basename "$1" .pid)" ]
}

start() {
  if ! command -v slurmctld >/dev/null; then
    [ "$(id -u)" = 0 ] || fail "not installed, and installing needs root"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm >/dev/null \
      || fail "apt-get install slurm-wlm failed"
  fi
  for command in $COMMANDS; do
    command -v "$command" >/dev/null || [ -x "/usr/sbin/$command" ] \
      || fail "$command is missing after installing slurm-wlm"
  done
  [ "$(id -u)" = 0 ] || fail "starting the daemons needs root"
  if ! cmp -s "$here/slurm/slurm.conf" /etc/slurm/slurm.conf \
     || ! cmp -s "$here/slurm/cgroup.conf" /etc/slurm/cgroup.conf; then
    stop
    mkdir -p /etc/slurm
    cp "$here/slurm/slurm.conf" "$here/slurm/cgroup.conf" /etc/slurm/
  fi
  mkdir -p /run/munge "$RUN" /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
  chown munge:munge /run/munge
  chown slurm:slurm "$RUN" /var/spool/slurmctld /var/log/slurm
  running "$MUNGE_PID" || runuser -u munge -- /usr/sbin/munged || fail "munged did not start"
  running "$RUN/slurmctld.pid" || slurmctld -c || fail "slurmctld did not start"
  running "$RUN/slurmd.pid" || slurmd -N localhost || fail "slurmd did not start"
  for _ in $(seq 1 120); do
    if sinfo -h -o %T 2>/dev/null | grep -qx idle; then
      echo "slurm: up ($(sinfo -h -o '%P %l %m' | tr '\n' ';'))"
      return 0
    fi
    if sinfo -h -o %T 2>/dev/null | grep -qE 'down|drain'; then
      scontrol update nodename=localhost state=resume 2>/dev/null || true
    fi
    sleep 0.25
  done
  fail "the node did not become idle (see /var/log/slurm/)"
}

stop() {
  # Wait for each daemon to exit (slurmctld saves its state first), so that a start right
  # after a stop never mistakes a daemon on its way out for a running one.
  for pidfile in "$RUN/slurmd.pid" "$RUN/slurmctld.pid"; do
    if running "$pidfile"; then
      pid="$(cat "$pidfile")"
      kill "$pid"
      for _ in $(seq 1 240); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
    rm -f "$pidfile"
  done
  return 0
}

case "${1:-}" in
  --list) for c in $COMMANDS; do echo "command $c"; done ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop|--list" >&2; exit 2 ;;
esac
