#!/usr/bin/env bash
# Slow suite: kill -9 at random moments. A trainer killed 20 times (some while writing a
# checkpoint every epoch) and resumed each time ends bit-identical to an uninterrupted
# run; after every kill the file opens and `info` works. An analysis killed at random
# moments leaves the checkpoints untouched and a re-run completes to the same /analysis.
# Usage: slow_crash.sh GROKSCOPE SRCDIR
set -u
GS=$1
SRC=$2
. "$(dirname "$0")/lib.sh"
if ! have_h5py; then skip "$PY lacks h5py/numpy: cannot compare the runs (apt-get install python3-h5py)"; finish; fi
RANDOM=7   # reproducible kill moments

for every in 20 1; do
    CFG="--p 23 --frac 0.5 --epochs 600 --every $every --threads 2 --quiet"
    "$GS" train --out "$T/ref$every.h5" $CFG || bad "reference run"
    "$GS" train --out "$T/k$every.h5" $CFG &
    pid=$!
    kills=0
    while :; do
        sleep "0.$((RANDOM % 9 + 1))"
        if ! kill -0 $pid 2>/dev/null; then wait $pid || bad "the trainer exited $? (kill $kills)"; break; fi
        kill -9 $pid 2>/dev/null && kills=$((kills + 1))
        wait $pid 2>/dev/null
        if "$GS" info "$T/k$every.h5" >"$T/info" 2>&1; then ok; else bad "info after kill $kills:"; cat "$T/info"; fi
        [ $kills -ge 10 ] && { "$GS" train --resume "$T/k$every.h5" --threads 2 --quiet || bad "final resume"; break; }
        "$GS" train --resume "$T/k$every.h5" --threads 2 --quiet 2>"$T/err" &
        pid=$!
    done
    echo "every $every: killed $kills times"
    $PY "$SRC/tests/runs_equal.py" "$T/ref$every.h5" "$T/k$every.h5" && ok || bad "killed-and-resumed run differs (every $every)"
    check_run_file "$T/k$every.h5"
done

# analysis killed at random moments
cp "$T/ref1.h5" "$T/a.h5"
cp "$T/ref1.h5" "$T/full.h5"
"$GS" analyze "$T/full.h5" --quiet --threads 2 || bad "full analysis"
for i in 1 2 3 4 5; do
    "$GS" analyze "$T/a.h5" --quiet --threads 2 >/dev/null 2>&1 &
    pid=$!
    sleep "0.$((RANDOM % 9 + 1))"
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    $PY "$SRC/tests/runs_equal.py" "$T/ref1.h5" "$T/a.h5" >/dev/null && ok || bad "checkpoints changed by a killed analysis ($i)"
done
"$GS" analyze "$T/a.h5" --quiet --threads 2 >/dev/null || bad "analysis after kills"
check_run_file "$T/a.h5"
$PY - "$T/full.h5" "$T/a.h5" <<'PY' && ok || bad "analysis after kills differs from one clean pass"
import h5py, sys, numpy as np
a, b = (h5py.File(p, "r")["analysis"] for p in sys.argv[1:3])
for k in a:
    assert np.array_equal(a[k][()], b[k][()], equal_nan=True), k
PY
finish
