#!/usr/bin/env bash
# The operations of docs/tasks.md driven as a user would: --list-ops lists every op and
# each trains; train and info say which pairs are left out and why; a few small runs
# (mul and div in their discrete-log basis, x^2+y^2 without a circuit, S5 without a
# basis) analyse into files that follow the contract, with measures that have no
# meaning NaN and the attribute circuit_measures saying why, which info prints; freqs
# and plot leave out what has no meaning. Usage: cli_tasks.sh GROKSCOPE SRCDIR
set -u
GS=$1
. "$(dirname "$0")/lib.sh"
run() { "$@" >"$T/last.out" 2>&1 || { bad "command failed ($?): $*"; cat "$T/last.out"; }; }
SMALL="--d-model 16 --n-heads 2 --d-mlp 32 --threads 2"

# --list-ops: every op, with its answer, pairs and measures; each name trains
"$GS" train --list-ops >"$T/ops" 2>&1 && ok || bad "--list-ops exited $?"
ops=$(sed -n 's/^  \([a-z0-9-]*\)  .*/\1/p' "$T/ops")
[ "$(echo "$ops" | wc -w)" -eq 17 ] && ok || { bad "--list-ops lists $(echo "$ops" | wc -w) ops, not 17"; cat "$T/ops"; }
for op in add sub mul div x2y2 x2xyy2 x2xyy2x x3xy x3xy2y x2y x3y div-or-sub add-or-mul add-or-sub \
          s5-compose s5-conjugate s5-xyx; do
    echo "$ops" | grep -qx -- "$op" || bad "--list-ops misses $op"
done
[ "$(grep -c "^      pairs: " "$T/ops")" -eq 17 ] && [ "$(grep -c "^      Fourier measures: " "$T/ops")" -eq 17 ] \
    && ok || bad "--list-ops lacks a pairs or measures line"
grep -q "^  div-or-sub    x/y mod p if y is odd, else x-y mod p; p prime" "$T/ops" && ok || bad "div-or-sub line"
for op in $ops; do
    p=11; case $op in s5-*) p=120 ;; esac
    "$GS" train --out "$T/op.h5" --op "$op" --p $p $SMALL --epochs 2 --quiet --force >"$T/err" 2>&1 \
        || { bad "train --op $op exited $?"; cat "$T/err"; continue; }
    "$GS" info "$T/op.h5" | grep -q "^task       $op: " && ok || bad "info does not name op $op"
done

# left-out pairs: train and info say how many and why; only div leaves any out
"$GS" train --out "$T/div.h5" --op div --p 23 --frac 0.5 --every 20 $SMALL --epochs 60 >/dev/null 2>"$T/err" \
    && ok || { bad "train div exited $?"; cat "$T/err"; }
LEFT="23 of the 529 pairs are left out: y = 0 has no inverse mod p = 23"
grep -q "^grokscope train: op div: $LEFT" "$T/err" && ok || { bad "train does not say which pairs div leaves out"; cat "$T/err"; }
"$GS" info "$T/div.h5" >"$T/info" && grep -q "^pairs      $LEFT" "$T/info" && ok || { bad "info: left-out pairs"; cat "$T/info"; }
"$GS" train --out "$T/mul.h5" --op mul --p 23 --frac 0.5 --every 20 $SMALL --epochs 60 >/dev/null 2>"$T/err"
grep -q "left out" "$T/err" && bad "train says mul leaves pairs out" || ok
"$GS" info "$T/mul.h5" | grep -q "^pairs" && bad "info says mul leaves pairs out" || ok
"$GS" train --out "$T/q.h5" --op div --p 23 $SMALL --epochs 2 --quiet --force 2>"$T/err"
[ ! -s "$T/err" ] && ok || { bad "--quiet still prints"; cat "$T/err"; }

# S5 fixes p = 120: by default, and an explicit other --p is refused before any file
run "$GS" train --out "$T/s5.h5" --op s5-conjugate --frac 0.5 --every 20 $SMALL --epochs 60 --quiet
"$GS" info "$T/s5.h5" | grep -q "^task       s5-conjugate: x.y.x^-1 in S5, 120 tokens" && ok || bad "S5 info task line"
"$GS" train --out "$T/s5b.h5" --op s5-xyx --p 97 --quiet >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && [ ! -e "$T/s5b.h5" ] && \
    grep -q "op s5-xyx has 120 tokens (the permutations of S5), so p is 120, not 97" "$T/err" \
    && ok || { bad "S5 with --p 97: exit $rc"; cat "$T/err"; }
run "$GS" train --out "$T/s5c.h5" --op s5-xyx --p 120 $SMALL --epochs 2 --quiet
"$GS" train --out "$T/x.h5" --op pow >/dev/null 2>"$T/err"
[ $? -eq 2 ] && grep -q "unknown operation 'pow' (grokscope train --list-ops lists them)" "$T/err" && ok \
    || { bad "unknown op"; cat "$T/err"; }

# analysis: the circuit basis, and NaN only where a measure has no meaning
run "$GS" train --out "$T/x2y2.h5" --op x2y2 --p 23 --frac 0.5 --every 20 $SMALL --epochs 60 --quiet
for r in mul div x2y2 s5; do run "$GS" analyze "$T/$r.h5" --quiet --threads 2; done
"$GS" info "$T/mul.h5" >"$T/info"
grep -q "^measures   Fourier basis of Z_22 by discrete log base 5, the smallest primitive root of 23" "$T/info" \
    && grep -q "^final .*restricted loss [0-9.e+-]*, excluded loss" "$T/info" && ok || { bad "info of mul"; cat "$T/info"; }
"$GS" info "$T/x2y2.h5" >"$T/info"
grep -q "^measures   none: x^2+y^2 mod p has no Fourier circuit in this basis, so restricted_loss and" "$T/info" \
    && ! grep "^final" "$T/info" | grep -q "restricted\|nan" && grep -q "^final .*Gini W_E" "$T/info" \
    && ok || { bad "info of x2y2"; cat "$T/info"; }
"$GS" info "$T/s5.h5" >"$T/info"
grep -q "^measures   none: S5 is not a cyclic group" "$T/info" && grep -q "^key freqs  none (the task has no Fourier basis)$" "$T/info" \
    && grep -q "^final " "$T/info" && ! grep "^final" "$T/info" | grep -q "nan\|Gini\|restricted" \
    && ok || { bad "info of s5"; cat "$T/info"; }
"$GS" freqs "$T/s5.h5" >/dev/null 2>"$T/err"
[ $? -eq 2 ] && grep -q "op s5-conjugate has no Fourier basis" "$T/err" && ok || { bad "freqs of s5"; cat "$T/err"; }
sum=$(md5sum <"$T/s5.h5")
"$GS" analyze "$T/s5.h5" --key-freqs 3 >/dev/null 2>"$T/err"
[ $? -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "s5-conjugate has no Fourier basis, so --key-freqs does not apply" "$T/err" \
    && [ "$(md5sum <"$T/s5.h5")" = "$sum" ] && ok || { bad "analyze --key-freqs of s5"; cat "$T/err"; }
"$GS" freqs "$T/mul.h5" >"$T/out" && grep -q "^basis: Fourier basis of Z_22 by discrete log" "$T/out" && ok \
    || { bad "freqs of mul"; cat "$T/out"; }

if have_h5py; then
    check_run_file "$T/mul.h5" "$T/div.h5" "$T/x2y2.h5" "$T/s5.h5"
    $PY - "$T" <<'PY' && ok || bad "analysis content of the task runs"
import sys, h5py, numpy as np
T = sys.argv[1]
def an(name):
    return h5py.File(f"{T}/{name}.h5", "r")["analysis"]
def attr(a):
    v = a.attrs["circuit_measures"]
    return v.decode() if isinstance(v, bytes) else str(v)
for name, sign in (("mul", 1), ("div", -1)):
    a = an(name)
    p = 23
    assert attr(a).startswith("Fourier basis of Z_22 by discrete log base 5"), attr(a)
    assert np.all(np.isfinite(a["restricted_loss"][:])) and np.all(np.isfinite(a["excluded_loss"][:]))
    assert np.all(np.isfinite(a["gini_embed"][:]))
    B = a["fourier_basis"][:]
    assert np.allclose(B @ B.T, np.eye(p), atol=1e-12)
    # rows 0..21: Fourier rows of Z_22 read at log x, 0 at token 0; row 22: token 0
    log = {pow(5, k, p): k for k in range(22)}
    x = np.arange(1, p)
    lx = np.array([log[v] for v in x])
    assert np.allclose(B[:22, 0], 0) and B[22, 0] == 1 and np.allclose(B[22, 1:], 0)
    assert np.allclose(B[0, 1:], 1 / np.sqrt(22))
    assert np.allclose(B[1, 1:], np.sqrt(2 / 22) * np.cos(2 * np.pi * lx / 22))
    assert np.allclose(B[2, 1:], np.sqrt(2 / 22) * np.sin(2 * np.pi * lx / 22))
    assert np.allclose(B[21, 1:], np.cos(np.pi * lx) / np.sqrt(22))   # Nyquist, cos only
    # the norms: B W_E[:p] row by row, from the file's own checkpoint
    f = h5py.File(f"{T}/{name}.h5", "r")
    W_E = f["checkpoints/embed.W_E"][-1][:p].astype(np.float64)
    assert np.allclose(a["embed_fourier_norm"][-1], np.linalg.norm(B @ W_E, axis=1), rtol=1e-9)
    keys = a["key_freqs"][:]
    assert np.all((keys >= 1) & (keys <= 11)), keys
a = an("x2y2")
assert attr(a).startswith("none: x^2+y^2"), attr(a)
assert np.all(np.isnan(a["restricted_loss"][:])) and np.all(np.isnan(a["excluded_loss"][:]))
assert np.all(np.isfinite(a["gini_embed"][:])) and a["fourier_basis"].shape == (23, 23)
a = an("s5")
assert attr(a).startswith("none: S5 is not a cyclic group"), attr(a)
for k in ("restricted_loss", "excluded_loss", "gini_embed", "gini_neuron_logit", "embed_fourier_norm",
          "neuron_logit_fourier_norm"):
    assert np.all(np.isnan(a[k][:])), k
for k in ("train_loss", "test_loss", "weight_norm"):
    assert np.all(np.isfinite(a[k][:])), k
assert a["fourier_basis"].shape[0] == 0 and len(a["key_freqs"][:]) == 0
assert np.all(a["neuron_freq"][:] == -1)
PY
    # an unknown op in a file is an error, and nothing reads on
    cp "$T/mul.h5" "$T/pow.h5"
    $PY - "$T/pow.h5" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    t = h5py.h5t.C_S1.copy(); t.set_size(4); t.set_strpad(h5py.h5t.STR_NULLTERM); t.set_cset(h5py.h5t.CSET_UTF8)
    f["config"].attrs.create("op", b"pow", dtype=h5py.Datatype(t))
PY
    "$GS" info "$T/pow.h5" >/dev/null 2>"$T/err"
    [ $? -eq 2 ] && grep -q "/config: unknown operation 'pow'" "$T/err" && ok || { bad "unknown op in a file"; cat "$T/err"; }
else
    skip "$PY lacks h5py/numpy (apt-get install python3-h5py): file contents not checked"
fi

# plots: what has no meaning is left out, and said
if command -v gnuplot >/dev/null; then
    "$GS" plot "$T/s5.h5" --out "$T/s5-plots" >/dev/null 2>"$T/err" && ok || { bad "plot s5 exited $?"; cat "$T/err"; }
    grep -q "^grokscope plot: note: gini, embed_freqs and neuron_clusters are not drawn: none: S5" "$T/err" && ok \
        || { bad "plot s5 does not say what it leaves out"; cat "$T/err"; }
    [ -e "$T/s5-plots/progress_measures.png" ] && [ ! -e "$T/s5-plots/gini.png" ] && \
        [ ! -e "$T/s5-plots/neuron_clusters.png" ] && ok || { bad "plot s5 figures"; ls "$T/s5-plots"; }
    "$GS" plot "$T/x2y2.h5" --out "$T/x-plots" >/dev/null 2>&1 && ok || bad "plot x2y2 exited $?"
    grep -q "title 'restricted'" "$T/x-plots/progress_measures.gp" && bad "x2y2 plot draws restricted loss" || ok
    grep -q "no restricted or excluded loss: op x2y2 has no Fourier circuit" "$T/x-plots/progress_measures.gp" && ok \
        || bad "x2y2 plot does not say why restricted loss is missing"
    "$GS" plot "$T/mul.h5" --out "$T/m-plots" >/dev/null 2>&1 && grep -q "title 'restricted'" "$T/m-plots/progress_measures.gp" \
        && ok || bad "mul plot lacks restricted loss"
else
    skip "gnuplot is not installed (apt-get install gnuplot-nox): plots not checked"
fi
finish
