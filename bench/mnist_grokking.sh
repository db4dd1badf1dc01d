#!/usr/bin/env bash
# Omnigrok's MNIST grokking configuration (docs/tasks.md "Images"): the first 1000
# training images, MLP 784-200-200-10 ReLU, MSE on one-hot targets, AdamW lr 1e-3
# wd 0.01 (torch's default betas 0.9, 0.999), initial weights times alpha = 8, batches
# of 200. Prints train and test accuracy at log-spaced epochs and when test accuracy
# peaked, so anyone can see whether it rises late (grokking).
#
# Usage: bench/mnist_grokking.sh GROKSCOPE [OUT.h5]
# Environment: DATA (default /usr/share/datasets/fashion-mnist, Debian's
# dataset-fashion-mnist; point it at an MNIST download for the paper's digits),
# EPOCHS (default 30000; Omnigrok ran 1e5), TEST_SIZE (default 2000: the test set is
# measured every epoch and dominates the cost; 10000 is the whole set), THREADS
# (default 1: the layers are too small for two to pay), INIT_SCALE (default 8,
# Omnigrok's alpha; 1 is PyTorch's init, the baseline that generalizes early).
set -eu
GS=$1
OUT=${2:-mnist_grokking.h5}
DATA=${DATA:-/usr/share/datasets/fashion-mnist}
EPOCHS=${EPOCHS:-30000}
TEST_SIZE=${TEST_SIZE:-2000}
THREADS=${THREADS:-1}
INIT_SCALE=${INIT_SCALE:-8}
PY=/usr/bin/python3

start=$(date +%s)
# --warmup 1: a constant lr (the first step, t = 0, has lr 0 under the warm-up rule)
"$GS" train --task mnist --model mlp --data "$DATA" --train-size 1000 --test-size "$TEST_SIZE" \
    --hidden 200,200 --act relu --loss mse --lr 1e-3 --wd 0.01 --beta2 0.999 --warmup 1 \
    --init-scale "$INIT_SCALE" --batch 200 --epochs "$EPOCHS" --every 500 --threads "$THREADS" \
    --quiet --force --out "$OUT"
echo "trained $EPOCHS epochs in $(( $(date +%s) - start )) s"
"$GS" info "$OUT" | grep -E "^(task|model|fitted|grokked|last)"
$PY - "$OUT" <<'EOF'
import sys, h5py, numpy as np
m = h5py.File(sys.argv[1], "r")["metrics"]
tr, te = m["train_acc"][:], m["test_acc"][:]
n = len(te)
print("   epoch  train acc  test acc")
for e in sorted({int(x) for x in np.geomspace(1, n - 1, 14)} | {0, n - 1}):
    print(f"{e:8d}  {100 * tr[e]:8.2f}%  {100 * te[e]:7.2f}%")
fit = int(np.argmax(tr >= 0.999)) if (tr >= 0.999).any() else -1
best = int(np.argmax(te))
print(f"train accuracy first 100% at epoch {fit}" if fit >= 0 else "train accuracy never reached 100%")
if fit >= 0:
    print(f"test accuracy at that epoch {100 * te[fit]:.2f}%")
print(f"test accuracy highest at epoch {best}: {100 * te[best]:.2f}%; last {100 * te[-1]:.2f}%")
EOF
