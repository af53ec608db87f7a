"""Peers for tests/bench/step.lua: the same per-sample SGD step in PyTorch and
in NumPy (Nielsen's network.py style), timed the same way. Prints lines in
step.lua's format with the peer's name; skips a peer that is not installed.
    /usr/bin/python3 tests/bench/step_peers.py [--quick]"""
import os, sys, time

# Each peer is timed at 1 and at 2 threads (NumPy: its BLAS's threads;
# PyTorch: set_num_threads) and reported at the faster, by wall time, with
# the other setting's figure beside it.

quick = "--quick" in sys.argv
secs = 0.05 if quick else 1.0


def timeit(step, seconds, rounds=5):
    """Best of `rounds` rounds of seconds/rounds each (wall, cpu per step):
    the round least disturbed by other processes, as step.lua takes it."""
    for _ in range(3):
        step()
    best = (float("inf"), float("inf"))
    for _ in range(rounds):
        n, t0, c0 = 0, time.perf_counter(), time.process_time()
        while True:
            for _ in range(20):
                step()
            n += 20
            t = time.perf_counter()
            if t - t0 >= seconds / rounds:
                break
        best = min(best, ((t - t0) / n, (time.process_time() - c0) / n))
    return best


def blas_in_process():
    """The BLAS this process loaded (NumPy's, through Debian's alternatives):
    its description, and a function setting its thread count (None when it
    is not OpenBLAS)."""
    import ctypes
    path = None
    with open("/proc/self/maps") as f:
        for line in f:
            if "blas" in line and ".so" in line:
                path = line.split()[-1]
                break
    if not path:
        return "BLAS unknown", None
    try:
        lib = ctypes.CDLL(path)
        lib.openblas_get_corename.restype = ctypes.c_char_p
        return "OpenBLAS %s kernels" % lib.openblas_get_corename().decode(), lib.openblas_set_num_threads
    except (OSError, AttributeError):
        return os.path.basename(path), None


def at_best(time_case, settings, name):
    """time_case(setting) -> (wall, cpu) at each setting; the fastest by wall
    time, as (wall, cpu, "NAME(best); NAME(other): W us")."""
    runs = []
    for t in settings:
        runs.append((time_case(t), t))
        # A BLAS's or OpenMP's workers spin for a while after a 2-thread
        # run; timed then, the next setting would share the cores with them.
        time.sleep(0.15)
    (w, c), best = min(runs)
    others = "; ".join("%s(%d): %.2f us" % (name, t, r[0] * 1e6) for r, t in runs if t != best)
    return w, c, "%s(%d), its best of %s%s" % (
        name, best, " and ".join(str(t) for t in settings), "; " + others if others else "")


def numpy_cases():
    import numpy as np
    blas, set_threads = blas_in_process()
    rng = np.random.default_rng(1)

    def make(sizes):
        Ws = [rng.standard_normal((o, i)).astype(np.float32) / np.sqrt(i) for i, o in zip(sizes[:-1], sizes[1:])]
        bs = [rng.standard_normal((o, 1)).astype(np.float32) for o in sizes[1:]]
        return Ws, bs

    def sig(z):
        return 1.0 / (1.0 + np.exp(-z))

    def case(sizes):
        Ws, bs = make(sizes)
        x = (np.arange(sizes[0], dtype=np.float32) % 17 / 17).reshape(-1, 1)
        y = np.zeros((sizes[-1], 1), np.float32); y[3] = 1
        lr = np.float32(0.01)

        def step():   # network.py's backprop for one sample, quadratic cost
            a, acts, zs = x, [x], []
            for W, b in zip(Ws, bs):
                z = W @ a + b; zs.append(z); a = sig(z); acts.append(a)
            d = (acts[-1] - y) * acts[-1] * (1 - acts[-1])
            for l in range(len(Ws) - 1, -1, -1):
                gW, gb = d @ acts[l].T, d
                if l > 0:
                    d = (Ws[l].T @ d) * acts[l] * (1 - acts[l])
                Ws[l] -= lr * gW; bs[l] -= lr * gb
        return timeit(step, secs)

    def timed(sizes, threads):
        if set_threads:
            set_threads(threads)
        return case(sizes)

    for sizes in ([784, 30, 10], [784, 100, 10]):
        if set_threads:
            w, c, setting = at_best(lambda t: timed(sizes, t), (1, 2), "BLAS threads")
        else:
            (w, c), setting = case(sizes), "BLAS threads as installed"
        print("numpy step %s batch 1: %.2f us/step wall, %.2f us/step cpu (NumPy %s, %s, %s)"
              % ("-".join(map(str, sizes)), w * 1e6, c * 1e6, np.__version__, blas, setting))


def torch_cases():
    import torch
    torch.manual_seed(1)

    def case(sizes, B, hidden, out, loss, seconds):
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(torch.nn.Linear(a, b))
            last = i == len(sizes) - 2
            layers.append(out() if last else hidden())
        net = torch.nn.Sequential(*layers)
        opt = torch.optim.SGD(net.parameters(), lr=0.01)
        x = (torch.arange(B * sizes[0], dtype=torch.float32) % 17 / 17).reshape(B, -1)
        lab = torch.arange(B) * 3 % sizes[-1]
        y = torch.nn.functional.one_hot(lab, sizes[-1]).float()

        def step():
            opt.zero_grad()
            a = net(x)
            c = loss(a, y, lab)
            c.backward()
            opt.step()
        return timeit(step, seconds)

    quad = lambda a, y, lab: 0.5 * ((a - y) ** 2).sum()
    def timed(sizes, threads):
        torch.set_num_threads(threads)
        return case(sizes, 1, torch.nn.Sigmoid, torch.nn.Sigmoid, quad, secs)

    for sizes in ([784, 30, 10], [784, 100, 10]):
        w, c, setting = at_best(lambda t: timed(sizes, t), (1, 2), "set_num_threads")
        print("torch step %s batch 1: %.2f us/step wall, %.2f us/step cpu (PyTorch %s, %s)"
              % ("-".join(map(str, sizes)), w * 1e6, c * 1e6, torch.__version__, setting))


for name, fn in (("numpy", numpy_cases), ("torch", torch_cases)):
    try:
        fn()
    except ImportError:
        print("%s: not installed, skipped" % name)
