#!/usr/bin/env bash
# Slow suite: the demo configuration really groks — train accuracy reaches 99% long
# before test accuracy does, and test accuracy ends above 99% — and its phases tell the
# paper's story. Usage: slow_demo.sh GROKSCOPE
set -u
GS=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$GS" demo "$T/demo" --quiet >"$T/out" || { echo "FAIL: demo exited $?"; cat "$T/out"; exit 1; }
cat "$T/out"
fit=$(sed -n 's/^fitted .*at epoch \([0-9]*\).*/\1/p' "$T/out")
grok=$(sed -n 's/^grokked .*at epoch \([0-9]*\).*/\1/p' "$T/out")
if [ -z "$fit" ] || [ -z "$grok" ]; then echo "FAIL: the demo did not grok"; echo "0 passed, 1 failed"; exit 1; fi
if [ $((grok)) -lt $((fit * 3)) ]; then
    echo "FAIL: test accuracy (epoch $grok) was not far behind train accuracy (epoch $fit)"
    echo "0 passed, 1 failed"; exit 1
fi
echo "fitted at $fit, grokked at $grok"
if ! /usr/bin/python3 -c "import h5py, numpy" 2>/dev/null; then
    echo "SKIP: /usr/bin/python3 lacks h5py/numpy (apt-get install python3-h5py): measures and file not checked"
    echo "1 passed, 0 failed, 2 skipped"; exit 77
fi
# the paper's story in the measures and the phases (docs/analysis.md)
/usr/bin/python3 - "$T/demo/demo.h5" "$T/out" <<'PY' || { echo "1 passed, 1 failed"; exit 1; }
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
a, m = f["analysis"], f["metrics"]
out = open(sys.argv[2]).read()
ep, r, x, t, w = (a[k][:] for k in ("epoch", "restricted_loss", "excluded_loss", "test_loss", "weight_norm"))
v = [int(e) for e in a["phase_epochs"][:]]
mem, circ, clean, fit, grok, through = v[0], v[1], v[2], v[3], v[4], v[9]
print("phases:", v, "key freqs:", list(a["key_freqs"][:]))
assert through == ep[-1] == 1500, "phases not found from the whole run"
assert 0 < fit <= mem < circ < grok, "memorization and circuit formation not found in order"
at = lambda e: int(np.searchsorted(ep, e))          # first checkpoint at or after epoch e
first = lambda v, lvl: ep[np.argmax(v < lvl)] if (v < lvl).any() else None
r1, t1 = first(r, 1.0), first(t, 1.0)
print("restricted < 1 at", r1, "; test < 1 at", t1)
assert r1 is not None and t1 is not None and r1 + 100 <= t1, "restricted loss does not fall well before test loss"
i_mem, i_circ, i_end = at(mem), at(circ), (at(clean) if clean >= 0 else len(ep) - 1)
print("excluded loss at memorization end %.3g, at circuit end %.3g" % (x[i_mem], x[i_circ]))
assert x[i_circ] > x[i_mem], "excluded loss did not rise during circuit formation"
print("weight norm at circuit end %.1f, at the end of (shaded) cleanup %.1f" % (w[i_circ], w[i_end]))
assert w[i_end] < w[i_circ], "weight norm did not fall during cleanup"
# cleanup (shaded to the end of the data if unfinished) holds most of the test loss's
# fall in log terms, from its peak to the end of the data
tl = m["test_loss"][:]
share = (np.log(t[i_circ]) - np.log(t[i_end])) / (np.log(tl[mem]) - np.log(t[-1]))
print("share of the log test loss's fall in cleanup: %.2f" % share)
assert share >= 0.8, "cleanup holds less than 80% of the test loss's fall"
if clean < 0:
    assert "cleanup from %d, not finished by epoch 1500" % circ in out, "info does not say cleanup is unfinished"
else:
    assert "cleanup %d-%d" % (circ, clean) in out, "info does not show cleanup"
PY
# the analysed demo file (key frequencies, clusters, phases) follows the run-file format
"$(dirname "$0")/check_run_file.py" "$T/demo/demo.h5" || { echo "2 passed, 1 failed"; exit 1; }
echo "3 passed, 0 failed"
