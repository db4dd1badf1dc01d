#!/usr/bin/env bash
# The early-warning benchmark of docs/early-warning.md: a sweep that mixes runs that
# grok and runs that never do, trained and analysed by grokscope, then scored by
# `grokscope sweep score` (the table on stdout, OUTDIR/sweep/score.tsv, the figure
# OUTDIR/sweep/plots/sweep_score.png).
#
#   bench/early_warning.sh [OUTDIR] [--grid NAME=VALUES]... [--seeds LIST] [-- TRAIN-OPTIONS...]
#
# Without grid arguments it runs the small version documented in docs/early-warning.md
# (24 runs: op add,sub x wd 0,1 x frac 0.3,0.5 x seeds 0-2 on p = 37 with a narrow
# model, 2,500 epochs; about 3 minutes of CPU on this machine). Any --grid/--seeds/--
# arguments replace that grid and its training options (see `grokscope sweep --help`),
# e.g. the full version, once the MLP exists:
#   bench/early_warning.sh /tmp/ew-full --grid op=add,sub --grid wd=0,1 \
#       --grid frac=0.3,0.5 --grid model=transformer,mlp --seeds 0-2 -- --p 97 --epochs 20000
# Environment: GROKSCOPE (the binary; default build/src/grokscope), JOBS (runs at once,
# default: the CPUs), ANALYZE (extra `grokscope analyze` options applied before
# scoring, e.g. "--llc-every 2"; empty by default: the sweep's own analysis is used).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
GS=${GROKSCOPE:-$HERE/../build/src/grokscope}
JOBS=${JOBS:-$(nproc)}
OUT=$(mktemp -d /tmp/bench-early-warning.XXXXXX)
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
    OUT=$1
    shift
fi
if [ $# -eq 0 ]; then
    set -- --grid op=add,sub --grid wd=0,1 --grid frac=0.3,0.5 --seeds 0-2 -- \
        --p 37 --lr 3e-3 --d-model 64 --d-mlp 256 --epochs 2500 --every 25
fi
mkdir -p "$OUT"
if [ -e "$OUT/sweep" ]; then echo "early_warning: $OUT/sweep exists; give a new OUTDIR" >&2; exit 2; fi
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "early_warning: grokscope sweep create $OUT/sweep $*"
echo "load average before: $(load)"
"$GS" sweep create "$OUT/sweep" "$@"
start=$(date +%s)
cpu0=$(awk '{print $14 + $15 + $16 + $17}' /proc/$$/stat)
"$GS" sweep run "$OUT/sweep" --jobs "$JOBS" --threads 1 --quiet
if [ -n "${ANALYZE:-}" ]; then
    for f in "$OUT"/sweep/*.h5; do
        # shellcheck disable=SC2086 # ANALYZE is a list of options
        "$GS" analyze "$f" --quiet --threads 1 $ANALYZE >/dev/null
    done
fi
"$GS" sweep score "$OUT/sweep" --quiet
end=$(date +%s)
cpu1=$(awk '{print $14 + $15 + $16 + $17}' /proc/$$/stat)
echo "wall $((end - start)) s, CPU $(( (cpu1 - cpu0) / $(getconf CLK_TCK) )) s (train + analyze + score)"
echo "load average after: $(load)"
"$GS" sweep status "$OUT/sweep" | tail -3
