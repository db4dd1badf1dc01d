#!/usr/bin/python3
"""read_run.py RUN.h5 [--epoch E] [--tol T]: a grokscope run file in Python (docs/python.md).

Loads one checkpoint (default: the last) into a dict keyed like a TransformerLens state
dict ("embed.W_E", "blocks.0.attn.W_Q", ...), runs the one-layer transformer's forward
pass in numpy (docs/science.md section 2) on the run's training and test pairs, and
compares the cross-entropy with the train/test loss the trainer recorded for that
epoch. Exit status 0 if both agree within T (default 1e-5, relative to max(1, loss)),
1 if not, 2 on bad input. Needs Debian's python3-h5py and python3-numpy only.
"""
import argparse
import sys

import h5py
import numpy as np


def answer(op, p, x, y):
    """The answer to (x op y) mod p for arrays x, y, as `grokscope train --list-ops` says."""
    inv = np.array([pow(int(v), p - 2, p) if v else 0 for v in range(p)])  # p prime
    ops = {
        "add": lambda: x + y,
        "sub": lambda: x - y,
        "mul": lambda: x * y,
        "div": lambda: x * inv[y],
        "x2y2": lambda: x**2 + y**2,
        "x2xyy2": lambda: x**2 + x * y + y**2,
        "x2xyy2x": lambda: x**2 + x * y + y**2 + x,
        "x3xy": lambda: x**3 + x * y,
        "x3xy2y": lambda: x**3 + x * y**2 + y,
        "x2y": lambda: x**2 + y,
        "x3y": lambda: x**3 + y,
        "div-or-sub": lambda: np.where(y % 2 == 1, x * inv[y], x - y),
        "add-or-mul": lambda: np.where(x % 2 == 0, x + y, x * y),
        "add-or-sub": lambda: np.where(x % 2 == 0, x + y, x - y),
    }
    if op not in ops:
        sys.exit(f"read_run.py: op {op} is not implemented here (the S5 tasks need permutations)")
    return ops[op]() % p


def load_checkpoint(f, epoch=None):
    """(state_dict, epoch): the weights of the checkpoint of `epoch` (None: the last)."""
    epochs = f["checkpoints/epoch"][:]
    # rows past the committed checkpoints (a run being written) hold -1 (docs/run-file.md)
    committed = epochs[epochs >= 0]
    if epoch is None:
        k = len(committed) - 1
    elif epoch in committed:
        k = int(np.flatnonzero(committed == epoch)[0])
    else:
        sys.exit(f"read_run.py: no checkpoint at epoch {epoch}")
    state = {key: ds[k] for key, ds in f["checkpoints"].items() if key != "epoch"}
    return state, int(epochs[k])


def forward(state, a, b, p):
    """Logits [n, p+1] of the pairs (a, b): float32 weights, computed in float64."""
    sd = {k: v.astype(np.float64) for k, v in state.items()}
    W_E, W_pos = sd["embed.W_E"], sd["pos_embed.W_pos"]
    W_Q, W_K, W_V, W_O = (sd[f"blocks.0.attn.{w}"] for w in ("W_Q", "W_K", "W_V", "W_O"))
    d_head = W_Q.shape[2]
    tokens = np.stack([a, b, np.full_like(a, p)], axis=1)              # [n, 3]
    x0 = W_E[tokens] + W_pos[None]                                     # [n, 3, D]
    q = np.einsum("ntd,hde->nhte", x0, W_Q)
    k = np.einsum("ntd,hde->nhte", x0, W_K)
    v = np.einsum("ntd,hde->nhte", x0, W_V)
    scores = np.einsum("nhte,nhse->nhts", q, k) / np.sqrt(d_head)
    causal = np.triu(np.ones((3, 3), dtype=bool), 1)                   # s > t masked
    scores = np.where(causal, -np.inf, scores)
    scores -= scores.max(axis=-1, keepdims=True)
    attn = np.exp(scores)
    attn /= attn.sum(axis=-1, keepdims=True)
    z = np.einsum("nhts,nhse->nhte", attn, v)
    x1 = x0 + np.einsum("nhte,hed->ntd", z, W_O)
    # one layer: only the last position reaches the output
    r = x1[:, 2]
    hidden = np.maximum(r @ sd["blocks.0.mlp.W_in"] + sd["blocks.0.mlp.b_in"], 0.0)
    x2 = r + hidden @ sd["blocks.0.mlp.W_out"] + sd["blocks.0.mlp.b_out"]
    return x2 @ sd["unembed.W_U"]                                      # [n, p+1]


def cross_entropy(logits, target):
    """Mean cross-entropy in nats over all p+1 outputs, in float64."""
    m = logits.max(axis=1, keepdims=True)
    logsumexp = m[:, 0] + np.log(np.exp(logits - m).sum(axis=1))
    return float(np.mean(logsumexp - logits[np.arange(len(target)), target]))


def unsupported(cfg):
    """Why this forward pass is not the run's (None if it is): it is the paper's one-block
    transformer with the float64 cross-entropy; other models and losses (docs/models.md,
    docs/interventions.md; their /config attributes are absent in older files) are not
    implemented here."""
    def text(name, default):
        v = cfg.get(name, default)
        return v.decode() if isinstance(v, bytes) else str(v)
    if text("model", "transformer") != "transformer":
        return f"model {text('model', '')}"
    if int(cfg.get("n_layers", 1)) != 1:
        return f"a transformer of {int(cfg['n_layers'])} blocks"
    if text("loss", "ce") != "ce":
        return f"loss {text('loss', '')}"
    if float(cfg.get("output_scale", 1.0)) != 1.0:
        return f"output scale {float(cfg['output_scale']):g}"
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[2])
    ap.add_argument("run")
    ap.add_argument("--epoch", type=int, default=None)
    ap.add_argument("--tol", type=float, default=1e-5)
    args = ap.parse_args()
    try:
        f = h5py.File(args.run, "r", swmr=True)
    except OSError as e:
        sys.exit(f"read_run.py: {args.run}: {e}")
    with f:
        why = unsupported(f["config"].attrs)
        if why:
            print(f"read_run.py: {args.run}: {why}: only the one-block transformer with the "
                  "cross-entropy loss is implemented here", file=sys.stderr)
            return 2
        p = int(f["config"].attrs["p"])
        op = f["config"].attrs["op"]
        op = op.decode() if isinstance(op, bytes) else str(op)
        state, epoch = load_checkpoint(f, args.epoch)
        recorded = {name: float(f["metrics"][name][epoch]) for name in ("train_loss", "test_loss")}
        sets = {"train_loss": f["data/train_idx"][:], "test_loss": f["data/test_idx"][:]}
    print(f"{args.run}: op {op}, p = {p}, checkpoint of epoch {epoch}")
    for key, w in state.items():
        print(f"  {key:24s} {str(list(w.shape)):16s} {w.dtype}")
    bad = 0
    for name, idx in sets.items():
        a, b = idx.astype(np.int64) // p, idx.astype(np.int64) % p
        loss = cross_entropy(forward(state, a, b, p), answer(op, p, a, b))
        diff = abs(loss - recorded[name])
        ok = diff <= args.tol * max(1.0, abs(recorded[name]))
        bad += not ok
        print(f"{name:10s} numpy {loss:.10f}  recorded {recorded[name]:.10f}  "
              f"|diff| {diff:.2e}  {'ok' if ok else 'DIFFERENT'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
