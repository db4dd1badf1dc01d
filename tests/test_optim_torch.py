#!/usr/bin/python3
"""test_optim_torch.py TEST_OPTIM: grokscope's optimizer rules and Grokfast filters
(test_optim --dump RULE) against PyTorch on the same six steps: torch.optim.AdamW,
torch.optim.Adam with weight_decay (coupled L2), torch.optim.SGD with momentum, and the
filters of ironjr/grokfast grokfast.py written out in torch (EMA, MA with warmup).
Exit 77 (skip) without torch."""
import subprocess
import sys
from collections import deque

try:
    import numpy as np
    import torch
except ImportError as e:
    print(f"test_optim_torch.py: needs /usr/bin/python3 with torch and numpy ({e})")
    sys.exit(77)

N, STEPS = 50, 6
exe = sys.argv[1]
torch.set_num_threads(1)


def grads(t):
    return torch.tensor(np.cos(0.91 * np.arange(N) + 1.3 * t).astype(np.float32))


def ours(rule):
    out = subprocess.run([exe, "--dump", rule], check=True, capture_output=True, text=True).stdout
    return np.array([[float(x) for x in line.split()] for line in out.splitlines()], dtype=np.float32)


def optimizer_run(make):
    p = torch.nn.Parameter(torch.tensor(np.sin(0.37 * np.arange(N) + 0.1).astype(np.float32)))
    opt = make([p])
    # LambdaLR with warm-up 1: step 0 has lr 0, then the full lr (grokscope's --warmup 1)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: min(t / 1, 1.0))
    for t in range(STEPS):
        p.grad = grads(t)
        opt.step()
        sched.step()
    return p.detach().numpy()[None, :]


def ema_run():
    mu, out = None, []
    for t in range(STEPS):
        g = grads(t)
        if mu is None:
            mu = g.detach()
        mu = mu * 0.8 + g.detach() * (1 - 0.8)
        out.append((g + mu * 2.0).numpy())
    return np.array(out)


def ma_run():
    window, out = deque(maxlen=3), []
    for t in range(STEPS):
        g = grads(t)
        window.append(g.detach())
        if len(window) == 3:
            g = g + sum(window) / len(window) * 5.0
        out.append(g.numpy())
    return np.array(out)


cases = {
    "adamw": lambda: optimizer_run(lambda ps: torch.optim.AdamW(ps, lr=0.01, betas=(0.9, 0.98), eps=1e-8, weight_decay=0.1)),
    "adam": lambda: optimizer_run(lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.9, 0.98), eps=1e-8, weight_decay=0.1)),
    "sgd": lambda: optimizer_run(lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9, weight_decay=0.1)),
    "ema": ema_run,
    "ma": ma_run,
}
failed = 0
for rule, run in cases.items():
    want, got = run(), ours(rule)
    # a few ulp: PyTorch's kernels may fuse a multiply-add where grokscope rounds twice
    err = np.max(np.abs(got - want) / (np.abs(want) + 1e-6))
    same = np.array_equal(got, want)
    ok = got.shape == want.shape and err < 1e-5
    moved = not np.allclose(want, np.sin(0.37 * np.arange(N) + 0.1)) if want.shape[0] == 1 else True
    print(f"{'ok  ' if ok and moved else 'FAIL'} {rule}: max relative difference {err:.2e}"
          f"{' (bit-identical)' if same else ''}")
    failed += not (ok and moved)
sys.exit(1 if failed else 0)
