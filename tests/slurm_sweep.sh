#!/usr/bin/env bash
# grokscope sweep slurm against a real Slurm: a one-node cluster started here (its own
# munged, slurmctld and slurmd, from a generated slurm.conf in a temporary directory,
# on free ports), a small sweep submitted as a job array, waited for with squeue,
# collected and checked; then a second sweep whose array is cancelled mid-training
# (scancel: SIGTERM, as on a time limit) and simply submitted again, which resumes
# every point from its last checkpoint. The daemons are stopped by their pids on exit.
#
# Needs root and Debian's slurmctld slurmd slurm-client munge (apt-get install -y
# slurmctld slurmd slurm-client munge); otherwise it is skipped (exit 77), unless
# GS_REQUIRE_SLURM=1 (as in .ci/run), when it fails instead.
# Usage: slurm_sweep.sh GROKSCOPE SRCDIR
set -u
GS=$(realpath "$1")
. "$(dirname "$0")/lib.sh"
skip() {
    echo "note: $1"
    if [ "${GS_REQUIRE_SLURM:-0}" = 1 ]; then echo "FAIL: GS_REQUIRE_SLURM=1 but $1"; exit 1; fi
    echo "0 passed, 0 failed"
    exit 77
}
[ "$(id -u)" -eq 0 ] || skip "not root: a one-node Slurm cluster needs root here"
for b in slurmctld slurmd sbatch squeue sinfo scancel munged munge unmunge mungekey; do
    PATH=$PATH:/usr/sbin:/sbin command -v $b >/dev/null || skip "$b not installed (apt-get install -y slurmctld slurmd slurm-client munge)"
done
$PY -c "import h5py" 2>/dev/null || skip "$PY lacks h5py"
export PATH=$PATH:/usr/sbin:/sbin

# ---- the cluster ----
# The temporary directory is reachable by everyone (slurmd runs jobs from it), and
# munged wants its socket's directory not writable by others.
chmod 755 "$T"
C=$T/cluster
mkdir -p "$C/state" "$C/spool" "$C/munge"
chmod 755 "$C/munge"
stop_daemons() {
    for f in "$C/slurmd.pid" "$C/slurmctld.pid" "$C/munge/munged.pid"; do
        [ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null
    done
    sleep 1
    for f in "$C/slurmd.pid" "$C/slurmctld.pid" "$C/munge/munged.pid"; do
        [ -s "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
    done
    rm -rf "$T"
}
trap stop_daemons EXIT
fail_setup() {
    echo "FAIL: $1"
    for f in "$C"/*.log "$C"/munge/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; }; done
    echo "$pass passed, $((fail + 1)) failed"
    exit 1
}

mungekey -c -k "$C/munge/munge.key" >/dev/null 2>&1 || fail_setup "mungekey"
munged --socket="$C/munge/munge.sock" --key-file="$C/munge/munge.key" --pid-file="$C/munge/munged.pid" \
    --log-file="$C/munge/munged.log" --seed-file="$C/munge/munged.seed" || fail_setup "munged did not start"
munge -n -S "$C/munge/munge.sock" | unmunge -S "$C/munge/munge.sock" >/dev/null || fail_setup "munge round trip"

read -r PORT1 PORT2 < <($PY -c '
import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
HOST=$(hostname -s)
CPUS=$(nproc)
MEM=$(awk '/MemTotal/ { print int($2 / 1024 / 2) }' /proc/meminfo)
export SLURM_CONF=$C/slurm.conf
cat >"$SLURM_CONF" <<EOF
# a one-node cluster for grokscope's tests (tests/slurm_sweep.sh)
ClusterName=grokscope-test
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$C/munge/munge.sock
CredType=cred/munge
SlurmctldPort=$PORT1
SlurmdPort=$PORT2
StateSaveLocation=$C/state
SlurmdSpoolDir=$C/spool
SlurmctldPidFile=$C/slurmctld.pid
SlurmdPidFile=$C/slurmd.pid
SlurmctldLogFile=$C/slurmctld.log
SlurmdLogFile=$C/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
KillWait=30
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=test Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -f "$SLURM_CONF" || fail_setup "slurmctld did not start"
slurmd -f "$SLURM_CONF" || fail_setup "slurmd did not start"
for _ in $(seq 60); do
    [ "$(sinfo -h -o %t 2>/dev/null)" = idle ] && break
    sleep 0.5
done
[ "$(sinfo -h -o %t 2>/dev/null)" = idle ] || fail_setup "the node did not become idle: $(sinfo 2>&1)"
ok

# waits until job $1 has left squeue (at most $2 seconds)
wait_job() {
    for _ in $(seq $(($2 * 2))); do
        [ -z "$(squeue -h -j "$1" 2>/dev/null)" ] && return 0
        sleep 0.5
    done
    return 1
}
# the job id from sweep slurm's "submitted Slurm job array ID: ..."
job_id() { sed -n 's/^submitted Slurm job array \([0-9]*\):.*/\1/p' "$1"; }

# ---- a sweep as a job array: 4 points, 2 per task ----
A=$T/A
"$GS" sweep create "$A" --grid lr=1e-3,3e-3 --grid wd=1,3 -- --p 23 --frac 0.6 --epochs 300 --every 50 >/dev/null \
    && ok || bad "sweep create"
"$GS" sweep slurm "$A" --points-per-task 2 --cpus-per-task 1 --time 10 >"$T/out" 2>"$T/err"
job=$(job_id "$T/out")
[ -n "$job" ] && grep -q "2 tasks of up to 2 points (4 points to train)" "$T/out" && ok || { bad "sweep slurm"; cat "$T/out" "$T/err"; }
if [ -n "$job" ]; then
    wait_job "$job" 300 && ok || { bad "job array $job still queued after 300 s"; squeue; }
fi
"$GS" sweep status "$A" >"$T/out"
grep -q "4 of 4 points ended (4 finished" "$T/out" && ok || { bad "status after the array"; cat "$T/out"; cat "$A"/slurm/*.out; }
[ "$(ls "$A"/slurm/submit-1-"$job"_*.out 2>/dev/null | wc -l)" -eq 2 ] && ok || { bad "task outputs"; ls -l "$A/slurm"; }
grep -q "2 of 2 points done (0 before this run), 0 failed" "$A/slurm/submit-1-${job}_1.out" && ok \
    || { bad "task 1's output"; cat "$A/slurm/submit-1-${job}_1.out"; }
"$GS" sweep collect "$A" >"$T/out" && grep -q "4 points, 4 ended" "$T/out" && ok || { bad "collect"; cat "$T/out"; }
$PY - "$A" <<'PY' && ok || bad "the array's runs"
import sys, h5py
d = sys.argv[1]
g = h5py.File(f"{d}/sweep.h5", "r")["points"]
assert list(g["status"].asstr()[:]) == ["finished"] * 4
assert all(c in ("comprehension", "grokking", "memorization", "confusion") for c in g["class"].asstr()[:])
for i, f in enumerate(g["file"].asstr()[:]):
    run = h5py.File(f"{d}/{f}", "r")
    assert run["metrics/epoch"][-1] == 300 and run["analysis/epoch"].shape[0] == 7, f
    assert (run["config"].attrs["lr"], run["config"].attrs["wd"]) == (g["lr"][i], g["wd"][i]), f
PY
"$GS" sweep slurm "$A" >"$T/out" && grep -q "4 of 4 points done; nothing to submit" "$T/out" && ok || { bad "resubmit when done"; cat "$T/out"; }

# ---- cancelled mid-training (as on a time limit), submitted again: it resumes ----
B=$T/B
"$GS" sweep create "$B" --grid lr=1e-3,2e-3 -- --p 23 --frac 0.5 --epochs 1500 --every 20 >/dev/null
"$GS" sweep slurm "$B" >"$T/out" 2>"$T/err"
job=$(job_id "$T/out")
[ -n "$job" ] && ok || { bad "sweep slurm B"; cat "$T/out" "$T/err"; }
for _ in $(seq 600); do   # until both runs have a few checkpoints
    n=0
    for f in "$B"/*.h5; do
        "$GS" info "$f" 2>/dev/null | grep -qE "progress .*, ([3-9]|[1-9][0-9]+) checkpoints" && n=$((n + 1))
    done
    [ $n -eq 2 ] && break
    sleep 0.2
done
scancel "$job"
wait_job "$job" 120 && ok || bad "cancelled job $job still queued"
"$GS" sweep status "$B" >"$T/out"
[ "$(grep -cE "unfinished +[0-9]+/1500" "$T/out")" -eq 2 ] && ok || { bad "status after scancel"; cat "$T/out"; }
"$GS" sweep slurm "$B" >"$T/out" 2>"$T/err"
job=$(job_id "$T/out")
grep -q "(2 points to train)" "$T/out" && [ -n "$job" ] && ok || { bad "resubmission"; cat "$T/out" "$T/err"; }
[ -n "$job" ] && { wait_job "$job" 300 && ok || bad "job $job still queued after 300 s"; }
"$GS" sweep status "$B" | grep -q "2 of 2 points ended (2 finished" && ok || bad "B not finished after resubmission"
for f in "$B"/logs/*.log; do
    grep -q "^== grokscope sweep: train ended: exit 130" "$f" && grep -q "^== grokscope sweep: resume ended: exit 0" "$f" \
        && ok || { bad "$f: not interrupted and resumed"; cat "$f"; }
done
"$GS" train --out "$T/ref.h5" --p 23 --frac 0.5 --epochs 1500 --every 20 --lr 2e-3 --threads 1 --quiet
$PY - "$T/ref.h5" "$B/0001-lr2e-3.h5" <<'PY' && ok || bad "the resumed point differs from an uninterrupted run"
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r") for p in sys.argv[1:])
for k in a["metrics"]:
    assert np.array_equal(a["metrics"][k][:], b["metrics"][k][:]), k
for k in a["checkpoints"]:
    assert np.array_equal(a["checkpoints"][k][-1], b["checkpoints"][k][-1]), k
PY

finish
