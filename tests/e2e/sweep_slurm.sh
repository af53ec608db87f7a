#!/bin/sh
# A Slurm job array runs a sweep, one task per cell, with the job script of
# doc/training.md, on a single-node cluster this test starts on this machine:
# munged with a key of its own, slurmctld and slurmd as root, every path in a
# temporary directory, the node named after `hostname -s` with this machine's
# CPUs. The merged records equal the serial run's, cell for cell. Every daemon
# started here is stopped by its pid file on the way out, also on failure.
# Says "skipped" (never "passed") when Slurm or munge is not installed or the
# cluster cannot start here (not root, say).
set -u
DELTALAB=${DELTALAB:-./deltalab}
case $DELTALAB in /*) ;; *) DELTALAB=$(pwd)/$DELTALAB ;; esac
here=$(cd "$(dirname "$0")" && pwd)
passed=0 failed=0
check() {  # check NAME COMMAND...
    name=$1; shift
    if "$@"; then passed=$((passed + 1)); echo "ok - $name"
    else failed=$((failed + 1)); echo "not ok - $name"; fi
}
skip() {
    echo "skipped - $1"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
}
for cmd in munged mungekey slurmctld slurmd sbatch sinfo squeue scancel; do
    command -v $cmd >/dev/null 2>&1 || skip "$cmd is not installed (make deps installs slurm-wlm and munge)"
done
[ "$(id -u)" = 0 ] || skip "a test cluster runs its daemons as root"
t0=$(date +%s.%N)
dir=$(mktemp -d /tmp/deltalab-slurm.XXXXXX)
chmod 755 "$dir"

# Stop what this test started, by pid file: the jobs, then slurmd,
# slurmctld and munged together, waiting (bounded) for each to go.
cleanup() {
    [ -n "${sbatch_pid:-}" ] && kill "$sbatch_pid" 2>/dev/null   # timeout passes it on to sbatch
    if [ -s "$dir/slurmctld.pid" ]; then
        timeout 10 scancel --quiet --user=root 2>/dev/null
        n=0
        while [ -n "$(timeout 5 squeue -h 2>/dev/null)" ] && [ $n -lt 50 ]; do sleep 0.2; n=$((n + 1)); done
    fi
    pids=""
    for f in slurmd slurmctld munged; do
        [ -s "$dir/$f.pid" ] && pids="$pids $(cat "$dir/$f.pid")"
    done
    for pid in $pids; do kill "$pid" 2>/dev/null; done
    for pid in $pids; do
        n=0
        while kill -0 "$pid" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
        kill -9 "$pid" 2>/dev/null
    done
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

host=$(hostname -s)
cpus=$(nproc)
# Ports of this run's own, so that it meets no other cluster on the machine.
port=$((20000 + $$ % 20000))
mkdir -p "$dir/state" "$dir/spool" "$dir/munge" "$dir/bin"

# munged: a key made for the test (mungekey -c), its socket in the directory.
mungekey -c -k "$dir/munge/munge.key" >"$dir/mungekey.log" 2>&1 \
    || dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 2>/dev/null
chmod 700 "$dir/munge"; chmod 600 "$dir/munge/munge.key"
munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/munged.seed" \
    >"$dir/munged.out" 2>&1 || { cat "$dir/munged.out"; skip "munged does not start here"; }

cat >"$dir/slurm.conf" <<CONF
ClusterName=deltalab
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmdParameters=config_overrides
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"
slurmctld -c -f "$SLURM_CONF" >"$dir/slurmctld.out" 2>&1 || { cat "$dir/slurmctld.out"; skip "slurmctld does not start here"; }
slurmd -f "$SLURM_CONF" >"$dir/slurmd.out" 2>&1 || { cat "$dir/slurmd.out"; skip "slurmd does not start here"; }
n=0
until [ "$(timeout 5 sinfo -h -o %T 2>/dev/null)" = idle ]; do
    n=$((n + 1))
    if [ $n -gt 120 ]; then
        echo "the node did not come up; its state: $(timeout 5 sinfo -h -o '%T %E' 2>&1)"
        tail -n 20 "$dir/slurmctld.log" "$dir/slurmd.log"
        failed=$((failed + 1))
        echo "$passed passed, $failed failed"
        exit 1
    fi
    sleep 0.25
done
check "a one-node cluster is up" true

ln -s "$DELTALAB" "$dir/bin/deltalab"
PATH=$dir/bin:$PATH
cp "$here/sweep_e3.lua" "$dir/e3.lua"
cd "$dir" || exit 1
timeout 60 deltalab e3.lua --record-dir serial >serial.txt 2>&1

# doc/training.md: the job script, submitted as an array of --count tasks
cat >e3.sh <<'JOB'
#!/bin/sh
#SBATCH --cpus-per-task=1
#SBATCH --output=slurm-%A_%a.out
export DELTALAB_THREADS=$SLURM_CPUS_PER_TASK
deltalab e3.lua --cell "$SLURM_ARRAY_TASK_ID" --record-dir runs
JOB
# (in the background, so that a signal to the test stops it at once)
timeout 180 sbatch --wait --array=1-"$(deltalab e3.lua --count)" e3.sh >sbatch.txt 2>&1 &
sbatch_pid=$!
wait $sbatch_pid
status=$?
check "sbatch --wait ran the array to the end" [ $status -eq 0 ]
[ $status -eq 0 ] || { cat sbatch.txt; tail -n 20 slurmctld.log slurmd.log slurm-*.out 2>/dev/null; }
check "each task wrote its cell's file" \
    [ "$(ls runs 2>/dev/null | tr '\n' ' ')" = "cell-0001.jsonl cell-0002.jsonl cell-0003.jsonl cell-0004.jsonl " ]
timeout 60 deltalab e3.lua --merge runs >merged.txt 2>merge_err.txt
check "the merge warns of nothing" [ ! -s merge_err.txt ]
check "the merged records equal the serial run's, cell for cell" \
    timeout 60 deltalab "$here/sweep_same.lua" serial runs

t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "wall time: %.2f s\n", b - a }'
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
