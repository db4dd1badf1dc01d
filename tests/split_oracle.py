#!/usr/bin/env python3
"""Golden oracle for the split and task tests: the paper's split straight from CPython's
random, and every operation's table computed here in plain Python, independently of
core/ (docs/tasks.md defines them).

usage: split_oracle.py P OP FRAC SEED
    prints "n_train n_test" on the first line, then the shuffled indices a*p+b (train
    first, then test), one per line.
usage: split_oracle.py --table P OP [P OP ...]
    prints the answer of every pair (a, b), a*p+b ascending, one per line; -1 where the
    answer is undefined; the tables one after the other.
usage: split_oracle.py --grok-table OP
    the S5 table of OP as openai/grok's data.py computes it (numpy's b[a] for s5-compose,
    sympy's a*b*~a and a*b*a for s5-conjugate and s5-xyx), tokens in
    itertools.permutations order; exit 77 without numpy or sympy.
"""
import itertools
import math
import random
import sys

S5 = list(itertools.permutations(range(5)))          # token t is S5[t]
S5_TOKEN = {perm: t for t, perm in enumerate(S5)}


def then(x, y):
    """The permutation "apply x, then y": i -> y(x(i))."""
    return tuple(y[x[i]] for i in range(5))


def inverse(x):
    inv = [0] * 5
    for i, v in enumerate(x):
        inv[v] = i
    return tuple(inv)


def answer(op, p, x, y):
    """The answer to the pair (x, y), or None where it is undefined."""
    def div(u, v):
        return u * pow(v, -1, p) % p if math.gcd(v, p) == 1 else None

    if op.startswith("s5-"):
        if p != 120:
            raise SystemExit(f"op {op} needs p = 120")
        a, b = S5[x], S5[y]
        c = {"s5-compose": lambda: then(a, b),
             "s5-conjugate": lambda: then(then(a, b), inverse(a)),
             "s5-xyx": lambda: then(then(a, b), a)}[op]()
        return S5_TOKEN[c]
    table = {
        "add": lambda: x + y, "sub": lambda: x - y, "mul": lambda: x * y,
        "div": lambda: div(x, y),
        "x2y2": lambda: x ** 2 + y ** 2, "x2xyy2": lambda: x ** 2 + x * y + y ** 2,
        "x2xyy2x": lambda: x ** 2 + x * y + y ** 2 + x, "x3xy": lambda: x ** 3 + x * y,
        "x3xy2y": lambda: x ** 3 + x * y ** 2 + y, "x2y": lambda: x ** 2 + y,
        "x3y": lambda: x ** 3 + y,
        "div-or-sub": lambda: div(x, y) if y % 2 == 1 else x - y,
        "add-or-mul": lambda: x + y if x % 2 == 0 else x * y,
        "add-or-sub": lambda: x + y if x % 2 == 0 else x - y,
    }
    if op not in table:
        raise SystemExit(f"unknown op {op!r}")
    c = table[op]()
    return None if c is None else c % p


def grok_table(op):
    """openai/grok grok/data.py, _make_binary_operation_data, for the S5 operators."""
    try:
        import numpy as np
        from sympy.combinatorics.permutations import Permutation
    except ImportError:
        sys.exit(77)
    out = []
    for a, b in itertools.product(S5, repeat=2):
        if op == "s5-compose":                 # their "s5": c = b[a] on numpy arrays
            c = tuple(int(v) for v in np.array(b)[np.array(a)])
        else:                                  # their "s5conj" and "s5aba", in sympy
            pa, pb = Permutation(list(a)), Permutation(list(b))
            c = tuple((pa * pb * (~pa) if op == "s5-conjugate" else pa * pb * pa).array_form)
        out.append(str(S5_TOKEN[c]))
    return out


def main():
    args = sys.argv[1:]
    if len(args) >= 3 and len(args) % 2 == 1 and args[0] == "--table":
        out = []
        for p, op in zip(map(int, args[1::2]), args[2::2]):
            out += [str(-1 if (c := answer(op, p, a, b)) is None else c)
                    for a in range(p) for b in range(p)]
    elif len(args) == 2 and args[0] == "--grok-table":
        out = grok_table(args[1])
    elif len(args) == 4:
        p, op, frac, seed = int(args[0]), args[1], float(args[2]), int(args[3])
        pairs = [(a, b) for a in range(p) for b in range(p) if answer(op, p, a, b) is not None]
        random.seed(seed)
        random.shuffle(pairs)
        n_train = int(frac * len(pairs))
        out = [f"{n_train} {len(pairs) - n_train}"]
        out.extend(str(a * p + b) for a, b in pairs)
    else:
        raise SystemExit(__doc__)
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
