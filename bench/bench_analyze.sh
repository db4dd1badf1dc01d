#!/usr/bin/env bash
# Times `grokscope analyze` over every checkpoint of a run, from scratch, on a copy of
# the run file (the original is not touched). Usage:
#   bench/bench_analyze.sh RUN.h5 [GROKSCOPE] [THREADS]
# The analysis is forced to start over by first analysing with a different key-frequency
# set (1) and then with the automatic one, which differs and so recomputes every row;
# the second pass is the one timed. Prints seconds, ms per checkpoint and the ratio to
# the 20 s target of the 401-checkpoint paper run.
set -eu
RUN=$1
GS=${2:-$(dirname "$0")/../build/src/grokscope}
THREADS=${3:-2}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cp "$RUN" "$T/run.h5"
"$GS" analyze "$T/run.h5" --key-freqs 1 --quiet --threads "$THREADS" >/dev/null
n=$(/usr/bin/python3 -c "import h5py,sys; print(h5py.File(sys.argv[1],'r')['checkpoints/epoch'].shape[0])" "$T/run.h5")
start=$(date +%s.%N)
"$GS" analyze "$T/run.h5" --quiet --threads "$THREADS" >/dev/null
end=$(date +%s.%N)
/usr/bin/python3 - "$start" "$end" "$n" <<'PY'
import sys
s, e, n = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
t = e - s
print(f"analyze: {n} checkpoints in {t:.2f} s = {1000 * t / n:.1f} ms/checkpoint; "
      f"401 checkpoints at this rate: {401 * t / n:.1f} s = {401 * t / n / 20:.2f} x the 20 s target")
PY
