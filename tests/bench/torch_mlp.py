#!/usr/bin/python3
"""The E2 network in PyTorch, the peer of build/bench/train and accuracy.c.

784-3136-1568-10, ReLU, softmax + negative log-likelihood, plain SGD lr 0.1,
batch 32: the same work per step as deltalab's trainer (forward, backward,
update; the batch gathered from a shuffled index). Random inputs: only the
speed is compared here. --threads sets torch.set_num_threads (intra-op
threads; PyTorch's BLAS keeps its own threads as installed). Prints the best
of --rounds rounds of --steps steps (the machine is shared: the best round
is the least disturbed):
    threads 1
    samples/s 1650.2 best of 5

    /usr/bin/python3 tests/bench/torch_mlp.py --threads 1 --steps 40 --rounds 5
"""
import argparse
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--batch", type=int, default=32)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    n = 4096
    X = torch.rand(n, 784)
    y = torch.randint(0, 10, (n,))
    net = torch.nn.Sequential(
        torch.nn.Linear(784, 3136), torch.nn.ReLU(),
        torch.nn.Linear(3136, 1568), torch.nn.ReLU(),
        torch.nn.Linear(1568, 10))
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()
    perm = torch.randperm(n)

    def step(i):
        idx = perm[(i * args.batch) % (n - args.batch):][:args.batch]
        opt.zero_grad()
        loss = loss_fn(net(X[idx]), y[idx])
        loss.backward()
        opt.step()

    for i in range(5):          # warm-up
        step(i)
    best = float("inf")
    for r in range(args.rounds):
        t0 = time.perf_counter()
        for i in range(args.steps):
            step(i)
        best = min(best, (time.perf_counter() - t0) / args.steps)
    print("threads %d" % torch.get_num_threads())
    print("samples/s %.1f best of %d" % (args.batch / best, args.rounds))


if __name__ == "__main__":
    main()
