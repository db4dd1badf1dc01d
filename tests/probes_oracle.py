#!/usr/bin/env python3
"""Golden oracle for the probes test: restricted and excluded loss straight from the
formulas of docs/science.md §4 in numpy, written independently of probes/ (the Fourier rows are
built here, u from their products over the full p x p grid, dense projections). For mul
and div (docs/science.md §7) the directions are cos/sin(2 pi w (log a +- log b) / (p-1)) with the
discrete log base the smallest primitive root, found here by brute force; the pairs
holding 0 take no part (u = 0 there, and the mean and both losses leave them out).

usage: probes_oracle.py FILE
FILE (little-endian): int32 p, op (0 add, 1 sub, 2 mul, 3 div), n_key, n_train; int32
key_freqs[n_key]; int32 train_idx[n_train]; int32 target[p*p] (-1 = undefined); float64
L[p*p, p]. prints "restricted excluded" with 17 significant digits.
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
    p, op, n_key, n_train = (int(v) for v in np.frombuffer(raw, "<i4", 4))
    at = 16
    keys = np.frombuffer(raw, "<i4", n_key, at); at += 4 * n_key
    train = np.frombuffer(raw, "<i4", n_train, at); at += 4 * n_train
    target = np.frombuffer(raw, "<i4", p * p, at); at += 4 * p * p
    L = np.frombuffer(raw, "<f8", p * p * p, at).reshape(p * p, p)
    if op in (2, 3):
        dirs, group = log_directions(p, op, keys)
    else:
        dirs, group = additive_directions(p, op, keys), np.ones(p * p, bool)
    proj = np.zeros_like(L)
    for u in dirs:
        proj += np.outer(u, u @ L)
    restricted = L[group].mean(axis=0) + proj
    excluded = L - proj
    defined = (target >= 0) & group
    train = train[group[train]]
    r = cross_entropy(restricted[defined], target[defined])
    e = cross_entropy(excluded[train], target[train])
    print(f"{r:.17g} {e:.17g}")


def log_directions(p, op, keys):
    """u over the pairs (a, b) with a, b != 0: the Fourier directions of Z_(p-1) at
    s = log a + log b (mul) or log a - log b (div); 0 on the pairs holding 0."""
    n = p - 1
    g = next(g for g in range(2, p) if len({pow(g, k, p) for k in range(n)}) == n)
    log = np.full(p, -1)
    for k in range(n):
        log[pow(g, k, p)] = k
    a, b = np.divmod(np.arange(p * p), p)
    group = (a != 0) & (b != 0)
    s = np.where(group, (log[a] + (log[b] if op == 2 else -log[b])) % n, 0)
    dirs = []
    for w in keys:
        if 2 * w == n:   # Nyquist: cos(pi s) only, of norm 1 over the n^2 group pairs
            dirs.append(np.where(group, np.cos(np.pi * s) / n, 0.0))
            continue
        t = 2 * np.pi * w * s / n
        dirs += [np.where(group, np.sqrt(2) / n * np.cos(t), 0.0),
                 np.where(group, np.sqrt(2) / n * np.sin(t), 0.0)]
    return dirs, group


def additive_directions(p, op, keys):
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
    return dirs


if __name__ == "__main__":
    main()
