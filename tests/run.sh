#!/bin/sh
# Run every test suite and end with one summary line, "N passed, N failed".
# Each suite prints its own "N passed, N failed" as its last line; a suite
# that dies without one counts as one failure; one that could not run a test
# here (a package missing) says ", N skipped" after it, and the skips are
# counted apart, never as passes, on a line of their own before the summary. Set VERBOSE=1 to see passes.
#   DELTALAB  the program under test (default ./deltalab)
#   OBJ       where the C test binaries are (default ./build)
set -u
cd "$(dirname "$0")/.."
DELTALAB=${DELTALAB:-./deltalab}
OBJ=${OBJ:-build}
export DELTALAB
export LUA_PATH="tests/lua/?.lua;;"
passed=0 failed=0 skipped=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# run_suite NAME COMMAND...
run_suite() {
    name=$1; shift
    "$@" >"$out" 2>&1
    status=$?
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
    if [ -n "$line" ]; then
        p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
        # ", N skipped" after it: tests that could not run here (a missing package)
        s=0
        case $line in *" skipped"*) s=${line##*failed, }; s=${s%% skipped*} ;; esac
    else
        p=0 f=1 s=0
    fi
    [ "$status" -ne 0 ] && [ "$f" -eq 0 ] && f=1
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
    if [ "$f" -ne 0 ]; then
        echo "FAIL $name ($p passed, $f failed, exit $status)"
        grep -v '^ok ' "$out" | tail -n 40 | sed 's/^/    /'
    else
        if [ "$s" -ne 0 ]; then echo "ok   $name ($p passed, $s skipped)"
        else echo "ok   $name ($p passed)"; fi
        [ "${VERBOSE:-0}" = 1 ] && sed 's/^/    /' "$out"
    fi
}

# The core tests run with the default kernels, the scalar reference, and each
# other kernel set this CPU can run (deltalab -v names the set in use).
isa_of() { DELTALAB_ISA=$1 "$DELTALAB" -v 2>/dev/null | sed -n 's/.*kernels: \([a-z0-9]*\).*/\1/p'; }
default_isa=$(isa_of "")
other_isas=""
for isa in avx2 avx512; do
    [ "$isa" != "$default_isa" ] && [ "$(isa_of $isa)" = "$isa" ] && other_isas="$other_isas $isa"
done
for t in "$OBJ"/tests/test_*; do
    [ -x "$t" ] || continue
    run_suite "core/$(basename "$t")" "$t"
    run_suite "core/$(basename "$t") (scalar)" env DELTALAB_ISA=scalar "$t"
    for isa in $other_isas; do
        run_suite "core/$(basename "$t") ($isa)" env DELTALAB_ISA=$isa "$t"
    done
done
for t in tests/lua/*.lua; do
    case $t in */check.lua) continue ;; esac
    run_suite "lua/$(basename "$t")" "$DELTALAB" "$t"
done
if [ -x "$OBJ/tests/ptyrun" ]; then
    for t in tests/repl/*.txt; do
        [ -f "$t" ] || continue
        run_suite "repl/$(basename "$t")" "$OBJ/tests/ptyrun" "$DELTALAB" "$t"
    done
fi
for t in tests/e2e/*.sh; do
    [ -f "$t" ] || continue
    run_suite "e2e/$(basename "$t")" sh "$t"
done
# The skips get a line of their own, so that the last line is always
# exactly "N passed, N failed".
[ "$skipped" -ne 0 ] && echo "$skipped skipped (not counted as passed: see the suites marked above)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
