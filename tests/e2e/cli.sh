#!/bin/sh
# The deltalab command line, end to end: scripts from stdin and files, -e, -l,
# -i, -v, -h, the arg table, exit statuses, the deltalab table, require
# "deltalab" from a stock lua5.4, and `make install` into a DESTDIR.
# Prints "ok"/"not ok" per check and, last, "N passed, N failed".
#   DELTALAB  the program under test (default ./deltalab)
set -u
cd "$(dirname "$0")/../.."
DL=${DELTALAB:-./deltalab}
case $DL in /*) ;; *) DL=$PWD/$DL ;; esac
BDIR=$(dirname "$DL")
VERSION=$(sed -n 's/^#define DL_VERSION "\(.*\)"/\1/p' src/core/dl.h)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

ok() { passed=$((passed + 1)); echo "ok - $1"; }
fail() {
    failed=$((failed + 1)); echo "not ok - $1"; shift
    for line in "$@"; do printf '  %s\n' "$line"; done
}

# expect NAME STATUS STDOUT COMMAND...: run COMMAND with stdin from $IN (default
# /dev/null); its status and its stdout (trailing newlines aside) must match.
# Its stderr stays in $tmp/err for err_has.
expect() {
    name=$1 want_status=$2 want_out=$3
    shift 3
    out=$("$@" <"${IN:-/dev/null}" 2>"$tmp/err")
    status=$?
    if [ "$status" = "$want_status" ] && [ "$out" = "$want_out" ]; then
        ok "$name"
    else
        fail "$name" "status $status, expected $want_status" "stdout: $out" "expected: $want_out" \
            "stderr: $(head -c 800 "$tmp/err")"
    fi
}

# err_has NAME TEXT: the stderr of the last expect contains TEXT.
err_has() {
    if grep -qF -- "$2" "$tmp/err"; then ok "$1"; else fail "$1" "stderr lacks: $2" "stderr: $(head -c 800 "$tmp/err")"; fi
}

# err_empty NAME: the last expect wrote nothing to stderr.
err_empty() {
    if [ ! -s "$tmp/err" ]; then ok "$1"; else fail "$1" "stderr: $(head -c 800 "$tmp/err")"; fi
}

# ---- scripts from stdin: no prompt noise
printf 'print(1+1)\n' >"$tmp/in"
"$DL" - <"$tmp/in" >"$tmp/out" 2>"$tmp/err"
printf '2\n' >"$tmp/want"
if cmp -s "$tmp/out" "$tmp/want" && [ ! -s "$tmp/err" ]; then
    ok "echo 'print(1+1)' | deltalab - prints exactly 2"
else
    fail "echo 'print(1+1)' | deltalab - prints exactly 2" "got: $(od -c "$tmp/out" | head -3)"
fi
IN=$tmp/in expect "without arguments, piped stdin runs as a script" 0 "2" "$DL"
printf 'print(...)\n' >"$tmp/in"
IN=$tmp/in expect "'-' takes arguments after it" 0 "$(printf 'a\tb')" "$DL" - a b

printf '1+1\nx = 3\nx * 2\n_ + 1\n"quiet";\n_\n' >"$tmp/in"
IN=$tmp/in expect "-i on a pipe: results printed, no prompts, no banner" 0 "$(printf '2\n6\n7\nquiet')" "$DL" -i
err_empty "-i on a pipe: nothing on stderr"
printf 'error("boom")\nprint("after")\n' >"$tmp/in"
IN=$tmp/in expect "-i on a pipe: an error does not end the session" 0 "after" "$DL" -i
err_has "-i on a pipe: the error is on stderr" "stdin:1: boom"
printf 'for i = 1, 2 do\nprint(i)\nend\nmatrix{\n{1, 2}}:shape()\n' >"$tmp/in"
IN=$tmp/in expect "-i on a pipe: multi-line statements and expressions" 0 "$(printf '1\n2\n1\t2')" "$DL" -i
awk 'BEGIN { s = "x = \""; for (i = 0; i < 10000; i++) s = s "a"; print s "\""; print "#x" }' >"$tmp/in"
IN=$tmp/in expect "-i on a pipe: a 10000-character line is one line" 0 "10000" "$DL" -i
printf 'if true then\n' >"$tmp/in"
IN=$tmp/in expect "-i on a pipe: input ending inside a statement is a syntax error" 0 "" "$DL" -i
err_has "-i on a pipe: ... that says <eof>" "'end' expected near <eof>"

# ---- -e, -l, the order of options
expect "-e runs a statement" 0 "3" "$DL" -e 'print(3)'
expect "-e statements run in order" 0 "4" "$DL" -e 'x = 2' -e 'print(x * x)'
expect "-e with the statement attached" 0 "5" "$DL" '-eprint(5)'
printf 'print(y)\n' >"$tmp/y.lua"
expect "-e then a script" 0 "7" "$DL" -e 'y = 7' "$tmp/y.lua"
printf 'return { v = 7 }\n' >"$tmp/mymod.lua"
expect "-l mod sets the global mod" 0 "7" env LUA_PATH="$tmp/?.lua;;" "$DL" -l mymod -e 'print(mymod.v)'
expect "-l g=mod sets the global g" 0 "7" env LUA_PATH="$tmp/?.lua;;" "$DL" -l g=mymod -e 'print(g.v)'
expect "-l of a missing module fails" 1 "" "$DL" -l nosuchmodule
err_has "-l of a missing module says so" "module 'nosuchmodule' not found"

# ---- scripts, arguments, exit statuses
cat >"$tmp/args.lua" <<'EOF'
print(arg[0]:match("[^/]*$"), arg[1], arg[2], #arg, select("#", ...), arg[-1], arg[-2])
EOF
expect "arg and ... as lua.c sets them" 0 "$(printf 'args.lua\ta\tb c\t2\t2\tx=1\t-e')" \
    "$DL" -e x=1 "$tmp/args.lua" a "b c"
expect "-- ends the options" 0 "$(printf 'args.lua\t-v\tnil\t1\t1\t--\t%s' "$DL")" "$DL" -- "$tmp/args.lua" -v
printf 'local function f() error("bad thing") end\nf()\n' >"$tmp/err.lua"
expect "an uncaught error exits 1" 1 "" "$DL" "$tmp/err.lua"
err_has "... with the message" "err.lua:1: bad thing"
err_has "... and a traceback" "stack traceback:"
err_has "... naming the function" "in local 'f'"
printf 'error(setmetatable({}, {__tostring = function() return "custom" end}))\n' >"$tmp/obj.lua"
expect "an error object with __tostring" 1 "" "$DL" "$tmp/obj.lua"
err_has "... is shown through it" "custom"
printf 'error({})\n' >"$tmp/tbl.lua"
expect "an error object without __tostring" 1 "" "$DL" "$tmp/tbl.lua"
err_has "... is named by its type" "(error object is a table value)"
printf 'x = = 1\n' >"$tmp/syntax.lua"
expect "a syntax error exits 1" 1 "" "$DL" "$tmp/syntax.lua"
err_has "... and says where" "syntax.lua:1: unexpected symbol near '='"
expect "a missing script exits 1" 1 "" "$DL" "$tmp/nosuch.lua"
err_has "... and says why" "cannot open"
expect "os.exit(3) exits 3" 3 "" "$DL" -e 'os.exit(3)'
expect "-e error exits 1" 1 "" "$DL" -e 'error("no")'
err_has "... with the chunk name" "(command line):1: no"
expect "a script's output before an error is kept" 1 "before" "$DL" -e 'print("before") error("x")'

"$DL" -e 'io.write("started\n") io.stdout:flush() while true do end' >"$tmp/started" 2>"$tmp/err" &
pid=$!
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    grep -q started "$tmp/started" 2>/dev/null && break
    sleep 0.1
done
kill -INT $pid
wait $pid
status=$?
if [ $status = 1 ] && grep -qF "$DL: interrupted" "$tmp/err"; then
    ok "SIGINT stops a script: '<program as called>: interrupted' and status 1"
else
    fail "SIGINT stops a script" "status $status" "stderr: $(head -c 400 "$tmp/err")"
fi

# ---- -v, -h, bad options
v=$("$DL" -v)
isa=$("$DL" -e 'io.write(deltalab.isa)')
case $v in
"deltalab $VERSION (Lua 5.4."*", kernels: $isa)") ok "-v: $v" ;;
*) fail "-v prints 'deltalab $VERSION (Lua 5.4.x, kernels: $isa)'" "got: $v" ;;
esac
expect "--version is -v" 0 "$v" "$DL" --version
v=$(DELTALAB_ISA=scalar "$DL" -v)
case $v in *"kernels: scalar)") ok "-v with DELTALAB_ISA=scalar says scalar" ;; *) fail "-v with DELTALAB_ISA=scalar" "got: $v" ;; esac
expect "-v then -e: both" 0 "$(printf '%s\n9' "$("$DL" -v)")" "$DL" -v -e 'print(9)'
"$DL" -h >"$tmp/out" 2>"$tmp/err"; status=$?
if [ $status = 0 ] && grep -q '^usage: deltalab \[options\] \[script \[args\]\]' "$tmp/out" && [ ! -s "$tmp/err" ]; then
    ok "-h prints the usage on stdout, exit 0"
else
    fail "-h prints the usage on stdout, exit 0" "status $status" "$(head -3 "$tmp/out")"
fi
expect "--help is -h" 0 "$(cat "$tmp/out")" "$DL" --help
expect "a bad option exits 1" 1 "" "$DL" -z
err_has "... naming it, after the program as called" "$DL: unrecognized option '-z'"
err_has "... with the usage" "usage: deltalab"
for bad in -Ex -vv -iv -Wx ---; do
    expect "$bad is a bad option" 1 "" "$DL" "$bad"
    err_has "... and says so" "unrecognized option '$bad'"
done
expect "-e without its statement exits 1" 1 "" "$DL" -e
err_has "... saying so" "'-e' needs argument"
expect "-l without its module exits 1" 1 "" "$DL" -l
err_has "... saying so" "'-l' needs argument"
expect "-e followed by an option is -e without its statement" 1 "" "$DL" -e -v
err_has "... saying so" "'-e' needs argument"
expect "-e with a syntax error exits 1" 1 "" "$DL" -e 'a'
err_has "... saying so" "syntax error near <eof>"
expect "-E ignores DELTALAB_INIT" 0 "nil" env DELTALAB_INIT='x = 42' "$DL" -E -e 'print(x)'
expect "DELTALAB_INIT runs first" 0 "42" env DELTALAB_INIT='x = 42' "$DL" -e 'print(x)'
printf 'x = 43\n' >"$tmp/init.lua"
expect "DELTALAB_INIT=@file runs the file" 0 "43" env DELTALAB_INIT="@$tmp/init.lua" "$DL" -e 'print(x)'

# ---- the environment, as lua5.4 reads it
# package.path and cpath stay as LUA_PATH[_5_4] / LUA_CPATH[_5_4] set them
# (";;" is Lua's default path); deltalab's own modules load all the same.
default_path=$("$DL" -E -e 'io.write(package.path)')
default_cpath=$("$DL" -E -e 'io.write(package.cpath)')
case $default_path in *"?.lua"*) ok "-E: package.path is Lua's default" ;; *) fail "-E: package.path" "got: $default_path" ;; esac
expect "-E: Lua's default path whatever LUA_PATH says" 0 "$default_path" env LUA_PATH=xxx "$DL" -E -e 'io.write(package.path)'
expect "-E: and the default cpath" 0 "$default_cpath" env LUA_CPATH=xxx "$DL" -E -e 'io.write(package.cpath)'
expect "env -i: the same defaults" 0 "$(printf '%s\t%s' "$default_path" "$default_cpath")" \
    env -i "$DL" -e 'io.write(package.path, "\t", package.cpath)'
expect "LUA_PATH is package.path, as set" 0 "x" env LUA_PATH=x "$DL" -e 'io.write(package.path)'
expect "LUA_PATH_5_4 comes before LUA_PATH" 0 "y" env LUA_PATH_5_4=y LUA_PATH=x "$DL" -e 'io.write(package.path)'
expect "LUA_CPATH is package.cpath" 0 "xuxu" env LUA_CPATH=xuxu "$DL" -e 'io.write(package.cpath)'
expect "LUA_CPATH_5_4 comes before LUA_CPATH" 0 "yacc" env LUA_CPATH_5_4=yacc LUA_CPATH=x "$DL" -e 'io.write(package.cpath)'
expect "';;' in LUA_PATH is the default path" 0 "a;$default_path;b" env LUA_PATH='a;;b' "$DL" -e 'io.write(package.path)'
expect "a final ';;' too" 0 "a;$default_path" env LUA_PATH='a;;' "$DL" -e 'io.write(package.path)'
expect "deltalab's modules load whatever LUA_PATH says" 0 "$(printf 'function\tfunction\ttable')" \
    env LUA_PATH=x "$DL" -e 'print(type(network{2, 2}.trace), type(trainer.sweep), type(help))'
expect "a module of the user's on LUA_PATH is found" 0 "7" env LUA_PATH="$tmp/?.lua" "$DL" -e 'print(require("mymod").v)'

# LUA_INIT_5_4, else LUA_INIT, then DELTALAB_INIT: code or @file, before the
# options, with arg already set; -E skips them all.
printf 'print(X)\n' >"$tmp/x.lua"
expect "LUA_INIT runs first and sees arg" 0 "3.2" env LUA_INIT='X = tonumber(arg[1])' "$DL" "$tmp/x.lua" 3.2
expect "LUA_INIT_5_4 comes before LUA_INIT" 0 "10" env LUA_INIT_5_4='X = 10' LUA_INIT='X = 3' "$DL" "$tmp/x.lua"
printf 'x = x or 10; print(x); x = x + 1\n' >"$tmp/twice.lua"
expect "LUA_INIT=@file runs the file" 0 "$(printf '10\n11')" env LUA_INIT="@$tmp/twice.lua" "$DL" "$tmp/twice.lua"
expect "LUA_INIT, then DELTALAB_INIT" 0 "12" env LUA_INIT='X = 3' DELTALAB_INIT='X = X * 4' "$DL" "$tmp/x.lua"
expect "an error in LUA_INIT exits 1" 1 "" env LUA_INIT="error('msg')" "$DL" -e 'print("not reached")'
err_has "... naming LUA_INIT" "LUA_INIT:1: msg"
expect "-E ignores LUA_INIT and LUA_INIT_5_4" 0 "nil" env LUA_INIT='error(10)' LUA_INIT_5_4='error(11)' "$DL" -E "$tmp/x.lua"

# ---- what the script sees, as in lua5.4
printf 'print(...)\n' >"$tmp/in"
IN=$tmp/in expect "'-' reads the script's ... from arg (-e 'arg[1] = 100')" 0 "100" "$DL" -e 'arg[1] = 100' -
IN=$tmp/in expect "... follows arg in a script file too" 0 "$(printf 'x\tb')" "$DL" -e 'arg[1] = "x"' "$tmp/in" a b
IN=$tmp/in expect "arg that is not a table is an error" 1 "" "$DL" -e 'arg = 1' -
err_has "... saying so" "'arg' is not a table"
printf 'print(arg[1])\n' >"$tmp/in"
IN=$tmp/in expect "options after '-' are the script's" 0 "-h" "$DL" - -h
printf 'print(({...})[30], select("#", ...))\n' >"$tmp/many.lua"
expect "thirty arguments" 0 "$(printf 'a30\t30')" "$DL" "$tmp/many.lua" $(seq -f 'a%g' 1 30)
expect "'-e ' runs an empty statement; -- then the script" 0 "$(printf 'args.lua\ta\tnil\t1\t1\t--\t-e ')" \
    "$DL" '-e ' -- "$tmp/args.lua" a
printf 'm = setmetatable({}, {__tostring = function() return "six" end})\nerror(m)\n' >"$tmp/obj2.lua"
expect "an error object with __tostring is the whole message" 1 "" "$DL" "$tmp/obj2.lua"
if [ "$(cat "$tmp/err")" = "$DL: six" ]; then ok "... with no traceback"; else fail "... with no traceback" "stderr: $(cat "$tmp/err")"; fi
printf 'local x <close> = setmetatable({}, {__close = function(_, e) assert(e == nil) print("ok") end})\nlocal y <close> = setmetatable({}, {__close = function() print(120) end})\nos.exit(true, true)\n' >"$tmp/close.lua"
expect "os.exit(true, true) closes the to-be-closed variables" 0 "$(printf '120\nok')" "$DL" "$tmp/close.lua"
expect "os.exit(false, true) exits 1" 1 "" "$DL" -e 'os.exit(false, true)'
err_empty "... with no message"
expect "os.exit(nil, true) exits 0" 0 "" "$DL" -e 'os.exit(nil, true)'
printf 'io.output("%s/alo") io.write("alo")\n' "$tmp" >"$tmp/open.lua"
"$DL" "$tmp/open.lua"
if [ "$(cat "$tmp/alo" 2>/dev/null)" = alo ]; then ok "a file left open is flushed at exit"; else fail "a file left open is flushed at exit"; fi
"$DL" -e 'local f = assert(io.open(arg[1], "wb")) f:write("#comment\n", string.dump(load("print(3)"))) f:close()' \
    - "$tmp/bin.luac" </dev/null
expect "a precompiled chunk after a '#' line runs" 0 "3" "$DL" "$tmp/bin.luac"

# warnings: off by default, -W turns them on; finalizers' errors become warnings
expect "no warnings without -W" 0 "" "$DL" -e 'warn("XXX")'
err_empty "... nothing on stderr"
expect "-W turns warnings on" 0 "" "$DL" -W -e 'warn("@off") warn("no") warn("@on") warn("Z", "Z")'
if [ "$(cat "$tmp/err")" = "Lua warning: ZZ" ]; then ok "... and the control messages work"; else fail "... -W" "stderr: $(cat "$tmp/err")"; fi
expect "an error in a finalizer at exit is a warning" 0 "" "$DL" -W -e 'u = setmetatable({}, {__gc = function() error("XYZ") end})'
err_has "... naming it" "XYZ"

# the prompt on a pipe: '=' starts an expression; print errors are reported
printf '=6 * 7\n' >"$tmp/in"
IN=$tmp/in expect "-i: a first line '=expr' prints expr" 0 "42" "$DL" -i
printf '10\n' >"$tmp/in"
IN=$tmp/in expect "-i with print = nil" 0 "" "$DL" -e 'print = nil' -i
err_has "... says print cannot be called" "error calling 'print'"
printf 'io.stderr:write(1000)\ncont\n' >"$tmp/in"
IN=$tmp/in expect "debug.debug reads commands from stdin" 0 "" "$DL" -e 'require("debug").debug()'
if [ "$(cat "$tmp/err")" = "lua_debug> 1000lua_debug> " ]; then ok "... as in lua5.4"; else fail "debug.debug" "stderr: $(cat "$tmp/err")"; fi

# ---- the globals and the deltalab table
expect "the modules are globals" 0 "$(printf 'table\ttable\ttable\ttable\ttable\ttable')" \
    "$DL" -e 'print(type(matrix), type(network), type(trainer), type(data), type(plot), type(help))'
expect "deltalab.version is DL_VERSION; require returns the same table" 0 "$(printf '%s\ttrue' "$VERSION")" \
    "$DL" -e 'print(deltalab.version, require("deltalab") == deltalab)'
expect "deltalab.use switches the kernels and deltalab.isa follows" 0 "$(printf 'scalar\tscalar')" \
    "$DL" -e 'print(deltalab.use("scalar"), deltalab.isa)'
expect "deltalab.use refuses an unknown ISA" 1 "" "$DL" -e 'deltalab.use("sse")'
err_has "... naming the option" "invalid option 'sse'"
expect "examples/tour.lua runs" 0 "$("$DL" examples/tour.lua --quick --png "$tmp" 2>/dev/null)" \
    "$DL" examples/tour.lua --quick --png "$tmp"
err_empty "examples/tour.lua writes nothing to stderr"

# ---- deltalab.so from a stock lua5.4
asan_so=0
if command -v ldd >/dev/null 2>&1 && ldd "$BDIR/deltalab.so" 2>/dev/null | grep -q 'libasan'; then asan_so=1; fi
if ! command -v lua5.4 >/dev/null 2>&1; then
    ok "lua5.4 require \"deltalab\" # skip lua5.4 is not installed"
elif [ $asan_so = 1 ]; then
    ok "lua5.4 require \"deltalab\" # skip deltalab.so is built with the sanitizers"
else
    out=$(cd "$tmp" && LUA_CPATH="$BDIR/?.so;;" lua5.4 -e 'print(require("deltalab"))' 2>&1)
    case $out in "table: 0x"*) ok "lua5.4 -e 'print(require(\"deltalab\"))' with LUA_CPATH at the build" ;;
    *) fail "lua5.4 -e 'print(require(\"deltalab\"))'" "got: $out" ;; esac
    IN= expect "from lua5.4: the modules, the version, help's docs" 0 \
        "$(printf 'table\ttable\t%s\ttrue\tnil' "$VERSION")" env LUA_CPATH="$BDIR/?.so;;" lua5.4 -e '
        local dl = require "deltalab"
        print(type(dl.matrix), type(dl.help), dl.version, dl.help.text("deltalab.use") ~= nil, rawget(_G, "matrix"))'
fi

# ---- make install into a DESTDIR, then run what was installed
root=$tmp/root
if make --no-print-directory install B="$BDIR" PREFIX=/usr/local DESTDIR="$root" >"$tmp/make.log" 2>&1; then
    ok "make install PREFIX=/usr/local DESTDIR=..."
else
    fail "make install PREFIX=/usr/local DESTDIR=..." "$(tail -5 "$tmp/make.log")"
fi
missing=""
for f in bin/deltalab lib/lua/5.4/deltalab.so share/lua/5.4/deltalab/help.lua \
         share/lua/5.4/deltalab/complete.lua share/doc/deltalab/repl.md \
         share/doc/deltalab/help.md share/man/man1/deltalab.1; do
    [ -f "$root/usr/local/$f" ] || missing="$missing $f"
done
if [ -z "$missing" ]; then ok "install puts the program, module, Lua files, docs and man page in place"
else fail "install puts every file in place" "missing:$missing"; fi
if [ -x "$root/usr/local/bin/deltalab" ]; then
    expect "the installed program runs its installed Lua files and finds its docs" 0 \
        "$(printf 'true\ttrue')" sh -c "cd / && '$root/usr/local/bin/deltalab' -e '
        local path = debug.getinfo(help.reload, \"S\").source
        print(path:sub(1, #\"@$root\") == \"@$root\", help.text(\"deltalab.use\") ~= nil)'"
fi
if command -v lua5.4 >/dev/null 2>&1 && [ $asan_so = 0 ] && [ -f "$root/usr/local/lib/lua/5.4/deltalab.so" ]; then
    expect "lua5.4 loads the installed module and its Lua files" 0 "$(printf 'table\ttrue')" \
        sh -c "cd / && LUA_CPATH='$root/usr/local/lib/lua/5.4/?.so' LUA_PATH='' lua5.4 -e '
        local dl = require \"deltalab\"
        print(type(dl.plot), dl.help.text(\"repl\") ~= nil)'"
fi
if command -v groff >/dev/null 2>&1; then
    warnings=$(groff -man -Tutf8 -ww -z doc/deltalab.1 2>&1)
    if [ -z "$warnings" ]; then ok "the man page formats without warnings"; else fail "man page warnings" "$warnings"; fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
