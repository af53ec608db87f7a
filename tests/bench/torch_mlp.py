#!/usr/bin/python3
"""The E2 network in PyTorch, for the throughput comparison in accuracy.c.

784-3136-1568-10, ReLU, softmax + negative log-likelihood, plain SGD lr 0.1,
batch 32: the same work per step as deltalab's trainer (forward, backward,
update; the batch gathered from a shuffled index). Random inputs: only the
speed is compared here. Prints "samples/s <rate>".

    /usr/bin/python3 tests/bench/torch_mlp.py --threads 2 --steps 300
"""
import argparse
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=32)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    n = 60000
    X = torch.rand(n, 784)
    y = torch.randint(0, 10, (n,))
    net = torch.nn.Sequential(
        torch.nn.Linear(784, 3136), torch.nn.ReLU(),
        torch.nn.Linear(3136, 1568), torch.nn.ReLU(),
        torch.nn.Linear(1568, 10))
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loss_fn = torch.nn.CrossEntropyLoss()
    perm = torch.randperm(n)

    def step(i):
        idx = perm[(i * args.batch) % (n - args.batch):][:args.batch]
        opt.zero_grad()
        loss = loss_fn(net(X[idx]), y[idx])
        loss.backward()
        opt.step()

    for i in range(20):          # warm-up
        step(i)
    t0 = time.perf_counter()
    for i in range(args.steps):
        step(i)
    dt = time.perf_counter() - t0
    print("threads %d" % torch.get_num_threads())
    print("samples/s %.1f" % (args.steps * args.batch / dt))


if __name__ == "__main__":
    main()
