#!/bin/sh
# GNU parallel runs a sweep's cells two at a time on this machine, each cell
# into its own record file, with the recipe of doc/training.md; the merged
# records equal the serial run's, cell for cell. Says "skipped" (never
# "passed") when GNU parallel is not installed (make deps installs it).
set -u
DELTALAB=${DELTALAB:-./deltalab}
case $DELTALAB in /*) ;; *) DELTALAB=$(pwd)/$DELTALAB ;; esac
here=$(cd "$(dirname "$0")" && pwd)
passed=0 failed=0
check() {  # check NAME COMMAND...
    name=$1; shift
    if "$@"; then passed=$((passed + 1)); echo "ok - $name"
    else failed=$((failed + 1)); echo "not ok - $name"; fi
}
if ! command -v parallel >/dev/null 2>&1; then
    echo "skipped - GNU parallel is not installed (make deps installs it)"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
t0=$(date +%s.%N)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/bin" && ln -s "$DELTALAB" "$dir/bin/deltalab"
PATH=$dir/bin:$PATH
cp "$here/sweep_e3.lua" "$dir/e3.lua"
cd "$dir" || exit 1

timeout 60 deltalab e3.lua --record-dir serial >serial.txt 2>&1
check "the serial run wrote four records" [ "$(ls serial | wc -l)" -eq 4 ]

# doc/training.md: on this machine, two cells at a time
deltalab e3.lua --commands --record-dir runs | timeout 120 parallel -j2 >parallel.txt 2>&1
check "parallel ran every command" [ $? -eq 0 ]
check "each cell wrote its own file" \
    [ "$(ls runs | tr '\n' ' ')" = "cell-0001.jsonl cell-0002.jsonl cell-0003.jsonl cell-0004.jsonl " ]
check "no command was the script's own output" [ "$(grep -c 'command not found' parallel.txt)" -eq 0 ]
timeout 60 deltalab e3.lua --merge runs >merged.txt 2>merge_err.txt
check "the merge has the four cells" [ "$(grep -c '^ *[1-4]  ' merged.txt)" -eq 4 ]
check "the merge warns of nothing" [ ! -s merge_err.txt ]
check "the merged records equal the serial run's, cell for cell" \
    timeout 60 deltalab "$here/sweep_same.lua" serial runs
check "the merged table equals the serial run's (but for the seconds)" \
    sh -c "grep '^ *[0-9c]' merged.txt | sed 's/ *[0-9.]*\$//' >m.txt &&
           grep '^ *[0-9c]' serial.txt | sed 's/ *[0-9.]*\$//' >s.txt && cmp -s m.txt s.txt"

t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "wall time: %.2f s\n", b - a }'
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
