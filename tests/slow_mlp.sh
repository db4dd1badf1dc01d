#!/usr/bin/env bash
# Slow suite: Prieto et al.'s MLP (two concatenated one-hots, 2x200 ReLU, no bias)
# groks (a + b) mod 97 at frac 0.5 with AdamW lr 3e-3, wd 1: the training set is fitted
# early (~epoch 100), the test set much later (~epoch 950). Two minutes on one loaded
# core; less on 2 quiet ones. The analysis then finds key frequencies among the first
# hidden layer's neurons. Usage: slow_mlp.sh GROKSCOPE
set -u
GS=$1
. "$(dirname "$0")/lib.sh"
"$GS" train --out "$T/mlp.h5" --model mlp --embed onehot --no-bias --hidden 200,200 --p 97 --frac 0.5 \
    --lr 3e-3 --wd 1 --epochs 3000 --every 100 --stop-test-loss 0.01 --threads 2 --quiet \
    || { bad "train exited $?"; finish; }
"$GS" analyze "$T/mlp.h5" --quiet --threads 2 || { bad "analyze exited $?"; finish; }
"$GS" info "$T/mlp.h5" >"$T/info"
cat "$T/info"
fit=$(sed -n 's/^fitted     train accuracy first >= 99% at epoch \([0-9]*\)$/\1/p' "$T/info")
grok=$(sed -n 's/^grokked    test accuracy first >= 99% at epoch \([0-9]*\)$/\1/p' "$T/info")
[ -n "$grok" ] && ok || bad "the MLP run did not grok"
# grokking, not plain learning: the test set follows the training set only much later
[ -n "$fit" ] && [ -n "$grok" ] && [ "$grok" -ge $((3 * fit)) ] && ok \
    || bad "test accuracy (epoch $grok) did not lag train accuracy (epoch $fit)"
grep -q "^key freqs  [0-9]" "$T/info" && ok || bad "no key frequencies among the MLP's neurons"
check_run_file "$T/mlp.h5"
finish
