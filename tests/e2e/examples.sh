#!/bin/sh
# Every example in examples/ run with --quick (PNG files into a temporary
# directory, so nothing needs a display), each checked on its key printed
# figure: exact values where the arithmetic is exact or computed
# independently here, lower bounds where training is involved (bounds well
# below what the quick settings reach, far above chance). Examples that need
# MNIST or Fashion-MNIST are skipped, and say so, when the data is absent.
# examples/handworked.lua is checked by handworked.sh.
#   DELTALAB  the program (default ./deltalab)
cd "$(dirname "$0")/../.."
DL=${DELTALAB:-./deltalab}
passed=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { passed=$((passed + 1)); echo "ok - $1"; }
bad() { failed=$((failed + 1)); echo "not ok - $1"; }
check() {  # check NAME COMMAND...
    name=$1; shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}
has() { printf '%s\n' "$out" | grep -qF -- "$1"; }
# after TEXT: the first number that follows TEXT on the line holding it.
after() { printf '%s\n' "$out" | grep -F -- "$1" | head -n 1 | sed "s/.*$1[^-0-9.]*\([-0-9.e+]*\).*/\1/"; }
# cmp A OP B: awk's numeric comparison.
cmp() { [ -n "$1" ] && awk -v a="$1" -v b="$3" "BEGIN { exit !(a $2 b) }"; }
# run NAME ARGS...: run examples/NAME.lua --quick, keep its output in $out.
run() {
    name=$1; shift
    out=$("$DL" "examples/$name.lua" --quick --png "$tmp" "$@" 2>&1)
    status=$?
    check "$name --quick exits 0" [ "$status" -eq 0 ]
    [ "$status" -eq 0 ] || printf '%s\n' "$out" | tail -n 15 | sed 's/^/    /'
}
png() { check "$1 written" [ -s "$tmp/$1.png" ]; }

# The data: the finders' own places, then the shared directory a worktree
# sits two levels below.
if [ -z "${DELTALAB_DATA:-}" ] && ! "$DL" -e 'data.mnist{n = 1}' >/dev/null 2>&1; then
    for d in ../../shared/data; do
        [ -d "$d/mnist" ] && export DELTALAB_DATA="$d" && break
    done
fi
mnist=0; "$DL" -e 'data.mnist{n = 1}' >/dev/null 2>&1 && mnist=1
fashion=0; "$DL" -e 'data.fashion_mnist{n = 1}' >/dev/null 2>&1 && fashion=1

# E2: a small deep net learns; the batch comparison prints both rows.
if [ $mnist = 1 ]; then
    run mnist_deep
    check "E2 quick test accuracy >= 80%" cmp "$(after 'E2 test accuracy:')" '>=' 80
    check "E2 compare: batch 1 (lr 0.1/32) and 32 rows" sh -c 'printf "%s\n" "$1" | grep -Eq "^ +1 +0.003125 +[0-9]+ +1000 " &&
        printf "%s\n" "$1" | grep -Eq "^ +32 +0.1 +[0-9]+ +32 "' _ "$out"
    png mnist_deep-curves
else ok "mnist_deep skipped: no MNIST"; fi

# E3: the grid, the checkpoint round trip, the 20 mistakes.
if [ $mnist = 1 ]; then
    run logreg_4v9
    check "E3 best cell >= 85% of the test 4s and 9s" cmp "$(after 'test images right (')" '>=' 85
    check "E3 checkpoint reloads to the same count" has "correct (the same)"
    check "E3 lists 20 mistakes" [ "$(printf '%s\n' "$out" | grep -o '#[0-9]*: [49]→[49]' | wc -l)" -eq 20 ]
    png logreg_4v9-mistakes
else ok "logreg_4v9 skipped: no MNIST"; fi

# E4: accuracy, and L2 shrinking the weights (‖W‖ at λ 100 below λ 0).
if [ $mnist = 1 ]; then
    run softmax_l2
    check "E4 quick test accuracy >= 78%" cmp "$(after 'E4 test accuracy:')" '>=' 78
    w0=$(printf '%s\n' "$out" | awk '$1 == "0" && NF == 6 { print $6; exit }')
    w100=$(printf '%s\n' "$out" | awk '$1 == "100" && NF == 6 { print $6; exit }')
    check "E4 ‖W‖ smaller with λ 100 ($w100) than λ 0 ($w0)" cmp "$w100" '<' "$w0"
    check "E4 shuffle on vs off" has "same order each time"
    png softmax_l2-weights
else ok "softmax_l2 skipped: no MNIST"; fi

# E5: the stand-in is written in CIFAR's format, read back, learned above
# chance (10 classes: 10 %).
run cifar_twolayer
check "E5 stand-in read back through data.cifar" has "stand-in: 600 training and 300 test images"
check "E5 search table has 2 cells" [ "$(printf '%s\n' "$out" | grep -Ec '^ +[12] +(16|64) ')" -eq 2 ]
check "E5 stand-in test accuracy >= 20%" cmp "$(after 'E5 test accuracy:')" '>=' 20
png cifar_twolayer-curves

# E6: the three models above 60 % on 3000 images after 2 epochs.
if [ $fashion = 1 ]; then
    run fashion_models
    line=$(printf '%s\n' "$out" | grep 'E6 test accuracy:')
    for m in perceptron logistic MLP; do
        v=$(printf '%s\n' "$line" | sed "s/.*$m \([0-9.]*\).*/\1/")
        check "E6 $m >= 0.60 ($v)" cmp "$v" '>=' 0.60
    done
    check "E6 3 hidden layers row" has "MLP 3×100 ReLU"
    png fashion_models-accuracy
else ok "fashion_models skipped: no Fashion-MNIST"; fi

# E7: gradient descent reaches the closed form to fp32 precision (the
# distance starts at 2.5); the net's test loss rises after its minimum.
run linreg
check "E7 GD within 1e-5 of lstsq" cmp "$(after 'E7 distance after 300 steps:')" '<' 1e-5
best=$(printf '%s\n' "$out" | sed -n 's/.*test loss \([0-9.]*\) at epoch \([0-9]*\), \([0-9.]*\) at the end.*/\1 \2 \3/p')
set -- $best
check "E7 over-fitting: best test loss before the end" cmp "${2:-1000}" '<' 1000
check "E7 over-fitting: test loss rose again" cmp "${3:-0}" '>' "${1:-0}"
png linreg-distance
png linreg-overfit

# E8: w ← w − η(w − 1) from −2, eight steps (computed here by hand:
# 1 + (−3)(1 − η)⁸ gives 0.4967, 1, 0.4967, −5.4308).
run rolling_ball
check "E8 the four regimes" has "η 0.2 → 0.4967, η 1 → 1.0000, η 1.8 → 0.4967, η 2.1 → -5.4308"
check "E8 the large step reaches the deeper valley" has "(the deeper left valley)"
png rolling_ball-parabola

# E9: softmax(c·z) for z = (0.2, 0.5, 0.1, 0.35), values from python's math.exp.
run softmax_temperature
check "E9 c = 1" has "(0.2264, 0.3056, 0.2049, 0.2631)"
check "E9 c = 10" has "(0.0386, 0.7745, 0.0142, 0.1728)"
check "E9 c = 100: δ = c(a − y)" has "(-100.0000, 100.0000, 0.0000, 0.0000)"
check "E9 argmax at c = 1000" has "argmax is position 2"
run odd_neuron
check "E9 per-neuron σ′ equals the hand formula" sh -c 'printf "%s\n" "$1" | awk "/^ +neuron [0-9].*by hand/ { n++; if (\$8 != \$NF) bad = 1 } END { exit !(n == 3 && !bad) }"' _ "$out"
check "E9 odd neuron gradcheck" has "(backprop agrees)"
check "E9 linear outputs δᴸ = ∇ₐC" has "max |δᴸ − ∇ₐC| = 0.0e+00"

# E10: the table over activations × costs.
run gradcheck
check "E10 gradcheck agrees" has "backprop agrees with finite differences"

# The vanishing gradient: the sigmoid net's first hidden layer learns ~100×
# slower than its last; the ReLU net's layers within a factor of 3.
run vanishing
r=$(printf '%s\n' "$out" | sed -n 's/.*ratio sigmoid \([0-9.e-]*\), relu \([0-9.e-]*\).*/\1 \2/p')
set -- $r
check "vanishing: sigmoid ratio < 0.1 (${1:-?})" cmp "${1:-}" '<' 0.1
check "vanishing: relu ratio > 0.33 (${2:-?})" cmp "${2:-}" '>' 0.33
png vanishing-sigmoid

# The tour (make demo): the trace, a clean gradient check, training that
# separates the spirals (the quick run reaches 0.91; 0.8 is far above the
# 1/3 of chance), both pictures.
run tour
check "tour: the trace's four equations" sh -c 'printf "%s" "$1" | grep -q "BP1" && printf "%s" "$1" | grep -q "BP2" &&
    printf "%s" "$1" | grep -q "BP3" && printf "%s" "$1" | grep -q "BP4"' _ "$out"
check "tour: gradient check ok on both layers" [ "$(printf '%s\n' "$out" | grep -Ec '^ +[12] +[0-9.e+-]+ +[0-9.e+-]+ +ok$')" -eq 2 ]
check "tour: training accuracy >= 0.8" cmp "$(printf '%s\n' "$out" | sed -n '/^> trainer.evaluate/{n;p;}' | awk '{print $2}')" '>=' 0.8
png tour-loss
png tour-boundary

# The common command line.
"$DL" examples/rolling_ball.lua --bogus >/dev/null 2>"$tmp/err"
check "unknown flag: exit 2" [ $? -eq 2 ]
check "unknown flag: named" grep -qF "unknown option '--bogus'" "$tmp/err"
"$DL" examples/linreg.lua --steps x >/dev/null 2>"$tmp/err"
check "bad number: exit 2 and named" sh -c '[ $1 -eq 2 ] && grep -qF "needs a number" "$2"' _ $? "$tmp/err"
out=$("$DL" examples/rolling_ball.lua --help 2>&1)
check "--help prints the usage, exit 0" sh -c '[ $1 -eq 0 ] && printf "%s" "$2" | grep -q "^usage:"' _ $? "$out"
out=$("$DL" examples/rolling_ball.lua --quick --no-plot 2>&1)
check "--no-plot writes nothing" sh -c '! printf "%s" "$1" | grep -q "wrote"' _ "$out"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
