#!/usr/bin/python3
"""Makes a golden fixture for tests/test_golden_torch.py: the same training run as
grokscope's, computed by an independent implementation, PyTorch.

    make_torch_golden.py GROKSCOPE OUT.txt --epochs E [grokscope train options ...]
    e.g. make_torch_golden.py build/src/grokscope tests/data/torch_golden_p23.txt \\
             --epochs 40 --p 23 --frac 0.5

It runs `grokscope train` for one epoch with the given options only to get the run's
configuration, its split (/data) and its initial weights (checkpoint 0); PyTorch cannot
reproduce grokscope's random init, so the two runs share it. From there everything is
PyTorch: the model of bench/torch_baseline.py (float32, every position through the
layer, the loss as float64 log-softmax at the last position over the p+1 outputs),
full-batch torch.optim.AdamW with the run's lr, wd, betas and eps, and LambdaLR's
linear warm-up lr_t = lr * min(t / warmup, 1), as docs/conventions.md says. Row e of the
fixture holds the train and test loss of the weights after e steps (grokscope's
/metrics row e); the last lines hold each parameter's sum of squares after E steps.

Needs Debian's python3-torch, python3-h5py and python3-numpy.
"""
import os
import shlex
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench"))
from torch_baseline import OneLayer, loss_and_acc  # noqa: E402

# TransformerLens key -> OneLayer attribute
KEYS = {"embed.W_E": "W_E", "pos_embed.W_pos": "W_pos", "blocks.0.attn.W_Q": "W_Q",
        "blocks.0.attn.W_K": "W_K", "blocks.0.attn.W_V": "W_V", "blocks.0.attn.W_O": "W_O",
        "blocks.0.mlp.W_in": "W_in", "blocks.0.mlp.b_in": "b_in", "blocks.0.mlp.W_out": "W_out",
        "blocks.0.mlp.b_out": "b_out", "unembed.W_U": "W_U"}


# the /config attributes that define the computation, recorded in the fixture
CONFIG = ["p", "op", "frac", "seed", "d_model", "n_heads", "d_head", "d_mlp", "lr", "wd",
          "beta1", "beta2", "eps", "warmup"]


def answers(op, a, b, p):
    if op == "add":
        return (a + b) % p
    if op == "sub":
        return (a - b) % p
    if op == "mul":
        return (a * b) % p
    return (a * np.array([pow(int(x), p - 2, p) for x in b])) % p   # div, p prime


def read_run(path):
    with h5py.File(path, "r") as f:
        cfg = {k: (v.decode() if isinstance(v, bytes) else v.item()) for k, v in f["config"].attrs.items()}
        assert f["checkpoints/epoch"][0] == 0
        weights = {k: f["checkpoints"][k][0] for k in KEYS}
        split = f["data/train_idx"][:], f["data/test_idx"][:]
    return cfg, weights, split


def main(argv):
    if len(argv) < 5 or argv[3] != "--epochs":
        print(__doc__.strip())
        return 2
    gs, out, epochs, options = argv[1], argv[2], int(argv[4]), argv[5:]
    with tempfile.TemporaryDirectory() as tmp:
        run = os.path.join(tmp, "init.h5")
        subprocess.run([gs, "train", "--out", run, "--epochs", "1", "--every", "1", "--quiet", *options],
                       check=True)
        cfg, weights, (train_idx, test_idx) = read_run(run)

    torch.set_num_threads(1)
    p = cfg["p"]
    model = OneLayer(p, cfg["d_model"], cfg["n_heads"], cfg["d_mlp"])
    with torch.no_grad():
        for key, attr in KEYS.items():
            getattr(model, attr).copy_(torch.from_numpy(weights[key]))

    def batch(idx):
        a, b = idx // p, idx % p
        x = torch.from_numpy(np.stack([a, b, np.full_like(a, p)], axis=1).astype(np.int64))
        return x, torch.from_numpy(answers(cfg["op"], a, b, p).astype(np.int64))

    train_x, train_y = batch(train_idx)
    test_x, test_y = batch(test_idx)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=cfg["wd"],
                            betas=(cfg["beta1"], cfg["beta2"]), eps=cfg["eps"])
    warmup = cfg["warmup"]
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: min(t / warmup, 1))

    rows = []
    for e in range(epochs + 1):
        train_loss, _ = loss_and_acc(model(train_x), train_y)   # the weights after e steps
        with torch.no_grad():
            test_loss, _ = loss_and_acc(model(test_x), test_y)
        rows.append((e, train_loss.item(), test_loss.item()))
        if e == epochs:
            break
        train_loss.backward()
        opt.step()
        sched.step()
        opt.zero_grad()
    sumsq = {key: float((getattr(model, attr).detach().double() ** 2).sum()) for key, attr in KEYS.items()}

    command = " ".join(shlex.quote(a) for a in
                       ["/usr/bin/python3", "tests/golden/make_torch_golden.py", "GROKSCOPE",
                        out, "--epochs", str(epochs), *options])
    with open(out, "w") as f:
        f.write(f"# PyTorch {torch.__version__} (bench/torch_baseline.py's model, torch.optim.AdamW, "
                f"LambdaLR warm-up) from grokscope's initial weights\n")
        f.write(f"# made by: {command}\n")
        f.write(f"# options: {' '.join(options)}\n")
        f.write("# config: " + " ".join(f"{k}={cfg[k]!r}" for k in CONFIG) + "\n")
        f.write(f"# epochs: {epochs}\n")
        f.write("# columns: epoch train_loss test_loss (nats, the weights after `epoch` steps)\n")
        for e, tr, te in rows:
            f.write(f"{e} {tr:.17g} {te:.17g}\n")
        f.write(f"# final sum of squares per parameter, after {epochs} steps\n")
        for key, v in sumsq.items():
            f.write(f"sumsq {key} {v:.17g}\n")
    print(f"wrote {out}: {epochs + 1} epochs, final train loss {rows[-1][1]:.6g}, test loss {rows[-1][2]:.6g}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
