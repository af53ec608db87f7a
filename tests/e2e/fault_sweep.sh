#!/bin/sh
# Fault injection: the session tests/fault/session.lua runs once for every
# allocation deltalab's own code makes (the k-th fails) and once for every
# write, flush, close, fsync and rename of a file (the k-th fails). Each run
# must end well: no crash, no sanitizer report, the same final figures as the
# run without faults (the session retries a stage after its failure), and no
# temporary file left behind. A failed save must also leave the old file as it
# was and name the path and the injected reason (session.lua checks that for
# every writer: network checkpoints, NPY, sys.write_atomic, records, trainer
# checkpoints). At the end it says how many failures each stage recovered
# from. The program is the fault-injection build (make fault:
# $OBJ/fault/deltalab, linked with tests/fault/fault.c).
OBJ=${OBJ:-build}
FAULT=$OBJ/fault/deltalab
if [ ! -x "$FAULT" ]; then
    echo "not ok - $FAULT is missing (make fault builds it)"
    echo "0 passed, 1 failed"; exit 1
fi
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
passed=0 failed=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

want=$(DELTALAB_FAULT_COUNT=1 "$FAULT" tests/fault/session.lua "$dir" 2>"$dir/count")
counts=$(grep '^faults:' "$dir/count")
n_alloc=$(echo "$counts" | sed 's/faults: \([0-9]*\) allocations.*/\1/')
n_io=$(echo "$counts" | sed 's/.* \([0-9]*\) writes/\1/')
case "$want" in
    final:*) passed=$((passed + 1)) ;;
    *) echo "not ok - the session without faults: $want"; cat "$dir/count"
       echo "0 passed, 1 failed"; exit 1 ;;
esac
echo "session: $n_alloc allocations, $n_io file writes to fail in turn"

# run KIND K: one session with the K-th call of KIND failing.
run() {
    rm -rf "$dir/run"; mkdir "$dir/run"
    got=$(env "DELTALAB_FAIL_$1=$2" "$FAULT" tests/fault/session.lua "$dir/run" 2>"$dir/err")
    status=$?
    why=""
    [ $status -ne 0 ] && why="exit $status"
    [ "$got" != "$want" ] && why="$why; printed '$got'"
    grep -q 'Sanitizer\|runtime error' "$dir/err" && why="$why; sanitizer report"
    left=$(ls -A "$dir/run" | grep 'deltalab-tmp\|\.tmp')
    [ -n "$left" ] && why="$why; left $left"
    sed -n "s/^recovered: \([^:]*\):.*/$1 \1/p" "$dir/err" >>"$dir/stages"
    if [ -z "$why" ]; then passed=$((passed + 1))
    else failed=$((failed + 1)); echo "not ok - $1 failure $2: $why"; tail -n 5 "$dir/err" | sed 's/^/    /'
    fi
}
k=1; while [ "$k" -le "$n_alloc" ]; do run ALLOC $k; k=$((k + 1)); done
k=1; while [ "$k" -le "$n_io" ]; do run IO $k; k=$((k + 1)); done
echo "failures recovered from, by kind and stage:"
sort "$dir/stages" | uniq -c | sed 's/^ */    /'
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
