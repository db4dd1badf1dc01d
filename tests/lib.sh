# Shared by the shell tests: a temporary directory removed on exit, pass/fail/skip
# counters, the project's run-file checker, and the closing "N passed, M failed, K
# skipped" line (source it, then call finish at the end). finish exits 1 if a check
# failed, else 77 (meson's SKIP) if a check could not run, else 0.
PY=${GS_TEST_PYTHON:-/usr/bin/python3}   # GS_TEST_PYTHON=python3 (bare): try the skip paths
CHECK_RUN_FILE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/check_run_file.py"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0 skipped=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
skip() { skipped=$((skipped + 1)); echo "SKIP: $*"; }
# have_h5py: whether $PY has h5py and numpy (what the content checks and the run-file
# checker need; Debian's python3-h5py and python3-numpy)
have_h5py() { $PY -c "import h5py, numpy" 2>/dev/null; }
# check_run_file FILE...: the run-file contract holds (prints the problems otherwise)
check_run_file() {
    "$CHECK_RUN_FILE" "$@" >"$T/checker.out" 2>&1
    local rc=$?
    if [ $rc -eq 0 ]; then ok
    elif [ $rc -eq 77 ]; then skip "run-file checker: $(cat "$T/checker.out")"
    else bad "check_run_file.py rejects $*:"; sed 's/^/    /' "$T/checker.out"; fi
}
finish() {
    echo "$pass passed, $fail failed, $skipped skipped"
    [ $fail -eq 0 ] || exit 1
    [ $skipped -eq 0 ] || exit 77
    exit 0
}
