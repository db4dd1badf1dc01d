#!/usr/bin/env bash
# The interventions of docs/interventions.md, each against its fair baseline, on the
# paper's transformer: (a + b) mod P, train fraction FRAC, the paper's widths and AdamW,
# EPOCHS epochs, one seed. Writes OUTDIR/table.md (the epoch the test accuracy first
# passes 99%, per run, beside its baseline's) and, per group of runs, the overlay
# figures of `grokscope plot A.h5 B.h5 ...` (compare_loss.png, compare_measures.png) in
# OUTDIR/fig-GROUP/.
#
#   bench/interventions.sh [OUTDIR]        (default: a new directory under /tmp)
#
# Environment: GROKSCOPE (the binary; default build/src/grokscope), P (59), FRAC (0.5),
# EPOCHS (3000), SEED (0), LR (the base learning rate, 1e-3; Grokfast's raised-lr
# baselines are 3x and 6x of it), MODEL_OPTS (extra options for every run, e.g. the MLP:
# "--model mlp --embed onehot --no-bias" with LR=3e-3), JOBS (2 runs at a time, 1 thread each), SETS (groups; all:
# "grokfast wd0 omnigrok precision output misc"), NO_PLOTS=1 to skip the figures.
# The defaults finish in about 10-20 minutes on 2 quiet cores; the paper's own run is
# P=113 FRAC=0.3 EPOCHS=40000 (hours). Runs already in OUTDIR are kept, so a stopped
# bench continues where it was.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
GS=${GROKSCOPE:-$HERE/../build/src/grokscope}
P=${P:-59}
FRAC=${FRAC:-0.5}
EPOCHS=${EPOCHS:-3000}
SEED=${SEED:-0}
LR=${LR:-1e-3}
MODEL_OPTS=${MODEL_OPTS:-}
JOBS=${JOBS:-2}
SETS=${SETS:-grokfast wd0 omnigrok precision output misc}
PY=/usr/bin/python3
OUT=${1:-$(mktemp -d /tmp/bench-interventions.XXXXXX)}
mkdir -p "$OUT"
if ! $PY -c 'import h5py, numpy' 2>/dev/null; then
    echo "interventions.sh: needs /usr/bin/python3 with h5py and numpy for the table" >&2
    exit 2
fi

# name | group | baseline (the run it is compared with) | options beyond the common ones.
# Fair baselines: the same weight decay; for Grokfast also the learning rate raised by
# 1 + lambda (the filter adds lambda times a smoothed gradient, roughly that much step).
RUNS=$(cat <<'LIST'
adamw-wd1|grokfast|-|--wd 1
gf-ema|grokfast|adamw-wd1|--wd 1 --grokfast ema --gf-alpha 0.98 --gf-lambda 2
adamw-wd1-lr3x|grokfast|-|--wd 1 --lr 3e-3
gf-ma|grokfast|adamw-wd1|--wd 1 --grokfast ma --gf-window 100 --gf-lambda 5
adamw-wd1-lr6x|grokfast|-|--wd 1 --lr 6e-3
adamw-wd0|wd0|-|--wd 0
stablemax-wd0|wd0|adamw-wd0|--wd 0 --loss stablemax
orthograd-wd0|wd0|adamw-wd0|--wd 0 --orthograd
stablemax-orthograd-wd0|wd0|adamw-wd0|--wd 0 --loss stablemax --orthograd
init3-wd1|omnigrok|adamw-wd1|--wd 1 --init-scale 3
init3-wd0|omnigrok|adamw-wd0|--wd 0 --init-scale 3
init3-fixnorm|omnigrok|init3-wd0|--wd 0 --init-scale 3 --fix-norm
init0.8-fixnorm|omnigrok|adamw-wd0|--wd 0 --init-scale 0.8 --fix-norm
loss32-wd1|precision|adamw-wd1|--wd 1 --loss-precision 32
loss32-wd0|precision|adamw-wd0|--wd 0 --loss-precision 32
out0.5-wd1|output|adamw-wd1|--wd 1 --output-scale 0.5
out2-wd1|output|adamw-wd1|--wd 1 --output-scale 2
adam-l2-wd0.01|misc|adamw-wd0.01|--optimizer adam --wd 0.01
adamw-wd0.01|misc|-|--wd 0.01
wd-to-init-wd1|misc|adamw-wd1|--wd 1 --wd-to-init
LIST
)
# the raised-lr baselines scale with the base learning rate
LR3=$(awk -v l="$LR" 'BEGIN { printf "%g", 3 * l }')
LR6=$(awk -v l="$LR" 'BEGIN { printf "%g", 6 * l }')
RUNS=$(echo "$RUNS" | sed -e "s/--lr 3e-3/--lr $LR3/" -e "s/--lr 6e-3/--lr $LR6/")
in_groups() { case " $SETS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
# the runs of the chosen groups, and every baseline they name
wanted=$(echo "$RUNS" | while IFS='|' read -r name group base opts; do
    in_groups "$group" && echo "$name" && [ "$base" != - ] && echo "$base"; done | sort -u)

COMMON="$MODEL_OPTS --lr $LR --p $P --frac $FRAC --epochs $EPOCHS --every 100 --seed $SEED --threads 1 --quiet"
echo "interventions.sh: $(echo "$wanted" | wc -l) runs of $EPOCHS epochs, p=$P frac=$FRAC, $JOBS at a time, into $OUT"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s)
echo "$RUNS" | while IFS='|' read -r name group base opts; do
    echo "$wanted" | grep -qx -- "$name" || continue
    [ -s "$OUT/$name.h5" ] && $GS info "$OUT/$name.h5" | grep -q '^status *finished' && continue
    echo "$name|$opts"
done | xargs -r -P "$JOBS" -I{} bash -c '
    IFS="|" read -r name opts <<< "{}"
    if "$0" train --out "$1/$name.h5" --force $2 $opts 2> "$1/$name.log"; then
        echo "  done $name"
    else
        echo "  FAILED $name (see $1/$name.log)"
    fi' "$GS" "$OUT" "$COMMON"
echo "training: $(( $(date +%s) - start )) s wall; load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# the table: first epoch of test accuracy >= 99% (grokscope info's "grokked"), train
# accuracy >= 99% ("fitted"), the last test accuracy, the largest collapse fraction
echo "$RUNS" > "$OUT/runs.txt"
$PY - "$OUT" "$wanted" "$P" "$FRAC" "$EPOCHS" "$LR" "$MODEL_OPTS" > "$OUT/table.md" <<'PYEOF'
import sys, os
import h5py, numpy as np
out, wanted, p, frac, epochs, lr, model = sys.argv[1], set(sys.argv[2].split()), *sys.argv[3:8]
rows = [l.split("|") for l in open(os.path.join(out, "runs.txt")).read().splitlines() if l.strip()]
def first(a, thr=0.99):
    i = np.flatnonzero(a >= thr)
    return int(i[0]) if len(i) else None
res = {}
for name, group, base, opts in rows:
    path = os.path.join(out, name + ".h5")
    if name not in wanted or not os.path.exists(path):
        continue
    with h5py.File(path, "r") as f:
        m = f["metrics"]
        res[name] = dict(fit=first(m["train_acc"][:]), grok=first(m["test_acc"][:]),
                         acc=float(m["test_acc"][-1]), n=len(m["epoch"]),
                         coll=float(np.nanmax(m["collapse_frac"][:])),
                         cos=float(m["grad_cos"][-1]))
fmt = lambda v: "—" if v is None else str(v)
print(f"(a + b) mod {p}, train fraction {frac}, {epochs} epochs, seed as given; "
      f"{'the options `' + model + '`' if model else 'the paper' + chr(39) + 's transformer'} and AdamW "
      f"lr {lr} unless the options say otherwise.\n")
print("| run | options | fitted | test acc ≥ 99% at | baseline | its epoch | speed-up | last test acc | max collapse | last cos(g, w) |")
print("|---|---|---|---|---|---|---|---|---|---|")
for name, group, base, opts in rows:
    if name not in res:
        continue
    r = res[name]
    b = res.get(base)
    bg = b["grok"] if b else None
    speed = f"{bg / r['grok']:.2f}×" if (bg and r["grok"]) else "—"
    print(f"| {name} | `{opts}` | {fmt(r['fit'])} | {fmt(r['grok'])} | {base if base != '-' else '—'} | "
          f"{fmt(bg) if base != '-' else '—'} | {speed} | {r['acc']:.3f} | {r['coll']:.3f} | {r['cos']:.3f} |")
PYEOF
cat "$OUT/table.md"

[ "${NO_PLOTS:-0}" = 1 ] && exit 0
# one overlay per group: its runs and their baselines
for group in $SETS; do
    files=$(echo "$RUNS" | while IFS='|' read -r name g base opts; do
        [ "$g" = "$group" ] || continue
        [ "$base" != - ] && echo "$OUT/$base.h5"; echo "$OUT/$name.h5"; done | awk '!seen[$0]++')
    existing=$(for f in $files; do [ -s "$f" ] && echo "$f"; done)
    [ "$(echo "$existing" | grep -c .)" -ge 2 ] || continue
    # shellcheck disable=SC2086
    $GS plot $existing --out "$OUT/fig-$group" --quiet > /dev/null 2>> "$OUT/plots.log" \
        && echo "figures: $OUT/fig-$group/compare_loss.png, compare_measures.png" \
        || echo "plot of $group failed (see $OUT/plots.log)"
done
