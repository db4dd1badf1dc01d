#!/usr/bin/env bash
# grokscope plot driven as a user would: a run without analysis is analysed first; every
# figure is a valid PNG/SVG/PDF; every kept script regenerates its image with gnuplot
# alone; the .dat values equal the run file's; two runs give the overlay; missing or
# failing gnuplot and a full disk give one error line and leave no half-written file.
# Usage: cli_plot.sh GROKSCOPE SRCDIR
set -u
GS=$(realpath "$1")
. "$(dirname "$0")/lib.sh"
run() { "$@" >"$T/last.out" 2>"$T/last.err" || { bad "command failed ($?): $*"; cat "$T/last.out" "$T/last.err"; }; }
if ! command -v gnuplot >/dev/null; then
    skip "gnuplot is not installed (apt-get install gnuplot-nox)"; finish
fi
if ! have_h5py; then
    skip "$PY lacks h5py/numpy (apt-get install python3-h5py)"; finish
fi
FIGS="loss progress_measures gini weight_norm embed_freqs neuron_clusters"
CFG="--p 23 --every 40 --epochs 240 --threads 2 --quiet"
run "$GS" train --out "$T/R.h5" $CFG --frac 0.5
run "$GS" train --out "$T/S.h5" $CFG --frac 0.3

# Checks images: PATH FORMAT [PATH FORMAT ...]
check_images() {
    $PY - "$@" <<'PY'
import sys, os, struct, xml.etree.ElementTree as ET
args = sys.argv[1:]
for path, fmt in zip(args[::2], args[1::2]):
    size = os.path.getsize(path)
    data = open(path, "rb").read()
    if fmt == "png":
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", path
        w, h = struct.unpack(">II", data[16:24])
        # 16:10, the two-panel neuron_clusters 1.3 times taller
        assert (w, h) == ((1200, 975) if "neuron_clusters" in path else (1200, 750)), (path, w, h)
        assert size > 15000, (path, size)
    elif fmt == "svg":
        root = ET.parse(path).getroot()
        assert root.tag.endswith("svg"), (path, root.tag)
        assert len(list(root.iter())) > 50, path
        assert size > 8000, (path, size)
    else:
        assert data[:5] == b"%PDF-" and b"%%EOF" in data[-64:], path
        assert size > 8000, (path, size)
PY
}

# -- a run without analysis: analysed first, then plotted beside the run --
"$GS" plot "$T/R.h5" --quiet --threads 2 >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 0 ] && grep -q "has no analysis yet; analysing its 7 checkpoints first" "$T/err"; then ok; else
    bad "plot of an unanalysed run: exit $rc"; cat "$T/err"; fi
$PY -c "import h5py,sys; assert h5py.File(sys.argv[1],'r')['analysis/epoch'].shape[0] == 7" "$T/R.h5" \
    && ok || bad "plot did not analyse the run"
expected=""
for f in $FIGS; do expected="$expected$T/R-plots/$f.png"$'\n'; done
[ "$(cat "$T/out")"$'\n' = "$expected" ] && ok || { bad "printed image paths"; cat "$T/out"; }
[ "$(grep -cv "analysing" "$T/err")" -eq 0 ] && ok || { bad "unexpected stderr (gnuplot warnings?)"; cat "$T/err"; }
args=()
for f in $FIGS; do args+=("$T/R-plots/$f.png" png); done
check_images "${args[@]}" && ok || bad "PNG figures"
# a second plot has nothing to analyse and says nothing
"$GS" plot "$T/R.h5" >/dev/null 2>"$T/err" && [ ! -s "$T/err" ] && ok || { bad "re-plot"; cat "$T/err"; }

# -- svg and pdf --
for fmt in svg pdf; do
    run "$GS" plot "$T/R.h5" --format $fmt --out "$T/$fmt"
    [ ! -s "$T/last.err" ] && ok || { bad "$fmt: unexpected stderr (gnuplot warnings?)"; cat "$T/last.err"; }
    args=()
    for f in $FIGS; do args+=("$T/$fmt/$f.$fmt" $fmt); done
    check_images "${args[@]}" && ok || bad "$fmt figures"
done

# -- every kept script regenerates its image, from its directory and from elsewhere --
for fmt in png svg pdf; do
    d="$T/$fmt"
    [ $fmt = png ] && d="$T/R-plots"
    okall=1
    for f in $FIGS; do
        rm -f "$d/$f.$fmt"
        (cd "$d" && gnuplot "$f.gp") 2>"$T/gp.err" && [ ! -s "$T/gp.err" ] && [ -s "$d/$f.$fmt" ] \
            || { okall=0; echo "  $d/$f.gp:"; cat "$T/gp.err"; }
    done
    [ $okall = 1 ] && ok || bad "standalone $fmt scripts"
    args=()
    for f in $FIGS; do args+=("$d/$f.$fmt" $fmt); done
    check_images "${args[@]}" && ok || bad "regenerated $fmt figures"
done
mkdir "$T/moved" && cp "$T/svg/gini.gp" "$T/svg/gini.dat" "$T/moved/"
(cd / && gnuplot "$T/moved/gini.gp") 2>"$T/gp.err" && [ -s "$T/moved/gini.svg" ] && ok \
    || { bad "a script run from another directory"; cat "$T/gp.err"; }
ls -a "$T"/R-plots "$T"/svg "$T"/pdf | grep -q "\.tmp-" && bad "temporary files left" || ok

# -- the .dat files hold exactly the run file's values --
$PY - "$T/R.h5" "$T/R-plots" <<'PY' && ok || bad ".dat contents differ from the run file"
import h5py, sys, numpy as np
f = h5py.File(sys.argv[1], "r")
d = sys.argv[2]
def load(name, columns):
    lines = open(f"{d}/{name}.dat").read().split("\n")
    assert lines[0] == "# " + " ".join(columns), (name, lines[0])
    rows = [l.split() for l in lines[1:] if l.strip()]
    assert all(len(r) == len(columns) for r in rows), name
    return {c: np.array([float(r[i]) for r in rows]) for i, c in enumerate(columns)}
def same(a, b, what):
    assert a.shape == b.shape and np.array_equal(a, b, equal_nan=True), (what, a, b)
m, a = f["metrics"], f["analysis"]
x = load("loss", ["epoch", "train_loss", "test_loss", "train_acc", "test_acc"])
same(x["epoch"], m["epoch"][:].astype(float), "loss epoch")
for k in ("train_loss", "test_loss", "train_acc", "test_acc"):
    same(x[k], m[k][:], k)
x = load("progress_measures", ["epoch", "train_loss", "test_loss", "restricted_loss", "excluded_loss"])
same(x["epoch"], a["epoch"][:].astype(float), "analysis epoch")
for k in ("train_loss", "test_loss", "restricted_loss", "excluded_loss"):
    same(x[k], a[k][:], k)
x = load("gini", ["epoch", "gini_embed", "gini_neuron_logit"])
for k in ("gini_embed", "gini_neuron_logit"):
    same(x[k], a[k][:], k)
x = load("weight_norm", ["epoch", "weight_norm"])
same(x["weight_norm"], a["weight_norm"][:], "weight_norm")
p = int(f["config"].attrs["p"])
nf = p // 2
x = load("embed_freqs", ["epoch", "freq", "norm", "epoch_lo", "epoch_hi"])
E = a["embed_fourier_norm"][:]
ck = a["epoch"][:]
assert len(x["norm"]) == len(ck) * nf
want = np.sqrt(E[:, 1:2 * nf:2] ** 2 + E[:, 2:2 * nf + 1:2] ** 2)
assert np.allclose(x["norm"], want.reshape(-1), rtol=1e-14, atol=0)
same(x["epoch"], np.repeat(ck, nf).astype(float), "heatmap epochs")
same(x["freq"], np.tile(np.arange(1, nf + 1), len(ck)).astype(float), "heatmap freqs")
x = load("neuron_clusters", ["neuron", "freq", "frac_explained"])
same(x["freq"], a["neuron_freq"][:].astype(float), "neuron_freq")
same(x["frac_explained"], a["neuron_frac_explained"][:], "neuron_frac_explained")
PY

# -- two runs: each run's figures and the overlay, labelled by what differs --
run "$GS" plot "$T/R.h5" "$T/S.h5" --out "$T/cmp" --quiet
grep -q "analysing" "$T/last.err" && ok || bad "S.h5 was not analysed first"
args=("$T/cmp/compare_loss.png" png)
for r in R S; do for f in $FIGS; do args+=("$T/cmp/$r/$f.png" png); done; done
check_images "${args[@]}" && ok || bad "figures of two runs"
grep -q '"frac=0.5"' "$T/cmp/compare_loss.gp" && grep -q '"frac=0.3"' "$T/cmp/compare_loss.gp" && ok \
    || bad "overlay labels"
$PY - "$T/R.h5" "$T/S.h5" "$T/cmp/compare_loss.dat" <<'PY' && ok || bad "compare_loss.dat"
import h5py, sys, numpy as np
lines = open(sys.argv[3]).read().split("\n")
assert lines[0] == "# epoch train_loss_1 test_loss_1 train_loss_2 test_loss_2", lines[0]
x = np.array([[float(v) for v in l.split()] for l in lines[1:] if l.strip()])
for i, path in enumerate(sys.argv[1:3]):
    m = h5py.File(path, "r")["metrics"]
    assert np.array_equal(x[:, 0], m["epoch"][:])
    assert np.array_equal(x[:, 1 + 2 * i], m["train_loss"][:]) and np.array_equal(x[:, 2 + 2 * i], m["test_loss"][:])
PY
run "$GS" plot "$T/R.h5" "$T/S.h5"
[ -s "$T/R-compare-plots/compare_loss.png" ] && [ -s "$T/S-plots/loss.png" ] && ok || bad "default overlay directories"

# -- errors: one line, exit 2, nothing half-written --
expect_error() { # DESC PATTERN CMD...
    local desc=$1 pattern=$2
    shift 2
    "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    if [ $rc -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -qE -- "$pattern" "$T/err"; then ok; else
        bad "$desc: exit $rc"; cat "$T/err"; fi
}
mkdir "$T/empty_path"
expect_error "gnuplot missing" "^grokscope plot: gnuplot not found; install it with: apt-get install gnuplot-nox$" \
    env PATH="$T/empty_path" "$GS" plot "$T/R.h5" --out "$T/nognu"
[ ! -e "$T/nognu" ] && ok || bad "a plot without gnuplot created its directory"

mkdir "$T/fakebin"
printf '#!/bin/sh\necho "plot foo" >&2\necho "     ^" >&2\necho "\\"loss.gp\\" line 3: undefined variable: foo" >&2\nexit 1\n' \
    >"$T/fakebin/gnuplot"
chmod +x "$T/fakebin/gnuplot"
expect_error "gnuplot fails" 'gnuplot failed on .*/loss.gp \(exit status 1\): "loss.gp" line 3: undefined variable: foo' \
    env PATH="$T/fakebin" "$GS" plot "$T/R.h5" --out "$T/failgnu"
[ ! -e "$T/failgnu/loss.png" ] && ! ls -a "$T/failgnu" | grep -q "\.tmp-" && ok || bad "failed gnuplot left files"

# a full disk (file size limit) while writing: no half-written .dat/.gp, old files intact
run "$GS" plot "$T/R.h5" --out "$T/full"
before=$(md5sum "$T/full/loss.dat" "$T/full/loss.gp")
expect_error "disk full" "cannot write .*/full/loss.dat: File too large" \
    bash -c 'trap "" XFSZ; ulimit -f 4; exec "$0" plot "$1" --out "$2"' "$GS" "$T/R.h5" "$T/full"
[ "$(md5sum "$T/full/loss.dat" "$T/full/loss.gp")" = "$before" ] && ! ls -a "$T/full" | grep -q "\.tmp-" && ok \
    || bad "a failed write damaged the figure files or left temporaries"

cp "$T/R.h5" "$T/empty_run.h5"
$PY -c "import h5py,sys; h5py.File(sys.argv[1],'r+')['checkpoints/epoch'].resize((0,))" "$T/empty_run.h5" \
    || bad "making empty_run.h5"
expect_error "no checkpoints" "empty_run.h5: the run has no checkpoint yet" "$GS" plot "$T/empty_run.h5" --out "$T/e"
expect_error "bad format" "--format: 'jpg' is not png, svg or pdf" "$GS" plot "$T/R.h5" --format jpg
expect_error "missing file" "nope.h5" "$GS" plot "$T/nope.h5"
expect_error "no run" "expected a run file" "$GS" plot

finish
