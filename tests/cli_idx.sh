#!/usr/bin/env bash
# `grokscope data check DIR` as a user runs it on Debian's Fashion-MNIST (the
# dataset-fashion-mnist package; skipped without it): counts, the label histogram
# (against Python's own count), --train-size, --show, plain files beside .gz ones; and
# broken directories, each one error line on stderr naming the file, exit 2, nothing on
# stdout. Usage: cli_idx.sh GROKSCOPE [DATA_DIR]
set -u
GS=$1
D=${2:-/usr/share/datasets/fashion-mnist}
. "$(dirname "$0")/lib.sh"
if [ ! -f "$D/train-images-idx3-ubyte.gz" ]; then
    echo "SKIP: $D/train-images-idx3-ubyte.gz not found (Debian's dataset-fashion-mnist; setup.sh installs it)"
    exit 77
fi
# expect_error NAME WORDS ARGS...: exit 2, stdout empty, one stderr line holding WORDS
expect_error() {
    local name=$1 words=$2; shift 2
    "$GS" "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    if [ $rc -eq 2 ] && [ ! -s "$T/out" ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -qF -- "$words" "$T/err"; then
        ok
    else
        bad "$name: exit $rc, wanted 2 and one line with '$words'; stderr:"; cat "$T/err"; head -3 "$T/out"
    fi
}

# the whole set
"$GS" data check "$D" >"$T/all" 2>"$T/err" && [ ! -s "$T/err" ] && ok || { bad "data check $D exited $?"; cat "$T/err"; }
grep -q "^train      60000 images of 28x28, mean pixel 0.2860$" "$T/all" && ok || { bad "train line"; cat "$T/all"; }
grep -q "^test       10000 images of 28x28, mean pixel 0.2868$" "$T/all" && ok || { bad "test line"; cat "$T/all"; }
grep -q "^           $D/t10k-labels-idx1-ubyte.gz$" "$T/all" && ok || bad "the test labels' path is not printed"
[ "$(grep -c "^           count   6000   6000   6000   6000   6000   6000   6000   6000   6000   6000$" "$T/all")" -eq 1 ] \
    && [ "$(grep -c "^           count   1000   1000   1000   1000   1000   1000   1000   1000   1000   1000$" "$T/all")" -eq 1 ] \
    && ok || { bad "label histograms"; cat "$T/all"; }
grep -q "^checked    all four files to their end: .*, gzip checksums$" "$T/all" && ok || bad "checked line"

# the first 1000, as Omnigrok trains on: the histogram is Python's count of those labels
"$GS" data check "$D" --train-size 1000 --test-size=2000 >"$T/some" 2>"$T/err" && ok || { bad "--train-size 1000 exited $?"; cat "$T/err"; }
grep -q "^train      1000 images of 28x28 (the first 1000 of the 60000 in the file), mean pixel " "$T/some" \
    && grep -q "^test       2000 images of 28x28 (the first 2000 of the 10000 in the file)" "$T/some" \
    && ok || { bad "--train-size / --test-size lines"; cat "$T/some"; }
want=$($PY -c '
import gzip, sys
lab = gzip.open(sys.argv[1], "rb").read()[8:8 + 1000]
print("           count" + "".join(" %6d" % lab.count(bytes([k])) for k in range(10)))' "$D/train-labels-idx1-ubyte.gz")
[ -n "$want" ] && [ "$(grep "count" "$T/some" | head -1)" = "$want" ] && ok \
    || { bad "the first 1000 labels' histogram differs from Python's: $want"; cat "$T/some"; }

# --show draws 28 rows; image 0 of Fashion-MNIST is an ankle boot (label 9)
"$GS" data check "$D" --train-size 10 --show 0 >"$T/show" 2>&1 && ok || bad "--show 0 exited $?"
grep -q "^training image 0, label 9:$" "$T/show" && [ "$(grep -c '^  |.\{56\}|$' "$T/show")" -eq 28 ] \
    && ok || { bad "--show 0 picture"; cat "$T/show"; }

# plain files are read as well as .gz, and preferred when both are there
mkdir "$T/mixed"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte; do ln -s "$D/$f.gz" "$T/mixed/$f.gz"; done
for f in t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do gunzip -c "$D/$f.gz" >"$T/mixed/$f"; ln -s "$D/$f.gz" "$T/mixed/$f.gz"; done
"$GS" data check "$T/mixed" >"$T/mixed.out" 2>&1 && ok || { bad "mixed plain/gz exited $?"; cat "$T/mixed.out"; }
grep -q "^           $T/mixed/t10k-images-idx3-ubyte$" "$T/mixed.out" \
    && [ "$(sed -n '/^test /,$p' "$T/mixed.out" | grep -v "^data\|^hint\|^checked\|idx.-ubyte")" = "$(sed -n '/^test /,$p' "$T/all" | grep -v "^data\|^hint\|^checked\|idx.-ubyte")" ] \
    && ok || { bad "plain test files: other numbers or path"; cat "$T/mixed.out"; }

# broken directories: one line naming the file
brokendir() { rm -rf "$T/b"; mkdir "$T/b"; for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do ln -s "$D/$f.gz" "$T/b/$f.gz"; done; }
brokendir; rm "$T/b/t10k-labels-idx1-ubyte.gz"; head -c 3000 "$D/t10k-labels-idx1-ubyte.gz" >"$T/b/t10k-labels-idx1-ubyte.gz"
expect_error "truncated labels" "grokscope data check: $T/b/t10k-labels-idx1-ubyte.gz: truncated: the header announces 10000 labels" data check "$T/b"
brokendir; rm "$T/b/t10k-images-idx3-ubyte.gz"; head -c 2000000 "$D/t10k-images-idx3-ubyte.gz" >"$T/b/t10k-images-idx3-ubyte.gz"
expect_error "cut download" "$T/b/t10k-images-idx3-ubyte.gz: truncated: the header announces 10000 images of 28x28" data check "$T/b"
brokendir; rm "$T/b/train-images-idx3-ubyte.gz"; ln -s "$D/train-labels-idx1-ubyte.gz" "$T/b/train-images-idx3-ubyte.gz"
expect_error "swapped" "$T/b/train-images-idx3-ubyte.gz: an IDX labels file where the images were expected" data check "$T/b"
brokendir; rm "$T/b/t10k-labels-idx1-ubyte.gz"; gunzip -c "$D/t10k-labels-idx1-ubyte.gz" >"$T/b/t10k-labels-idx1-ubyte"
printf '\x0a' | dd of="$T/b/t10k-labels-idx1-ubyte" bs=1 seek=$((8 + 42)) conv=notrunc status=none
expect_error "label 10" "$T/b/t10k-labels-idx1-ubyte: label 10 at position 42" data check "$T/b"
brokendir; rm "$T/b/t10k-labels-idx1-ubyte.gz"
expect_error "missing file" "$T/b: no t10k-labels-idx1-ubyte or t10k-labels-idx1-ubyte.gz in this directory" data check "$T/b"
expect_error "missing directory" "grokscope data check: $T/nowhere: no such directory" data check "$T/nowhere"
expect_error "too many" "asked for the first 70000 training images, but $D/train-images-idx3-ubyte.gz holds only 60000" \
    data check "$D" --train-size 70000
expect_error "--show out of range" "--show 10: there are 10 training images (0..9)" data check "$D" --train-size 10 --show 10
expect_error "--train-size 0" "--train-size: 0 is out of range" data check "$D" --train-size 0
expect_error "--train-size abc" "--train-size: 'abc' is not an integer" data check "$D" --train-size abc
expect_error "no DIR" "expected a directory" data check
expect_error "unknown subcommand" "grokscope data: unknown subcommand 'verify'" data verify "$D"
"$GS" data --help | grep -q "^usage: grokscope data check DIR" && ok || bad "data --help"
"$GS" data check --help | grep -q "dataset-fashion-mnist" && ok || bad "data check --help"
"$GS" --help | grep -q "^  data    " && ok || bad "grokscope --help does not list data"
finish
