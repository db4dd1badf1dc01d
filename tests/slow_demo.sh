#!/usr/bin/env bash
# Slow suite: the demo configuration really groks — train accuracy reaches 99% long
# before test accuracy does, and test accuracy ends above 99%. Usage: slow_demo.sh GROKSCOPE
set -u
GS=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$GS" demo "$T/demo" --quiet >"$T/out" || { echo "FAIL: demo exited $?"; cat "$T/out"; exit 1; }
cat "$T/out"
mem=$(sed -n 's/^memorized .*at epoch \([0-9]*\).*/\1/p' "$T/out")
grok=$(sed -n 's/^grokked .*at epoch \([0-9]*\).*/\1/p' "$T/out")
if [ -z "$mem" ] || [ -z "$grok" ]; then echo "FAIL: the demo did not grok"; echo "0 passed, 1 failed"; exit 1; fi
if [ $((grok)) -lt $((mem * 3)) ]; then
    echo "FAIL: test accuracy (epoch $grok) was not far behind train accuracy (epoch $mem)"
    echo "0 passed, 1 failed"; exit 1
fi
echo "memorized at $mem, grokked at $grok"
if ! /usr/bin/python3 -c "import h5py, numpy" 2>/dev/null; then
    echo "SKIP: /usr/bin/python3 lacks h5py/numpy (apt-get install python3-h5py): measures and file not checked"
    echo "1 passed, 0 failed, 2 skipped"; exit 77
fi
# the paper's story in the measures (SPEC §6)
/usr/bin/python3 - "$T/demo/demo.h5" <<'PY' || { echo "1 passed, 1 failed"; exit 1; }
import sys, h5py, numpy as np
a = h5py.File(sys.argv[1], "r")["analysis"]
ep, r, x, t, w = (a[k][:] for k in ("epoch", "restricted_loss", "excluded_loss", "test_loss", "weight_norm"))
mem, circ, clean = a["phase_epochs"][:]
print("phases:", mem, circ, clean, "key freqs:", list(a["key_freqs"][:]))
assert mem >= 0 and circ >= 0 and clean >= 0, "phases not found"
at = lambda e: int(np.searchsorted(ep, e))          # first checkpoint at or after epoch e
first = lambda v, lvl: ep[np.argmax(v < lvl)] if (v < lvl).any() else None
r1, t1 = first(r, 1.0), first(t, 1.0)
print("restricted < 1 at", r1, "; test < 1 at", t1)
assert r1 is not None and t1 is not None and r1 + 100 <= t1, "restricted loss does not fall well before test loss"
i_mem, i_circ, i_clean = at(mem), at(circ), min(at(clean), len(ep) - 1)
print("excluded loss at memorization end %.3g, at circuit end %.3g" % (x[i_mem], x[i_circ]))
assert x[i_circ] > x[i_mem], "excluded loss did not rise during circuit formation"
print("weight norm at circuit end %.1f, at cleanup end %.1f" % (w[i_circ], w[i_clean]))
assert w[i_clean] < w[i_circ], "weight norm did not fall during cleanup"
PY
# the analysed demo file (key frequencies, clusters, phases) follows the run-file format
"$(dirname "$0")/check_run_file.py" "$T/demo/demo.h5" || { echo "2 passed, 1 failed"; exit 1; }
echo "3 passed, 0 failed"
