#!/usr/bin/env bash
# A one-node Slurm cluster on localhost, for moebench's Slurm test (src/test/slurm.test.ts) and for
# trying `moebench slurm` without a cluster. Installs Debian's slurm-wlm and munge if missing.
#
#   bash scripts/setup-slurm.sh [start]   start munged, slurmctld and slurmd; print SLURM_CONF=...
#   bash scripts/setup-slurm.sh stop      stop what start started (by its pid files)
#   bash scripts/setup-slurm.sh --env     print `export SLURM_CONF=...` for eval
#
# Everything lives in .cache/slurm (configuration, state, spool, logs, pid files, munge's key and
# socket): nothing in /etc changes. The node has this machine's CPUs, one partition `moebench`, and
# two simulated GPUs (gres gpu:2) backed by stand-in character devices, so `--gres gpu:1` array
# tasks each get CUDA_VISIBLE_DEVICES=0 or 1 as on a GPU node. No cgroups: processes are tracked
# through /proc (proctrack/linuxproc). Task outcomes come from jobcomp/filetxt (no database).
set -euo pipefail
cd "$(dirname "$0")/.."
dir="$PWD/.cache/slurm"
conf="$dir/slurm.conf"
action="${1:-start}"

stop() {
  for name in slurmd slurmctld munged; do
    if [ -f "$dir/$name.pid" ]; then
      pid=$(cat "$dir/$name.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      rm -f "$dir/$name.pid"
    fi
  done
}

case "$action" in
  stop) stop; exit 0 ;;
  --env) echo "export SLURM_CONF=$conf"; exit 0 ;;
  start) ;;
  *) echo "setup-slurm: unknown action $action (start, stop or --env)" >&2; exit 2 ;;
esac

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "setup-slurm: Slurm is missing; install Debian's slurm-wlm and munge (apt-get install slurm-wlm munge)" >&2
    exit 1
  fi
  echo "setup-slurm: installing Debian's slurm-wlm and munge" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

stop
# a fresh cluster each start: no jobs left from an earlier one
rm -rf "$dir"/{state,spool,log}
mkdir -p "$dir"/{state,spool,log,dev,munge}
chmod 700 "$dir/munge"
if [ ! -f "$dir/munge/munge.key" ]; then
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$dir/munge/munge.key"
fi
# stand-ins for /dev/nvidia0 and 1 (major 195): Slurm checks that a gres File exists
for i in 0 1; do [ -e "$dir/dev/nvidia$i" ] || mknod "$dir/dev/nvidia$i" c 195 "$i"; done

host=$(hostname -s)
cpus=$(nproc)
user=$(id -un)
cat >"$conf" <<EOF
ClusterName=moebench
SlurmctldHost=$host
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
GresTypes=gpu
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
ReturnToService=2
KillWait=10
MpiDefault=none
NodeName=$host CPUs=$cpus Gres=gpu:2 State=UNKNOWN
PartitionName=moebench Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
cat >"$dir/gres.conf" <<EOF
AutoDetect=off
NodeName=$host Name=gpu File=$dir/dev/nvidia[0-1]
EOF

munged --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" --pid-file="$dir/munged.pid" \
  --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munge.seed" --force
export SLURM_CONF="$conf"
slurmctld -f "$conf"
slurmd -f "$conf"
for _ in $(seq 100); do
  if sinfo -h -o %T 2>/dev/null | grep -qx idle; then
    echo "SLURM_CONF=$conf"
    exit 0
  fi
  sleep 0.2
done
echo "setup-slurm: the node did not come up idle in 20 s: $(sinfo -h -o '%T %E' 2>&1); see $dir/log" >&2
exit 1
