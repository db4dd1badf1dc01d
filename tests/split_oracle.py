#!/usr/bin/env python3
"""Golden oracle for the split test: the paper's split straight from CPython's random.

usage: split_oracle.py P OP FRAC SEED
prints "n_train n_test" on the first line, then the shuffled indices a*p+b (train
first, then test), one per line.
"""
import random
import sys


def answer_defined(op, p, a, b):
    if op in ("add", "sub", "mul"):
        return True
    if op == "div":
        return b % p != 0
    raise SystemExit(f"unknown op {op!r}")


def main():
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    p, op, frac, seed = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    pairs = [(a, b) for a in range(p) for b in range(p) if answer_defined(op, p, a, b)]
    random.seed(seed)
    random.shuffle(pairs)
    n_train = int(frac * len(pairs))
    out = [f"{n_train} {len(pairs) - n_train}"]
    out.extend(str(a * p + b) for a, b in pairs)
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
