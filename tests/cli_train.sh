#!/usr/bin/env bash
# The trainer driven as a user would: a small run learns its training set; the file
# passes the run-file contract (tests/check_run_file.py); the same run gives the same
# bytes; resume is bit-exact, also after SIGINT; --init starts from another run's
# weights; divergence and a full disk end cleanly. Checks that read the file need
# Debian's python3-h5py: without it they are skipped and the test reports SKIP.
# Usage: cli_train.sh GROKSCOPE SRCDIR
set -u
GS=$(realpath "$1")
SRC=$2
. "$(dirname "$0")/lib.sh"
run() { "$@" || bad "command failed ($?): $*"; }
H5=0
if have_h5py; then H5=1; else skip "$PY lacks h5py/numpy: file content checks (apt-get install python3-h5py)"; fi

SMALL="--p 23 --frac 0.5 --epochs 240 --every 40 --threads 2 --quiet"
# the same run twice, under the same relative name (the command line is stored), gives
# a byte-identical file
mkdir "$T/one" "$T/two"
for d in one two; do
    (cd "$T/$d" && exec "$GS" train --out a.h5 $SMALL) || bad "train in $T/$d failed"
done
cmp "$T/one/a.h5" "$T/two/a.h5" && ok || bad "two identical runs give different bytes"
cp "$T/one/a.h5" "$T/a.h5"

if [ $H5 = 1 ]; then
    check_run_file "$T/a.h5"
    # learns the training set: 100% train accuracy at the end, checkpoints 0,40,..,240
    $PY - "$T/a.h5" <<'PY' && ok || bad "a.h5 content"
import h5py, sys
f = h5py.File(sys.argv[1], "r")
ep = list(f["checkpoints/epoch"][:])
assert ep == list(range(0, 241, 40)), ep
m = f["metrics"]
assert list(m["epoch"][:]) == list(range(241)), "metric rows"
assert m["train_acc"][-1] == 1.0, f"train acc {m['train_acc'][-1]}"
assert m["train_loss"][-1] < 0.1 * m["train_loss"][0], "train loss did not fall"
assert f["checkpoints/embed.W_E"].shape == (7, 24, 128)
n_train = f["data/train_idx"].shape[0]
assert n_train == int(0.5 * 23 * 23), n_train
PY
fi

# info on a finished run
"$GS" info "$T/a.h5" >"$T/info" && grep -q "finished" "$T/info" && grep -q "240 of 240 epochs" "$T/info" && ok \
    || { bad "info output"; cat "$T/info"; }

# resume: 120 epochs, then --resume to 240, equals the uninterrupted run bit for bit
run "$GS" train --out "$T/c.h5" --p 23 --frac 0.5 --epochs 120 --every 40 --threads 2 --quiet
run "$GS" train --resume "$T/c.h5" --epochs 240 --threads 2 --quiet
if [ $H5 = 1 ]; then
    check_run_file "$T/c.h5"
    $PY "$SRC/tests/runs_equal.py" "$T/a.h5" "$T/c.h5" && ok || bad "resumed run differs"
fi

# interrupt with SIGINT: a checkpoint is written, exit 130, resume completes identically
"$GS" train --out "$T/d.h5" --p 23 --frac 0.5 --epochs 100000 --every 40 --threads 2 --quiet &
pid=$!
sleep 1.5
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 130 ] && ok || bad "SIGINT exit status $rc, want 130"
"$GS" info "$T/d.h5" >/dev/null && ok || bad "info after SIGINT"
if [ $H5 = 1 ]; then
    check_run_file "$T/d.h5"
    # resumed 50 epochs past the interrupt, it equals an uninterrupted run of as many
    # epochs (all but the extra checkpoint at the interrupt)
    stop=$($PY -c "import h5py,sys; print(h5py.File(sys.argv[1],'r')['checkpoints/epoch'][-1])" "$T/d.h5") \
        || bad "cannot read the interrupted run's last checkpoint"
    total=$((${stop:-0} + 50))
    run "$GS" train --resume "$T/d.h5" --epochs $total --threads 2 --quiet
    run "$GS" train --out "$T/d_ref.h5" --p 23 --frac 0.5 --epochs $total --every 40 --threads 2 --quiet
    $PY - "$T/d.h5" "$T/d_ref.h5" <<'PY' && ok || bad "run resumed after SIGINT (at epoch $stop) differs"
import h5py, sys, numpy as np
a, b = (h5py.File(p, "r") for p in sys.argv[1:3])
for k in b["metrics"]:
    assert np.array_equal(a["metrics"][k][()], b["metrics"][k][()]), k
for k in b["checkpoints"]:
    assert np.array_equal(a["checkpoints"][k][-1], b["checkpoints"][k][-1]), k
sa, sb = (int(np.flatnonzero(f["resume/epoch"][:] == f["checkpoints/epoch"][-1])[0]) for f in (a, b))
for k in ("adam_m", "adam_v", "step"):
    assert np.array_equal(a["resume"][k][sa], b["resume"][k][sb]), k
PY
fi

# --init: checkpoint 0 of the new run is the last checkpoint of a.h5
run "$GS" train --out "$T/e.h5" --p 23 --frac 0.5 --epochs 2 --every 1 --init "$T/a.h5" --quiet
if [ $H5 = 1 ]; then
    check_run_file "$T/e.h5"
    $PY - "$T/a.h5" "$T/e.h5" <<'PY' && ok || bad "--init weights"
import h5py, sys, numpy as np
a, e = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
for k in a["checkpoints"]:
    if k != "epoch":
        assert np.array_equal(a["checkpoints"][k][-1], e["checkpoints"][k][0]), k
assert e["metrics/train_acc"][0] == 1.0
PY
fi

# divergence: a huge learning rate ends with exit 3, one line, the run marked diverged
"$GS" train --out "$T/f.h5" --p 23 --frac 0.5 --epochs 200 --every 5 --lr 1e3 --quiet 2>"$T/err"
rc=$?
if [ $rc -eq 3 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "diverged at epoch" "$T/err"; then ok; else
    bad "divergence: exit $rc"; cat "$T/err"; fi
"$GS" info "$T/f.h5" | grep -q "diverged" && ok || bad "info does not say diverged"
[ $H5 = 1 ] && check_run_file "$T/f.h5"

# out of disk (a file-size limit): one line, exit 4, earlier checkpoints intact and resumable
( trap '' XFSZ; ulimit -f 12000; "$GS" train --out "$T/g.h5" --p 23 --frac 0.5 --epochs 1000 --every 1 --quiet ) 2>"$T/err"
rc=$?
if [ $rc -eq 4 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "not enough disk space" "$T/err"; then ok; else
    bad "out of disk: exit $rc"; cat "$T/err"; fi
"$GS" info "$T/g.h5" | grep -qE "progress +[0-9]+ of 1000 epochs, [1-9][0-9]* checkpoints" && ok || bad "info after a full disk"
"$GS" train --resume "$T/g.h5" --epochs 30 --quiet && "$GS" info "$T/g.h5" | grep -q "finished" && ok \
    || bad "resume after a full disk"
[ $H5 = 1 ] && check_run_file "$T/g.h5"

finish
