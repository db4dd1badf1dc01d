#!/usr/bin/env bash
# Early-warning signals driven as a user would (docs/early-warning.md): the 1.3
# measures in /analysis, `forecast` on a run cut before it groks fires before the grok
# epoch the same run reaches when resumed, a forecast line in `analyze --follow`, an
# older file gaining the 1.3 datasets, and `sweep score` on a small sweep. Needs
# Debian's python3-h5py (SKIP without it). Usage: cli_early_warning.sh GROKSCOPE SRCDIR
set -u
GS=$1
. "$(dirname "$0")/lib.sh"
run() { "$@" >"$T/last.out" 2>&1 || { bad "command failed ($?): $*"; cat "$T/last.out"; }; }
if ! have_h5py; then
    skip "$PY lacks h5py/numpy; the checks need them (apt-get install python3-h5py)"
    finish
fi

# A demo-like run that groks at epoch ~1300 (p 37, frac 0.5), cut at 600 before it does
CFG="--p 37 --frac 0.5 --lr 3e-3 --d-model 64 --d-mlp 256 --every 25 --threads 1 --quiet"
LLC="--llc-every 4 --llc-draws 20 --threads 1 --quiet"
run "$GS" train --out "$T/cut.h5" $CFG --epochs 600
cp "$T/cut.h5" "$T/full.h5"
run "$GS" analyze "$T/cut.h5" $LLC
check_run_file "$T/cut.h5"
$PY - "$T/cut.h5" <<'PY' && ok || bad "the 1.3 measures"
import h5py, sys, numpy as np
a = h5py.File(sys.argv[1], "r")["analysis"]
n = a["epoch"].shape[0]
d, ci, cl, llc = (a[k][:] for k in ("init_distance", "cka_init", "cka_label", "llc"))
assert d[0] == 0 and np.all(d[1:] > 0), d
assert abs(ci[0] - 1) < 1e-5 and np.all((ci > 0) & (ci <= 1 + 1e-5)), ci
assert np.all((cl > 0) & (cl < 1)), cl
assert cl[-1] > cl[0], cl                # the features align with the labels as it learns
est = ~np.isnan(llc)
assert list(np.nonzero(est)[0]) == list(range(0, n, 4)), llc   # every 4th checkpoint
s = a["llc_settings"][:]
assert list(s[3:8]) == [1, 20, 0, 512, 4], s     # chains, draws, burn-in, batch, every
assert abs(s[1] - 512 / np.log(512)) < 1e-9, s  # n*beta: batch / ln(batch)
K, S = a["loss_spectrum"][:]
assert K == 400 and S > 0, (K, S)
PY

# forecast on the cut run: some signal has fired, and before the epoch the run groks
"$GS" forecast "$T/cut.h5" >"$T/fc" 2>"$T/fc.err" && ok || { bad "forecast exit $?"; cat "$T/fc.err"; }
grep -q "^data through epoch 600" "$T/fc" && grep -q ">= 99% at not yet" "$T/fc" && ok \
    || { bad "forecast header"; cat "$T/fc"; }
first=$(awk '$2 == "yes" && $3 ~ /^[0-9]+$/ {print $3}' "$T/fc" | sort -n | head -1)
run "$GS" train --resume "$T/full.h5" --epochs 1500 --threads 1 --quiet
grok=$($PY -c "
import h5py, sys, numpy as np
a = h5py.File(sys.argv[1], 'r')['metrics/test_acc'][:]
print(int(np.argmax(a >= 0.99)) if (a >= 0.99).any() else -1)" "$T/full.h5")
if [ -n "$first" ] && [ "$grok" -gt 600 ] && [ "$first" -lt "$grok" ]; then ok; else
    bad "forecast on the cut run: first signal at '${first}', the run groks at $grok"; cat "$T/fc"; fi

# a live run: analyze --follow prints a forecast line per checkpoint
"$GS" train --out "$T/live.h5" $CFG --epochs 300 &
tpid=$!
sleep 0.3
"$GS" analyze --follow "$T/live.h5" --no-llc --threads 1 >"$T/follow.out" 2>"$T/follow.err"
frc=$?
wait $tpid || bad "the followed trainer exited $?"
if [ $frc -eq 0 ] && [ "$(grep -c "forecast:" "$T/follow.err")" -eq 13 ]; then ok; else
    bad "analyze --follow forecast lines (exit $frc)"; tail -5 "$T/follow.err"; fi
"$GS" forecast "$T/live.h5" >/dev/null && ok || bad "forecast of the followed run"

# an older file (no 1.3 datasets): read as NaN, then analysed again with them
cp "$T/cut.h5" "$T/old.h5"
$PY - "$T/old.h5" <<'PY' || bad "making an old file"
import h5py, sys
f = h5py.File(sys.argv[1], "r+")
for k in ("init_distance", "cka_init", "cka_label", "llc", "llc_settings", "loss_spectrum"):
    del f["analysis"][k]
PY
"$GS" forecast "$T/old.h5" | grep -q "^llc  *n/a" && ok || bad "forecast of an old file"
run "$GS" analyze "$T/old.h5" --no-llc --threads 1 --quiet
check_run_file "$T/old.h5"
$PY - "$T/old.h5" "$T/cut.h5" <<'PY' && ok || bad "the old file's analysis"
import h5py, sys, numpy as np
a, b = (h5py.File(p, "r")["analysis"] for p in sys.argv[1:3])
assert np.array_equal(a["cka_label"][:], b["cka_label"][:])
assert np.all(np.isnan(a["llc"][:])) and a["llc_settings"][7] == 0
PY

# bad input: one line, exit 2
"$GS" forecast "$T/nothing.h5" >/dev/null 2>"$T/err"
[ $? -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && ok || { bad "forecast of a missing file"; cat "$T/err"; }
run "$GS" train --out "$T/raw.h5" $CFG --epochs 50
"$GS" forecast "$T/raw.h5" >/dev/null 2>"$T/err"
[ $? -eq 2 ] && grep -q "no analysed checkpoint yet; run grokscope analyze" "$T/err" && ok || { bad "forecast unanalysed"; cat "$T/err"; }
before=$(md5sum <"$T/raw.h5")
"$GS" analyze "$T/raw.h5" --llc-batch 0 >/dev/null 2>"$T/err"
[ $? -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && [ "$(md5sum <"$T/raw.h5")" = "$before" ] && ok \
    || { bad "analyze --llc-batch 0"; cat "$T/err"; }

# sweep score over a small sweep: wd 0 never generalizes here, wd 1 may
SMALL="--p 23 --frac 0.5 --lr 3e-3 --d-model 32 --d-mlp 64 --n-heads 2 --every 20 --epochs 200"
run "$GS" sweep create "$T/sw" --grid wd=0,1 -- $SMALL
run "$GS" sweep run "$T/sw" --quiet --jobs 1 --threads 1
"$GS" sweep score "$T/sw" --quiet >"$T/score" 2>"$T/score.err" && ok || { bad "sweep score exit $?"; cat "$T/score.err"; }
grep -q "^2 runs: " "$T/score" && [ "$(wc -l <"$T/sw/score.tsv")" -eq 9 ] && ok || { bad "score table"; cat "$T/score"; }
if command -v gnuplot >/dev/null; then
    [ -s "$T/sw/plots/sweep_score.png" ] && [ -s "$T/sw/plots/sweep_score.gp" ] && ok || bad "no sweep_score figure"
else
    skip "gnuplot not installed: the sweep_score figure is not drawn"
fi
"$GS" sweep score "$T/nowhere" >/dev/null 2>"$T/err"
[ $? -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && ok || { bad "sweep score of a missing dir"; cat "$T/err"; }
finish
