#!/bin/bash
# examples/read_run.py (docs/python.md): a checkpoint loaded with h5py into a
# TransformerLens-keyed dict and run through the numpy forward pass reproduces the
# recorded train and test loss within 1e-5, on runs of add and div, last and early
# checkpoints; and the comparison is real: tolerance 0, or a tampered weight, fails.
# Skipped (77) only when /usr/bin/python3 lacks h5py or numpy.
# usage: python_read_run.sh GROKSCOPE SOURCE_ROOT
GS=$1; SRC=$2
source "$SRC/tests/lib.sh"
if ! have_h5py; then echo "SKIP: $PY has no h5py/numpy (apt-get install python3-h5py python3-numpy)"; exit 77; fi
READ="$SRC/examples/read_run.py"
SMALL="--p 23 --frac 0.5 --d-model 32 --d-mlp 64 --every 100 --threads 1 --quiet"
"$GS" train --out "$T/add.h5" $SMALL --lr 1e-2 --epochs 400 || bad "train add"
"$GS" train --out "$T/div.h5" $SMALL --op div --epochs 200 || bad "train div"
for args in "$T/add.h5" "$T/add.h5 --epoch 0" "$T/add.h5 --epoch 200" "$T/div.h5"; do
    if $PY "$READ" $args >"$T/out" 2>&1 && [ "$(grep -c ' ok$' "$T/out")" = 2 ]; then ok
    else bad "read_run.py $args:"; cat "$T/out"; fi
done
grep -q "^  blocks.0.attn.W_Q  *\[4, 32, 8\] *float32" "$T/out" && ok || bad "state dict keys/shapes: $(cat "$T/out")"
$PY "$READ" "$T/add.h5" --tol 0 >"$T/out" 2>&1; [ $? = 1 ] && ok || bad "tolerance 0 passed: float32 vs float64 must differ somewhere"
cp "$T/add.h5" "$T/tampered.h5"
$PY -c "import h5py,sys; d=h5py.File(sys.argv[1],'r+')['checkpoints/unembed.W_U']; d[-1]=d[-1]*1.001" "$T/tampered.h5" || bad "tamper"
$PY "$READ" "$T/tampered.h5" >"$T/out" 2>&1; [ $? = 1 ] && grep -q DIFFERENT "$T/out" && ok || bad "a tampered W_U went unnoticed"
$PY "$READ" "$T/add.h5" --epoch 150 >"$T/out" 2>&1; [ $? = 1 ] && grep -q "no checkpoint at epoch 150" "$T/out" && ok || bad "missing epoch: $(cat "$T/out")"
# a model this forward pass is not (an MLP): refused with one line, exit 2
"$GS" train --out "$T/mlp.h5" --p 23 --frac 0.5 --model mlp --hidden 16 --epochs 5 --threads 1 --quiet || bad "train mlp"
$PY "$READ" "$T/mlp.h5" >"$T/out" 2>&1; [ $? = 2 ] && [ "$(wc -l <"$T/out")" = 1 ] && grep -q "model mlp" "$T/out" && ok \
    || bad "read_run.py on an MLP: $(cat "$T/out")"
finish
