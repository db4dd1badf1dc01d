#!/usr/bin/env bash
# Slow suite: multiplication mod 59 (frac 0.5, the paper's model) groks, and the progress
# measures in the discrete-log basis tell the same story as for addition: key
# frequencies whose neurons the basis explains, a restricted loss that falls to almost
# nothing well before the test loss does, and an excluded loss that ends above log p.
# A few minutes on 2 cores. Usage: slow_tasks.sh GROKSCOPE
set -u
GS=$1
. "$(dirname "$0")/lib.sh"
"$GS" train --out "$T/mul.h5" --op mul --p 59 --frac 0.5 --epochs 8000 --every 250 \
    --stop-test-loss 0.01 --threads 2 --quiet || { bad "train exited $?"; finish; }
"$GS" analyze "$T/mul.h5" --quiet --threads 2 || { bad "analyze exited $?"; finish; }
"$GS" info "$T/mul.h5" >"$T/info"
cat "$T/info"
grep -q "^grokked    test accuracy first >= 99% at epoch" "$T/info" && ok || bad "the mul run did not grok"
grep -q "^measures   Fourier basis of Z_58 by discrete log base 2" "$T/info" && ok || bad "info: basis"
grep -q "^key freqs  [0-9]" "$T/info" && ok || bad "no key frequencies in the discrete-log basis"
"$GS" freqs "$T/mul.h5" >"$T/freqs" && ok || bad "freqs exited $?"
if ! have_h5py; then
    skip "$PY lacks h5py/numpy (apt-get install python3-h5py): the measures are not checked"
    finish
fi
check_run_file "$T/mul.h5"
$PY - "$T/mul.h5" <<'PY' && ok || bad "the measures of the mul run"
import sys, h5py, numpy as np
a = h5py.File(sys.argv[1], "r")["analysis"]
ep, r, x, t = (a[k][:] for k in ("epoch", "restricted_loss", "excluded_loss", "test_loss"))
keys, nf, frac = a["key_freqs"][:], a["neuron_freq"][:], a["neuron_frac_explained"][:]
print("key freqs", list(keys), "; clustered neurons", int((nf > 0).sum()),
      "; mean fraction explained %.3f" % frac[nf > 0].mean())
assert 1 <= len(keys) <= 8 and (nf > 0).sum() >= 64, "too few neurons in discrete-log clusters"
assert frac[nf > 0].mean() > 0.9
print("final restricted %.3g, excluded %.3g, test %.3g" % (r[-1], x[-1], t[-1]))
assert r[-1] < 0.01 and x[-1] > np.log(59), "the circuit alone does not carry the answer"
first = lambda v, lvl: ep[np.argmax(v < lvl)] if (v < lvl).any() else None
r1, t1 = first(r, 1.0), first(t, 0.1)
print("restricted < 1 at", r1, "; test < 0.1 at", t1)
assert r1 is not None and t1 is not None and r1 < t1, "restricted loss does not fall before test loss"
PY
finish
