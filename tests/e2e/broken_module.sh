#!/bin/sh
# A broken Lua module is an error at start that names its file: for every
# lua/deltalab/*.lua and lua/deltalab/*/*.lua, a copy of the program whose copy
# of that one file ends in a syntax error must fail on `-e 'print(1)'` (status
# 1, nothing printed) with the file's name on stderr. The same holds for
# deltalab.so under a stock lua5.4. The real files are never touched: the
# program finds lua/ beside its executable, so the copies run from a temporary
# directory that holds the program, deltalab.so and a copy of lua/.
# Prints "ok"/"not ok" per check and, last, "N passed, N failed".
#   DELTALAB  the program under test (default ./deltalab)
set -u
cd "$(dirname "$0")/../.."
DL=${DELTALAB:-./deltalab}
BDIR=$(dirname "$DL")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

ok() { passed=$((passed + 1)); echo "ok - $1"; }
fail() {
    failed=$((failed + 1)); echo "not ok - $1"; shift
    for line in "$@"; do printf '  %s\n' "$line"; done
}

cp "$DL" "$tmp/deltalab"
cp -R lua "$tmp/lua"
so=0
if command -v lua5.4 >/dev/null 2>&1 && [ -f "$BDIR/deltalab.so" ] &&
   ! { command -v ldd >/dev/null 2>&1 && ldd "$BDIR/deltalab.so" 2>/dev/null | grep -q libasan; }; then
    cp "$BDIR/deltalab.so" "$tmp/deltalab.so"
    so=1
fi

# The copy runs the copied files (else a pass below would prove nothing).
out=$("$tmp/deltalab" -e 'print(debug.getinfo(help.reload, "S").source)' 2>"$tmp/err")
if [ "$out" = "@$tmp/lua/deltalab/help.lua" ]; then
    ok "the copied program loads the copied lua/"
else
    fail "the copied program loads the copied lua/" "got: $out" "stderr: $(head -c 400 "$tmp/err")"
fi
if [ $so = 1 ]; then
    out=$(cd "$tmp" && LUA_CPATH="$tmp/?.so" LUA_PATH="" lua5.4 -e '
        print(debug.getinfo(require("deltalab").help.reload, "S").source)' 2>"$tmp/err")
    if [ "$out" = "@$tmp/lua/deltalab/help.lua" ]; then
        ok "lua5.4 with the copied deltalab.so loads the copied lua/"
    else
        fail "lua5.4 with the copied deltalab.so loads the copied lua/" "got: $out" \
            "stderr: $(head -c 400 "$tmp/err")"
    fi
fi

# check NAME STDERR-FILE STATUS STDOUT FILE
check() {
    if [ "$3" -ne 0 ] && [ -z "$4" ] && grep -qF "$5" "$2"; then
        ok "$1"
    else
        fail "$1" "status $3, stdout: $4" "stderr: $(head -c 600 "$2")"
    fi
}

n=0
for f in lua/deltalab/*.lua lua/deltalab/*/*.lua; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    copy=$tmp/$f
    cp "$copy" "$tmp/saved"
    printf '\nthis is not Lua (\n' >>"$copy"
    out=$("$tmp/deltalab" -e 'print(1)' 2>"$tmp/err")
    check "a syntax error in $f stops deltalab at start, naming the file" "$tmp/err" $? "$out" "$copy"
    if [ $so = 1 ]; then
        out=$(cd "$tmp" && LUA_CPATH="$tmp/?.so" LUA_PATH="" lua5.4 -e 'require "deltalab" print(1)' 2>"$tmp/err")
        check "... and require \"deltalab\" in lua5.4" "$tmp/err" $? "$out" "$copy"
    fi
    cp "$tmp/saved" "$copy"
done
[ $n -ge 10 ] && ok "$n module files checked" || fail "only $n module files found"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
