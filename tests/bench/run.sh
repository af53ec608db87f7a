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
# ratio CASE PEER: the peer's figure over ours for one case line.
ratio() {
    o=$(printf '%s\n' "$ours" | grep "^step $1" | awk '{print $(NF-1)}' | head -1)
    p=$(printf '%s\n' "$peers" | grep "^$2 step $1" | awk '{print $(NF-1)}' | head -1)
    [ -n "$o" ] && [ -n "$p" ] && awk -v o="$o" -v p="$p" -v c="$1" -v n="$2" \
        'BEGIN { printf "  %-32s deltalab is %.1fx faster than %s\n", c, p / o, n }'
}
for c in "784-30-10 batch 1" "784-100-10 batch 1"; do
    ratio "$c" torch
    ratio "$c" numpy
done
o=$(printf '%s\n' "$ours" | grep "^step 784-3136" | awk '{print $(NF-3)}')
p=$(printf '%s\n' "$peers" | grep "^torch step 784-3136" | sed 's/.*: \([0-9.]*\) samples.*/\1/')
[ -n "$o" ] && [ -n "$p" ] && awk -v o="$o" -v p="$p" \
    'BEGIN { printf "  %-32s deltalab %.0f vs torch %.0f samples/s (%.2fx)\n", "784-3136-1568-10 batch 32", o, p, o / p }'
exit 0
