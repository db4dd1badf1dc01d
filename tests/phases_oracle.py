"""An independent implementation (numpy) of the phase rules of docs/analysis.md, run on
a run file's /metrics and /analysis: prints the ten values of /analysis/phase_epochs
that the rules give, space-separated. Usage: phases_oracle.py RUN.h5"""
import math
import sys

import h5py
import numpy as np

ACC, START, SHARE, TAIL, HALF, FLAT, NOISE = 0.99, 0.10, 0.90, 0.5, 2, 0.05, 5.0


def first(mask, epochs):
    return int(epochs[np.argmax(mask)]) if mask.any() else -1


def levelled(ep, y, s):
    """Epoch at which y levelled off after index s, or -1."""
    m = len(y)
    if m - 1 - s < 2 * HALF + 1:
        return -1
    sm = np.array([np.median(y[max(0, i - HALF):min(m, i + HALF + 1)]) for i in range(m)])
    start, end = sm[s], sm[m - 1 - HALF]
    change = end - start
    noise = np.median(np.abs(y[s:] - sm[s:]))
    if abs(change) <= max(FLAT * (sm.max() - sm.min()), NOISE * noise):
        return int(ep[s])
    level = start + SHARE * change
    past = np.nonzero((sm[s:] - level) * change >= 0)[0]
    at = s + int(past[0]) if len(past) else m - 1
    if m - 1 - at < 2 * HALF + 1 or ep[-1] - ep[at] < TAIL * (ep[at] - ep[s]):
        return -1
    return int(ep[at])


def phases(f):
    m = f["metrics"]
    n = len(m["epoch"])
    e = m["epoch"][:n]
    cols = {k: m[k][:n] for k in ("train_loss", "test_loss", "train_acc", "test_acc")}
    ok = np.all([np.isfinite(v) for v in cols.values()], axis=0)
    n_ok = int(np.argmin(ok)) if not ok.all() else n
    e = e[:n_ok]
    tl, tra, tea = cols["test_loss"][:n_ok], cols["train_acc"][:n_ok], cols["test_acc"][:n_ok]
    out = dict(mem=-1, circ=-1, clean=-1, fitted=-1, grokked=-1, lev=[-1] * 4, through=0)
    if n_ok == 0:
        return out
    out["through"] = int(e[-1])
    out["fitted"], out["grokked"] = first(tra >= ACC, e), first(tea >= ACC, e)
    if out["fitted"] < 0:
        return out
    fit = int(np.nonzero(e == out["fitted"])[0][0])
    grok = int(np.nonzero(e == out["grokked"])[0][0]) if out["grokked"] >= 0 else -1
    last = n_ok - 1 if grok < 0 else max(grok, fit)
    peak = fit + int(np.argmax(tl[fit:last + 1]))
    if grok < 0 and peak == n_ok - 1:
        return out
    out["mem"] = int(e[peak])
    if grok < 0:
        return out
    log = np.log(np.maximum(tl, 1e-300))
    level = log[peak] - START * (log[peak] - log[last])
    fall = peak + int(np.argmax(log[peak:last + 1] <= level))
    out["circ"] = int(e[fall])

    a = f["analysis"]
    k = int(np.sum(a["epoch"][:] >= 0))
    ce = a["epoch"][:k]
    series = [np.log(np.maximum(a["test_loss"][:k], 1e-300)), a["weight_norm"][:k],
              a["gini_embed"][:k], a["gini_neuron_logit"][:k]]
    good = np.all([np.isfinite(v) for v in series], axis=0) & (ce <= out["through"])
    m_ok = int(np.argmin(good)) if not good.all() else k
    ce = ce[:m_ok]
    s = int(np.searchsorted(ce, out["circ"]))
    if s == m_ok:
        return out
    out["lev"] = [levelled(ce, v[:m_ok], s) for v in series]
    if min(out["lev"]) >= 0:
        out["clean"] = max(out["circ"], max(out["lev"]))
    return out


if __name__ == "__main__":
    with h5py.File(sys.argv[1], "r") as f:
        p = phases(f)
    print(*([p["mem"], p["circ"], p["clean"], p["fitted"], p["grokked"]] + p["lev"] + [p["through"]]))
