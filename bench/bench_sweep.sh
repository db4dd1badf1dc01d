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
# TORCH_EPOCHS (20 epochs per timing round), PARTS (default "grid scaling epoch": which
# parts to run; "epoch" times one point's epochs in grokscope and PyTorch back to back,
# at 1 thread and at all CPUs, for the per-epoch ratio), NO_TORCH=1 to skip PyTorch.
# Other jobs on the machine inflate every time here: the script prints the load
# average before and after, so a reader can tell a quiet run from a busy one.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
GS=${GROKSCOPE:-$HERE/../build/src/grokscope}
EPOCHS=${EPOCHS:-5000}
SCALING_POINTS=${SCALING_POINTS:-4}
TORCH_EPOCHS=${TORCH_EPOCHS:-20}
PARTS=${PARTS:-grid scaling epoch}
want() { case " $PARTS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
OUT=${1:-$(mktemp -d /tmp/bench-sweep.XXXXXX)}
PY=/usr/bin/python3
mkdir -p "$OUT"
for d in grid scale1 scale2; do
    case $d in grid) want grid || continue ;; *) want scaling || continue ;; esac
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
wall=0
if want grid; then
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
cpu = float(busy) / 100 * cpus * wall if busy else float("nan")
print(f"  CPU time of the runs: {cpu:.0f} s; on {cpus} otherwise idle CPUs the grid would take about "
      f"{cpu / cpus:.0f} s = {cpu / cpus / 60:.1f} min")
print("  classes: " + ", ".join(f"{c} {int((cls == c).sum())}"
                                for c in ("comprehension", "grokking", "memorization", "confusion")))
PY
fi

# ---- --jobs 1 vs 2 on the first SCALING_POINTS points ----
if want scaling; then
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
fi

# ---- one point's epochs: grokscope and PyTorch back to back, 1 thread and all CPUs ----
# (the same model and loop at p = 59, frac 0.5: train step plus test metrics every epoch;
# grokscope's time includes its run file and checkpoints)
if want epoch; then
    for th in 1 $CPUS; do
        t0=$(now)
        "$GS" train --out "$OUT/epoch.h5" --force --p 59 --frac 0.5 --epochs 500 --every 100 --threads "$th" --quiet
        t1=$(now)
        gs=$(echo "scale=3; ($t1 - $t0) * 1000 / 500" | bc)
        if [ "${NO_TORCH:-0}" != 1 ] && $PY -c "import torch" 2>/dev/null; then
            torch=$($PY "$HERE/torch_baseline.py" --p 59 --frac 0.5 --threads "$th" --epochs "$TORCH_EPOCHS" --rounds 3 \
                | sed -n 's/^ms_per_epoch //p')
            echo "one point, $th thread(s): grokscope $gs ms/epoch (500 epochs), PyTorch $torch ms/epoch (best of 3" \
                 "rounds of $TORCH_EPOCHS): $(echo "scale=1; $torch / $gs" | bc)x; PyTorch for the grid's" \
                 "$((24 * EPOCHS)) epochs at this rate: $(echo "scale=2; 24 * $EPOCHS * $torch / 3600000" | bc) h" \
                 "one point at a time"
        else
            echo "one point, $th thread(s): grokscope $gs ms/epoch (500 epochs); PyTorch skipped (NO_TORCH=1, or" \
                 "/usr/bin/python3 cannot import torch)"
        fi
    done
    rm -f "$OUT/epoch.h5"
    echo "load average after the epoch timings: $(load)"
fi

[ -e "$OUT/grid/sweep.plan" ] || exit 0
"$GS" plot "$OUT/grid" --x wd --y lr >/dev/null
echo "figures: $OUT/grid/plots/"
