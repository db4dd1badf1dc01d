#!/usr/bin/env bash
# Subnormal modes from the command line: flushing is the default and recorded in
# /config; --ieee-subnormals is recorded too; resume keeps the file's mode and is
# bit-exact in IEEE mode as in the default; a file written before the option existed (no
# flush_subnormals attribute) is read as IEEE, as it was trained, and still resumes and
# analyses. (On runs this small both modes give the same bits, so that the trainer
# computes in the file's mode is checked in tests/test_fpenv.c, not here.) Usage:
# cli_numerics.sh GROKSCOPE SRCDIR
set -u
GS=$1
SRC=$2
. "$(dirname "$0")/lib.sh"
if ! $PY -c "import h5py" 2>/dev/null; then
    echo "SKIP: /usr/bin/python3 has no h5py (apt-get install python3-h5py)"
    exit 77
fi
run() { "$@" || bad "command failed ($?): $*"; }
attr() { $PY -c "import h5py,sys; print(int(h5py.File(sys.argv[1],'r')['config'].attrs['flush_subnormals']))" "$1"; }

SMALL="--p 23 --frac 0.5 --every 20 --threads 2 --quiet"
run "$GS" train --out "$T/flush.h5" $SMALL --epochs 60
run "$GS" train --out "$T/ieee.h5" $SMALL --epochs 60 --ieee-subnormals
[ "$(attr "$T/flush.h5")" = 1 ] && ok || bad "default run does not record flush_subnormals = 1"
[ "$(attr "$T/ieee.h5")" = 0 ] && ok || bad "--ieee-subnormals is not recorded as flush_subnormals = 0"
"$GS" info "$T/flush.h5" | grep -q "^numerics .*subnormals flushed to zero" && ok || bad "info: flush mode"
"$GS" info "$T/ieee.h5" | grep -q "^numerics .*IEEE subnormals" && ok || bad "info: IEEE mode"

# resume keeps the mode: 40 + 20 epochs equal 60 uninterrupted, in IEEE mode
run "$GS" train --out "$T/half.h5" $SMALL --epochs 40 --ieee-subnormals
run "$GS" train --resume "$T/half.h5" --epochs 60 --quiet --threads 2
[ "$(attr "$T/half.h5")" = 0 ] && ok || bad "resume changed the mode"
$PY "$SRC/tests/runs_equal.py" "$T/half.h5" "$T/ieee.h5" && ok || bad "IEEE resume is not bit-exact"
"$GS" train --resume "$T/half.h5" --ieee-subnormals --epochs 80 --quiet 2>"$T/err" && bad "resume accepted --ieee-subnormals"
grep -q "cannot be combined with --resume" "$T/err" && ok || bad "resume + --ieee-subnormals message: $(cat "$T/err")"

# a file from before the option: no attribute means IEEE; it resumes bit-exactly and analyses
run "$GS" train --out "$T/old.h5" $SMALL --epochs 40 --ieee-subnormals
$PY -c "import h5py,sys; del h5py.File(sys.argv[1],'r+')['config'].attrs['flush_subnormals']" "$T/old.h5" \
    || bad "cannot remove the attribute"
"$GS" info "$T/old.h5" | grep -q "^numerics .*IEEE subnormals" && ok || bad "info: a file without the attribute"
run "$GS" train --resume "$T/old.h5" --epochs 60 --quiet --threads 2
$PY - "$T/old.h5" "$T/ieee.h5" <<'PY' && ok || bad "an old file's resume differs from the IEEE run"
import h5py, sys, numpy as np
a, b = (h5py.File(f, "r") for f in sys.argv[1:])
for k in ("train_loss", "test_loss", "train_acc", "test_acc"):
    assert np.array_equal(a["metrics"][k][:], b["metrics"][k][:]), k
for k in b["checkpoints"]:
    assert np.array_equal(a["checkpoints"][k][:], b["checkpoints"][k][:]), k
PY
run "$GS" analyze "$T/old.h5" --quiet
finish
