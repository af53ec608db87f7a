#!/bin/sh
# Run the benchmarks: the C ones built by `make bench` into $OBJ/bench/, and
# the Lua-level ones with their Python peers. Figures are wall-clock on a
# shared machine: expect noise of ±20% between runs.
#   DELTALAB  the program (default ./deltalab)   OBJ  build dir (default build)
#   QUICK=1   short runs (seconds)
cd "$(dirname "$0")/../.."
DELTALAB=${DELTALAB:-./deltalab}
OBJ=${OBJ:-build}
q=; [ "${QUICK:-0}" = 1 ] && q=--quick

for b in "$OBJ"/bench/*; do
    [ -x "$b" ] || continue
    echo "== $(basename "$b")"
    "$b" $q
done
# OpenBLAS 0.3.21 does not know Zen 5 and falls back to SSE3 kernels: the gemm
# benchmark is run both with OpenBLAS as installed and with its AVX2 (Haswell)
# kernels, whichever of the two the loop above did not do.
if [ -x "$OBJ/bench/gemm" ] && ldconfig -p 2>/dev/null | grep -q libopenblas.so.0; then
    if [ -n "${OPENBLAS_CORETYPE:-}" ]; then
        echo "== gemm, OpenBLAS as installed (OPENBLAS_CORETYPE unset)"
        env -u OPENBLAS_CORETYPE "$OBJ/bench/gemm" $q
    else
        echo "== gemm, OpenBLAS forced to its AVX2 kernels (OPENBLAS_CORETYPE=Haswell)"
        OPENBLAS_CORETYPE=Haswell "$OBJ/bench/gemm" $q
    fi
fi

# net:step from Lua against PyTorch and NumPy doing the same step.
echo "== step (net:step from Lua; peers: tests/bench/step_peers.py)"
ours=$("$DELTALAB" tests/bench/step.lua $q) || exit 1
echo "$ours"
peers=
if [ -x /usr/bin/python3 ]; then
    peers=$(/usr/bin/python3 tests/bench/step_peers.py $q 2>&1)
    echo "$peers"
fi
# ratio CASE PEER FIELD: the peer's figure over ours for one case line;
# FIELD 1 is wall time, 2 CPU time (batch 1 is single-threaded everywhere, so
# CPU time is what a loaded machine disturbs least).
ratio() {
    o=$(printf '%s\n' "$ours" | sed -n "s/^step $1: \([0-9.]*\) us\/step wall, \([0-9.]*\) us\/step cpu.*/\\$3/p" | head -1)
    p=$(printf '%s\n' "$peers" | sed -n "s/^$2 step $1: \([0-9.]*\) us\/step wall, \([0-9.]*\) us\/step cpu.*/\\$3/p" | head -1)
    [ -n "$o" ] && [ -n "$p" ] && awk -v o="$o" -v p="$p" -v c="$1" -v n="$2" -v f="$3" \
        'BEGIN { printf "  %-22s deltalab is %5.1fx faster than %s (%s time)\n", c, p / o, n, f == 1 ? "wall" : "cpu" }'
}
for c in "784-30-10 batch 1" "784-100-10 batch 1"; do
    for peer in torch numpy; do
        ratio "$c" $peer 1
        ratio "$c" $peer 2
    done
done
o=$(printf '%s\n' "$ours" | grep "^step 784-3136" | awk '{print $(NF-3)}')
p=$(printf '%s\n' "$peers" | grep "^torch step 784-3136" | sed 's/.*: \([0-9.]*\) samples.*/\1/')
[ -n "$o" ] && [ -n "$p" ] && awk -v o="$o" -v p="$p" \
    'BEGIN { printf "  %-32s deltalab %.0f vs torch %.0f samples/s (%.2fx)\n", "784-3136-1568-10 batch 32", o, p, o / p }'

# data.mnist() from Lua: finding and loading the four files (train and test).
echo "== data.mnist() from Lua (wall clock, includes starting deltalab)"
t0=$(date +%s.%N)
if out=$("$DELTALAB" -e 'local d = data.mnist(); print(#d.train, #d.test, d.dir)' 2>&1); then
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" -v o="$out" 'BEGIN { printf "  %s: %.2f s\n", o, b - a }'
else
    echo "  skipped: MNIST not found (make data)"
fi

# The matrix type at the prompt against NumPy doing the same operations.
echo "== matrix (tests/bench/matrix.lua; peer: tests/bench/matrix_peers.py)"
mo=$("$DELTALAB" tests/bench/matrix.lua $q) || exit 1
echo "$mo"
if [ -x /usr/bin/python3 ]; then
    mp=$(/usr/bin/python3 tests/bench/matrix_peers.py $q 2>&1)
    echo "$mp"
    # For each case: how many times faster deltalab is (below 1: slower).
    printf '%s\n%s\n' "$mo" "$mp" | awk -F': ' '
        /^numpy matrix / { sub(/^numpy /, "", $1); split($2, v, " "); peer[$1] = v[1]; next }
        /^matrix / { split($2, v, " "); ours[$1] = v[1]; unit[$1] = v[2]; order[++n] = $1 }
        END { for (i = 1; i <= n; i++) { c = order[i]; if (!(c in peer) || ours[c] == 0 || peer[c] == 0) continue
                r = unit[c] == "GFLOPS" ? ours[c] / peer[c] : peer[c] / ours[c]
                printf "  %-36s deltalab is %.2fx as fast as numpy\n", c, r } }'
fi
exit 0
