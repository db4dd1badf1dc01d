#!/usr/bin/env bash
# Slow suite: the demo configuration really groks — train accuracy reaches 99% long
# before test accuracy does, and test accuracy ends above 99%. Usage: slow_demo.sh GROKSCOPE
set -u
GS=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$GS" demo "$T/demo" --quiet >"$T/out" || { echo "FAIL: demo exited $?"; cat "$T/out"; exit 1; }
cat "$T/out"
mem=$(sed -n 's/^memorized .*at epoch \([0-9]*\).*/\1/p' "$T/out")
grok=$(sed -n 's/^grokked .*at epoch \([0-9]*\).*/\1/p' "$T/out")
if [ -z "$mem" ] || [ -z "$grok" ]; then echo "FAIL: the demo did not grok"; echo "0 passed, 1 failed"; exit 1; fi
if [ $((grok)) -lt $((mem * 3)) ]; then
    echo "FAIL: test accuracy (epoch $grok) was not far behind train accuracy (epoch $mem)"
    echo "0 passed, 1 failed"; exit 1
fi
echo "memorized at $mem, grokked at $grok"
echo "1 passed, 0 failed"
