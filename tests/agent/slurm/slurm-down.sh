#!/usr/bin/env bash
# Stops the daemons tests/agent/slurm/slurm-up.sh SCRATCH started (by their pid files there,
# nothing else), waiting until they are gone. Leaves SCRATCH in place (logs).
set -uo pipefail
scratch=${1:?usage: slurm-down.sh SCRATCH}
stop() {
  local pidfile=$1 pid
  [ -s "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  case $pid in '' | *[!0-9]*) return 0 ;; esac
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}
stop "$scratch/slurmd.pid"
stop "$scratch/slurmctld.pid"
stop "$scratch/munge/munged.pid"
exit 0
