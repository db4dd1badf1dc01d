#!/usr/bin/env bash
# grokscope analyze / freqs / info driven as a user would: /analysis matches the
# contract, the recomputed losses equal the trainer's, incremental analysis equals one
# full pass, --key-freqs overrides, bad input leaves the file untouched. Needs Debian's
# python3-h5py (SKIP without it). Usage: cli_analyze.sh GROKSCOPE SRCDIR
set -u
GS=$1
. "$(dirname "$0")/lib.sh"
run() { "$@" >"$T/last.out" 2>&1 || { bad "command failed ($?): $*"; cat "$T/last.out"; }; }
if ! have_h5py; then
    skip "$PY lacks h5py/numpy; the analysis checks need them (apt-get install python3-h5py)"
    finish
fi

CFG="--p 23 --frac 0.5 --every 40 --threads 2 --quiet"
run "$GS" train --out "$T/full.h5" $CFG --epochs 240
cp "$T/full.h5" "$T/full_copy.h5"
run "$GS" analyze "$T/full.h5" --quiet --threads 2
check_run_file "$T/full.h5"

$PY - "$T/full.h5" <<'PY' && ok || bad "analysis content"
import h5py, sys, numpy as np
f = h5py.File(sys.argv[1], "r")
a, m, ck = f["analysis"], f["metrics"], f["checkpoints/epoch"][:]
assert list(a["epoch"][:]) == list(ck), (a["epoch"][:], ck)
for k in ("train_loss", "test_loss", "train_acc", "test_acc"):
    rec = a[k][:]
    orig = m[k][:][ck]
    assert np.allclose(rec, orig, rtol=1e-12, atol=0), (k, rec, orig)
p = f["config"].attrs["p"]
F = a["fourier_basis"][:]
assert np.allclose(F @ F.T, np.eye(p), atol=1e-12)
assert a["embed_fourier_norm"].shape == (len(ck), p)
w = a["weight_norm"][:]
W = sum(float((f["checkpoints"][k][0].astype(np.float64) ** 2).sum()) for k in f["checkpoints"] if k != "epoch")
assert abs(w[0] - W) < 1e-9 * W, (w[0], W)
g = a["gini_embed"][:]
assert np.all((g >= 0) & (g <= 1)), g
keys = list(a["key_freqs"][:])
assert all(1 <= k <= p // 2 for k in keys), keys
assert a["key_freqs_epoch"][0] == ck[-1]
assert list(a["phase_epochs"].shape) == [10]
PY

# incremental: analyse at 120 epochs, resume to 240, analyse again == one full pass
run "$GS" train --out "$T/inc.h5" $CFG --epochs 120
run "$GS" analyze "$T/inc.h5" --quiet --threads 2
run "$GS" train --resume "$T/inc.h5" --epochs 240 --threads 2 --quiet
run "$GS" analyze "$T/inc.h5" --quiet --threads 2
check_run_file "$T/inc.h5"
$PY - "$T/full.h5" "$T/inc.h5" <<'PY' && ok || bad "incremental analysis differs from one full pass"
import h5py, sys, numpy as np
a, b = (h5py.File(p, "r")["analysis"] for p in sys.argv[1:3])
for k in a:
    x, y = a[k][()], b[k][()]
    assert x.shape == y.shape and np.array_equal(x, y, equal_nan=True), k
PY
# a second run of analyze has nothing to do and changes nothing
run "$GS" analyze "$T/full.h5" --quiet --threads 2
grep -q "analysis   7 of 7 checkpoints" "$T/last.out" && ok || { bad "summary after re-run"; cat "$T/last.out"; }

# --key-freqs overrides and recomputes; auto afterwards restores
run "$GS" analyze "$T/full.h5" --key-freqs 3,1 --quiet --threads 2
$PY - "$T/full.h5" "$T/full_copy.h5" <<'PY' && ok || bad "--key-freqs"
import h5py, sys
a = h5py.File(sys.argv[1], "r")["analysis"]
assert list(a["key_freqs"][:]) == [1, 3], a["key_freqs"][:]
assert a["key_freqs_epoch"][0] == -1
assert a["epoch"].shape[0] == 7
PY

# freqs and info
"$GS" freqs "$T/full.h5" >"$T/freqs" 2>&1 && grep -q "key frequencies" "$T/freqs" && grep -q "embedding norm per frequency" "$T/freqs" && ok \
    || { bad "freqs report"; cat "$T/freqs"; }
"$GS" freqs "$T/full.h5" --epoch 40 >/dev/null 2>&1 && ok || bad "freqs --epoch 40"
"$GS" info "$T/full.h5" >"$T/info" && grep -q "^key freqs" "$T/info" && grep -q "^phases" "$T/info" && ok \
    || { bad "info shows no analysis summary"; cat "$T/info"; }

# --follow on a live run: prints checkpoints as they come, writes the analysis when
# training ends, and the result equals an analysis of the finished file
"$GS" train --out "$T/live.h5" --p 23 --frac 0.5 --epochs 1500 --every 20 --threads 1 --quiet &
tpid=$!
sleep 0.5
"$GS" analyze --follow "$T/live.h5" --threads 1 >"$T/follow.out" 2>"$T/follow.err"
frc=$?
wait $tpid || bad "the followed trainer exited $?"
if [ $frc -eq 0 ] && grep -q "^epoch " "$T/follow.err"; then ok; else bad "analyze --follow exit $frc"; tail -3 "$T/follow.err"; fi
# the same run trained and analysed without anyone following it
run "$GS" train --out "$T/quiet.h5" --p 23 --frac 0.5 --epochs 1500 --every 20 --threads 1 --quiet
run "$GS" analyze "$T/quiet.h5" --quiet --threads 1
check_run_file "$T/live.h5"
$PY - "$T/live.h5" "$T/quiet.h5" <<'PY' && ok || bad "--follow analysis differs from a plain one"
import h5py, sys, numpy as np
a, b = (h5py.File(p, "r")["analysis"] for p in sys.argv[1:3])
assert a["epoch"].shape[0] == 76, a["epoch"].shape
for k in a:
    assert np.array_equal(a[k][()], b[k][()], equal_nan=True), k
PY

# bad input: one line, exit 2, the file unchanged
expect_error() {
    local desc=$1 pattern=$2 file=$3
    shift 3
    local before
    before=$(md5sum <"$file")
    "$GS" "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    if [ $rc -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -qE -- "$pattern" "$T/err" \
        && [ "$(md5sum <"$file")" = "$before" ]; then ok; else
        bad "$desc: exit $rc"; cat "$T/err"; fi
}
expect_error "key freq out of range" "out of range 1..11" "$T/full_copy.h5" analyze "$T/full_copy.h5" --key-freqs 3,12
expect_error "key freq not a number" "comma-separated" "$T/full_copy.h5" analyze "$T/full_copy.h5" --key-freqs 3,x
expect_error "cluster epoch missing" "no checkpoint at epoch 50" "$T/full_copy.h5" analyze "$T/full_copy.h5" --epoch 50
$PY -c "import h5py,sys; h5py.File(sys.argv[1],'w').create_group('x')" "$T/foreign.h5" || bad "making foreign.h5"
expect_error "foreign file" "foreign.h5" "$T/foreign.h5" analyze "$T/foreign.h5"
cp "$T/full_copy.h5" "$T/empty_run.h5"
$PY -c "import h5py,sys; h5py.File(sys.argv[1],'r+')['checkpoints/epoch'].resize((0,))" "$T/empty_run.h5" \
    || bad "making empty_run.h5"
expect_error "no checkpoints" "no checkpoint" "$T/empty_run.h5" analyze "$T/empty_run.h5"
expect_error "freqs of a non-run file" "foreign.h5" "$T/foreign.h5" freqs "$T/foreign.h5"

# an even p: the Nyquist frequency p/2 is a key frequency like the others (docs/analysis.md)
run "$GS" train --out "$T/even.h5" --p 8 --frac 0.5 --d-model 8 --n-heads 2 --d-mlp 8 --epochs 30 --every 10 --threads 1 --quiet
cp "$T/even.h5" "$T/even_copy.h5"
run "$GS" analyze "$T/even.h5" --key-freqs 4 --quiet --threads 1
$PY - "$T/even.h5" <<'PY' && ok || bad "p = 8 --key-freqs 4"
import h5py, sys, numpy as np
a = h5py.File(sys.argv[1], "r")["analysis"]
assert list(a["key_freqs"][:]) == [4], a["key_freqs"][:]
assert a["epoch"].shape[0] == 4 and np.all(np.isfinite(a["restricted_loss"][:]))
PY
expect_error "p = 8 key freq 5" "out of range 1..4" "$T/even_copy.h5" analyze "$T/even_copy.h5" --key-freqs 5

# a run being trained: refused with the flag that reads a live run, the file untouched
"$GS" train --out "$T/busy.h5" --p 23 --frac 0.5 --epochs 100000 --every 20 --threads 1 --quiet &
bpid=$!
for _ in $(seq 100); do "$GS" info "$T/busy.h5" 2>/dev/null | grep -q "^progress .* checkpoints (epochs" && break; sleep 0.1; done
"$GS" analyze "$T/busy.h5" --quiet >"$T/out" 2>"$T/err"
brc=$?
# a resume of it: refused as busy each time, not as a file that looks damaged while it
# is being written (the resume reads the file before it takes the writer lock)
rbad=0
for _ in 1 2 3 4 5; do
    "$GS" train --resume "$T/busy.h5" --epochs 200000 --quiet >/dev/null 2>"$T/rerr"
    rrc=$?
    [ $rrc -ne 0 ] && [ "$(wc -l <"$T/rerr")" -eq 1 ] && grep -q "busy.h5: is being written by another process" "$T/rerr" \
        || { rbad=1; cat "$T/rerr"; }
done
[ $rbad -eq 0 ] && ok || bad "a resume of a run being trained was not refused as busy"
kill $bpid 2>/dev/null
wait $bpid 2>/dev/null
if [ $brc -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] \
    && grep -q "busy.h5: is being trained right now; use grokscope analyze --follow .*busy.h5" "$T/err"; then ok; else
    bad "analyze of a run being trained: exit $brc"; cat "$T/err"; fi

finish
