#!/usr/bin/env bash
# grokscope sweep driven as a user would: create, run (2 at a time), status, collect
# (sweep.h5 and .csv checked value by value against the run files, the classes against
# an independent implementation of the documented rule), plot DIR; an interrupted
# sweep resumes to the same bits as an uninterrupted run; a failing point is reported
# and the others finish; every bad input gives one error line and changes nothing;
# the Slurm script (written with --dry-run, submitted to a fake sbatch) trains its
# task's points when run. Usage: cli_sweep.sh GROKSCOPE SRCDIR
set -u
GS=$(realpath "$1")
SRC=$2
. "$(dirname "$0")/lib.sh"
if ! $PY -c "import h5py, numpy" 2>/dev/null; then
    echo "note: $PY lacks h5py/numpy (apt-get install python3-h5py)"; echo "0 passed, 0 failed"; exit 77
fi
if ! command -v gnuplot >/dev/null; then
    echo "note: gnuplot is not installed (apt-get install gnuplot-nox)"; echo "0 passed, 0 failed"; exit 77
fi
run() { "$@" >"$T/out" 2>"$T/err" || { bad "command failed ($?): $*"; cat "$T/out" "$T/err"; }; }
# a listing of a directory's files with their checksums, to prove nothing changed
snapshot() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r md5sum); }

A=$T/A
BASE="--p 23 --frac 0.8 --epochs 250 --every 50"

# ---- create ----
run "$GS" sweep create "$A" --grid wd=1,5 --grid lr=3e-3,1e-2 --seeds 0-1 -- $BASE
grep -q "8 points, wd (2 values) x lr (2 values) x seed (2 values)" "$T/out" && ok || { bad "create summary"; cat "$T/out"; }
[ "$(grep -c '^point ' "$A/sweep.plan")" -eq 8 ] && grep -q "^train $BASE\$" "$A/sweep.plan" \
    && grep -q "^point 5 0005-wd5-lr3e-3-seed1.h5 1 0 1\$" "$A/sweep.plan" && ok || { bad "plan content"; cat "$A/sweep.plan"; }
"$GS" sweep status "$A" >"$T/out" && grep -q "0 of 8 points ended.*8 pending" "$T/out" && ok || { bad "status before"; cat "$T/out"; }
# the same sweep again is no change; another grid in the same directory is refused
run "$GS" sweep create "$A" --grid wd=1,5 --grid lr=3e-3,1e-2 --seeds 0-1 -- $BASE
grep -q "already holds this sweep" "$T/out" && ok || bad "re-create of the same sweep"

# ---- run ----
"$GS" sweep run "$A" --jobs 2 >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 0 ] && grep -q "^sweep 8/8 done  0 running  0 failed  0 waiting" "$T/err" \
    && grep -q "8 of 8 points done (0 before this run), 0 failed; .* wall, CPU busy" "$T/err"; then ok; else
    bad "sweep run: exit $rc"; cat "$T/err"; fi
[ "$(ls "$A"/*.h5 | wc -l)" -eq 8 ] && [ "$(ls "$A"/logs/*.log | wc -l)" -eq 8 ] && ok || bad "run files and logs"
grep -q "^== grokscope sweep: train started .*(threads 1): train $BASE --wd 5 --lr 3e-3 --seed 1 --out $A/0005-wd5-lr3e-3-seed1.h5 --threads 1\$" \
    "$A/logs/0005-wd5-lr3e-3-seed1.log" && grep -q "^== grokscope sweep: analyze ended: exit 0 after " \
    "$A/logs/0005-wd5-lr3e-3-seed1.log" && ok || { bad "log of point 5"; cat "$A/logs/0005-wd5-lr3e-3-seed1.log"; }
"$GS" sweep status "$A" >"$T/out" && grep -q "8 of 8 points ended (8 finished" "$T/out" && ok || { bad "status after"; cat "$T/out"; }
# a second run has nothing to do and touches nothing
before=$(snapshot "$A")
"$GS" sweep run "$A" >"$T/out" 2>"$T/err" && grep -q "8 done before, 0 to run" "$T/err" && ok || { bad "re-run"; cat "$T/err"; }
[ "$(snapshot "$A")" = "$before" ] && ok || bad "a re-run changed files"

# ---- collect ----
run "$GS" sweep collect "$A" --csv
grep -q "wrote $A/sweep.h5 and $A/sweep.csv: 8 points, 8 ended" "$T/out" && ok || { bad "collect output"; cat "$T/out"; }
$PY - "$A" <<'PY' && ok || bad "sweep.h5 / sweep.csv against the run files"
import csv, math, sys, h5py, numpy as np
d = sys.argv[1]
f = h5py.File(f"{d}/sweep.h5", "r")
g = f["points"]
assert f.attrs["format"] == b"grokscope-sweep-table", f.attrs["format"]
assert f.attrs["n_points"] == 8 and f.attrs["acc_threshold"] == 0.99 and f.attrs["grok_ratio"] == 2.0
assert f.attrs["keep_threshold"] == 0.9
cols = f.attrs["columns"].decode().split()
assert list(g) == cols, (list(g), cols)   # the group lists its columns in table order
n = len(g["index"])
classes = set()
for i in range(n):
    run = h5py.File(f"{d}/{g['file'].asstr()[i]}", "r")
    cfg = run["config"].attrs
    for axis in ("lr", "wd", "seed"):
        assert g[axis][i] == cfg[axis], (i, axis, g[axis][i], cfg[axis])
    m = run["metrics"]
    ep, tr, te = m["epoch"][:], m["train_acc"][:], m["test_acc"][:]
    def first(acc, level):
        hit = np.nonzero(acc >= level)[0]
        return int(ep[hit[0]]) if len(hit) else -1
    want = {"train_acc_50_epoch": first(tr, .5), "train_acc_99_epoch": first(tr, .99),
            "test_acc_50_epoch": first(te, .5), "test_acc_99_epoch": first(te, .99),
            "epochs_done": int(ep[-1]), "epochs": 250, "analysed": 1}
    for k, v in want.items():
        assert g[k][i] == v, (i, k, g[k][i], v)
    t99, g99 = want["train_acc_99_epoch"], want["test_acc_99_epoch"]
    k = max(1, int(0.1 * len(ep)))          # the end of the run: its last tenth
    tr_end, te_end = tr[-k:].mean(), te[-k:].mean()
    assert abs(g["end_train_acc"][i] - tr_end) < 1e-12 and abs(g["end_test_acc"][i] - te_end) < 1e-12, i
    # the documented rule, written independently
    cls = ("confusion" if t99 < 0 or tr_end < 0.9 else "memorization" if g99 < 0 or te_end < 0.9
           else "comprehension" if g99 <= 2 * t99 else "grokking")
    assert g["class"].asstr()[i] == cls, (i, g["class"].asstr()[i], cls)
    classes.add(cls)
    delay = g["delay"][i]
    assert (math.isnan(delay) and (t99 < 0 or g99 < 0)) or delay == g99 - t99, (i, delay)
    assert g["final_test_loss"][i] == m["test_loss"][-1] and g["final_train_acc"][i] == tr[-1]
    ph = run["analysis/phase_epochs"][:]
    # the three phase ends (rows 0-2 of the 10; all -1 until `through`, row 9, commits them)
    want = list(ph[:3]) if ph[-1] >= 0 else [-1, -1, -1]
    assert [g["memorization_end"][i], g["circuit_end"][i], g["cleanup_end"][i]] == want, (i, ph)
    keys = " ".join(str(k) for k in run["analysis/key_freqs"][:])
    assert g["key_freqs"].asstr()[i] == keys, (i, g["key_freqs"].asstr()[i], keys)
    assert g["status"].asstr()[i] == "finished" and g["wall_s"][i] > 0
assert len(classes) >= 2, classes   # the grid spans more than one outcome
rows = list(csv.DictReader(open(f"{d}/sweep.csv")))
assert len(rows) == n and list(rows[0]) == cols
for i, r in enumerate(rows):
    for c in cols:
        v = g[c][i]
        if isinstance(v, bytes):
            assert r[c] == v.decode(), (i, c, r[c], v)
        elif isinstance(v, float) or v.dtype.kind == "f":
            assert (math.isnan(v) and r[c] == "nan") or float(r[c]) == v, (i, c, r[c], v)
        else:
            assert int(r[c]) == v, (i, c, r[c], v)
PY

# ---- plot DIR ----
"$GS" plot "$A" >"$T/out" 2>"$T/err"
rc=$?
FIGS="sweep_phase_diagram sweep_grok_epoch sweep_delay sweep_test_acc"
expected=""
for f in $FIGS; do expected="$expected$A/plots/$f.png"$'\n'; done
if [ $rc -eq 0 ] && [ "$(cat "$T/out")"$'\n' = "$expected" ] && [ ! -s "$T/err" ]; then ok; else
    bad "plot DIR: exit $rc"; cat "$T/out" "$T/err"; fi
$PY - "$A" <<'PY' && ok || bad "sweep figures and their data"
import struct, sys, h5py
d = sys.argv[1]
for name in ("sweep_phase_diagram", "sweep_grok_epoch", "sweep_delay", "sweep_test_acc"):
    data = open(f"{d}/plots/{name}.png", "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 15000, name
    assert struct.unpack(">II", data[16:24]) == (1200, 750), name
g = h5py.File(f"{d}/sweep.h5", "r")["points"]
cls = g["class"].asstr()[:]
lines = [l.split() for l in open(f"{d}/plots/sweep_phase_diagram.dat") if l.strip() and l[0] != "#"]
assert len(lines) == 8
colour = {"comprehension": 0x009E73, "grokking": 0xE69F00, "memorization": 0x0072B2, "confusion": 0xD55E00}
for l in lines:
    point = int(l[10])
    assert l[9] == cls[point] and int(l[8]) == colour[cls[point]], l
    # x = wd (axis 0), y = lr (axis 1), a strip per seed
    assert (int(l[1]), int(l[2]), int(l[3])) == (point // 4, point // 2 % 2, point % 2), l
grok = [l.split() for l in open(f"{d}/plots/sweep_grok_epoch.dat") if l.strip() and l[0] != "#"]
assert len(grok) == 4
t99 = g["test_acc_99_epoch"][:]
for l in grok:
    i, j = int(l[1]), int(l[2])
    got = [t99[4 * i + 2 * j + r] for r in (0, 1) if t99[4 * i + 2 * j + r] >= 0]
    want = (got[0] * got[-1]) ** 0.5 if got else float("nan")
    assert (l[3] == "NaN" and not got) or abs(float(l[3]) - want) < 1e-9 * want, (l, got)
    assert int(l[4]) == len(got) and int(l[6]) == 2, l
PY
rm -f "$A/plots/sweep_phase_diagram.png"
(cd "$A/plots" && gnuplot sweep_phase_diagram.gp) 2>"$T/gp.err" && [ ! -s "$T/gp.err" ] \
    && [ -s "$A/plots/sweep_phase_diagram.png" ] && ok || { bad "standalone phase diagram script"; cat "$T/gp.err"; }
"$GS" plot "$A" --x lr --y seed --facet wd --format svg --out "$T/svg" >/dev/null 2>"$T/err" \
    && [ ! -s "$T/err" ] && grep -q "wd = 5" "$T/svg/sweep_phase_diagram.gp" && ok || { bad "plot --x --y --facet svg"; cat "$T/err"; }

# ---- interrupt and resume: the same bits as an uninterrupted run ----
B=$T/B
run "$GS" sweep create "$B" --grid lr=2e-3 -- --p 23 --frac 0.5 --epochs 500 --every 20
"$GS" sweep run "$B" --jobs 1 --threads 2 >"$T/out" 2>"$T/err" &
pid=$!
for _ in $(seq 300); do   # until the run has a few checkpoints
    "$GS" info "$B/0000-lr2e-3.h5" 2>/dev/null | grep -qE "progress .*, ([3-9]|[1-9][0-9]+) checkpoints" && break
    sleep 0.1
done
kill -INT $pid
wait $pid
rc=$?
if [ $rc -eq 130 ] && grep -q "0 of 1 points done (0 before this run), 0 failed, 1 interrupted" "$T/err" \
    && grep -q "interrupted; run grokscope sweep run $B again to resume" "$T/err"; then ok; else
    bad "interrupted sweep: exit $rc"; cat "$T/err"; fi
"$GS" sweep status "$B" | grep -qE "unfinished +[0-9]+/500" && ok || bad "status of an interrupted sweep"
run "$GS" sweep run "$B" --jobs 1 --threads 2
grep -q "^== grokscope sweep: resume started" "$B/logs/0000-lr2e-3.log" && ok || bad "the re-run did not resume"
run "$GS" train --out "$T/ref.h5" --p 23 --frac 0.5 --epochs 500 --every 20 --lr 2e-3 --threads 2 --quiet
$PY - "$T/ref.h5" "$B/0000-lr2e-3.h5" <<'PY' && ok || bad "resumed sweep point differs from an uninterrupted run"
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r") for p in sys.argv[1:])
for k in a["metrics"]:
    assert np.array_equal(a["metrics"][k][:], b["metrics"][k][:]), k
for k in a["checkpoints"]:   # the interrupted run has one more checkpoint; the last ones agree
    assert np.array_equal(a["checkpoints"][k][-1], b["checkpoints"][k][-1]), k
assert dict(a["config"].attrs) == dict(b["config"].attrs)
PY

# ---- failures: reported, the others still run ----
C=$T/C
run "$GS" sweep create "$C" --grid init="$B/0000-lr2e-3.h5,$T/missing.h5" --grid lr=1e-3,2e-3 -- --p 23 --frac 0.5 --epochs 20 --every 10
echo "not an HDF5 file" >"$C/$(sed -n 's/^point 1 \([^ ]*\) .*/\1/p' "$C/sweep.plan")"
"$GS" sweep run "$C" --jobs 2 >"$T/out" 2>"$T/err"
rc=$?
n_fail=$(grep -c "^grokscope sweep: point [0-9]* (.*) failed: " "$T/err")
if [ $rc -eq 1 ] && [ "$n_fail" -eq 3 ] && grep -q "point 1 (.*) failed: .*; move it away to train the point again" "$T/err" \
    && grep -q "point 2 (init=$T/missing.h5 lr=1e-3) failed: grokscope train: .*missing.h5" "$T/err" \
    && grep -q "1 of 4 points done (0 before this run), 3 failed" "$T/err"; then ok; else
    bad "failing points: exit $rc, $n_fail failures"; cat "$T/err"; fi
"$GS" sweep status "$C" >"$T/out"; grep -qE "^ +0 .*finished" "$T/out" && grep -q "1 unreadable" "$T/out" && ok \
    || { bad "status with failures"; cat "$T/out"; }

# ---- bad input: one line, exit 2, nothing written ----
E=$T/E
mkdir "$E"
expect_error() { # DESCRIPTION PATTERN DIR-TO-WATCH -- ARGS...
    local desc=$1 pattern=$2 watch=$3
    shift 4
    local before
    before=$(snapshot "$watch")
    if [ -n "${GS_PATH:-}" ]; then PATH=$GS_PATH "$GS" "$@"; else "$GS" "$@"; fi >"$T/out" 2>"$T/err"
    local rc=$? lines
    lines=$(wc -l <"$T/err")
    if [ $rc -eq 2 ] && [ "$lines" -eq 1 ] && grep -qE -- "$pattern" "$T/err"; then ok; else
        bad "$desc: exit $rc, $lines stderr lines (want 2, 1 line matching '$pattern')"; sed 's/^/    /' "$T/err"; fi
    [ "$(snapshot "$watch")" = "$before" ] && ok || bad "$desc: changed $watch"
}
N=$E/new
expect_error "unknown axis" "unknown axis 'foo': grokscope train has no option --foo" "$E" -- sweep create "$N" --grid foo=1,2
expect_error "switch axis" "--ieee-subnormals is a switch without a value" "$E" -- sweep create "$N" --grid ieee-subnormals=1
expect_error "empty grid" "axis 'lr' has no values" "$E" -- sweep create "$N" --grid lr=
expect_error "no axes" "no axes" "$E" -- sweep create "$N" -- --p 23
expect_error "axis twice" "axis 'lr' is given twice" "$E" -- sweep create "$N" --grid lr=1e-3 --grid lr=2e-3
expect_error "seed twice" "axis 'seed' is given twice" "$E" -- sweep create "$N" --grid seed=1 --seeds 0-2
expect_error "same value twice" "axis 'wd' lists the same value twice" "$E" -- sweep create "$N" --grid wd=1,1.0
expect_error "axis and option" "--lr is both an axis and a train option" "$E" -- sweep create "$N" --grid lr=1e-3 -- --lr 2e-3
expect_error "bad value" "axis 'lr': --lr: 'abc' is not a number" "$E" -- sweep create "$N" --grid lr=1e-3,abc
expect_error "bad combination" "point 1 \(d-model=128 n-heads=3\): n_heads = 3 must divide d_model = 128" "$E" -- \
    sweep create "$N" --grid d-model=128 --grid n-heads=4,3
expect_error "--out in the options" "names each point's run file" "$E" -- sweep create "$N" --grid lr=1 -- --out x.h5
expect_error "threads axis" "the sweep sets --threads" "$E" -- sweep create "$N" --grid threads=1,2
expect_error "bad train option" "train options: unknown option '--bogus'" "$E" -- sweep create "$N" --grid lr=1 -- --bogus
expect_error "bad range" "range '1..2:cubic:3'" "$E" -- sweep create "$N" --grid lr=1..2:cubic:3
expect_error "another sweep" "already holds another sweep" "$A" -- sweep create "$A" --grid wd=1,3 -- $BASE
cp "$A/0000-wd1-lr3e-3-seed0.h5" "$E/stray.h5"
expect_error "runs in the way" "stray.h5 is in the way" "$E" -- sweep create "$E" --grid lr=1e-3
rm "$E/stray.h5"
expect_error "not a sweep" "is not a sweep directory" "$E" -- sweep run "$E"
expect_error "--only out of range" "point 8 does not exist \(the sweep has 8 points, 0-7\)" "$A" -- sweep run "$A" --only 3,8
expect_error "unknown subcommand" "unknown subcommand 'start'" "$A" -- sweep start "$A"
cp "$A/0000-wd1-lr3e-3-seed0.h5" "$A/stray.h5"
for sub in run status collect "slurm --dry-run"; do
    expect_error "a stray run file ($sub)" "stray.h5 belongs to no point of the sweep" "$A" -- sweep $sub "$A"
done
expect_error "a stray run file (plot)" "stray.h5 belongs to no point of the sweep" "$A" -- plot "$A"
rm "$A/stray.h5"
# two run files swapped: each holds another point's run
mv "$A/0000-wd1-lr3e-3-seed0.h5" "$T/p0.h5"
mv "$A/0002-wd1-lr1e-2-seed0.h5" "$A/0000-wd1-lr3e-3-seed0.h5"
expect_error "a run file of another point" "0000-wd1-lr3e-3-seed0.h5 belongs to no point of the sweep: it holds a run with lr 0.01, not 0.003" \
    "$A" -- sweep run "$A"
mv "$A/0000-wd1-lr3e-3-seed0.h5" "$A/0002-wd1-lr1e-2-seed0.h5"
mv "$T/p0.h5" "$A/0000-wd1-lr3e-3-seed0.h5"
cp "$A/sweep.plan" "$T/plan" && sed -i 's/^axis lr .*/axis lr 3e-3/' "$A/sweep.plan"
expect_error "a damaged plan" "sweep.plan line [0-9]+: value index 1 of axis 'lr' is out of range" "$A" -- sweep status "$A"
cp "$T/plan" "$A/sweep.plan"

# ---- Slurm: the script, sbatch missing or refusing ----
D=$T/D
run "$GS" sweep create "$D" --grid lr=1e-3,2e-3,3e-3 -- --p 23 --frac 0.5 --epochs 30 --every 10
mkdir "$T/nobin" "$T/fakebin"
GS_PATH=$T/nobin expect_error "sbatch missing" "sbatch not found in PATH" "$D" -- sweep slurm "$D"
[ ! -e "$D/slurm" ] && ok || bad "sbatch missing: made $D/slurm"
cat >"$T/fakebin/sbatch" <<'EOF'
#!/bin/sh
echo "sbatch: error: invalid partition specified: nope" >&2
exit 1
EOF
chmod +x "$T/fakebin/sbatch"
GS_PATH="$T/fakebin:$PATH" expect_error "sbatch refuses" "sbatch refused the job \(exit status 1\): sbatch: error: invalid partition specified: nope" \
    "$D" -- sweep slurm "$D" --partition nope
[ ! -e "$D/slurm" ] && ok || bad "sbatch refused: left $D/slurm behind"
expect_error "bad partition word" "--partition 'a b' must be one word" "$D" -- sweep slurm "$D" --partition "a b" --dry-run
run "$GS" sweep slurm "$D" --dry-run --points-per-task 2 --cpus-per-task 2 --time 10 --sbatch-arg=--mem=1G
S=$D/slurm/submit-1.sbatch
grep -q "^wrote $S: a job array of 2 tasks (2 points each) over the 3 points not done" "$T/out" && ok || { bad "dry-run output"; cat "$T/out"; }
grep -q "^#SBATCH --array=0-1\$" "$S" && grep -q "^#SBATCH --cpus-per-task=2\$" "$S" && grep -q "^#SBATCH --time=10\$" "$S" \
    && grep -q "^#SBATCH --mem=1G\$" "$S" && grep -q "^  0-1\$" "$S" && grep -q "^  2\$" "$S" \
    && grep -q -- "--jobs 2 --threads 1\$" "$S" && bash -n "$S" && ok || { bad "script content"; cat "$S"; }
# the script trains its task's points (as a Slurm node would run it)
SLURM_ARRAY_TASK_ID=1 bash "$S" >"$T/out" 2>"$T/err" && "$GS" sweep status "$D" >"$T/out" \
    && grep -qE "^ +2 .*finished" "$T/out" && grep -qE "^ +0 .*pending" "$T/out" && ok || { bad "running the script"; cat "$T/err" "$T/out"; }
cat >"$T/fakebin/sbatch" <<EOF
#!/bin/sh
echo "\$@" >"$T/sbatch.args"
echo "4242"
EOF
PATH="$T/fakebin:$PATH" "$GS" sweep slurm "$D" >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 0 ] && grep -q "^submitted Slurm job array 4242: 2 tasks of up to 1 point (2 points to train); script $D/slurm/submit-2.sbatch" "$T/out" \
    && [ "$(cat "$T/sbatch.args")" = "--parsable $D/slurm/submit-2.sbatch" ] && grep -q "^  0\$" "$D/slurm/submit-2.sbatch" \
    && grep -q "^  1\$" "$D/slurm/submit-2.sbatch"; then ok; else bad "submission: exit $rc"; cat "$T/out" "$T/err"; fi
grep -q "^#SBATCH --array=0-1\$" "$D/slurm/submit-2.sbatch" && ok || bad "second submission covers the 2 points left"

finish
