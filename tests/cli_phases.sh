#!/usr/bin/env bash
# The phases as a user meets them: analyze stores what the rules of docs/analysis.md give
# (checked against an independent numpy implementation, phases_oracle.py), and info and
# the figures show exactly the stored phases and events, finished or not; phases stored
# by an earlier grokscope are shown nowhere until analyze finds them again.
# Usage: cli_phases.sh GROKSCOPE SRCDIR
set -u
GS=$(realpath "$1")
SRC=$2
. "$(dirname "$0")/lib.sh"
run() { "$@" >"$T/last.out" 2>&1 || { bad "command failed ($?): $*"; cat "$T/last.out"; }; }
if ! command -v gnuplot >/dev/null; then
    echo "note: gnuplot is not installed (apt-get install gnuplot-nox)"; echo "0 passed, 0 failed"; exit 77
fi
if ! $PY -c "import h5py, numpy" 2>/dev/null; then
    echo "note: $PY lacks h5py/numpy (apt-get install python3-h5py)"; echo "0 passed, 0 failed"; exit 77
fi
ORACLE="$SRC/tests/phases_oracle.py"

stored() { $PY -c "import h5py, sys; print(*h5py.File(sys.argv[1], 'r')['analysis/phase_epochs'][:])" "$1"; }
# sets /analysis/phase_epochs of FILE to the values given (3 or 10 of them)
store() {
    local f=$1
    shift
    $PY - "$f" "$@" <<'PY'
import h5py, sys
with h5py.File(sys.argv[1], "r+") as f:
    d = f["analysis/phase_epochs"]
    v = [int(x) for x in sys.argv[2:]]
    d.resize((len(v),))
    d[:] = v
PY
}

# info's phases/levelled lines say what /analysis/phase_epochs holds, and so do its
# fitted/grokked lines (found from /metrics) unless EVENTS is 0 (phases stored by hand)
check_info() {
    local f=$1 events=${2:-1}
    "$GS" info "$f" >"$T/info" 2>&1 || { bad "info $f failed"; cat "$T/info"; return; }
    $PY - "$f" "$T/info" "$events" <<'PY' && ok || { bad "info disagrees with the stored phases of $f"; cat "$T/info"; }
import h5py, sys
v = [int(x) for x in h5py.File(sys.argv[1], "r")["analysis/phase_epochs"][:]]
events = sys.argv[3] == "1"
lines = {l[:10].strip(): l[11:].rstrip("\n") for l in open(sys.argv[2]) if l[:10].strip()}
if len(v) == 3:
    assert lines["phases"].startswith("found by an earlier grokscope under other rules"), lines["phases"]
    sys.exit(0)
mem, circ, clean, fit, grok = v[:5]
lev, through = v[5:9], v[9]
assert not events or lines["fitted"] == (f"train accuracy first >= 99% at epoch {fit}" if fit >= 0 else
                                         "not yet (train accuracy never reached 99%)"), lines["fitted"]
assert not events or lines["grokked"] == (f"test accuracy first >= 99% at epoch {grok}" if grok >= 0 else
                                          "not yet (test accuracy never reached 99%)"), lines["grokked"]
if mem < 0:
    why = "the training set is not fitted (train accuracy < 99%)" if fit < 0 else "the test loss is still rising"
    want = f"memorization, not finished by epoch {through}: {why}"
elif circ < 0:
    want = (f"memorization 0-{mem}, circuit formation from {mem}, not finished by epoch {through}: "
            "the run has not generalized (test accuracy < 99%)")
elif clean < 0:
    want = f"memorization 0-{mem}, circuit formation {mem}-{circ}, cleanup from {circ}, not finished by epoch {through}"
else:
    want = f"memorization 0-{mem}, circuit formation {mem}-{circ}, cleanup {circ}-{clean}"
assert lines["phases"] == want, (lines["phases"], want)
if circ >= 0:
    names = ["test loss", "weight norm", "Gini W_E", "Gini W_L"]
    got = lines["levelled"].split("  (")[0].strip()
    want = ", ".join(f"{n} at {e}" if e >= 0 else f"{n} not yet" for n, e in zip(names, lev))
    assert got == want, (got, want)
else:
    assert "levelled" not in lines
PY
}

# the figures that shade the phases carry the stored epochs and draw the bands and the
# grokked line they imply
check_plot() {
    local f=$1 dir=$2
    run "$GS" plot "$f" --out "$dir" --quiet
    $PY - "$f" "$dir" <<'PY' && ok || bad "the figures of $f disagree with its stored phases"
import h5py, re, sys
v = [int(x) for x in h5py.File(sys.argv[1], "r")["analysis/phase_epochs"][:]]
for fig in ("progress_measures", "gini", "weight_norm"):
    gp = open(f"{sys.argv[2]}/{fig}.gp").read()
    objects = set(int(x) for x in re.findall(r"^set object (\d+) rect", gp, re.M))
    keys = re.findall(r"NaN with (?:boxes|lines)[^\n]*title (?:sprintf\()?'([^']*)'", gp)
    if len(v) == 3:
        assert objects == set() and "phases not found (run grokscope analyze)" in keys, (fig, keys)
        assert "set arrow 110" not in gp, fig
        continue
    mem, circ, clean, fit, grok, through = v[0], v[1], v[2], v[3], v[4], v[9]
    want = {"mem_end": mem, "circuit_end": circ, "cleanup_end": clean, "grokked": grok, "data_end": through}
    got = {k: int(x) for k, x in re.findall(r"^(mem_end|circuit_end|cleanup_end|grokked|data_end) = (-?\d+)$", gp, re.M)}
    assert got == want, (fig, got, want)
    ends = [mem, circ, clean]
    starts = [0, mem, circ]
    names = ["memorization", "circuit formation", "cleanup"]
    bands = set()
    for k in range(3):
        if starts[k] >= 0 and ends[k] >= 0:
            bands.add(101 + k)
            assert f"{names[k]} %d–%d" in keys, (fig, k, keys)
        elif starts[k] >= 0:            # the phase going on when the data end
            bands.add(101 + k)
            assert f"{names[k]} from %d, unfinished" in keys, (fig, k, keys)
            assert all(e < 0 for e in ends[k:]), (fig, ends)
            break
    assert objects == bands, (fig, objects, bands)
    assert ("set arrow 110 from grokked" in gp) == (grok >= 0), fig
    assert ("grokked (test acc. ≥ 99%)" in keys) == (grok >= 0), (fig, keys)
    assert ("not grokked (test acc. < 99%)" in keys) == (grok < 0), (fig, keys)
PY
}

# A run that groks (p = 23, 70% of the pairs for training, at about epoch 1200).
CFG="--p 23 --frac 0.7 --every 20 --threads 1 --quiet"
run "$GS" train --out "$T/R.h5" $CFG --epochs 3000
run "$GS" analyze "$T/R.h5" --quiet --threads 1
[ "$(stored "$T/R.h5")" = "$($PY "$ORACLE" "$T/R.h5")" ] && ok \
    || bad "stored phases $(stored "$T/R.h5") differ from the oracle's $($PY "$ORACLE" "$T/R.h5")"
$PY - "$T/R.h5" <<'PY' && ok || bad "R.h5 does not tell the story (fitted, peak, fall, grokked in order)"
import h5py, sys
v = [int(x) for x in h5py.File(sys.argv[1], "r")["analysis/phase_epochs"][:]]
mem, circ, clean, fit, grok = v[:5]
assert len(v) == 10 and v[9] == 3000, v
assert 0 < fit <= mem < circ < grok, v
PY
check_info "$T/R.h5"
check_plot "$T/R.h5" "$T/R-plots"

# The same run cut short at 600 epochs (circuit formation going on, or cleanup begun)
run "$GS" train --out "$T/C.h5" $CFG --epochs 600
run "$GS" analyze "$T/C.h5" --quiet --threads 1
[ "$(stored "$T/C.h5")" = "$($PY "$ORACLE" "$T/C.h5")" ] && ok \
    || bad "cut short: stored $(stored "$T/C.h5") differ from the oracle's $($PY "$ORACLE" "$T/C.h5")"
$PY - "$T/C.h5" <<'PY' && ok || bad "C.h5: an unfinished phase closed at the end of the data"
import h5py, sys
v = [int(x) for x in h5py.File(sys.argv[1], "r")["analysis/phase_epochs"][:]]
assert v[9] == 600 and v[2] == -1 and 600 not in v[:9], v
PY
check_info "$T/C.h5"
# trained further, it says its phases are from before; analysed again, they are not
run "$GS" train --resume "$T/C.h5" --epochs 800 --threads 1 --quiet
"$GS" info "$T/C.h5" >"$T/info" 2>&1
grep -q "^           (found from epochs 0-600, before the run grew: run grokscope analyze" "$T/info" && ok \
    || { bad "info of a grown run does not say its phases are older"; cat "$T/info"; }
run "$GS" analyze "$T/C.h5" --quiet --threads 1
"$GS" info "$T/C.h5" >"$T/info" 2>&1
! grep -q "before the run grew" "$T/info" && [ "$(stored "$T/C.h5" | cut -d' ' -f10)" = 800 ] && ok \
    || { bad "re-analysis of a grown run"; cat "$T/info"; }
check_info "$T/C.h5"

# Every way a run can end up, stored by hand: info and the figures follow the file.
cp "$T/R.h5" "$T/X.h5"
for rows in "90 300 2500 60 1200 1400 2000 2500 2200 3000" \
            "90 300 -1 60 1200 1400 -1 -1 2200 3000" \
            "90 -1 -1 60 -1 -1 -1 -1 -1 3000" \
            "-1 -1 -1 60 -1 -1 -1 -1 -1 3000" \
            "-1 -1 -1 -1 -1 -1 -1 -1 -1 3000"; do
    store "$T/X.h5" $rows
    check_info "$T/X.h5" 0
    check_plot "$T/X.h5" "$T/X-plots"
done

# Phases an earlier grokscope stored (3 rows, other rules): shown nowhere; analyze finds
# them again, the same as R's.
store "$T/X.h5" 93 302 1209
check_info "$T/X.h5"
check_plot "$T/X.h5" "$T/X-plots"
run "$GS" analyze "$T/X.h5" --quiet --threads 1
[ "$(stored "$T/X.h5")" = "$(stored "$T/R.h5")" ] && ok || bad "re-analysis of old phases: $(stored "$T/X.h5")"
check_info "$T/X.h5"

finish
