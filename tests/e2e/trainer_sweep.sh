#!/bin/sh
# A sweep script from the command line, the way GNU parallel or a Slurm array
# uses it: --count and --commands print their answer and nothing else (the
# script prints before it reaches the sweep), one --cell at a time into a
# record directory, then --merge of that directory into one table; a script
# that parses its own flags with deltalab.cli takes the sweep flags too.
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
-- A 2x3 grid whose "accuracy" is a known function of the settings; the
-- script prints, and its options come through deltalab.cli.
local cli = require "deltalab.cli"
local opt = cli.parse(arg, { offset = { 0, "added to every accuracy" }, loud = false })
print("returned: the script's own output")
io.write("more of it\n")
trainer.sweep{
  grid = {lr = {0.1, 0.2, 0.3}, lambda = {0, 1}},
  record = "all.jsonl",
  run = function(cfg) print("cell output"); return {acc = cfg.lr + cfg.lambda + opt.offset} end,
}
print("after the sweep")
LUA
cd "$dir" || exit 1

"$DELTALAB" grid.lua --count >count.txt
check "--count prints the number of cells and nothing else" [ "$(cat count.txt)" = 6 ]
check "--count's output is exactly one line" [ "$(wc -l <count.txt)" -eq 1 ]

"$DELTALAB" grid.lua --offset 1 --commands >cmds.txt
check "--commands prints one line per cell, nothing else" [ "$(wc -l <cmds.txt)" -eq 6 ]
real=$(readlink -f "$DELTALAB")
check "each command: the interpreter's and the script's absolute paths, the script's flags, --cell k" \
    grep -qx "$real $dir/grid.lua --offset 1 --cell 4" cmds.txt
"$DELTALAB" grid.lua --commands 'two words' "it's" >q.txt
check "the script's other words are quoted for a shell" \
    grep -qx "$real $dir/grid.lua 'two words' 'it'\\\\''s' --cell 1" q.txt

# Every cell as its own process, each into its own file of one directory.
"$DELTALAB" grid.lua --commands --record-dir cells >cmds.txt
while read -r cmd; do
    sh -c "$cmd" >/dev/null || failed=$((failed + 1))
done <cmds.txt
check "every cell wrote its own file" [ "$(ls cells | tr '\n' ' ')" = "cell-0001.jsonl cell-0002.jsonl cell-0003.jsonl cell-0004.jsonl cell-0005.jsonl cell-0006.jsonl " ]
check "cell 4 is lambda 1, lr 0.1" grep -q '"cell":4,.*"settings":{"lambda":1,"lr":0.1}' cells/cell-0004.jsonl
check "the record says which script and arguments made it" \
    grep -q "\"args\":\\[\"--record-dir\",\"cells\",\"--cell\",\"4\"\\].*\"script\":\"$dir/grid.lua\"" cells/cell-0004.jsonl
check "no cell wrote to the default record file" [ ! -e all.jsonl ]

"$DELTALAB" grid.lua --merge cells >merged.txt 2>merge_err.txt
check "the merged table has a header and 6 rows (and the script's output)" \
    [ "$(grep -c '^ *[0-9]  ' merged.txt)" -eq 6 ]
check "merged row 6 is lambda 1, lr 0.3, acc 1.3" grep -Eq '^ *6 +1 +0\.3 +1\.3 ' merged.txt
check "a complete merge warns of nothing" [ ! -s merge_err.txt ]

# A torn last line (a cell killed mid-write) and a missing cell.
rm cells/cell-0003.jsonl
printf '{"cell":5,"cells":6,"sett' >>cells/cell-0005.jsonl
"$DELTALAB" grid.lua --merge cells >merged.txt 2>merge_err.txt
check "merge goes on past a torn last line" [ $? -eq 0 ]
check "... and names its file and line" grep -q "cells/cell-0005.jsonl:2: skipped a torn last line" merge_err.txt
check "... and the cells with no record" grep -q "merge: cell 3 has no record (the grid has 6 cells)" merge_err.txt

"$DELTALAB" grid.lua --cell 2 >/dev/null
check "without --record a cell appends to the sweep's record file" [ "$(wc -l <all.jsonl)" -eq 1 ]
"$DELTALAB" grid.lua --cell 9 2>err.txt
check "a cell out of range is an error" grep -q "cell 9 is out of range: the grid has 6 cells" err.txt
"$DELTALAB" grid.lua --cel 1 >out.txt 2>err.txt
check "a misspelt sweep flag fails" [ $? -ne 0 ]
check "... saying what was meant" grep -q "unknown option '--cel' (did you mean '--cell'?)" err.txt
check "... and runs no cell" [ "$(grep -c 'cell output' out.txt)" -eq 0 ]
"$DELTALAB" grid.lua --help >help.txt
check "--help lists the script's options and the sweep's" \
    sh -c "grep -q -- '--offset N *added to every accuracy (default: 0)' help.txt && grep -q -- '--record-dir DIR' help.txt"
echo 'print("no sweep here")' >nosweep.lua
"$DELTALAB" nosweep.lua --count >out.txt 2>err.txt
check "--count to a script with no sweep says so" grep -q "ran no trainer.sweep" err.txt

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
