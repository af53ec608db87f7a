#!/bin/sh
# Install the Debian packages deltalab needs, if any are missing.
# As root with apt-get: installs them. Otherwise: prints the command to run.
# Two groups: what building and testing need (missing ones are an error), and
# the engines the sweep tests drive (GNU parallel with rsync, ssh and sshd,
# Slurm with munge), which are installed when possible; without them those
# tests say "skipped". Clang with its libFuzzer runtime, for make fuzz, is
# installed with the engines (make test does not need it).
set -eu
# `tools/deps.sh bench` (make bench): the peers the benchmarks compare with,
# PyTorch, NumPy and OpenBLAS as Debian ships them; never needed by make test.
if [ "${1:-}" = bench ]; then
    BENCH_PKGS="python3-torch python3-numpy libopenblas-dev"
    need=""
    for p in $BENCH_PKGS; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need="$need $p"
    done
    [ -z "$need" ] && exit 0
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "deps: the benchmarks compare with:$need (not installed: those peers are skipped)" >&2
        exit 0
    fi
    echo "deps: installing, for the benchmarks' peers,$need"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null \
        || echo "deps: could not install$need: those peers are skipped" >&2
    exit 0
fi
PKGS="gcc make pkg-config liblua5.4-dev lua5.4 libreadline-dev zlib1g-dev gnuplot-nox"
ENGINES="parallel rsync openssh-client openssh-server slurm-wlm munge"
# The notebook kernel (deltalab --kernel) and the client its tests drive;
# without them deltalab builds without the kernel and those tests say "skipped".
NOTEBOOK="libzmq3-dev libjansson-dev libssl-dev python3-jupyter-client python3-nbclient python3-nbformat python3-ipykernel jupyter-nbconvert"
# make fuzz: clang and libFuzzer (in the compiler-rt package)
ENGINES="$ENGINES clang libclang-rt-14-dev"
installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"
}
missing="" engines=""
for p in $PKGS; do
    # Any gnuplot will do (gnuplot-qt or -x11 for windows); -nox is the minimum.
    [ "$p" = gnuplot-nox ] && command -v gnuplot >/dev/null 2>&1 && continue
    installed "$p" || missing="$missing $p"
done
for p in $ENGINES; do
    installed "$p" || engines="$engines $p"
done
notebook=""
for p in $NOTEBOOK; do
    installed "$p" || notebook="$notebook $p"
done
[ -z "$missing$engines$notebook" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    [ -n "$engines" ] && echo "deps: for the sweep tests and make fuzz, also:$engines" >&2
    [ -n "$notebook" ] && echo "deps: for the notebook kernel, also:$notebook" >&2
    [ -z "$missing" ] && exit 0
    echo "deps: missing:$missing — install them with your package manager" >&2
    exit 1
fi
if [ "$(id -u)" != 0 ]; then
    [ -n "$engines" ] && echo "deps: for the sweep tests and make fuzz: sudo apt-get install -y$engines" >&2
    [ -n "$notebook" ] && echo "deps: for the notebook kernel: sudo apt-get install -y$notebook" >&2
    [ -z "$missing" ] && exit 0
    echo "deps: missing:$missing" >&2
    echo "deps: run:  sudo apt-get install -y$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
if [ -n "$missing" ]; then
    echo "deps: installing$missing"
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if [ -n "$engines" ]; then
    echo "deps: installing, for the sweep tests and make fuzz,$engines"
    apt-get install -y -qq --no-install-recommends $engines >/dev/null \
        || echo "deps: could not install$engines: the sweep tests that need them are skipped (make fuzz needs clang)" >&2
fi
if [ -n "$notebook" ]; then
    echo "deps: installing, for the notebook kernel,$notebook"
    apt-get install -y -qq --no-install-recommends $notebook >/dev/null \
        || echo "deps: could not install$notebook: deltalab builds without the notebook kernel" >&2
fi
exit 0
