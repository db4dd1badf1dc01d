#!/usr/bin/env bash
# Feeds mutated run files (truncated at many offsets, random bytes flipped, zeroed
# blocks) to `info`, `analyze` and `train --resume`. Every invocation must end with
# exit status 0, 2 or 3 — never a signal, a timeout or a sanitizer report — and a
# failing one must print exactly one line on stderr.
# Usage: fuzz_runfiles.sh GROKSCOPE [N_MUTANTS]   (run it on an ASan/UBSan build too)
set -u
GS=$1
N=${2:-1000}
PY=/usr/bin/python3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(cd "$(dirname "$0")" && pwd)/lsan-hdf5.supp:print_suppressions=0}
GS=$(realpath "$GS")
# Relative paths keep the seed file's bytes (its command_line attribute) the same on
# every run, so the 1000 mutants are the same 1000 everywhere.
(cd "$T" && "$GS" train --out seed.h5 --p 7 --d-model 8 --n-heads 2 --d-mlp 8 --epochs 30 --every 10 --quiet \
    && "$GS" analyze seed.h5 --quiet >/dev/null) || { echo "FAIL: cannot make the seed file"; exit 1; }
size=$(stat -c %s "$T/seed.h5")
pass=0 fail=0
mutate() { # mutate N SEED OUT: deterministic mutant number N
    $PY - "$T/seed.h5" "$1" "$2" <<'PY'
import random, sys
src, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = bytearray(open(src, "rb").read())
r = random.Random(n)
kind = n % 3
if kind == 0:                       # truncate
    data = data[: r.randrange(len(data))]
elif kind == 1:                     # flip 1..8 random bytes
    for _ in range(r.randint(1, 8)):
        data[r.randrange(len(data))] ^= 1 << r.randrange(8)
else:                               # zero or randomize a block
    at = r.randrange(len(data)); ln = r.randint(1, 256)
    for i in range(at, min(len(data), at + ln)):
        data[i] = 0 if r.random() < 0.5 else r.randrange(256)
open(out, "wb").write(data)
PY
}
check() { # check DESC CMD...
    local desc=$1
    shift
    timeout 20 "$@" >/dev/null 2>"$T/err"
    local rc=$?
    if grep -qE "Sanitizer|runtime error|LeakSanitizer" "$T/err"; then
        bad=1; echo "FAIL: $desc: sanitizer report"; head -20 "$T/err"
    elif [ $rc -ne 0 ] && [ $rc -ne 2 ] && [ $rc -ne 3 ]; then
        bad=1; echo "FAIL: $desc: exit status $rc"; head -5 "$T/err"
    elif [ $rc -ne 0 ] && [ "$(wc -l <"$T/err")" -ne 1 ]; then
        bad=1; echo "FAIL: $desc: $(wc -l <"$T/err") stderr lines"; head -5 "$T/err"
    fi
}
for ((i = 0; i < N; i++)); do
    mutate $i "$T/m.h5" || { echo "FAIL: cannot make mutant $i"; exit 1; }
    bad=0
    check "info #$i" "$GS" info "$T/m.h5"
    cp "$T/m.h5" "$T/a.h5"
    check "analyze #$i" "$GS" analyze "$T/a.h5" --quiet
    cp "$T/m.h5" "$T/r.h5"
    check "resume #$i" "$GS" train --resume "$T/r.h5" --epochs 40 --quiet
    if [ $bad -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); cp "$T/m.h5" "/tmp/fuzz-fail-$i.h5"; fi
done
echo "seed file $size bytes, $N mutants x 3 commands"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
