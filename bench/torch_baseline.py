#!/usr/bin/env python3
"""The paper's training loop in PyTorch, for bench_train's comparison.

Same model as docs/science.md §2 (one layer, d_model 128, 4 heads of 32, d_mlp 512, ReLU, no
LayerNorm, no attention or unembedding biases, n_ctx 3, p + 1 outputs), written the way
the paper's code runs it: every position through every layer, logits at the last
position, the loss as float64 log-softmax. Same schedule: full batch over the 3830
training pairs of the paper's split (random.seed(0); random.shuffle), AdamW lr 1e-3,
wd 1, betas (0.9, 0.98), 10-step linear warm-up; each epoch also computes train and test
loss and accuracy (the test set forward-only, under inference_mode), as bench_train's
"with test metrics" row does.

With --model mlp, the MLP of docs/models.md in Prieto et al.'s configuration: inputs two
concatenated one-hots (2p), hidden layers 200, 200 with ReLU, no biases, p outputs, the
same float64 loss, optimizer and metrics (nn.Linear(bias=False) layers, as their code).

Prints progress lines, then "ms_per_epoch X" (the best round's mean) for bench_train.

With --layers 2, the paper's block stacked twice (Power et al.'s 2-layer model).

    python3 bench/torch_baseline.py [--threads N] [--epochs E] [--rounds R] [--model mlp]
                                    [--layers N]
"""
import argparse
import random
import time

import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, d_model, n_heads, d_mlp):
        super().__init__()
        d_head = d_model // n_heads
        self.d_head = d_head

        def param(*shape, std=1.0 / d_model ** 0.5):
            return nn.Parameter(torch.randn(*shape) * std)

        self.W_Q = param(n_heads, d_model, d_head)
        self.W_K = param(n_heads, d_model, d_head)
        self.W_V = param(n_heads, d_model, d_head)
        self.W_O = param(n_heads, d_head, d_model)
        self.W_in = param(d_model, d_mlp)
        self.b_in = nn.Parameter(torch.zeros(d_mlp))
        self.W_out = param(d_mlp, d_model)
        self.b_out = nn.Parameter(torch.zeros(d_model))
        self.register_buffer("mask", torch.tril(torch.ones(3, 3, dtype=torch.bool)))

    def forward(self, x):
        q = torch.einsum("npd,hde->nhpe", x, self.W_Q)
        k = torch.einsum("npd,hde->nhpe", x, self.W_K)
        v = torch.einsum("npd,hde->nhpe", x, self.W_V)
        scores = q @ k.transpose(-1, -2) / self.d_head ** 0.5
        scores = scores.masked_fill(~self.mask, float("-inf"))
        z = scores.softmax(dim=-1) @ v  # [n, h, 3, e]
        x = x + torch.einsum("nhpe,hed->npd", z, self.W_O)
        return x + torch.relu(x @ self.W_in + self.b_in) @ self.W_out + self.b_out


class Stacked(nn.Module):
    """The paper's block stacked `layers` times: the paper's model with 1, Power et al.'s
    2-layer model with 2. (The parameters are drawn in the order W_E, W_pos, each block's,
    W_U, as a one-layer class listing them in that order would draw them.)"""

    def __init__(self, p, d_model=128, n_heads=4, d_mlp=512, layers=1):
        super().__init__()
        self.W_E = nn.Parameter(torch.randn(p + 1, d_model) / d_model ** 0.5)
        self.W_pos = nn.Parameter(torch.randn(3, d_model) / d_model ** 0.5)
        self.blocks = nn.ModuleList(Block(d_model, n_heads, d_mlp) for _ in range(layers))
        self.W_U = nn.Parameter(torch.randn(d_model, p + 1) / (p + 1) ** 0.5)

    def forward(self, tokens):
        x = self.W_E[tokens] + self.W_pos  # [n, 3, d]
        for block in self.blocks:
            x = block(x)
        return x @ self.W_U  # [n, 3, p + 1]


class MLP(nn.Module):
    def __init__(self, p, hidden=(200, 200)):
        super().__init__()
        self.p = p
        widths = [2 * p, *hidden]
        layers = []
        for a, b in zip(widths, widths[1:]):
            layers += [nn.Linear(a, b, bias=False), nn.ReLU()]
        layers.append(nn.Linear(widths[-1], p, bias=False))
        self.net = nn.Sequential(*layers)

    def forward(self, tokens):
        x = torch.cat([nn.functional.one_hot(tokens[:, 0], self.p),
                       nn.functional.one_hot(tokens[:, 1], self.p)], dim=1).float()
        return self.net(x)[:, None, :]  # [n, 1, p]: the last (only) position


def loss_and_acc(logits, labels):
    """The paper's loss_fn: last position, float64 log-softmax, mean."""
    logits = logits[:, -1].to(torch.float64)
    loss = -logits.log_softmax(dim=-1).gather(-1, labels[:, None])[:, 0].mean()
    return loss, (logits.argmax(dim=-1) == labels).double().mean()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--p", type=int, default=113)
    ap.add_argument("--frac", type=float, default=0.3)
    ap.add_argument("--model", choices=("transformer", "mlp"), default="transformer")
    ap.add_argument("--layers", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    p = args.p
    pairs = [(a, b) for a in range(p) for b in range(p)]
    random.seed(0)
    random.shuffle(pairs)
    n_train = int(args.frac * len(pairs))
    data = torch.tensor([[a, b, p] for a, b in pairs])
    labels = torch.tensor([(a + b) % p for a, b in pairs])
    train_x, train_y = data[:n_train], labels[:n_train]
    test_x, test_y = data[n_train:], labels[n_train:]

    if args.model == "mlp":
        model = MLP(p)
    else:
        model = Stacked(p, layers=args.layers)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1.0, betas=(0.9, 0.98))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: min(step / 10, 1))

    def epoch():
        train_loss, train_acc = loss_and_acc(model(train_x), train_y)
        train_loss.backward()
        opt.step()
        sched.step()
        opt.zero_grad()
        with torch.inference_mode():
            test_loss, test_acc = loss_and_acc(model(test_x), test_y)
        return train_loss.item(), test_loss.item()

    for _ in range(3):  # warm-up
        epoch()
    rounds = []
    for r in range(args.rounds):
        t = time.perf_counter()
        for _ in range(args.epochs):
            losses = epoch()
        rounds.append((time.perf_counter() - t) / args.epochs * 1e3)
        print(f"torch round {r + 1}/{args.rounds}: {rounds[-1]:.2f} ms/epoch "
              f"(train loss {losses[0]:.4f}, test loss {losses[1]:.4f})", flush=True)
    print(f"ms_per_epoch {min(rounds):.3f}")


if __name__ == "__main__":
    main()
