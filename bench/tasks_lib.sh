# Sourced by tasks_table.sh and tasks_ladder.sh (their arguments are the ops): sets OUT
# (a temporary directory removed at exit, unless given), ops (the arguments, else every
# op `grokscope train --list-ops` lists) and prints the header's first line.
if [ -n "${OUT:-}" ]; then
    mkdir -p "$OUT"
else
    OUT=$(mktemp -d)
    trap 'rm -rf "$OUT"' EXIT
fi
ops=("$@")
[ ${#ops[@]} -gt 0 ] || mapfile -t ops < <("$GS" train --list-ops | sed -n 's/^  \([a-z0-9][a-z0-9-]*\)  .*/\1/p')
echo "grokscope $("$GS" --version | cut -d' ' -f2), $(nproc) CPUs ($THREADS threads), $(date -u +%Y-%m-%d)"
