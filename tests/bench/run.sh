#!/bin/sh
# Run the benchmarks (make bench): the C ones built into $OBJ/bench/ and the
# Lua-level ones, each beside its peers measured in the same run, every ratio
# printed with the peer's setting:
#   - GEMM against OpenBLAS as installed (its own kernel choice for this CPU,
#     printed by openblas_get_corename) and forced to its AVX2 kernels
#     (OPENBLAS_CORETYPE=Haswell);
#   - E2-shape training against PyTorch at 1 and at 2 intra-op threads (its
#     BLAS as installed), compared with the better of the two;
#   - net:step at batch 1 against PyTorch and NumPy.
# Figures are best-of-N on a possibly shared machine; the load average is
# printed so a reader can judge them.
#   DELTALAB  the program (default ./deltalab)   OBJ  build dir (default build)
#   QUICK=1   short runs (seconds)
#   ACCURACY=0  leave out the accuracy oracles (build/bench/accuracy: real
#             training runs on MNIST, many minutes), which run last
cd "$(dirname "$0")/../.."
DELTALAB=${DELTALAB:-./deltalab}
OBJ=${OBJ:-build}
q=; [ "${QUICK:-0}" = 1 ] && q=--quick
PY=/usr/bin/python3

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1)
fam=$(sed -n 's/^cpu family[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1)
mod=$(sed -n 's/^model[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1)
[ -n "$fam" ] && cpu="$cpu (family $fam, model $mod$(grep -q avx512f /proc/cpuinfo && echo ', AVX-512'))"
echo "== machine: ${cpu:-unknown CPU}, $(nproc) CPUs, $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   deltalab: $("$DELTALAB" -v 2>&1 | head -1)"

for b in "$OBJ"/bench/*; do
    [ -x "$b" ] || continue
    case $(basename "$b") in gemm|train|accuracy) continue ;; esac   # below
    echo "== $(basename "$b")"
    "$b" $q
done

# GEMM: OpenBLAS as installed (the environment's OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE, if any, unset for that command only), then its AVX2 kernels.
g_inst= g_avx2=
if [ -x "$OBJ/bench/gemm" ]; then
    echo "== gemm, OpenBLAS as installed (OPENBLAS_CORETYPE unset: its own choice of kernels)"
    g_inst=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$OBJ/bench/gemm" $q)
    echo "$g_inst"
    if ldconfig -p 2>/dev/null | grep -q libopenblas.so.0; then
        echo "== gemm, OpenBLAS forced to its AVX2 kernels (OPENBLAS_CORETYPE=Haswell)"
        g_avx2=$(env -u OPENBLAS_L2_SIZE OPENBLAS_CORETYPE=Haswell "$OBJ/bench/gemm" $q)
        echo "$g_avx2"
    fi
fi

# E2-shape training: the trainer core against PyTorch at both thread settings.
if [ -x "$OBJ/bench/train" ]; then
    echo "== training, E2 shape (build/bench/train; peer: tests/bench/torch_mlp.py)"
    ours=$("$OBJ/bench/train" $q) || exit 1
    echo "$ours"
    train_out=$ours
    ours2=$(printf '%s\n' "$ours" | sed -n 's/.* 2 threads: \([0-9.]*\) samples.*/\1/p')
    best= best_th=
    if [ -x $PY ] && $PY -c 'import torch' 2>/dev/null; then
        rounds=5 steps=40; [ -n "$q" ] && rounds=2 steps=8
        for th in 1 2; do
            r=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $PY tests/bench/torch_mlp.py \
                --threads $th --rounds $rounds --steps $steps 2>/dev/null | sed -n 's/^samples\/s \([0-9.]*\).*/\1/p')
            echo "torch 784-3136-1568-10 batch 32, torch.set_num_threads($th), BLAS as installed: ${r:-?} samples/s best of $rounds"
            [ -n "$r" ] && { [ -z "$best" ] || awk -v a="$r" -v b="$best" 'BEGIN { exit !(a > b) }'; } && best=$r best_th=$th
        done
        torch_best=$best torch_best_th=$best_th
        [ -n "$best" ] && [ -n "$ours2" ] && awk -v o="$ours2" -v p="$best" -v t="$best_th" \
            'BEGIN { printf "  E2 training, deltalab 2 threads: %.0f samples/s = %.2fx PyTorch at its best setting here (set_num_threads(%d), %.0f samples/s)\n", o, o / p, t, p }'
    else
        echo "  PyTorch: not installed (python3-torch): no comparison"
    fi
fi

# net:step from Lua against PyTorch and NumPy doing the same step.
echo "== step (net:step from Lua; peers: tests/bench/step_peers.py)"
ours=$("$DELTALAB" tests/bench/step.lua $q) || exit 1
echo "$ours"
peers=
if [ -x $PY ]; then
    # The peers step through the same MNIST images when step.lua found them.
    mnist=$(printf '%s\n' "$ours" | sed -n 's/^step mnist from //p')
    peers=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $PY tests/bench/step_peers.py $q \
            ${mnist:+--mnist "$(realpath "$mnist")"} 2>&1)
    echo "$peers"
fi
# ratio CASE PEER FIELD: the peer's figure over ours for one case line;
# FIELD 1 is wall time, 2 CPU time (ours is single-threaded, so its CPU time
# is what a loaded machine disturbs least; a peer's at 2 threads counts both).
ratio() {
    o=$(printf '%s\n' "$ours" | sed -n "s/^step $1: \([0-9.]*\) us\/step wall, \([0-9.]*\) us\/step cpu.*/\\$3/p" | head -1)
    p=$(printf '%s\n' "$peers" | sed -n "s/^$2 step $1: \([0-9.]*\) us\/step wall, \([0-9.]*\) us\/step cpu\(.*\)/\\$3 \\3/p" | head -1)
    [ -n "$o" ] && [ -n "$p" ] && awk -v o="$o" -v p="$p" -v c="$1" -v n="$2" -v f="$3" \
        'BEGIN { split(p, v, " "); s = p; sub(/^[^ ]* */, "", s)
                 printf "  %-25s deltalab is %5.1fx faster than %s %s (%s time)\n", c, v[1] / o, n, s, f == 1 ? "wall" : "cpu" }'
}
for c in "784-30-10 batch 1" "784-30-10 batch 1 mnist" "784-100-10 batch 1" \
         "784-100-10 batch 1 mnist"; do
    for peer in torch numpy; do
        ratio "$c" $peer 1
        ratio "$c" $peer 2
    done
done
step_ours=$ours step_peers=$peers

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
if [ -x $PY ]; then
    mp=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $PY tests/bench/matrix_peers.py $q 2>&1)
    echo "$mp"
    # For each case: how many times faster deltalab is (below 1: slower).
    printf '%s\n%s\n' "$mo" "$mp" | awk -F': ' '
        /^numpy matrix / { sub(/^numpy /, "", $1); split($2, v, " "); peer[$1] = v[1]; next }
        /^matrix / { split($2, v, " "); ours[$1] = v[1]; unit[$1] = v[2]; order[++n] = $1 }
        END { for (i = 1; i <= n; i++) { c = order[i]; if (!(c in peer) || ours[c] == 0 || peer[c] == 0) continue
                r = unit[c] == "GFLOPS" ? ours[c] / peer[c] : peer[c] / ours[c]
                printf "  %-36s deltalab is %.2fx as fast as numpy\n", c, r } }'
fi
# The README's speed table, from the figures above (paste it over the old one).
echo "== README speed table (README.md, \"Speed\"; from this run)"
echo "Measured by \`make bench\` on ${cpu:-an unknown CPU} ($(nproc) CPUs), $(date -u '+%Y-%m-%d'), load average $(cut -d' ' -f1 /proc/loadavg) at the end; best of several rounds, deltalab's kernels: $("$DELTALAB" -v 2>/dev/null | sed -n 's/.*kernels: \([a-z0-9]*\).*/\1/p')."
echo
echo "| what | deltalab | peer, same run (its setting) | ratio |"
echo "| --- | --- | --- | --- |"
# gemm_row OUTPUT CASE LABEL PEER: one square product's 1- and 2-thread GFLOPS.
gemm_row() {
    printf '%s\n' "$1" | awk -v c="$2" -v lab="$3" -v peer="$4" '
        index($0, c " ") == 1 { n = split($0, f, "|"); split(f[2], a, " "); split(f[3], b, " ")
            printf "| %s, 1 / 2 threads | %s / %s GFLOP/s | %s %s / %s | %s / %s |\n", lab, a[1], b[1], peer, a[3], b[3], a[4], b[4]; exit }'
}
core=$(printf '%s\n' "$g_inst" | sed -n 's/^OpenBLAS: libopenblas.so.0, core \([A-Za-z0-9]*\).*/\1/p')
sq=2048; [ -n "$q" ] && sq=1024
[ -n "$core" ] && gemm_row "$g_inst" "square $sq" "sgemm square $sq" "OpenBLAS as installed ($core kernels)"
[ -n "$g_avx2" ] && gemm_row "$g_avx2" "square $sq" "sgemm square $sq" "OpenBLAS forced to AVX2 (Haswell kernels)"
[ -n "$core" ] && printf '%s\n' "$g_inst" | awk -v peer="OpenBLAS as installed ($core kernels)" '
    /^-- one training step, batch 32/ { b32 = 1 }
    b32 && /whole step, 1 thread/ { printf "| the 8 products of an E2 step (batch 32), 1 thread | %s ms CPU | %s %s ms | %s |\n", $8, peer, $11, $14; exit }'
if [ -n "${train_out:-}" ]; then
    o1=$(printf '%s\n' "$train_out" | sed -n 's/.* 1 thread: \([0-9.]*\) samples.*/\1/p')
    o2=$(printf '%s\n' "$train_out" | sed -n 's/.* 2 threads: \([0-9.]*\) samples.*/\1/p')
    if [ -n "${torch_best:-}" ] && [ -n "$o1" ] && [ -n "$o2" ]; then
        awk -v a="$o1" -v o="$o2" -v p="$torch_best" -v t="$torch_best_th" 'BEGIN {
            printf "| training 784-3136-1568-10 ReLU, batch 32, 1 / 2 threads | %.0f / %.0f samples/s | PyTorch %.0f samples/s (its best here: set_num_threads(%d), BLAS as installed) | %.2fx / %.2fx |\n", a, o, p, t, a / p, o / p }'
    fi
fi
# Batch 1 by wall time: ours runs on one thread, a peer at its faster of 1 and
# 2 threads, whose CPU time would count both.
# The dense synthetic input, then MNIST's first 1000 images in turn.
for c in "784-30-10" "784-30-10 mnist" "784-100-10" "784-100-10 mnist"; do
    case=${c% mnist} input="dense input"
    [ "$case" != "$c" ] && input="MNIST images"
    case="$case batch 1${c#"$case"}"
    o=$(printf '%s\n' "${step_ours:-}" | sed -n "s/^step $case: \([0-9.]*\) us\/step wall.*/\1/p")
    for peer in numpy torch; do
        p=$(printf '%s\n' "${step_peers:-}" | sed -n "s/^$peer step $case: \([0-9.]*\) us\/step wall, [0-9.]* us\/step cpu (\(.*\))/\1|\2/p")
        [ -n "$o" ] && [ -n "$p" ] && awk -v o="$o" -v p="$p" -v c="${c% mnist}, $input" 'BEGIN { split(p, v, "|")
            printf "| net:step from Lua, one sample, %s (wall time) | %.1f us | %s us (%s) | %.1fx |\n", c, o, v[1], v[2], v[1] / o }'
    done
done
echo
echo "~: a 2-thread figure whose best round was descheduled (wall > 1.1 x CPU / 2): the machine was busy."
# Last, the long ones: real networks trained on real data (minutes).
if [ "${ACCURACY:-1}" != 0 ] && [ -x "$OBJ/bench/accuracy" ]; then
    echo "== accuracy (build/bench/accuracy: the experiments' oracles; ACCURACY=0 skips them)"
    "$OBJ/bench/accuracy" $q
fi
exit 0
