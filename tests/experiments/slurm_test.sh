#!/usr/bin/env bash
# Slurm end to end: starts munged, slurmctld and slurmd (single node, config in a temp dir,
# as root), submits a 4-task job array with `attnlab sweep submit --slurm`, waits for it,
# collects the shards with `attnlab sweep collect`, and checks all 4 runs are done with their
# rows. Needs the Debian packages slurmctld slurmd slurm-client munge (scripts/install-deps.sh).
# Usage: tests/experiments/slurm_test.sh [path/to/attnlab]      (about 30 s)
set -euo pipefail

BIN=${1:-${ATTNLAB_BIN:-}}
if [[ -z "$BIN" ]]; then
  here=$(cd "$(dirname "$0")/../.." && pwd)
  for b in "$here"/build*/experiments/attnlab; do [[ -x "$b" ]] && BIN=$b && break; done
fi
[[ -x "$BIN" ]] || { echo "slurm_test: attnlab binary not found (pass it as the first argument)"; exit 2; }
BIN=$(realpath "$BIN")
for tool in munged slurmctld slurmd sbatch squeue sacct; do
  command -v $tool >/dev/null || [[ -x /usr/sbin/$tool ]] || {
    echo "slurm_test: $tool is missing (apt-get install slurmctld slurmd slurm-client munge)"; exit 2; }
done
[[ $(id -u) -eq 0 ]] || { echo "slurm_test: must run as root (slurmd launches jobs as their user)"; exit 2; }
export PATH=$PATH:/usr/sbin

T=$(mktemp -d /tmp/attnlab-slurm.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  if [[ ${KEEP:-0} != 1 ]]; then rm -rf "$T"; else echo "kept $T"; fi
}
trap cleanup EXIT

fail() {
  echo "slurm_test: FAIL: $*"
  for f in "$T"/slurmctld.log "$T"/slurmd.log "$T"/munged.log; do [[ -f $f ]] && { echo "== $f"; tail -30 "$f"; }; done
  exit 1
}

# Ports chosen from the pid so two runs on one machine do not collide.
PORT=$((20000 + ($$ % 20000)))
HOST=$(hostname -s)
mkdir -p "$T"/state "$T"/spool "$T"/munge

# munge: its own key, socket and files; --force because we run as root.
dd if=/dev/urandom of="$T"/munge/munge.key bs=1024 count=1 status=none
chmod 0400 "$T"/munge/munge.key
chmod 0700 "$T"/munge
munged --force --key-file="$T"/munge/munge.key --socket="$T"/munge/munge.sock \
  --pid-file="$T"/munge/munged.pid --log-file="$T"/munged.log --seed-file="$T"/munge/seed \
  || fail "munged did not start"
PIDS+=("$(cat "$T"/munge/munged.pid)")

cat > "$T"/slurm.conf <<CONF
ClusterName=attnlab-test
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$T/munge/munge.sock
CredType=cred/munge
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
SwitchType=switch/none
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$T/slurm.conf

slurmctld -c -f "$SLURM_CONF" || fail "slurmctld did not start"
for _ in $(seq 50); do [[ -s $T/slurmctld.pid ]] && break; sleep 0.1; done
PIDS+=("$(cat "$T"/slurmctld.pid)")
slurmd -f "$SLURM_CONF" || fail "slurmd did not start"
for _ in $(seq 50); do [[ -s $T/slurmd.pid ]] && break; sleep 0.1; done
PIDS+=("$(cat "$T"/slurmd.pid)")

# Wait for the node to be idle.
for i in $(seq 100); do
  state=$(sinfo -h -N -o %t 2>/dev/null | head -1 || true)
  [[ $state == idle* ]] && break
  sleep 0.2
done
[[ $state == idle* ]] || fail "node never became idle (state '$state')"
echo "slurm_test: cluster up (node $HOST $state)"

# The study: 2 variants x 2 seeds = 4 array tasks.
cat > "$T"/study.toml <<TOML
name = "slurm-e2e"
seeds = [0, 1]
[model]
d_model = 16
n_heads = 2
n_layers = 1
d_ff = 32
[task]
name = "induction"
[task.params]
vocab = 12
block = 4
repeats = 2
[train]
steps = 20
batch_size = 4
lr = 3e-3
warmup = 2
eval_every = 10
eval_batches = 1
[probes]
every = 10
names = ["attn_stats"]
[sweep.grid]
"model.attention" = ["softmax", "sigmoid"]
TOML

cd "$T"
"$BIN" sweep submit study.toml --slurm --partition debug --time 00:05:00 --out "$T"/study | tee submit.log
job=$(sed -n 's/^submitted job array \([0-9]*\).*/\1/p' submit.log)
[[ -n $job ]] || fail "no job id in the submit output"
tasks=$(grep -c . "$T"/study/slurm/runs.txt)
[[ $tasks == 4 ]] || fail "expected 4 array tasks, the run list has $tasks"

for i in $(seq 600); do
  left=$(squeue -h -j "$job" 2>/dev/null | wc -l)
  [[ $left == 0 ]] && break
  sleep 0.2
done
[[ $left == 0 ]] || fail "job $job still has $left task(s) after 120 s"
shards=$(ls "$T"/study/shards/*.sqlite | wc -l)
[[ $shards == 4 ]] || { cat "$T"/study/slurm/logs/* || true; fail "expected 4 shards, found $shards"; }

"$BIN" sweep collect study.toml --out "$T"/study | tee collect.log
grep -q "4/4 runs done" collect.log || { cat "$T"/study/slurm/logs/*; fail "not every run is done"; }
"$BIN" results "$T"/study/slurm-e2e.sqlite --metric loss --csv "$T"/loss.csv > /dev/null
rows=$(($(wc -l < "$T"/loss.csv) - 1))
[[ $rows == 80 ]] || fail "expected 4 x 20 loss rows, found $rows"
echo "slurm_test: PASS (job $job: 4 array tasks, 4 shards collected, $rows loss rows)"
