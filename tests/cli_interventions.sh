#!/usr/bin/env bash
# The interventions from the command line (docs/interventions.md): contradicting options
# give one error line and exit 2 with no file left; each option lands in /config and in
# `info`; a run resumed halfway equals the uninterrupted one bit for bit, with each
# Grokfast filter's state and every other intervention; the default run's numbers are
# untouched by the measures. Usage: cli_interventions.sh GROKSCOPE SOURCE_DIR
set -u
GS=$1
SRC=$2
. "$(dirname "$0")/lib.sh"

expect_error() {
    local desc=$1 pattern=$2
    shift 2
    "$GS" train --out "$T/new.h5" --quiet --p 11 --epochs 20 "$@" >"$T/out" 2>"$T/err"
    local rc=$? lines
    lines=$(wc -l <"$T/err")
    if [ $rc -eq 2 ] && [ "$lines" -eq 1 ] && grep -qE -- "$pattern" "$T/err"; then ok; else
        bad "$desc: exit $rc, $lines stderr lines (want 2, 1 line matching '$pattern'):"
        sed 's/^/    /' "$T/err"
    fi
    [ -e "$T/new.h5" ] && { bad "$desc: left a file behind"; rm -f "$T/new.h5"; }
}
expect_error "fix-norm with wd" "fix_norm .*weight decay" --fix-norm
expect_error "momentum without sgd" "momentum = 0.9 needs optimizer sgd" --momentum 0.9
expect_error "MA window longer than the run" "gf_window = 100 is longer than the run" --grokfast ma
expect_error "gf-alpha without a filter" "need --grokfast" --gf-alpha 0.9
expect_error "gf-window with ema" "needs --grokfast ma" --grokfast ema --gf-window 5
expect_error "gf-alpha with ma" "needs --grokfast ema" --grokfast ma --gf-window 5 --gf-alpha 0.5
expect_error "unknown optimizer" "--optimizer: unknown choice 'rmsprop'" --optimizer rmsprop
expect_error "unknown loss" "--loss: unknown choice 'hinge'" --loss hinge
expect_error "loss precision 16" "--loss-precision" --loss-precision 16
expect_error "wd-to-init without wd" "wd_to_init needs" --wd 0 --wd-to-init
expect_error "init scale 0" "init_scale" --init-scale 0
expect_error "output scale -1" "output-scale" --output-scale -1

# every option in --help
help=$("$GS" train --help)
for o in --optimizer --momentum --eps --warmup --wd-to-init --grokfast --gf-alpha --gf-window \
         --gf-lambda --loss --loss-precision --orthograd --init-scale --fix-norm --output-scale; do
    echo "$help" | grep -q -- "  $o " && ok || bad "train --help lacks $o"
done

# resume: 2N epochs straight equal N + resume, for each filter and intervention
COMMON="--p 13 --frac 0.5 --every 10 --threads 2 --quiet"
n=0
for opts in "--grokfast ema --gf-alpha 0.9 --gf-lambda 3" "--grokfast ma --gf-window 7" \
            "--optimizer sgd --momentum 0.9 --lr 0.05 --wd 0.001" "--optimizer adam --wd 0.01 --wd-to-init" \
            "--wd 0 --orthograd --fix-norm --init-scale 2" "--loss stablemax --loss-precision 32 --output-scale 2" \
            "--loss mse --eps 1e-6 --warmup 3"; do
    n=$((n + 1))
    # shellcheck disable=SC2086
    "$GS" train --out "$T/s$n.h5" --epochs 40 $COMMON $opts &&
        "$GS" train --out "$T/r$n.h5" --epochs 20 $COMMON $opts &&
        "$GS" train --resume "$T/r$n.h5" --epochs 40 --quiet || { bad "training with $opts failed"; continue; }
    if have_h5py; then
        $PY "$SRC/tests/runs_equal.py" "$T/s$n.h5" "$T/r$n.h5" >"$T/eq" 2>&1 && ok ||
            { bad "resume with $opts differs:"; sed 's/^/    /' "$T/eq"; }
        check_run_file "$T/r$n.h5"
    else
        skip "h5py missing: resume comparison"
    fi
done
# the filter's state is there, and the options reach /config and info
"$GS" info "$T/s1.h5" | grep -q "Grokfast EMA alpha 0.9 lambda 3" && ok || bad "info lacks the EMA filter"
"$GS" info "$T/s2.h5" | grep -q "Grokfast MA window 7 lambda 5" && ok || bad "info lacks the MA filter (lambda 5 by default)"
"$GS" info "$T/s6.h5" | grep -q "loss stablemax in float32" && ok || bad "info lacks the loss"
"$GS" info "$T/s6.h5" | grep -qE "^gradient +epoch 40: softmax collapsed" && ok || bad "info lacks the gradient line"
if have_h5py; then
    $PY - "$T" <<'PY' && ok || bad "/config, /resume/grokfast or the measures"
import sys, h5py, numpy as np
T = sys.argv[1]
with h5py.File(f"{T}/s2.h5") as f:
    c = f["config"].attrs
    assert c["grokfast"] == b"ma" and c["gf_window"] == 7 and c["gf_lambda"] == 5.0, dict(c)
    assert f["resume/grokfast"].shape[:2] == (2, 7)
with h5py.File(f"{T}/s5.h5") as f:
    c = f["config"].attrs
    assert c["orthograd"] == 1 and c["fix_norm"] == 1 and c["init_scale"] == 2.0
    norms = [np.sqrt(sum(float((f["checkpoints"][k][i].astype(np.float64) ** 2).sum())
                         for k in f["checkpoints"] if k != "epoch")) for i in range(5)]
    assert max(abs(x / norms[0] - 1) for x in norms) < 1e-6, norms
    assert "grokfast" not in f["resume"]
with h5py.File(f"{T}/s6.h5") as f:
    m = f["metrics"]
    assert np.all(np.isfinite(m["grad_norm"][:])) and np.all(np.abs(m["grad_cos"][:]) <= 1)
    assert np.all((m["collapse_frac"][:] >= 0) & (m["collapse_frac"][:] <= 1))
PY
fi
# the per-epoch loss axes name the loss the run trained on (the MSE run's metrics are
# squared errors, not nats); overlaid runs of different losses get a neutral name
if command -v gnuplot >/dev/null; then
    "$GS" plot "$T/s7.h5" --out "$T/p7" --quiet >/dev/null 2>&1 &&
        grep -q "set ylabel 'mean squared error" "$T/p7/loss.gp" && ok || bad "MSE loss figure's y label"
    "$GS" plot "$T/s6.h5" --out "$T/p6" --quiet >/dev/null 2>&1 &&
        grep -q "set ylabel 'StableMax cross-entropy" "$T/p6/loss.gp" && ok || bad "StableMax loss figure's y label"
    grep -q "set ylabel 'cross-entropy loss" "$T/p7/progress_measures.gp" && ok ||
        bad "the checkpoint losses (plain cross-entropy) lost their label"
    "$GS" plot "$T/s6.h5" "$T/s7.h5" --out "$T/p67" --quiet >/dev/null 2>&1 &&
        grep -q "set ylabel 'training loss of each run" "$T/p67/compare_loss.gp" && ok ||
        bad "overlay of two losses: y label"
else
    skip "gnuplot is not installed: loss axis labels"
fi
finish
