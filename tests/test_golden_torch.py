#!/usr/bin/python3
"""grokscope against PyTorch: trains the run a golden fixture describes (tests/data/,
made by tests/golden/make_torch_golden.py from the same initial weights) and compares
the train and test loss of every epoch, and each parameter's final sum of squares.

    test_golden_torch.py GROKSCOPE FIXTURE [EXTRA TRAIN OPTIONS ...]

Tolerances (relative): LOSS_TOL on every loss, SUMSQ_TOL on the sums of squares. Both
implementations compute in float32 with a float64 loss, but sum in different orders
(OpenBLAS sgemm vs PyTorch's kernels, the fast path's folded products), so they agree
to a few float32 roundings, not bit for bit: on p = 23 over 40 epochs the largest
difference measured was 4.2e-8 (train loss), 5.0e-8 (test loss) and 2.2e-7 (sums of
squares). The tolerances leave 20x room for other CPUs' BLAS kernels, and stay far below
what a real change does: lr 1e-3 -> 1.001e-3 moves the losses by 7e-4 relative, beta2
0.98 -> 0.981 by 6e-4, wd 1 -> 1.01 by 4e-4. The test also shows it can fail: the run
with lr x 1.001 must be rejected. EXTRA options are appended to the fixture's (e.g.
`--beta2 0.99`) to see the comparison fail by hand. Needs h5py and numpy, not torch.
"""
import os
import shlex
import subprocess
import sys
import tempfile

try:
    import h5py
    import numpy as np
except ImportError as e:
    print(f"SKIP: needs /usr/bin/python3 with h5py and numpy ({e})")
    sys.exit(77)

LOSS_TOL = 1e-6
SUMSQ_TOL = 5e-6
DRIFT = ["--lr", "1.001e-3"]   # a change the comparison must catch


def read_fixture(path):
    meta, rows, sumsq = {}, [], {}
    for line in open(path):
        if line.startswith("# options:"):
            meta["options"] = shlex.split(line.split(":", 1)[1])
        elif line.startswith("# config:"):
            meta["config"] = dict(kv.split("=", 1) for kv in line.split(":", 1)[1].split())
        elif line.startswith("# epochs:"):
            meta["epochs"] = int(line.split(":", 1)[1])
        elif line.startswith("sumsq "):
            _, key, v = line.split()
            sumsq[key] = float(v)
        elif line.strip() and not line.startswith("#"):
            e, tr, te = line.split()
            rows.append((int(e), float(tr), float(te)))
    assert {"options", "config", "epochs"} <= set(meta), f"{path}: no '# options/config/epochs:' line"
    assert [r[0] for r in rows] == list(range(meta["epochs"] + 1)), f"{path}: epoch rows"
    assert len(sumsq) == 11, f"{path}: {len(sumsq)} sumsq lines, expected 11"
    return meta, np.array([r[1:] for r in rows]), sumsq


def compare(gs, tmp, meta, golden, sumsq, extra):
    """The problems of a grokscope run with the fixture's options plus `extra` (and
    without extra options, a config that differs from the fixture's, e.g. a changed
    default)."""
    out = os.path.join(tmp, f"run{len(os.listdir(tmp))}.h5")
    E = meta["epochs"]
    subprocess.run([gs, "train", "--out", out, "--epochs", str(E), "--every", str(E), "--quiet",
                    *meta["options"], *extra], check=True)
    problems = []
    with h5py.File(out, "r") as f:
        for k, want in meta["config"].items():
            v = f["config"].attrs[k]
            have = repr(v.decode() if isinstance(v, bytes) else v.item())
            if not extra and have != want:
                problems.append(f"/config {k} is {have}, the fixture's run had {want}")
        for col, name in enumerate(("train_loss", "test_loss")):
            ours, theirs = f["metrics"][name][:], golden[:, col]
            rel = np.abs(ours - theirs) / np.abs(theirs)
            worst = int(np.argmax(rel))
            print(f"  {name}: largest relative difference {rel[worst]:.2g} at epoch {worst}")
            if rel[worst] > LOSS_TOL:
                e = int(np.argmax(rel > LOSS_TOL))
                problems.append(f"{name} at epoch {e}: grokscope {ours[e]:.17g}, PyTorch {theirs[e]:.17g} "
                                f"(relative {rel[e]:.2g} > {LOSS_TOL:g})")
        worst = 0.0
        for key, want in sumsq.items():
            have = float((f["checkpoints"][key][-1].astype(np.float64) ** 2).sum())
            rel = abs(have - want) / want
            worst = max(worst, rel)
            if rel > SUMSQ_TOL:
                problems.append(f"sum of squares of {key} after {E} epochs: grokscope {have:.17g}, "
                                f"PyTorch {want:.17g} (relative {rel:.2g} > {SUMSQ_TOL:g})")
        print(f"  sums of squares: largest relative difference {worst:.2g}")
    return problems


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip())
        return 2
    gs, fixture, extra = os.path.abspath(argv[1]), argv[2], argv[3:]
    meta, golden, sumsq = read_fixture(fixture)
    with tempfile.TemporaryDirectory() as tmp:
        print(f"grokscope train {' '.join(meta['options'] + extra)} --epochs {meta['epochs']} vs {fixture}:")
        problems = compare(gs, tmp, meta, golden, sumsq, extra)
        for p in problems:
            print(f"FAIL: {p}")
        if extra:
            return 1 if problems else 0
        print(f"with {' '.join(DRIFT)} (must differ):")
        if not compare(gs, tmp, meta, golden, sumsq, DRIFT):
            problems.append(f"the comparison cannot fail: {' '.join(DRIFT)} passes it too")
            print(f"FAIL: {problems[-1]}")
    print(f"{'FAILED' if problems else 'passed'}: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
