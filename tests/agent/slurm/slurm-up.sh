#!/usr/bin/env bash
# Starts a private one-node Slurm cluster for the slurm launcher's tests, without systemd and
# without touching the machine's own Slurm or munge: everything (slurm.conf, munge key and
# socket, state, spool, logs, pid files) lives in SCRATCH, the daemons listen on the given ports,
# and clients find it through SLURM_CONF=SCRATCH/slurm.conf. slurm-down.sh SCRATCH stops exactly
# the daemons started here.
#
#   tests/agent/slurm/slurm-up.sh SCRATCH [SLURMCTLD_PORT [SLURMD_PORT]]
#
# Exit codes: 0 up (the node is idle), 77 cannot run here (not root, no Slurm/munge), 1 failed.
set -euo pipefail
scratch=${1:?usage: slurm-up.sh SCRATCH [SLURMCTLD_PORT [SLURMD_PORT]]}
ctld_port=${2:-16817}
slurmd_port=${3:-16818}

if [ "$(id -u)" -ne 0 ]; then echo "slurm-up: needs root (slurmd runs jobs as any user)" >&2; exit 77; fi
for tool in munged slurmctld slurmd sinfo sbatch; do
  if ! command -v "$tool" >/dev/null; then
    echo "slurm-up: $tool not found; packaging/install-deps.sh installs Slurm and munge" >&2
    exit 77
  fi
done
if ! id munge >/dev/null 2>&1; then echo "slurm-up: no munge user (install munge)" >&2; exit 77; fi

mkdir -p "$scratch"
scratch=$(cd "$scratch" && pwd)
chmod 0755 "$scratch"
mkdir -p "$scratch/state" "$scratch/spool" "$scratch/log" "$scratch/munge"
chown munge:munge "$scratch/munge"
chmod 0711 "$scratch/munge"  # munged wants the socket's directory searchable by all

# munged: its own key (made once, 1 KiB from the system's generator), socket and files here.
key=$scratch/munge/munge.key
if [ ! -s "$key" ]; then
  (umask 077; head -c 1024 /dev/urandom >"$key")
  chown munge:munge "$key"
fi
runuser -u munge -- munged --socket="$scratch/munge/munge.socket" --key-file="$key" \
  --pid-file="$scratch/munge/munged.pid" --log-file="$scratch/munge/munged.log" \
  --seed-file="$scratch/munge/munged.seed"

cat >"$scratch/slurm.conf" <<CONF
# Written by tests/agent/slurm/slurm-up.sh: a one-node cluster for tests.
ClusterName=ptyxtest
SlurmctldHost=localhost
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$scratch/munge/munge.socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$scratch/state
SlurmdSpoolDir=$scratch/spool
SlurmctldPidFile=$scratch/slurmctld.pid
SlurmdPidFile=$scratch/slurmd.pid
SlurmctldLogFile=$scratch/log/slurmctld.log
SlurmdLogFile=$scratch/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
JobCompType=jobcomp/filetxt
JobCompLoc=$scratch/jobcomp.txt
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
KillWait=5
MinJobAge=600
SchedulerParameters=sched_interval=1
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$scratch/slurm.conf

slurmctld -i
slurmd -N localhost

for _ in $(seq 1 150); do
  if sinfo -h -N -o '%N %t' 2>/dev/null | grep -q '^localhost idle'; then
    echo "slurm-up: node idle; export SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 0.2
done
echo "slurm-up: the node did not become idle; logs in $scratch/log" >&2
sinfo -N 2>&1 >&2 || true
tail -n 20 "$scratch/log/slurmctld.log" "$scratch/log/slurmd.log" >&2 || true
exit 1
