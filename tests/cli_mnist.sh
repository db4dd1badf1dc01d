#!/usr/bin/env bash
# Omnigrok's MNIST task (docs/tasks.md "Images") driven as a user would, on Debian's
# Fashion-MNIST: a small MLP on the pixels trains well above chance, resumes
# bit-exactly (2N epochs in one go == N, then resume to 2N), follows the run-file
# contract; analyze recomputes the trainer's metrics bit for bit with only the
# model-agnostic measures (the Fourier ones NaN, the run file saying why), info and
# plot show them; bad options and a data directory gone at resume give one clear error
# and leave the run file as it was.
# Usage: cli_mnist.sh GROKSCOPE SRCDIR
set -u
GS=$1
SRC=$2
. "$(dirname "$0")/lib.sh"
DATA=/usr/share/datasets/fashion-mnist
[ -d "$DATA" ] || { skip "no $DATA (Debian's dataset-fashion-mnist)"; finish; }
have_h5py || { skip "needs $PY with h5py"; finish; }
# one thread: the small layers gain nothing from two, and the bits do not depend on it
SMALL="--task mnist --model mlp --data $DATA --train-size 200 --test-size 500 --hidden 32 --threads 1 --quiet --force"

# --- it learns: train accuracy far above chance (10%), test accuracy above chance
"$GS" train --out "$T/run.h5" $SMALL --loss mse --batch 50 --wd 0.01 --epochs 300 --every 50 \
    >"$T/err" 2>&1 || { bad "train exited $?"; cat "$T/err"; }
$PY - "$T/run.h5" <<'EOF' && ok || bad "mnist run did not learn"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
m, c = f["metrics"], {k: v.decode() if isinstance(v, bytes) else v for k, v in f["config"].attrs.items()}
tr, te = m["train_acc"][-1], m["test_acc"][-1]
print(f"train acc {tr:.3f}, test acc {te:.3f}")
assert tr > 0.9 and te > 0.5, (tr, te)
assert c["task"] == "mnist" and c["train_size"] == 200 and c["test_size"] == 500
assert c["n_train"] == 200 and c["n_test"] == 500 and c["p"] == 10 and c["d_embed"] == 0
assert c["data_dir"] == "/usr/share/datasets/fashion-mnist"
d = f["data"]
assert (d["train_idx"][:] == range(200)).all() and (d["test_idx"][:] == range(500)).all()
assert f["checkpoints/layers.0.W"].shape[1:] == (784, 32)
assert f["analysis"].attrs["circuit_measures"].decode().startswith("none: image classification")
EOF
check_run_file "$T/run.h5"

# --- resume: bit for bit, full batch and minibatch
resume_equal() { # NAME OPTIONS...
    local name=$1; shift
    "$GS" train --out "$T/$name-a.h5" $SMALL "$@" --epochs 40 --every 10 >"$T/err" 2>&1 \
        || { bad "$name: train exited $?"; cat "$T/err"; return; }
    "$GS" train --out "$T/$name-b.h5" $SMALL "$@" --epochs 20 --every 10 >"$T/err" 2>&1 \
        && "$GS" train --resume "$T/$name-b.h5" --epochs 40 --threads 1 --quiet >"$T/err" 2>&1 \
        || { bad "$name: train + resume exited $?"; cat "$T/err"; return; }
    $PY "$SRC/tests/runs_equal.py" "$T/$name-a.h5" "$T/$name-b.h5" >"$T/err" 2>&1 && ok \
        || { bad "$name: resumed run differs"; cat "$T/err"; }
    check_run_file "$T/$name-b.h5"
}
resume_equal full --loss ce
resume_equal batch --loss mse --batch 64 --init-scale 8 --wd 0.01

# --- info, analyze, plot
"$GS" info "$T/run.h5" >"$T/info" 2>&1 || bad "info exited $?"
grep -q "^task       mnist: the first 200 training and 500 test images of $DATA" "$T/info" \
    && grep -q "^model      mlp, 784 pixel inputs, hidden 32" "$T/info" \
    && grep -q "image classification has no group" "$T/info" && ok \
    || { bad "info does not describe the mnist run"; cat "$T/info"; }
"$GS" analyze "$T/run.h5" >"$T/err" 2>&1 || { bad "analyze exited $?"; cat "$T/err"; }
$PY - "$T/run.h5" <<'EOF' && ok || bad "analysis of the mnist run"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
a, m = f["analysis"], f["metrics"]
ep = a["epoch"][:]
assert list(ep) == list(f["checkpoints/epoch"][:]) == [0, 50, 100, 150, 200, 250, 300]
for k in ("train_loss", "test_loss", "train_acc", "test_acc"):   # the trainer's bits
    assert np.array_equal(a[k][:], m[k][ep]), k
for k in ("restricted_loss", "excluded_loss", "gini_embed", "gini_neuron_logit"):
    assert np.isnan(a[k][:]).all(), k
assert np.isnan(a["embed_fourier_norm"][:]).all()
w = f["checkpoints"]
ss = sum((w[k][:].astype(np.float64) ** 2).sum(axis=tuple(range(1, w[k].ndim))) for k in w if k != "epoch")
assert np.allclose(a["weight_norm"][:], ss, rtol=1e-9)
d = a["init_distance"][:]
assert d[0] == 0 and (d[1:] > 0).all() and np.isfinite(d).all()
ci, cl = a["cka_init"][:], a["cka_label"][:]
assert abs(ci[0] - 1) < 1e-5 and np.isfinite(ci).all() and np.isfinite(cl).all()
assert cl[-1] > cl[0], (cl[0], cl[-1])     # features align with the labels as it learns
assert a.attrs["model_measures"].decode().startswith("mnist:")
EOF
check_run_file "$T/run.h5"
"$GS" info "$T/run.h5" >"$T/info" 2>&1
grep -q "^key freqs  none (the task has no Fourier basis)" "$T/info" && ok \
    || { bad "info after analyze"; cat "$T/info"; }
"$GS" plot "$T/run.h5" --out "$T/plots" --quiet >"$T/err" 2>&1 || { bad "plot exited $?"; cat "$T/err"; }
[ -s "$T/plots/loss.png" ] && [ -s "$T/plots/weight_norm.png" ] && [ ! -e "$T/plots/progress_measures.png" ] \
    && [ ! -e "$T/plots/gini.png" ] && grep -q "progress_measures, gini, embed_freqs and neuron_clusters are not drawn" "$T/err" \
    && grep -q "mnist,  train 200,  test 500" "$T/plots/loss.gp" && ok \
    || { bad "plot of the mnist run"; ls "$T/plots"; cat "$T/err"; }
# freqs and analyze --key-freqs have no basis to work in: one line, exit 2, file untouched
sum=$(md5sum <"$T/run.h5")
"$GS" freqs "$T/run.h5" >/dev/null 2>"$T/err"
rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "the image task has no Fourier basis, so no frequencies" "$T/err" \
    && ok || { bad "freqs of the mnist run: exit $rc"; cat "$T/err"; }
"$GS" analyze "$T/run.h5" --key-freqs 3 >/dev/null 2>"$T/err"
rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "no Fourier basis, so --key-freqs does not apply" "$T/err" \
    && [ "$(md5sum <"$T/run.h5")" = "$sum" ] && ok || { bad "analyze --key-freqs of the mnist run: exit $rc"; cat "$T/err"; }

# --- errors: one line naming the problem, no file left behind
refuse() { # WHAT EXPECTED-TEXT OPTIONS...
    local what=$1 want=$2; shift 2
    "$GS" train --out "$T/bad.h5" "$@" >"$T/err" 2>&1
    local rc=$?
    if [ $rc -ne 0 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -qF -- "$want" "$T/err" && [ ! -e "$T/bad.h5" ]; then ok
    else bad "$what: exit $rc, expected one line with '$want'"; cat "$T/err"; fi
}
refuse "no --data" "--task mnist needs --data DIR" --task mnist --model mlp
refuse "no --data names the Debian path" "/usr/share/datasets/fashion-mnist" --task mnist --model mlp
refuse "no such dir" "--data $T/nowhere: no such directory" --task mnist --model mlp --data "$T/nowhere"
refuse "dir without IDX files" "no train-images-idx3-ubyte or train-images-idx3-ubyte.gz" --task mnist --model mlp --data "$T"
refuse "--op" "--op does not apply to --task mnist" --task mnist --model mlp --data $DATA --op mul
refuse "--p" "--p does not apply to --task mnist" --task mnist --model mlp --data $DATA --p 7
refuse "--frac" "--frac does not apply to --task mnist" --task mnist --model mlp --data $DATA --frac 0.5
refuse "--embed" "--embed does not apply to --task mnist" --task mnist --model mlp --data $DATA --embed onehot
refuse "transformer" "--task mnist needs --model mlp" --task mnist --data $DATA
refuse "--data without mnist" "--data does not apply to --task modular" --data $DATA
refuse "--train-size without mnist" "--train-size does not apply to --task modular" --train-size 10
refuse "too many test images" "holds only 10000" --task mnist --model mlp --data $DATA --test-size 20000 --epochs 1
refuse "unknown task" "--task: unknown choice 'cifar'" --task cifar

# --- the data directory gone at resume: refused, the file untouched
mkdir "$T/d"
for f in "$DATA"/*; do ln -s "$f" "$T/d/"; done
"$GS" train --out "$T/moved.h5" --task mnist --model mlp --data "$T/d" --train-size 100 --test-size 100 \
    --hidden 8 --epochs 10 --every 10 --threads 1 --quiet >"$T/err" 2>&1 || { bad "train exited $?"; cat "$T/err"; }
cp "$T/moved.h5" "$T/moved0.h5"
mv "$T/d" "$T/d2"
"$GS" train --resume "$T/moved.h5" --epochs 20 --quiet >"$T/err" 2>&1
rc=$?
[ $rc -ne 0 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -qF "the run's images (data_dir $T/d)" "$T/err" \
    && cmp -s "$T/moved.h5" "$T/moved0.h5" && ok \
    || { bad "resume without the images: exit $rc"; cat "$T/err"; }
# --- a labels file cut short after training: refused, the file untouched (its epoch
# count and status too: the images are read before the file is opened for writing)
mkdir "$T/d"   # where the run's data_dir points (its own files are in d2 meanwhile)
for f in "$DATA"/*; do ln -s "$f" "$T/d/"; done
labels=$(cd "$T/d" && ls train-labels*)
rm "$T/d/$labels"
head -c 1000 "$DATA/$labels" >"$T/d/$labels"
"$GS" train --resume "$T/moved.h5" --epochs 20 --quiet >"$T/err" 2>&1
rc=$?
[ $rc -ne 0 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "$labels: truncated" "$T/err" \
    && cmp -s "$T/moved.h5" "$T/moved0.h5" && ok \
    || { bad "resume with truncated labels: exit $rc, file changed: $(cmp -s "$T/moved.h5" "$T/moved0.h5" || echo yes)"; cat "$T/err"; }
rm -r "$T/d" && mv "$T/d2" "$T/d"
"$GS" train --resume "$T/moved.h5" --epochs 20 --threads 1 --quiet >"$T/err" 2>&1 && ok \
    || { bad "resume with the images back: exit $?"; cat "$T/err"; }
finish
