# Shared by the shell tests: a temporary directory removed on exit, pass/fail counters
# and the closing "N passed, M failed" line (source it, then call finish at the end).
PY=/usr/bin/python3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
finish() {
    echo "$pass passed, $fail failed"
    [ $fail -eq 0 ]
}
