#!/bin/bash
# Two runs trained at the same time on two threads of one process through the public
# API (tests/test_api_threads.c) hold the same datasets, bit for bit, as the same two
# runs trained by two separate `grokscope train` processes. The runs differ in every
# way that is per-run state (worker threads 1 vs 2, IEEE vs flushed subnormals, task,
# size), so a run that picked up the other's settings, or a race between them, shows up
# as different bits or a wrong /config. (Runs this small compute the same bits in both
# subnormal modes; that a pool computes in its own mode is tests/test_fpenv.c's check.)
# Compared with tests/runs_equal.py (all datasets but /analysis and /status) and
# h5dump of /status; the files' command_line attributes differ by design.
# usage: api_threads.sh GROKSCOPE TEST_API_THREADS SOURCE_ROOT
GS=$1; API=$2; SRC=$3
source "$SRC/tests/lib.sh"

A="p=23,frac=0.5,seed=1,flush_subnormals=0,d_model=32,d_mlp=64,epochs=150,every=50"
B="p=17,op=sub,seed=2,d_model=24,n_heads=3,d_mlp=48,lr=3e-3,epochs=120,every=40"
if "$API" "$T/api_a.h5" "$A" 1 "$T/api_b.h5" "$B" 2 >"$T/api.out" 2>&1; then ok; else
    bad "two API runs in two threads:"; cat "$T/api.out"; fi
"$GS" train --out "$T/cli_a.h5" --p 23 --frac 0.5 --seed 1 --ieee-subnormals --d-model 32 \
    --d-mlp 64 --epochs 150 --every 50 --threads 1 --quiet && ok || bad "CLI run A"
"$GS" train --out "$T/cli_b.h5" --p 17 --op sub --seed 2 --d-model 24 --n-heads 3 --d-mlp 48 \
    --lr 3e-3 --epochs 120 --every 40 --threads 2 --quiet && ok || bad "CLI run B"

for r in a b; do
    if have_h5py; then
        if $PY "$SRC/tests/runs_equal.py" "$T/api_$r.h5" "$T/cli_$r.h5" >"$T/eq.out" 2>&1; then ok
        else bad "run $r: API (thread) and CLI (process) differ:"; cat "$T/eq.out"; fi
    else
        skip "run $r: no h5py/numpy for runs_equal.py"
    fi
    # status and config: what h5dump prints of them, its first line (the file name) aside
    dump() { h5dump "$1" "$2" "$3" 2>&1 | sed 1d; }
    [ "$(dump -d /status "$T/api_$r.h5")" = "$(dump -d /status "$T/cli_$r.h5")" ] && ok ||
        bad "run $r: /status differs"
    [ "$(dump -g /config "$T/api_$r.h5")" = "$(dump -g /config "$T/cli_$r.h5")" ] && ok ||
        bad "run $r: /config differs"
    # the file says it is finished
    h5dump -d /status "$T/api_$r.h5" | grep -q "1, [0-9]" && ok || bad "run $r: /status is not finished"
done
finish
