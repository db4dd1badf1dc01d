#!/usr/bin/python3
"""runs_equal.py A.h5 B.h5: exit 0 iff the two run files hold bit-identical metrics,
checkpoint epochs and weights, split and optimizer state (attributes such as the
command line may differ)."""
import sys
import h5py
import numpy as np

def open_run(path):
    # A writer killed with -9 leaves the file marked open for SWMR writing; SWMR
    # readers may still read it (as grokscope does), plain readers may not.
    try:
        return h5py.File(path, "r", swmr=True)
    except OSError:
        return h5py.File(path, "r")

a, b = (open_run(p) for p in sys.argv[1:3])
bad = 0
names = []
a.visit(lambda n: names.append(n) if isinstance(a[n], h5py.Dataset) else None)
for n in names:
    if n.startswith("analysis") or n == "status":
        continue
    if n not in b:
        print(f"{n}: missing in {sys.argv[2]}"); bad += 1; continue
    x, y = a[n][()], b[n][()]
    if x.shape != y.shape or x.dtype != y.dtype or x.tobytes() != y.tobytes():
        diff = ""
        if x.shape == y.shape and x.dtype.kind == "f":
            diff = f", max |diff| {np.nanmax(np.abs(x.astype(float) - y.astype(float)))}"
        print(f"{n}: differs (shapes {x.shape} vs {y.shape}{diff})"); bad += 1
others = []
b.visit(lambda n: others.append(n) if isinstance(b[n], h5py.Dataset) else None)
for n in others:
    if n not in a and not n.startswith("analysis"):
        print(f"{n}: missing in {sys.argv[1]}"); bad += 1
print(f"compared {len(names)} datasets: {'identical' if not bad else f'{bad} differ'}")
sys.exit(1 if bad else 0)
