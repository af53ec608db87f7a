#!/bin/sh
# A sweep script from the command line, the way GNU parallel or a Slurm array
# uses it: --count, --commands, one --cell at a time into separate record
# files, then --merge of those files into one table.
set -u
DELTALAB=${DELTALAB:-./deltalab}
case $DELTALAB in /*) ;; *) DELTALAB=$(pwd)/$DELTALAB ;; esac
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
passed=0 failed=0
check() {  # check NAME COMMAND...
    name=$1; shift
    if "$@"; then passed=$((passed + 1)); echo "ok - $name"
    else failed=$((failed + 1)); echo "not ok - $name"; fi
}

cat >"$dir/grid.lua" <<'LUA'
-- A 2x3 grid whose "accuracy" is a known function of the settings.
trainer.sweep{
  grid = {lr = {0.1, 0.2, 0.3}, lambda = {0, 1}},
  record = "all.jsonl",
  run = function(cfg) return {acc = cfg.lr + cfg.lambda} end,
}
LUA
cd "$dir" || exit 1

count=$("$DELTALAB" grid.lua --count)
check "--count prints the number of cells" [ "$count" = 6 ]

"$DELTALAB" grid.lua --commands >cmds.txt
check "--commands prints one line per cell" [ "$(wc -l <cmds.txt)" -eq 6 ]
check "each command names the program, the script and its cell" \
    grep -qx "$DELTALAB grid.lua --cell 4" cmds.txt

# Every cell as its own process with its own record file (what parallel does
# with: sed 's/$/ --record r-{#}.jsonl/' | parallel).
k=0
while read -r cmd; do
    k=$((k + 1))
    sh -c "$cmd --record r-$k.jsonl" >"out-$k.txt" || failed=$((failed + 1))
done <cmds.txt
check "every cell wrote one record" [ "$(cat r-*.jsonl | wc -l)" -eq 6 ]
check "cell 4 is lambda 1, lr 0.1" grep -q '"cell":4,.*"settings":{"lambda":1,"lr":0.1}' r-4.jsonl
check "no cell wrote to the default record file" [ ! -e all.jsonl ]

"$DELTALAB" grid.lua --merge r-*.jsonl >merged.txt
check "the merged table has a header and 6 rows" [ "$(wc -l <merged.txt)" -eq 7 ]
check "merged row 6 is lambda 1, lr 0.3, acc 1.3" grep -Eq '^ *6 +1 +0\.3 +1\.3 ' merged.txt

"$DELTALAB" grid.lua --cell 2 >/dev/null
check "without --record a cell appends to the sweep's record file" [ "$(wc -l <all.jsonl)" -eq 1 ]
"$DELTALAB" grid.lua --cell 9 2>err.txt
check "a cell out of range is an error" grep -q "cell 9 is out of range: the grid has 6 cells" err.txt

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
