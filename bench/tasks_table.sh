#!/usr/bin/env bash
# The grokking table of docs/tasks.md: for every operation (or those given), train the
# paper's model with one configuration, analyse it, and print one Markdown row: the
# epochs at which train and test accuracy first reached 99%, where training stopped,
# the wall time, and (where the op has a Fourier circuit) the key frequencies and the
# final restricted loss. Runs one after the other; the full table at the defaults takes
# hours on 2 cores. Usage:
#   bench/tasks_table.sh [OP ...]
# Environment (defaults in brackets): GS [build/src/grokscope], OUT [a temporary
# directory, removed unless given], P [97: Power et al.'s modulus; S5 ops use 120],
# FRAC [0.5], EPOCHS [20000], EVERY [250], SEED [0], THREADS [2], STOP [0.01: stop once
# the test loss is below this], TRAIN_OPTS [none: more train options, e.g. another
# model: TRAIN_OPTS="--model mlp --embed onehot --no-bias --lr 3e-3", docs/models.md;
# not those set above, which train refuses to take twice],
# RESUME [0; 1: continue OUT/OP.h5, written by an earlier call, to EPOCHS epochs instead
# of training afresh; the other options are then the file's own]. bench/tasks_ladder.sh
# climbs docs/tasks.md's ladder of these configurations.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
GS=${GS:-$here/../build/src/grokscope}
P=${P:-97} FRAC=${FRAC:-0.5} EPOCHS=${EPOCHS:-20000} EVERY=${EVERY:-250}
SEED=${SEED:-0} THREADS=${THREADS:-2} STOP=${STOP:-0.01} TRAIN_OPTS=${TRAIN_OPTS:-} RESUME=${RESUME:-0}
if [ "$RESUME" = 1 ] && [ -z "${OUT:-}" ]; then
    echo "tasks_table.sh: RESUME=1 continues OUT/OP.h5: give OUT" >&2
    exit 2
fi
. "$here/tasks_lib.sh"
echo "d_model 128, 4 heads, d_mlp 512, AdamW lr 1e-3, wd 1, full batch; frac $FRAC, seed $SEED;"
echo "at most $EPOCHS epochs, stopping once the test loss is below $STOP"
[ -z "$TRAIN_OPTS" ] || echo "with the train options $TRAIN_OPTS"
[ "$RESUME" != 1 ] || echo "each run resumed from $OUT/OP.h5 (its own configuration) to $EPOCHS epochs"
echo
echo "| op | p | train acc >= 99% | test acc >= 99% | stopped at | test acc there | wall time | key freqs | final restricted loss |"
echo "|---|---|---|---|---|---|---|---|---|"
for op in "${ops[@]}"; do
    p=$P
    case $op in s5-*) p=120 ;; esac
    run="$OUT/$op.h5"
    start=$(date +%s)
    if [ "$RESUME" = 1 ]; then
        "$GS" train --resume "$run" --epochs "$EPOCHS" --threads "$THREADS" --quiet
    else
        "$GS" train --out "$run" --op "$op" --p "$p" --frac "$FRAC" --seed "$SEED" --epochs "$EPOCHS" \
            --every "$EVERY" --stop-test-loss "$STOP" --threads "$THREADS" --quiet --force $TRAIN_OPTS
    fi
    secs=$(( $(date +%s) - start ))
    "$GS" analyze "$run" --quiet --threads "$THREADS" >/dev/null
    "$GS" info "$run" >"$OUT/$op.info"
    field() { sed -n "s/^$1 .*at epoch \([0-9]*\).*/\1/p" "$OUT/$op.info"; }
    mem=$(field fitted) grok=$(field grokked)
    last=$(sed -n 's/^last       epoch \([0-9]*\):.*/\1/p' "$OUT/$op.info")
    lastacc=$(sed -n 's/^last .*test acc \([0-9.]*%\).*/\1/p' "$OUT/$op.info")
    keys=$(sed -n 's/^key freqs  \([0-9 ]*[0-9]\).*/\1/p' "$OUT/$op.info")
    restricted=$(sed -n 's/^final .*restricted loss \([^,]*\),.*/\1/p' "$OUT/$op.info")
    printf "| %s | %s | %s | %s | %s | %s | %dm%02ds | %s | %s |\n" "$op" "$p" "${mem:-never}" \
        "${grok:-never}" "$last" "${lastacc:-?}" $((secs / 60)) $((secs % 60)) "${keys:-—}" "${restricted:-—}"
done
