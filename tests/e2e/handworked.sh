#!/bin/sh
# examples/handworked.lua, gradcheck.lua, softmax_temperature.lua and odd_neuron.lua --quick run; handworked and prints the hand-worked numbers
# (E1); --latex gives LaTeX; a bad flag is refused with the usage line.
DELTALAB=${DELTALAB:-./deltalab}
passed=0 failed=0
check() {  # check NAME COMMAND...
    name=$1; shift
    if "$@"; then passed=$((passed + 1)); echo "ok - $name"
    else failed=$((failed + 1)); echo "not ok - $name"; fi
}
out=$("$DELTALAB" examples/handworked.lua --quick 2>&1)
check "quick run exits 0" [ $? -eq 0 ]
for want in "0.2984" "0.1385, -0.0381" "0.008771, 0.009954" "0.3589165" "0.2910278" "σ′ cancels" "gradient check"; do
    check "output has $want" sh -c 'printf "%s" "$1" | grep -qF -- "$2"' _ "$out" "$want"
done
tex=$("$DELTALAB" examples/handworked.lua --quick --latex 2>&1)
check "latex run" sh -c 'printf "%s" "$1" | grep -qF "\\begin{align*}"' _ "$tex"
"$DELTALAB" examples/handworked.lua --bogus >/dev/null 2>&1
check "unknown flag refused" [ $? -eq 2 ]
g=$("$DELTALAB" examples/gradcheck.lua --quick 2>&1)
check "gradcheck example agrees" sh -c 'printf "%s" "$1" | grep -qF "backprop agrees with finite differences"' _ "$g"
# E9, formerly also in a third script that repeated these two.
t=$("$DELTALAB" examples/softmax_temperature.lua --quick --no-plot 2>&1)
check "softmax_temperature: one-hot at c = 100" sh -c 'printf "%s" "$1" | grep -qE "^ +100 +\(0\.0000, 1\.0000, 0\.0000, 0\.0000\)"' _ "$t"
o=$("$DELTALAB" examples/odd_neuron.lua --quick --no-plot 2>&1)
check "odd_neuron: the trace names the odd neuron" sh -c 'printf "%s" "$1" | grep -qF "neuron 2 is tanh"' _ "$o"
check "odd_neuron: linear outputs give δᴸ = ∇ₐC" sh -c 'printf "%s" "$1" | grep -qE "max \|δᴸ − ∇ₐC\| = 0\.0e\+00"' _ "$o"
# net:walk stepping on Enter, stopping on q; the stepper goes on from there.
w=$(printf '\n\nq\n' | "$DELTALAB" -e 'local net = network{2, 2, 2, seed = 1}
local w = net:walk({0.05, 0.1}, {0.01, 0.99}, {interactive = true})
print("next:", w())' 2>&1)
check "walk steps on Enter and stops on q" sh -c 'printf "%s" "$1" | grep -q "^next:.cost$" && printf "%s" "$1" | grep -qF "forward, layer 2"' _ "$w"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
