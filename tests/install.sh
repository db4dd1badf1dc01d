#!/bin/bash
# `meson install` into a temporary folder (DESTDIR) gives a well-behaved installation:
# the binary, the shared library (soname, only grokscope_* exported, every function of
# the header among them) and the static one, the header, grokscope.pc, one man page per
# subcommand of `grokscope --help` (each naming every option of the command's --help),
# and a bash completion that completes subcommands, options, sweep's subcommands and
# --op values. Then examples/train_and_measure.c is compiled against the INSTALLED
# library with pkg-config (shared and static) and run.
# usage: install.sh BUILD_ROOT SOURCE_ROOT [B_SANITIZE]
BUILD=$(cd "$1" && pwd); SRC=$(cd "$2" && pwd)
# a sanitized build's library needs the example built with the same sanitizers
SAN=()
[ -n "${3:-}" ] && [ "$3" != none ] && SAN=("-fsanitize=$3")
source "$SRC/tests/lib.sh"
D="$T/dest"
if meson install -C "$BUILD" --destdir "$D" --no-rebuild --quiet >"$T/install.out" 2>&1; then ok; else
    bad "meson install:"; cat "$T/install.out"; finish; fi
prefix=$(meson introspect "$BUILD" --buildoptions | $PY -c '
import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))' 2>/dev/null ||
    echo /usr/local)
P="$D$prefix"
GS="$P/bin/grokscope"
pc=$(find "$P" -name grokscope.pc | head -1)
lib=$(dirname "$(dirname "$pc")")
for f in "$GS" "$P/include/grokscope.h" "$pc" "$lib/libgrokscope.a" "$lib/libgrokscope.so" \
         "$lib/libgrokscope.so.0"; do
    [ -e "$f" ] && ok || bad "not installed: ${f#$D}"
done
"$GS" --version | grep -q "^grokscope [0-9]" && ok || bad "installed grokscope --version"

# ---- the shared library: soname, exports ----
so="$lib/libgrokscope.so"
objdump -p "$so" | grep -q "SONAME *libgrokscope.so.0$" && ok || bad "soname is not libgrokscope.so.0"
nm -D --defined-only "$so" | awk '{print $NF}' | sort -u >"$T/exports"
others=$(grep -v '^grokscope_' "$T/exports")
[ -z "$others" ] && ok || bad "exported beyond the API: $(echo $others | head -c 300)"
grep -oE 'grokscope_[a-z0-9_]+\(' "$P/include/grokscope.h" | tr -d '(' | sort -u >"$T/declared"
missing=$(comm -23 "$T/declared" "$T/exports")
[ -z "$missing" ] && ok || bad "declared in grokscope.h, not exported: $missing"
extra=$(comm -13 "$T/declared" "$T/exports")
[ -z "$extra" ] && ok || bad "exported, not declared in grokscope.h: $extra"

# ---- man pages: one per subcommand of --help, each with every option of its --help ----
cmds=$("$GS" --help | awk '/^  [a-z]+ / { print $1 }')
[ -n "$cmds" ] && ok || bad "no subcommands in grokscope --help"
man1="$P/share/man/man1"
if ! command -v help2man >/dev/null || ! command -v man >/dev/null; then
    skip "man pages: help2man or man missing (apt-get install help2man man-db)"
else
[ -s "$man1/grokscope.1" ] && ok || bad "no grokscope(1)"
for c in $cmds; do
    page="$man1/grokscope-$c.1"
    if [ ! -s "$page" ]; then bad "no man page grokscope-$c(1) (dist/meson.build gs_subcommands)"; continue; fi
    text=$(MANWIDTH=200 man -l "$page" 2>/dev/null)
    for o in $("$GS" "$c" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
        grep -qF -- "$o" <<<"$text" || { bad "grokscope-$c(1) lacks $o"; break; }
    done
    grep -q "grokscope-$c" <<<"$text" && ok || bad "grokscope-$c(1): wrong NAME"
    grep -qF "grokscope-$c" <<<"$(MANWIDTH=200 man -l "$man1/grokscope.1")" && ok || bad "grokscope(1) does not list grokscope-$c"
done
ls "$man1" | sed -n 's/^grokscope-\(.*\)\.1$/\1/p' | while read -r c; do
    grep -qx "$c" <<<"$cmds" || echo "$c"; done >"$T/stale"
[ ! -s "$T/stale" ] && ok || bad "man pages of commands grokscope --help does not have: $(cat "$T/stale")"
fi

# ---- bash completion, driven as bash drives it ----
comp=$(find "$P/share" -path '*bash-completion/completions/grokscope' | head -1)
[ -n "$comp" ] && ok || bad "no bash completion installed under share/bash-completion/completions"
complete_words() { # complete_words WORD... : the candidates for the last word
    bash --norc --noprofile -c 'source "$1"; shift
        complete -p grokscope | grep -q -- "-F _grokscope" || { echo "NOT REGISTERED"; exit; }
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
        _grokscope grokscope "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" "$@" | sort | tr '\n' ' '
}
[ "$(complete_words grokscope tr)" = "train " ] && ok || bad "grokscope tr<TAB>: '$(complete_words grokscope tr)'"
[ "$(complete_words grokscope '')" = "$(printf '%s\n' $cmds --help --version | sort | tr '\n' ' ')" ] && ok ||
    bad "grokscope <TAB>: '$(complete_words grokscope '')'"
[ "$(complete_words grokscope train --d-m)" = "--d-mlp --d-model " ] && ok ||
    bad "grokscope train --d-m<TAB>: '$(complete_words grokscope train --d-m)'"
[ "$(complete_words grokscope analyze --fo)" = "--follow " ] && ok || bad "analyze --fo<TAB>"
[ "$(complete_words grokscope train --op add-or)" = "add-or-mul add-or-sub " ] && ok ||
    bad "train --op add-or<TAB>: '$(complete_words grokscope train --op add-or)'"
[ "$(complete_words grokscope sweep c)" = "collect create " ] && ok || bad "sweep c<TAB>: '$(complete_words grokscope sweep c)'"
[ "$(complete_words grokscope sweep s)" = "score slurm status " ] && ok || bad "sweep s<TAB>: '$(complete_words grokscope sweep s)'"
[ "$(complete_words grokscope data '')" = "check " ] && ok || bad "data <TAB>: '$(complete_words grokscope data '')'"
# every option of every command completes (one bash for all of them)
for c in $cmds; do
    for o in $("$GS" "$c" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do echo "$c $o"; done
done >"$T/pairs"
bash --norc --noprofile -c 'source "$1"
    while read -r c o; do
        COMP_WORDS=(grokscope "$c" "$o"); COMP_CWORD=2
        _grokscope grokscope "$o" "$c"
        printf " %s " "${COMPREPLY[@]}" | grep -qF -- " $o " || echo "grokscope $c $o<TAB> does not complete"
    done <"$2"' _ "$comp" "$T/pairs" >"$T/missing"
[ -s "$T/pairs" ] && [ ! -s "$T/missing" ] && ok || bad "$(cat "$T/missing")"
touch "$T/run-file.h5"
[ "$(cd "$T" && complete_words grokscope info run-f)" = "run-file.h5 " ] && ok || bad "file names do not complete"

# ---- the example against the installed library, found by pkg-config ----
# docs/api.md shows the example in full: the listing is the file
awk '/^```c$/ { on = 1; next } /^```$/ { on = 0 } on' "$SRC/docs/api.md" >"$T/listing.c"
cmp -s "$T/listing.c" "$SRC/examples/train_and_measure.c" && ok ||
    bad "docs/api.md's listing differs from examples/train_and_measure.c"
# The .pc says prefix=/usr/local; installed under $D, its prefix variable is redefined
# (--define-prefix guesses wrong on a multiarch libdir, lib/x86_64-linux-gnu, and
# PKG_CONFIG_SYSROOT_DIR would also move the -L of the dependencies, e.g. HDF5's).
pcdir=$(dirname "$pc")
pkg() { PKG_CONFIG_PATH="$pcdir" pkg-config --define-variable=prefix="$P" "$@" grokscope; }
[ "$(pkg --modversion)" = "$("$GS" --version | awk '{print $2}')" ] && ok || bad "pkg-config --modversion"
cd "$T" || exit 1
if cc "${SAN[@]}" -Wall -Wextra -Werror "$SRC/examples/train_and_measure.c" $(pkg --cflags --libs) -o example \
    2>"$T/cc.out"; then ok; else bad "cc example (shared):"; cat "$T/cc.out"; fi
if LD_LIBRARY_PATH="$lib" ./example "$T/example.h5" >"$T/example.out" 2>&1; then ok; else
    bad "example (shared) failed:"; cat "$T/example.out"; fi
LD_LIBRARY_PATH="$lib" ldd ./example | grep -q "libgrokscope.so.0 => $lib/" && ok || bad "example did not load the installed library: $(LD_LIBRARY_PATH="$lib" ldd ./example | grep grokscope)"
grep -q "recorded test loss .*: equal" "$T/example.out" && ok || bad "example output: $(cat "$T/example.out")"
grep -qE "key frequencies: [0-9]" "$T/example.out" && ok || bad "example run found no key frequencies"
# static: the archive, and what pkg-config --static says it needs
if cc "${SAN[@]}" "$SRC/examples/train_and_measure.c" $(pkg --cflags) "$lib/libgrokscope.a" \
    $(pkg --static --libs | sed 's/-lgrokscope//') -o example-static 2>"$T/cc.out"; then ok; else
    bad "cc example (static):"; cat "$T/cc.out"; fi
ldd ./example-static | grep -q grokscope && bad "static example links libgrokscope.so" || ok
./example-static "$T/example2.h5" >"$T/example2.out" 2>&1 && ok || { bad "example (static) failed:"; cat "$T/example2.out"; }
finish
