"""Peer for tests/bench/matrix.lua: NumPy doing the same operations on float32
arrays, timed the same way. Prints matrix.lua's lines prefixed with "numpy ".
    /usr/bin/python3 tests/bench/matrix_peers.py [--quick]"""
import os, sys, tempfile, time

quick = "--quick" in sys.argv
secs = 0.05 if quick else 0.5


def timeit(f, seconds=None):
    f()
    n, t0 = 0, time.perf_counter()
    while True:
        for _ in range(10):
            f()
        n += 10
        t = time.perf_counter()
        if t - t0 >= (seconds or secs):
            return (t - t0) / n


try:
    import numpy as np
except ImportError:
    print("numpy: not installed")
    sys.exit(0)

rng = np.random.default_rng(1)
a, b = rng.random((4, 4), dtype=np.float32), rng.random((4, 4), dtype=np.float32)
print("numpy matrix add 4x4: %.3f us" % (timeit(lambda: a + b) * 1e6))

m = rng.random((100, 100), dtype=np.float32)


def read_rows():
    s = 0.0
    for i in range(100):
        r = m[i]
        for j in range(100):
            s += r[j]
    return s


def read_get():
    s = 0.0
    for i in range(100):
        for j in range(100):
            s += m[i, j]
    return s


print("numpy matrix read m[i][j]: %.1f ns" % (timeit(read_rows) / 1e4 * 1e9))
print("numpy matrix read m:get(i,j): %.1f ns" % (timeit(read_get) / 1e4 * 1e9))

for s in ((256, 256, 256), (1000, 784, 100)):
    A, B = rng.random(s[:2], dtype=np.float32), rng.random(s[1:], dtype=np.float32)
    t = timeit(lambda: A @ B)
    print("numpy matrix product %dx%d*%dx%d: %.2f GFLOPS" % (s[0], s[1], s[1], s[2], 2 * s[0] * s[1] * s[2] / t / 1e9))

X = rng.standard_normal((2000, 50)).astype(np.float32)
y = rng.standard_normal((2000, 1)).astype(np.float32)
print("numpy matrix lstsq 2000x50: %.2f ms" % (timeit(lambda: np.linalg.lstsq(X.astype(np.float64), y.astype(np.float64), rcond=None)) * 1e3))

big = rng.random((10000, 784), dtype=np.float32)
fd, path = tempfile.mkstemp(suffix=".npy")
os.close(fd)


def saveload():
    np.save(path, big)
    return np.load(path)


print("numpy matrix save+load 10000x784: %.1f ms" % (timeit(saveload) * 1e3))
os.remove(path)
sq = rng.random((1000, 1000), dtype=np.float32)
print("numpy matrix tostring 1000x1000: %.3f ms" % (timeit(lambda: str(sq)) * 1e3))
print("numpy matrix zeros 1000x1000: %.3f ms" % (timeit(lambda: np.zeros((1000, 1000), dtype=np.float32)) * 1e3))
