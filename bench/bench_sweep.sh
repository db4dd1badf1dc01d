#!/usr/bin/env bash
# The sweep benchmark of docs/performance.md ("Sweeps"): a 24-point lr x wd grid on
# (a + b) mod 59, frac 0.5, 5,000 epochs per point, trained by `grokscope sweep run`
# on this machine's CPUs. Prints the wall time (goal: under 12 minutes on 2 cores), how
# busy the executor kept the CPUs, the time per point, how the wall time of a smaller
# grid scales from --jobs 1 (2 threads per run) to --jobs 2 (1 thread each), and
# PyTorch's time for the same epochs (bench/torch_baseline.py, same model and loop).
# The grid's results are kept: OUTDIR/grid is a sweep directory (its figures are in
# OUTDIR/grid/plots), so this run also draws the phase diagram of docs/sweeps.md.
#
#   bench/bench_sweep.sh [OUTDIR]          (default: a new directory under /tmp)
#
# Environment: GROKSCOPE (the binary; default build/src/grokscope), EPOCHS (5000),
# SCALING_POINTS (4, the first points of the grid; 24 times the whole grid twice more),
# TORCH_EPOCHS (20 epochs per timing round), NO_TORCH=1 to skip PyTorch.
# Other jobs on the machine inflate every time here: the script prints the load
# average before and after, so a reader can tell a quiet run from a busy one.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
GS=${GROKSCOPE:-$HERE/../build/src/grokscope}
EPOCHS=${EPOCHS:-5000}
SCALING_POINTS=${SCALING_POINTS:-4}
TORCH_EPOCHS=${TORCH_EPOCHS:-20}
OUT=${1:-$(mktemp -d /tmp/bench-sweep.XXXXXX)}
PY=/usr/bin/python3
mkdir -p "$OUT"
for d in grid scale1 scale2; do
    if [ -e "$OUT/$d" ]; then echo "bench_sweep: $OUT/$d exists; give a new OUTDIR" >&2; exit 2; fi
done
CPUS=$(nproc)
LR=1e-4,3e-4,1e-3,3e-3,1e-2,3e-2
WD=0.01,0.1,1,10
TRAIN="--p 59 --frac 0.5 --epochs $EPOCHS --every 100"
now() { date +%s.%N; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
# the executor's own last line: "...; 6m12s wall, CPU busy 97% of 2 CPUs (...)"
busy() { sed -n 's/.*CPU busy \([0-9]*\)% of.*/\1/p' "$1" | tail -1; }

echo "bench_sweep: $(uname -n), $CPUS CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(date)"
echo "grokscope: $GS; results in $OUT"
echo "load average before: $(load)"

# ---- the 24-point grid, 2 at a time ----
"$GS" sweep create "$OUT/grid" --grid lr=$LR --grid wd=$WD -- $TRAIN >/dev/null
t0=$(now)
"$GS" sweep run "$OUT/grid" --jobs "$CPUS" 2>"$OUT/grid-run.log"
t1=$(now)
wall=$(echo "$t1 - $t0" | bc)
echo "load average after the grid: $(load)"
"$GS" sweep collect "$OUT/grid" --csv >/dev/null
$PY - "$OUT/grid/sweep.h5" "$wall" "$(busy "$OUT/grid-run.log")" "$CPUS" "$EPOCHS" <<'PY'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")["points"]
wall, busy, cpus, epochs = float(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
n = len(f["index"])
w = f["wall_s"][:]
cls = f["class"].asstr()[:]
print(f"grid: {n} points x {epochs} epochs, --jobs {cpus}: {wall:.0f} s wall = {wall / 60:.1f} min "
      f"(goal 12 min: {wall / 720:.2f} x); CPU busy {busy}% of {cpus} CPUs")
print(f"  per point (train + analyze, wall): median {np.median(w):.1f} s, min {w.min():.1f}, max {w.max():.1f}; "
      f"{1000 * np.median(w) / epochs:.2f} ms/epoch")
print("  classes: " + ", ".join(f"{c} {int((cls == c).sum())}"
                                for c in ("comprehension", "grokking", "memorization", "confusion")))
PY

# ---- --jobs 1 vs 2 on the first SCALING_POINTS points ----
LIST=$(seq -s, 0 $((SCALING_POINTS - 1)))
for j in 1 2; do
    "$GS" sweep create "$OUT/scale$j" --grid lr=$LR --grid wd=$WD -- $TRAIN >/dev/null
    t0=$(now)
    "$GS" sweep run "$OUT/scale$j" --only "$LIST" --jobs $j --threads $((CPUS / j > 0 ? CPUS / j : 1)) \
        2>"$OUT/scale$j-run.log"
    t1=$(now)
    eval "wall$j=$(echo "$t1 - $t0" | bc)"
    eval "busy$j=$(busy "$OUT/scale$j-run.log")"
done
echo "load average after the scaling runs: $(load)"
echo "scaling, points $LIST: --jobs 1 --threads $CPUS: ${wall1} s (CPU busy ${busy1}%), " \
     "--jobs 2 --threads $((CPUS / 2 > 0 ? CPUS / 2 : 1)): ${wall2} s (CPU busy ${busy2}%); " \
     "speed-up $(echo "scale=2; $wall1 / $wall2" | bc)x"

# ---- PyTorch, the same model and loop at p = 59, frac 0.5 ----
if [ "${NO_TORCH:-0}" != 1 ] && $PY -c "import torch" 2>/dev/null; then
    for th in 1 $CPUS; do
        ms=$($PY "$HERE/torch_baseline.py" --p 59 --frac 0.5 --threads "$th" --epochs "$TORCH_EPOCHS" --rounds 3 \
            | sed -n 's/^ms_per_epoch //p')
        eval "torch$th=$ms"
        echo "PyTorch, $th thread(s): $ms ms/epoch (best of 3 rounds of $TORCH_EPOCHS epochs)"
    done
    $PY - "$OUT/grid/sweep.h5" "$wall" "$EPOCHS" "$torch1" "$(eval echo \$torch$CPUS)" "$CPUS" <<'PY'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")["points"]
wall, epochs, t1, tn, cpus = float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
n = len(f["index"])
seq = n * epochs * tn / 1000
par = n * epochs * t1 / 1000 / cpus
print(f"PyTorch for the grid: one point at a time on {cpus} threads {seq / 3600:.2f} h "
      f"({seq / wall:.1f} x grokscope's sweep run); {cpus} points at a time on 1 thread each {par / 3600:.2f} h "
      f"({par / wall:.1f} x)")
PY
else
    echo "PyTorch: skipped (NO_TORCH=1, or /usr/bin/python3 cannot import torch)"
fi

"$GS" plot "$OUT/grid" --x wd --y lr >/dev/null
echo "figures: $OUT/grid/plots/"
