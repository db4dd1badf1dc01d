#!/usr/bin/env bash
# The models of docs/models.md driven as a user would: the MLP (one-hot and learned
# inputs) and minibatches train, resume bit-exactly (2N epochs in one go == N, then
# resume to 2N), follow the run-file contract, analyse with the measures that have no
# meaning NaN and the attribute model_measures saying why (info prints it, plot leaves
# those figures out); bad model options give one clear error.
# Usage: cli_models.sh GROKSCOPE SRCDIR
set -u
GS=$1
SRC=$2
. "$(dirname "$0")/lib.sh"
have_h5py || { skip "needs $PY with h5py"; finish; }
T2="--threads 2 --quiet --force"

# train 2N in one go, and N then resume to 2N: the same bits
resume_equal() { # NAME OPTIONS...
    local name=$1; shift
    "$GS" train --out "$T/$name-a.h5" "$@" --epochs 40 --every 10 $T2 >"$T/err" 2>&1 \
        || { bad "$name: train exited $?"; cat "$T/err"; return; }
    "$GS" train --out "$T/$name-b.h5" "$@" --epochs 20 --every 10 $T2 >"$T/err" 2>&1 \
        && "$GS" train --resume "$T/$name-b.h5" --epochs 40 --threads 2 --quiet >"$T/err" 2>&1 \
        || { bad "$name: train + resume exited $?"; cat "$T/err"; return; }
    $PY "$SRC/tests/runs_equal.py" "$T/$name-a.h5" "$T/$name-b.h5" && ok || bad "$name: resumed run differs"
    check_run_file "$T/$name-a.h5"
}
MLP="--model mlp --p 13 --frac 0.5 --hidden 24,16"
resume_equal onehot $MLP --embed onehot --no-bias
resume_equal learned $MLP --d-embed 8 --act gelu --batch 20
resume_equal quad $MLP --embed onehot --act quad --batch 30 --wd 0.1
resume_equal tf-batch --p 13 --frac 0.5 --d-model 16 --n-heads 2 --d-mlp 32 --batch 25
resume_equal tf-2 --p 13 --frac 0.5 --d-model 16 --n-heads 2 --d-mlp 32 --layers 2
resume_equal tf-3-batch --p 13 --frac 0.5 --d-model 16 --n-heads 2 --d-mlp 32 --layers 3 --batch 25
"$GS" analyze "$T/tf-2-a.h5" --quiet >"$T/err" 2>&1 && ok || { bad "analyze 2 blocks exited $?"; cat "$T/err"; }
check_run_file "$T/tf-2-a.h5"
"$GS" info "$T/tf-2-a.h5" >"$T/info"
grep -q "^model      transformer, 2 blocks, d_model 16, 2 heads, d_mlp 32; fast path; full batch" "$T/info" \
    && grep -q "those of the last of the 2 blocks" "$T/info" && ok || { bad "info: 2 blocks"; cat "$T/info"; }

# the thread count does not change the bits (the pool's blocks depend on the batch only)
for t in 1 2; do
    "$GS" train --out "$T/th$t.h5" $MLP --d-embed 8 --epochs 5 --threads $t --quiet --force || bad "threads $t"
done
$PY "$SRC/tests/runs_equal.py" "$T/th1.h5" "$T/th2.h5" >/dev/null && ok || bad "1 and 2 threads differ"
for t in 1 2; do
    "$GS" train --out "$T/dth$t.h5" --p 13 --frac 0.5 --d-model 16 --n-heads 2 --d-mlp 32 --layers 2 \
        --epochs 5 --threads $t --quiet --force || bad "2 blocks, threads $t"
done
$PY "$SRC/tests/runs_equal.py" "$T/dth1.h5" "$T/dth2.h5" >/dev/null && ok || bad "2 blocks: 1 and 2 threads differ"

# the MLP trains: train accuracy climbs to 100%
"$GS" train --out "$T/fit.h5" $MLP --embed onehot --lr 1e-2 --epochs 100 --every 50 $T2 2>"$T/err" || cat "$T/err"
"$GS" info "$T/fit.h5" >"$T/info"
grep -q "^fitted     train accuracy first >= 99% at epoch" "$T/info" && ok || { bad "the MLP does not fit"; cat "$T/info"; }
grep -q "^model      mlp, one-hot inputs, hidden 24,16, relu, biases; full batch" "$T/info" \
    && ok || { bad "info: model line"; cat "$T/info"; }

# a batch as large as the training set is full batch: the same bits
"$GS" train --out "$T/full.h5" $MLP --epochs 10 $T2 && \
"$GS" train --out "$T/big.h5" $MLP --epochs 10 --batch 84 $T2 && \
"$GS" train --out "$T/small.h5" $MLP --epochs 10 --batch 40 $T2 || bad "batch runs failed"
$PY "$SRC/tests/runs_equal.py" "$T/full.h5" "$T/big.h5" >/dev/null && ok || bad "--batch n_train differs from full batch"
$PY "$SRC/tests/runs_equal.py" "$T/full.h5" "$T/small.h5" >/dev/null && bad "--batch 40 equals full batch" || ok
# the model line names a non-default model, its batch and its path
"$GS" train --out "$T/x.h5" --p 13 --frac 0.5 --d-model 16 --n-heads 2 --d-mlp 32 --epochs 2 --batch 8 \
    --threads 2 --force 2>"$T/err" >/dev/null
grep -q "^model: transformer, 1 block, d_model 16, 2 heads, d_mlp 32; fast path; batch 8" "$T/err" \
    && ok || { bad "train does not name the model and path"; cat "$T/err"; }

# analysis: one-hot has no embedding, no MLP has a neuron-logit map; NaN, and said why
"$GS" analyze "$T/onehot-a.h5" --quiet >"$T/err" 2>&1 || { bad "analyze one-hot exited $?"; cat "$T/err"; }
"$GS" analyze "$T/learned-a.h5" --quiet >"$T/err" 2>&1 || { bad "analyze learned exited $?"; cat "$T/err"; }
check_run_file "$T/onehot-a.h5" "$T/learned-a.h5"
$PY - "$T/onehot-a.h5" "$T/learned-a.h5" <<'PYEOF' && ok || bad "MLP analysis values"
import sys, h5py, numpy as np
o, l = (h5py.File(p, "r") for p in sys.argv[1:3])
for f in (o, l):
    a = f["analysis"]
    assert np.array_equal(a["train_loss"][:], f["metrics/train_loss"][:][f["checkpoints/epoch"][:]]), "train loss"
    assert np.isnan(a["gini_neuron_logit"][:]).all() and np.isnan(a["neuron_logit_fourier_norm"][:]).all()
    assert np.isfinite(a["weight_norm"][:]).all() and np.isfinite(a["restricted_loss"][:]).all()
    assert a["neuron_freq"].shape == (24,)
    assert str(a.attrs["model_measures"], "utf-8").startswith("mlp:")
assert np.isnan(o["analysis/gini_embed"][:]).all() and b"no embedding matrix" in o["analysis"].attrs["model_measures"]
assert np.isfinite(l["analysis/gini_embed"][:]).all() and np.isfinite(l["analysis/embed_fourier_norm"][:]).all()
PYEOF
"$GS" info "$T/onehot-a.h5" | grep -q "one-hot inputs have no embedding matrix, so" && ok || bad "info: model_measures"
"$GS" freqs "$T/onehot-a.h5" >"$T/freqs" 2>&1 && grep -q "^embedding norm per frequency: none (mlp: " "$T/freqs" \
    && ! grep -qE '^ +[0-9]+[*]? +nan' "$T/freqs" && ok || { bad "freqs: one-hot MLP"; cat "$T/freqs"; }
"$GS" plot "$T/onehot-a.h5" --out "$T/figs" >"$T/err" 2>&1 || { bad "plot one-hot exited $?"; cat "$T/err"; }
[ -f "$T/figs/loss.png" ] && [ ! -f "$T/figs/gini.png" ] && [ ! -f "$T/figs/embed_freqs.png" ] \
    && ok || { bad "plot: figures of one-hot MLP"; ls "$T/figs"; }
grep -q "gini and embed_freqs are not drawn: mlp:" "$T/err" && ok || { bad "plot does not say why"; cat "$T/err"; }
"$GS" plot "$T/learned-a.h5" --out "$T/figs2" >/dev/null 2>&1 && [ -f "$T/figs2/gini.png" ] \
    && [ -f "$T/figs2/embed_freqs.png" ] && ok || bad "plot: figures of learned MLP"
# runs of different models overlaid: each label says the model (and, when the runs differ
# in too much for a key entry, starts with the file name and ends in "..."); with four
# runs the key goes below the plot, where it fits
"$GS" plot "$T/tf-2-a.h5" "$T/learned-a.h5" "$T/onehot-a.h5" "$T/fit.h5" --out "$T/ov" >"$T/err" 2>&1 \
    || { bad "plot of four runs exited $?"; cat "$T/err"; }
grep -o 'title "[^"]*" noenhanced' "$T/ov/compare_loss.gp" | tail -n +2 >"$T/labels"
[ "$(wc -l <"$T/labels")" -eq 4 ] && ! awk 'length($0) > 72 + 20 { bad = 1 } END { exit !bad }' "$T/labels" \
    && grep -q 'tf-2-a.h5.*model=transformer, layers=2' "$T/labels" && grep -q 'learned-a.h5.*model=mlp' "$T/labels" \
    && grep -q "^set key outside bottom" "$T/ov/compare_loss.gp" && grep -q "^# the key alone" "$T/ov/compare_measures.gp" \
    && ok || { bad "overlay labels of four models"; cat "$T/labels"; }
# two runs that differ in many optimizer settings only: their long labels keep those
"$GS" train --out "$T/o1.h5" --p 11 --d-model 8 --n-heads 2 --d-mlp 8 --epochs 5 --every 5 $T2 &&
"$GS" train --out "$T/o2.h5" --p 11 --d-model 8 --n-heads 2 --d-mlp 8 --epochs 5 --every 5 $T2 \
    --optimizer adam --grokfast ema --loss stablemax --orthograd --init-scale 2 || bad "training o1, o2"
"$GS" plot "$T/o1.h5" "$T/o2.h5" --out "$T/ov2" >/dev/null 2>&1 || bad "plot o1 o2 exited $?"
grep -q 'title "o2.h5: optimizer=adam, grokfast=ema' "$T/ov2/compare_loss.gp" && ! grep -q 'h5:, \.\.\.' "$T/ov2/compare_loss.gp" \
    && ok || { bad "labels of runs differing in their optimizer"; grep -o 'title "[^"]*"' "$T/ov2/compare_loss.gp"; }
# the learned-embedding MLP has W_E but no W_L: info prints no NaN for it (final line,
# levelled line), and the Gini figure's title says why its second curve is missing
for f in learned-a onehot-a; do
    "$GS" info "$T/$f.h5" >"$T/info"
    ! grep -qw "nan" "$T/info" && ! grep -q "Gini W_L" "$T/info" && ok || { bad "info $f prints a NaN measure"; cat "$T/info"; }
done
grep -q "Gini W_E [0-9.]*," <("$GS" info "$T/learned-a.h5") && ok || bad "info: the learned MLP's Gini W_E is missing"
grep -qF 'Gini coefficient of W_E\n(this model has no neuron-logit map W_L)' "$T/figs2/gini.gp" \
    && ! grep -q "using 1:3" "$T/figs2/gini.gp" && ok || { bad "gini figure of the learned MLP"; grep title "$T/figs2/gini.gp"; }

# bad options: one line, non-zero, nothing written
err_is() { # EXPECTED OPTIONS...
    local want=$1; shift
    "$GS" train --out "$T/bad.h5" "$@" --quiet >"$T/out" 2>&1 && { bad "accepted: $*"; return; }
    grep -qF -- "$want" "$T/out" && [ ! -e "$T/bad.h5" ] && ok || { bad "$*: expected '$want'"; cat "$T/out"; }
}
err_is "--model: unknown model 'rnn'" --model rnn
err_is "--hidden: '200,0' is not a list of widths" --model mlp --hidden 200,0
err_is "--act: unknown activation 'tanh'" --model mlp --act tanh
err_is "--embed: 'dense' is neither learned nor onehot" --model mlp --embed dense
err_is "--d-embed does not apply to --embed onehot" --model mlp --embed onehot --d-embed 8
err_is "--hidden does not apply to --model transformer" --hidden 200
err_is "--d-model does not apply to --model mlp" --model mlp --d-model 64
err_is "--batch" --batch 0
# a checkpoint of the same model is a start: --init onehot-a.h5's last weights
"$GS" train --out "$T/init.h5" $MLP --embed onehot --no-bias --init "$T/onehot-a.h5" --epochs 1 \
    --threads 2 --quiet --force && $PY - "$T/onehot-a.h5" "$T/init.h5" <<'PYEOF' && ok || bad "--init from an MLP run"
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r")["checkpoints"] for p in sys.argv[1:3])
for k in ("layers.0.W", "layers.1.W", "unembed.W_U"):
    assert np.array_equal(a[k][-1], b[k][0]), k
PYEOF
# a checkpoint of another model is no start
err_is "has other parameters (keys or shapes) than this run's transformer" --p 13 --frac 0.5 --init "$T/onehot-a.h5"
finish
