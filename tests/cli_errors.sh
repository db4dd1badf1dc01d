#!/usr/bin/env bash
# Every bad option or file: exactly one error line on stderr, exit status 2, and no
# file created or changed. Usage: cli_errors.sh GROKSCOPE
set -u
GS=$1
. "$(dirname "$0")/lib.sh"

# expect_error DESCRIPTION PATTERN -- ARGS...: exit 2, one stderr line matching PATTERN
expect_error() {
    local desc=$1 pattern=$2
    shift 3
    "$GS" "$@" >"$T/out" 2>"$T/err"
    local rc=$? lines
    lines=$(wc -l <"$T/err")
    if [ $rc -eq 2 ] && [ "$lines" -eq 1 ] && grep -qE -- "$pattern" "$T/err"; then
        ok
    else
        bad "$desc: exit $rc, $lines stderr lines (want 2, 1 line matching '$pattern'):"
        sed 's/^/    /' "$T/err"
    fi
    if [ -e "$T/new.h5" ]; then
        bad "$desc: left $T/new.h5 behind"
        rm -f "$T/new.h5"
    fi
}

O="--out $T/new.h5 --quiet"
expect_error "p < 3" "--p" -- train $O --p 2
expect_error "p not a number" "--p: 'abc' is not an integer" -- train $O --p abc
expect_error "p too large for memory" "--p" -- train $O --p 100000
expect_error "frac 0" "frac" -- train $O --frac 0
expect_error "frac 1" "frac" -- train $O --frac 1
expect_error "frac 1.5" "frac" -- train $O --frac 1.5
expect_error "frac nan" "frac" -- train $O --frac nan
expect_error "div non-prime" "prime" -- train $O --op div --p 8
expect_error "unknown op" "unknown operation 'pow'" -- train $O --op pow
expect_error "epochs 0" "--epochs" -- train $O --epochs 0
expect_error "epochs 1e30" "--epochs" -- train $O --epochs 1e30
expect_error "epochs overflow" "--epochs" -- train $O --epochs 99999999999999999999999
expect_error "every 0" "--every" -- train $O --every 0
expect_error "negative lr" "--lr" -- train $O --lr -1
expect_error "heads not dividing" "n_heads = 3 must divide d_model = 128" -- train $O --n-heads 3
expect_error "beta2 1" "beta2 = 1 must lie in" -- train $O --beta2 1
expect_error "missing value" "--seed needs a value" -- train $O --seed
expect_error "unknown option" "unknown option '--bogus'" -- train $O --bogus
expect_error "no --out" "missing --out" -- train --quiet
expect_error "unknown command" "unknown command" -- frobnicate

# files
printf 'not an hdf5 file\n' >"$T/text.h5"
: >"$T/empty.h5"
mkdir "$T/dir.h5"
files="missing.h5 text.h5 empty.h5 dir.h5"
# an HDF5 file that is no run file, made by hdf5-tools or h5py
if command -v h5mkgrp >/dev/null && h5mkgrp "$T/foreign.h5" /something; then
    files="$files foreign.h5"
elif have_h5py && $PY -c "import h5py,sys; h5py.File(sys.argv[1],'w').create_group('x')" "$T/foreign.h5"; then
    files="$files foreign.h5"
else
    skip "neither h5mkgrp (hdf5-tools) nor h5py: no foreign HDF5 file to try"
fi
for f in $files; do
    expect_error "info $f" "$f" -- info "$T/$f"
    expect_error "resume $f" "$f" -- train --resume "$T/$f" --quiet
    expect_error "init $f" "$f" -- train $O --init "$T/$f"
done
expect_error "info without file" "expected one run file" -- info
# each setting once: the last of two would otherwise win unseen
expect_error "an option twice" "--p is given twice" -- train $O --p 7 --p 11
expect_error "a choice twice" "--model is given twice" -- train $O --model mlp --model transformer
expect_error "contradicting switches" "--bias and --no-bias contradict" -- train $O --model mlp --bias --no-bias
expect_error "resume with a config option" "cannot be combined with --resume" -- train --resume "$T/x.h5" --p 7

# an existing file is never overwritten without --force
"$GS" train --out "$T/run.h5" --p 7 --d-model 8 --n-heads 2 --d-mlp 8 --epochs 3 --every 1 --quiet \
    || bad "training run.h5 failed"
sum=$(md5sum <"$T/run.h5")
expect_error "existing file" "already exists \(use --force to overwrite\)" -- train --out "$T/run.h5" --p 7 --epochs 2 --quiet
[ "$(md5sum <"$T/run.h5")" = "$sum" ] && ok || bad "existing file changed"
expect_error "resume a finished run" "already has 3 epochs" -- train --resume "$T/run.h5" --quiet
[ "$(md5sum <"$T/run.h5")" = "$sum" ] && ok || bad "finished run changed by a refused resume"
# a damaged last checkpoint (a flipped byte fails its checksum): the resume is refused
# before the file is opened for writing, so even its epoch count and status stay as they were
if have_h5py; then
    cp "$T/run.h5" "$T/damaged.h5"
    $PY - "$T/damaged.h5" <<'PY' || bad "damaging damaged.h5"
import h5py, sys
with h5py.File(sys.argv[1], "r") as f:
    d = f["checkpoints/embed.W_E"]
    info = d.id.get_chunk_info(d.id.get_num_chunks() - 1)
with open(sys.argv[1], "r+b") as raw:
    raw.seek(info.byte_offset + info.size // 2)
    b = raw.read(1)
    raw.seek(info.byte_offset + info.size // 2)
    raw.write(bytes([b[0] ^ 0x55]))
PY
    dsum=$(md5sum <"$T/damaged.h5")
    expect_error "resume from a damaged checkpoint" "damaged.h5" -- train --resume "$T/damaged.h5" --epochs 6 --quiet
    [ "$(md5sum <"$T/damaged.h5")" = "$dsum" ] && ok || bad "a refused resume of a damaged file changed it"
else
    skip "$PY lacks h5py: no damaged checkpoint to try"
fi
# --init with a shape mismatch (d_model 8 run into the default 128 model)
expect_error "init shape mismatch" "d_model=8.*expected" -- train $O --p 7 --init "$T/run.h5"
# a run file from a newer grokscope
cp "$T/run.h5" "$T/newer.h5"
if ! have_h5py; then
    skip "$PY lacks h5py: no newer-format file to try"
elif $PY - "$T/newer.h5" <<'PY'; then expect_error "newer format" "newer" -- info "$T/newer.h5"; else bad "making newer.h5"; fi
import h5py, sys
f = h5py.File(sys.argv[1], "r+")
for k in list(f.attrs):
    if k.startswith("format_version"):
        v = f.attrs[k]
        f.attrs[k] = "99.0" if isinstance(v, (str, bytes)) else 99
PY

finish
