#!/bin/sh
# gen_man.sh GROKSCOPE CMD OUT.1 [CMD...]: the man page of `grokscope CMD` (CMD "-": of
# grokscope itself, with SEE ALSO naming the subcommand pages given after OUT) written by
# help2man from the --help text, so the pages always say what --help says.
# The one-line NAME of a subcommand is its line in `grokscope --help`.
set -eu
gs=$1; cmd=$2; out=$3; shift 3
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# help2man runs a program with --help and --version: a wrapper that gives it the
# subcommand's text, with "usage:" and the continuation lines in help2man's form
# ("Usage:", "  or:") so that they become the SYNOPSIS.
cat > "$tmp/grokscope" <<WRAP
#!/bin/sh
case "\$1" in
--version) exec "$gs" --version ;;
esac
if [ "$cmd" = - ]; then
    "$gs" --help | sed -n 1p
    printf '\nTrains the one-layer transformer of Nanda et al. 2023 on modular arithmetic, checkpoints\n'
    printf 'its weights to HDF5 run files, and measures and plots how it groks.\n'
else "$gs" $cmd --help; fi | awk '
  NR == 1 && sub(/^usage:/, "Usage:") { u = 1; print; next }
  u && /^       grokscope/ { sub(/^       /, "  or: "); print; next }
  { u = 0; print }'
WRAP
chmod +x "$tmp/grokscope"

if [ "$cmd" = - ]; then
    name="train, inspect and analyse grokking runs of modular-arithmetic transformers"
    {
        # the command list of --help as tagged paragraphs
        echo "[COMMANDS]"
        "$gs" --help | awk '
            /^  [a-z]/ { if (s != "") print s; s = ".TP\n.B " $1 "\n"; sub(/^  [a-z]+ +/, ""); s = s $0; next }
            /^          / && s != "" { sub(/^ +/, ""); s = s " " $0 }
            END { if (s != "") print s }'
        echo "[SEE ALSO]"
        first=1
        for c in "$@"; do
            [ $first = 1 ] || printf ',\n'
            printf '.BR grokscope\\-%s (1)' "$c"
            first=0
        done
        printf '\n.PP\nThe C library: grokscope.h, pkg-config grokscope (docs/api.md in the sources).\n'
    } > "$tmp/include"
    title=GROKSCOPE; prog=grokscope
else
    # "  train   train the one-layer ...\n          arithmetic, ..." -> one line
    name=$("$gs" --help | awk -v c="$cmd" '
        $1 == c && /^  [a-z]/ { sub(/^  [a-z]+ +/, ""); s = $0; on = 1; next }
        on && /^          / { sub(/^ +/, ""); s = s " " $0; next }
        { on = 0 }
        END { print s }')
    [ -n "$name" ] || { echo "gen_man.sh: '$cmd' is not in grokscope --help" >&2; exit 1; }
    printf '[SEE ALSO]\n.BR grokscope (1)\n' > "$tmp/include"
    title=GROKSCOPE-$(echo "$cmd" | tr a-z A-Z); prog=grokscope-$cmd
fi
help2man --no-info --no-discard-stderr --name="$name" --include="$tmp/include" \
    --output="$tmp/page" "$tmp/grokscope"
# help2man names the page after the wrapper; a subcommand's page is grokscope-CMD
sed -e "s/^\.TH GROKSCOPE /.TH $title /" \
    -e "/^\.SH NAME/{n;s/^grokscope /$(echo "$prog" | sed 's/-/\\\\-/g') /;}" \
    "$tmp/page" > "$out"
