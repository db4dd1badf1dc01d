#!/usr/bin/env bash
# The trainer driven as a user would: a small run learns its training set; the file
# passes the run-file contract; runs are deterministic; resume is bit-exact; --init
# starts from another run's weights. Usage: cli_train.sh GROKSCOPE SRCDIR
set -u
GS=$1
SRC=$2
CHECKER="$SRC/../shared/tools/check-run-file"
. "$(dirname "$0")/lib.sh"
run() { "$@" || bad "command failed ($?): $*"; }

SMALL="--p 23 --frac 0.5 --epochs 240 --every 40 --threads 2 --quiet"
run "$GS" train --out "$T/a.h5" $SMALL
run "$GS" train --out "$T/b.h5" $SMALL

# the contract checker (structure), when h5py is installed
if /usr/bin/python3 -c "import h5py" 2>/dev/null; then
    if [ -x "$CHECKER" ]; then
        "$CHECKER" "$T/a.h5" && ok || bad "check-run-file rejects a.h5"
    else
        echo "note: $CHECKER not found; contract check skipped"
    fi
    /usr/bin/python3 "$SRC/tests/runs_equal.py" "$T/a.h5" "$T/b.h5" && ok || bad "two identical runs differ"
    # learns the training set: 100% train accuracy at the end, checkpoints 0,40,..,240
    /usr/bin/python3 - "$T/a.h5" <<'PY' && ok || bad "a.h5 content"
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
else
    echo "note: /usr/bin/python3 has no h5py; file content checks skipped"
    cmp -s "$T/a.h5" "$T/b.h5"
fi

# info on a finished run
"$GS" info "$T/a.h5" >"$T/info" && grep -q "finished" "$T/info" && grep -q "240 of 240 epochs" "$T/info" && ok \
    || { bad "info output"; cat "$T/info"; }

# resume: 120 epochs, then --resume to 240, equals the uninterrupted run bit for bit
run "$GS" train --out "$T/c.h5" --p 23 --frac 0.5 --epochs 120 --every 40 --threads 2 --quiet
run "$GS" train --resume "$T/c.h5" --epochs 240 --threads 2 --quiet
if /usr/bin/python3 -c "import h5py" 2>/dev/null; then
    /usr/bin/python3 "$SRC/tests/runs_equal.py" "$T/a.h5" "$T/c.h5" && ok || bad "resumed run differs"
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

# --init: checkpoint 0 of the new run is the last checkpoint of a.h5
run "$GS" train --out "$T/e.h5" --p 23 --frac 0.5 --epochs 2 --every 1 --init "$T/a.h5" --quiet
if /usr/bin/python3 -c "import h5py" 2>/dev/null; then
    /usr/bin/python3 - "$T/a.h5" "$T/e.h5" <<'PY' && ok || bad "--init weights"
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

# out of disk (a file-size limit): one line, exit 4, earlier checkpoints intact and resumable
( trap '' XFSZ; ulimit -f 12000; "$GS" train --out "$T/g.h5" --p 23 --frac 0.5 --epochs 1000 --every 1 --quiet ) 2>"$T/err"
rc=$?
if [ $rc -eq 4 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "not enough disk space" "$T/err"; then ok; else
    bad "out of disk: exit $rc"; cat "$T/err"; fi
"$GS" info "$T/g.h5" | grep -qE "progress +[0-9]+ of 1000 epochs, [1-9][0-9]* checkpoints" && ok || bad "info after a full disk"
"$GS" train --resume "$T/g.h5" --epochs 30 --quiet && "$GS" info "$T/g.h5" | grep -q "finished" && ok \
    || bad "resume after a full disk"

finish
