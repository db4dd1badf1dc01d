#!/usr/bin/env python3
"""Golden oracle for the probes test: restricted and excluded loss straight from the
formulas of docs/science.md §4 in numpy, written independently of probes/ (the Fourier rows are
built here, u from their products over the full p x p grid, dense projections).

usage: probes_oracle.py FILE
FILE (little-endian): int32 p, op (0 add, 1 sub), n_key, n_train; int32 key_freqs[n_key];
int32 train_idx[n_train]; int32 target[p*p] (-1 = undefined); float64 L[p*p, p].
prints "restricted excluded" with 17 significant digits.
"""
import sys

import numpy as np


def fourier_rows(p, w):
    x = np.arange(p)
    cos = np.cos(2 * np.pi * w * x / p)
    sin = np.sin(2 * np.pi * w * x / p)
    cos /= np.linalg.norm(cos)
    sin_norm = np.linalg.norm(sin)
    return cos, (sin / sin_norm if sin_norm > 1e-9 else None)  # even p: no Nyquist sine


def cross_entropy(logits, target):
    mx = logits.max(axis=1, keepdims=True)
    lse = np.log(np.exp(logits - mx).sum(axis=1)) + mx[:, 0]
    return float(np.mean(lse - logits[np.arange(len(target)), target]))


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    raw = open(sys.argv[1], "rb").read()
    p, op, n_key, n_train = np.frombuffer(raw, "<i4", 4)
    at = 16
    keys = np.frombuffer(raw, "<i4", n_key, at); at += 4 * n_key
    train = np.frombuffer(raw, "<i4", n_train, at); at += 4 * n_train
    target = np.frombuffer(raw, "<i4", p * p, at); at += 4 * p * p
    L = np.frombuffer(raw, "<f8", p * p * p, at).reshape(p * p, p)
    dirs = []
    for w in keys:
        c, s = fourier_rows(p, w)
        if s is None:  # even-p Nyquist: cos(pi(a+b)) = cos(pi a) cos(pi b), one direction
            dirs.append(np.outer(c, c).reshape(-1))
            continue
        sign = -1.0 if op == 1 else 1.0  # sub: cos/sin of w(a-b)
        u_cos = (np.outer(c, c) - sign * np.outer(s, s)) / np.sqrt(2)
        u_sin = (np.outer(s, c) + sign * np.outer(c, s)) / np.sqrt(2)
        dirs += [u_cos.reshape(-1), u_sin.reshape(-1)]  # index a*p + b
    proj = np.zeros_like(L)
    for u in dirs:
        proj += np.outer(u, u @ L)
    restricted = L.mean(axis=0) + proj
    excluded = L - proj
    defined = target >= 0
    r = cross_entropy(restricted[defined], target[defined])
    e = cross_entropy(excluded[train], target[train])
    print(f"{r:.17g} {e:.17g}")


if __name__ == "__main__":
    main()
