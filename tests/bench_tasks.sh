#!/usr/bin/env bash
# The scripts behind docs/tasks.md's table, on a budget of seconds: bench/tasks_ladder.sh
# climbs to the first rung that groks and reports what `grokscope info` says of that
# run; an op that groks on no rung is reported with every rung it tried, the resumed
# rung continuing the run before it; a malformed rung is refused. (The MLP groks (a+b)
# mod 23 at frac 0.8 within 1,500 epochs; x^3+xy^2+y does not.)
# Usage: bench_tasks.sh GROKSCOPE SOURCE_DIR
set -u
GS=$1
SRC=$2
. "$(dirname "$0")/lib.sh"

export GS P=23 MODEL=MLP TRAIN_OPTS="--model mlp --embed onehot --no-bias --lr 3e-3"
export RUNGS="A B C" RUNG_A=0.5:20 RUNG_B=0.8:1500 RUNG_C=resume:1600
if ! OUT=$T/ladder "$SRC/bench/tasks_ladder.sh" add x3xy2y >"$T/table" 2>"$T/err"; then
    bad "tasks_ladder.sh failed:"; sed 's/^/    /' "$T/err"
    finish
fi
row() { grep "^| \`$1\` |" "$T/table"; }
[ "$(grep -c '^| `' "$T/table")" -eq 2 ] && ok || { bad "want 2 rows:"; cat "$T/table"; }

# add: fails rung A (20 epochs), groks at rung B; the row holds info's epochs
info_epoch() { sed -n "s/^$2 .*at epoch \([0-9]*\).*/\1/p" "$1"; }
"$GS" info "$T/ladder/B/add.h5" >"$T/add.info"
fit=$(info_epoch "$T/add.info" fitted) grok=$(info_epoch "$T/add.info" grokked)
IFS='|' read -r _ op model rung rfit rgrok wall keys tried <<<"$(row add)"
[ -n "$grok" ] && [ "$(echo $rung)" = B ] && [ "$(echo $rgrok)" = "$grok" ] && [ "$(echo $rfit)" = "$fit" ] &&
    [ "$(echo $model)" = MLP ] && ok || bad "add row '$(row add)' against info: fitted $fit, grokked $grok"
echo "$tried" | grep -q "A: [0-9.]*% at 20" && ok || bad "add row does not report rung A: $tried"
echo "$wall" | grep -qE "^ [0-9]+m[0-9]{2}s $" && ok || bad "add row's wall time '$wall'"

# x3xy2y: no rung groks; rung C continued rung B's file to 1,600 epochs
IFS='|' read -r _ op model rung rfit rgrok wall keys tried <<<"$(row x3xy2y)"
[ "$(echo $rung)" = none ] && [ -z "$(echo $rgrok)" ] && ok || bad "x3xy2y row: $(row x3xy2y)"
echo "$tried" | grep -qE "A: [0-9.]+% at 20; B: [0-9.]+% at 1500; C: [0-9.]+% at 1600" && ok ||
    bad "x3xy2y row does not list rungs A, B, C: $tried"
"$GS" info "$T/ladder/B/x3xy2y.h5" >"$T/x.info"
grep -q "^last       epoch 1600:" "$T/x.info" && grep -q "^grokked    not yet" "$T/x.info" && ok ||
    { bad "rung C did not continue rung B's run to 1600:"; sed 's/^/    /' "$T/x.info"; }

# a malformed rung: exit 2, one line naming it
RUNG_B=0.8 OUT=$T/bad "$SRC/bench/tasks_ladder.sh" add >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "RUNG_B='0.8' is not" "$T/err" && ok ||
    { bad "malformed RUNG_B: exit $rc"; sed 's/^/    /' "$T/err"; }
RUNGS="C" OUT=$T/bad2 "$SRC/bench/tasks_ladder.sh" add >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 2 ] && grep -q "rung C resumes, but no rung ran before it" "$T/err" && ok ||
    { bad "resume first: exit $rc"; sed 's/^/    /' "$T/err"; }
finish
