#!/usr/bin/env bash
# The table of docs/tasks.md ("One table: every operation and model"): for every operation
# (or those given), climb a ladder of ever larger budgets and stop at the first rung whose
# run groks (test accuracy >= 99%). Each rung is one bench/tasks_table.sh call; a rung
# whose run does not grok is noted in the last column. Prints one Markdown row per op:
#   | op | model | groks at rung | train acc >= 99% | test acc >= 99% | wall | key freqs | if not: ... |
# "wall" is the grokking rung's training time (a resumed rung adds the run it
# continued). Usage:
#   bench/tasks_ladder.sh [OP ...]
# Environment (defaults in brackets): GS, OUT [a temporary directory, removed unless
# given; rung R's runs go to OUT/R], P [59], SEED [0], THREADS [1, so the bits do not
# depend on the machine's core count], STOP [0.01], TRAIN_OPTS [none: the paper's
# transformer; e.g. "--layers 2" or "--model mlp --embed onehot --no-bias --lr 3e-3"],
# MODEL [the name printed in the model column: transformer], RUNGS [A B C D E], and each
# rung as FRAC:EPOCHS, or "resume:EPOCHS" to continue the previous rung's run:
# RUNG_A [0.5:6000], RUNG_B [0.8:10000], RUNG_C [resume:30000], RUNG_D [0.95:20000],
# RUNG_E [resume:50000]. An op that never groks climbs the whole ladder: about a quarter
# of an hour on one core for the 1-block transformer or the MLP at p = 59, hours for 2 blocks.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
export GS=${GS:-$here/../build/src/grokscope}
export P=${P:-59} SEED=${SEED:-0} THREADS=${THREADS:-1} STOP=${STOP:-0.01} TRAIN_OPTS=${TRAIN_OPTS:-}
MODEL=${MODEL:-transformer} RUNGS=${RUNGS:-A B C D E}
RUNG_A=${RUNG_A:-0.5:6000} RUNG_B=${RUNG_B:-0.8:10000} RUNG_C=${RUNG_C:-resume:30000}
RUNG_D=${RUNG_D:-0.95:20000} RUNG_E=${RUNG_E:-resume:50000}
. "$here/tasks_lib.sh"
echo "model: $MODEL${TRAIN_OPTS:+ ($TRAIN_OPTS)}; p $P (S5: 120), seed $SEED; stopping once the test loss is below $STOP"
for rung in $RUNGS; do
    spec_var=RUNG_$rung
    echo "rung $rung: ${!spec_var} (fraction:epochs, or resume:epochs of the rung before)"
done
echo
echo "| op | model | groks at rung | train acc ≥ 99% | test acc ≥ 99% | wall | key freqs | if not: test acc at the end |"
echo "|---|---|---|---:|---:|---:|---|---|"
for op in "${ops[@]}"; do
    tried=() prev_dir="" prev_secs=0 row="" last_fit=""
    for rung in $RUNGS; do
        spec_var=RUNG_$rung
        spec=${!spec_var:-}
        form=$spec
        case $spec in
        *[!0-9.:resum]* | *:*:* | :* | *: | resume:*[!0-9]* | [0-9]*:*[!0-9]*) form=bad ;;
        esac
        case $form in
        resume:[0-9]*)
            [ -n "$prev_dir" ] || { echo "tasks_ladder.sh: rung $rung resumes, but no rung ran before it" >&2; exit 2; }
            dir=$prev_dir resume=1 ;;
        [0-9.]*:[0-9]*) dir=$OUT/$rung resume=0 frac=${spec%%:*} ;;
        *) echo "tasks_ladder.sh: RUNG_$rung='$spec' is not FRAC:EPOCHS or resume:EPOCHS" >&2; exit 2 ;;
        esac
        epochs=${spec##*:}
        mkdir -p "$dir"
        if [ $resume = 1 ]; then
            line=$(OUT=$dir RESUME=1 EPOCHS=$epochs "$here/tasks_table.sh" "$op" | tail -n 1)
        else
            line=$(OUT=$dir FRAC=$frac EPOCHS=$epochs "$here/tasks_table.sh" "$op" | tail -n 1)
        fi
        case $line in
        "| $op |"*) ;;
        *) echo "tasks_ladder.sh: rung $rung of $op failed (see above)" >&2; exit 1 ;;
        esac
        # tasks_table.sh's row: | op | p | fit | grok | stopped at | test acc there | wall | keys | restricted |
        IFS='|' read -r _ _ _ fit grok stopped acc wall keys _ <<<"$line"
        fit=$(echo $fit) grok=$(echo $grok) stopped=$(echo $stopped) acc=$(echo $acc)
        wall=$(echo $wall) keys=$(echo $keys)
        m=${wall%%m*} s=${wall#*m}
        secs=$((10#$m * 60 + 10#${s%s}))
        [ $resume = 1 ] && secs=$((secs + prev_secs))
        if [ "$grok" != never ]; then
            [ "$keys" != "—" ] || keys=""
            row=$(printf "| \`%s\` | %s | %s | %s | %s | %dm%02ds | %s | %s |" "$op" "$MODEL" "$rung" \
                "$fit" "$grok" $((secs / 60)) $((secs % 60)) "${keys:-no circuit or no basis}" \
                "$(IFS=';'; echo "${tried[*]:-}" | sed 's/;/; /g')")
            break
        fi
        tried+=("$rung: $acc at $stopped")
        prev_dir=$dir prev_secs=$secs last_fit=$fit
    done
    if [ -z "$row" ]; then
        row=$(printf "| \`%s\` | %s | none | %s | | | | %s |" "$op" "$MODEL" "${last_fit:-never}" \
            "$(IFS=';'; echo "${tried[*]}" | sed 's/;/; /g')")
    fi
    echo "$row"
done
