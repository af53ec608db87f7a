"""Peers for tests/bench/step.lua: the same per-sample SGD step in PyTorch and
in NumPy (Nielsen's network.py style), timed the same way, on the same inputs:
the dense synthetic one, and with --mnist DIR the first 1000 MNIST training
images in turn (DIR holds train-images-idx3-ubyte[.gz] and the labels; step.lua
finds it with data.mnist()). Prints lines in step.lua's format with the peer's
name; skips a peer that is not installed.
    /usr/bin/python3 tests/bench/step_peers.py [--quick] [--mnist DIR]"""
import functools, gzip, os, sys, time

# Each peer is timed at 1 and at 2 threads (NumPy: its BLAS's threads;
# PyTorch: set_num_threads) and reported at the faster, by wall time, with
# the other setting's figure beside it.

quick = "--quick" in sys.argv
secs = 0.05 if quick else 1.0
mnist_dir = sys.argv[sys.argv.index("--mnist") + 1] if "--mnist" in sys.argv else None


def idx_file(name):
    """The bytes of an IDX file in mnist_dir, gzipped or not."""
    path = os.path.join(mnist_dir, name)
    if os.path.exists(path + ".gz"):
        return gzip.open(path + ".gz").read()
    with open(path, "rb") as f:
        return f.read()


@functools.lru_cache(maxsize=None)
def mnist_samples(n):
    """The first n training images as float32 rows scaled to [0, 1] (as
    data.mnist() gives them) and their labels; None without --mnist. Read
    once for both peers."""
    if not mnist_dir:
        return None
    img, lab = idx_file("train-images-idx3-ubyte"), idx_file("train-labels-idx1-ubyte")
    rows = [[b / 255.0 for b in img[16 + 784 * i:16 + 784 * (i + 1)]] for i in range(n)]
    return rows, list(lab[8:8 + n])


def synthetic(n_in, n_out):
    """step.lua's dense synthetic sample: pixel j is (j mod 17)/17, label 3."""
    return [[(j % 17) / 17 for j in range(n_in)]], [3 % n_out]


def cases():
    """(name, sizes, (rows, labels)) for every batch-1 case step.lua times."""
    images = mnist_samples(1000)
    for hidden in (30, 100):
        name = "784-%d-10 batch 1" % hidden
        yield name, [784, hidden, 10], synthetic(784, 10)
        if images:
            yield name + " mnist", [784, hidden, 10], images


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


def keep_freed_memory():
    """Keep glibc from handing NumPy's large temporaries back to the OS after
    each step. Its mmap threshold adapts to what the process freed before, so
    a step's 313 KB outer product (784-100-10) was mmapped, page-faulted and
    unmapped anew every step in some runs and not in others: 445 against
    165 us a step here, depending on which cases ran first. Fixing the
    thresholds is part of NumPy's best setting (PyTorch's steps did not
    change with it)."""
    import ctypes
    libc = ctypes.CDLL(None)
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    if libc.mallopt(M_MMAP_THRESHOLD, 1 << 24) and libc.mallopt(M_TRIM_THRESHOLD, 1 << 28):
        return "glibc malloc keeps freed blocks (mallopt)"
    return "malloc as is"


def numpy_cases():
    import numpy as np
    blas, set_threads = blas_in_process()
    blas += ", " + keep_freed_memory()
    rng = np.random.default_rng(1)

    def make(sizes):
        Ws = [rng.standard_normal((o, i)).astype(np.float32) / np.sqrt(i) for i, o in zip(sizes[:-1], sizes[1:])]
        bs = [rng.standard_normal((o, 1)).astype(np.float32) for o in sizes[1:]]
        return Ws, bs

    def sig(z):
        return 1.0 / (1.0 + np.exp(-z))

    def case(sizes, samples):
        Ws, bs = make(sizes)
        xs = [np.array(r, np.float32).reshape(-1, 1) for r in samples[0]]
        ys = [np.zeros((sizes[-1], 1), np.float32) for _ in samples[1]]
        for y, lab in zip(ys, samples[1]):
            y[lab] = 1
        lr, turn = np.float32(0.01), [0]

        def step():   # network.py's backprop for one sample, quadratic cost
            i = turn[0] = (turn[0] + 1) % len(xs)
            x, y = xs[i], ys[i]
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

    def timed(sizes, samples, threads):
        if set_threads:
            set_threads(threads)
        return case(sizes, samples)

    for name, sizes, samples in cases():
        if set_threads:
            w, c, setting = at_best(lambda t: timed(sizes, samples, t), (1, 2), "BLAS threads")
        else:
            (w, c), setting = case(sizes, samples), "BLAS threads as installed"
        print("numpy step %s: %.2f us/step wall, %.2f us/step cpu (NumPy %s, %s, %s)"
              % (name, w * 1e6, c * 1e6, np.__version__, blas, setting))


def torch_cases():
    import torch
    torch.manual_seed(1)

    def case(sizes, samples, hidden, out, loss, seconds):
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(torch.nn.Linear(a, b))
            last = i == len(sizes) - 2
            layers.append(out() if last else hidden())
        net = torch.nn.Sequential(*layers)
        opt = torch.optim.SGD(net.parameters(), lr=0.01)
        xs = [torch.tensor([r], dtype=torch.float32) for r in samples[0]]
        labs = [torch.tensor([lab]) for lab in samples[1]]
        ys = [torch.nn.functional.one_hot(lab, sizes[-1]).float() for lab in labs]
        turn = [0]

        def step():
            i = turn[0] = (turn[0] + 1) % len(xs)
            opt.zero_grad()
            a = net(xs[i])
            c = loss(a, ys[i], labs[i])
            c.backward()
            opt.step()
        return timeit(step, seconds)

    quad = lambda a, y, lab: 0.5 * ((a - y) ** 2).sum()
    def timed(sizes, samples, threads):
        torch.set_num_threads(threads)
        return case(sizes, samples, torch.nn.Sigmoid, torch.nn.Sigmoid, quad, secs)

    for name, sizes, samples in cases():
        w, c, setting = at_best(lambda t: timed(sizes, samples, t), (1, 2), "set_num_threads")
        print("torch step %s: %.2f us/step wall, %.2f us/step cpu (PyTorch %s, %s)"
              % (name, w * 1e6, c * 1e6, torch.__version__, setting))


for name, fn in (("numpy", numpy_cases), ("torch", torch_cases)):
    try:
        fn()
    except ImportError:
        print("%s: not installed, skipped" % name)
