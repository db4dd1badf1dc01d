#!/usr/bin/python3
"""Linear CKA by its n x n kernel definition (Kornblith et al. 2019), an oracle for
probes/kernel.c, which never forms the kernels. Reads a file: int32 a, b, n, then X
[a, n] and Y [b, n] as float64 (feature-major); prints CKA(X, Y).
    K = X^T X, L = Y^T Y, H = I - 11^T/n,
    HSIC(K, L) = tr(K H L H) / (n - 1)^2,  CKA = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L))"""
import sys

import numpy as np

raw = open(sys.argv[1], "rb").read()
a, b, n = np.frombuffer(raw, dtype=np.int32, count=3)
X = np.frombuffer(raw, dtype=np.float64, count=a * n, offset=12).reshape(a, n)
Y = np.frombuffer(raw, dtype=np.float64, count=b * n, offset=12 + 8 * a * n).reshape(b, n)
H = np.eye(n) - np.ones((n, n)) / n
K, L = X.T @ X, Y.T @ Y


def hsic(K, L):
    return np.trace(K @ H @ L @ H) / (n - 1) ** 2


print(f"{hsic(K, L) / np.sqrt(hsic(K, K) * hsic(L, L)):.17g}")
