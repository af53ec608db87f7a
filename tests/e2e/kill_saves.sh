#!/bin/sh
# Saves that a kill cuts short leave nothing behind that matters: 100 times a
# deltalab that saves a 4 MB network checkpoint and a 4 MB NPY file in turn,
# over and over, is killed with SIGKILL at a random moment. Each time:
#   - both files load, and hold one whole save each (every value the same);
#   - at most one temporary per file is there (the name derived from the
#     target: a SIGKILL cannot be caught, and the next save replaces it);
#   - nothing else is in the directory.
# Then SIGTERM (5 times) and Ctrl-C (SIGINT, twice: 5 times) during a save:
# the process removes its temporary itself. A last clean save leaves only the
# two files. The figures it prints say how many kills landed inside a save.
DELTALAB=${DELTALAB:-./deltalab}
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
passed=0 failed=0
fail() { failed=$((failed + 1)); echo "not ok - $1"; }

# The child: check the files a killed predecessor left, print "checked", then
# save forever, each round's values the round number (so a torn file shows).
cat >"$dir/saver.lua" <<'EOF'
local dir, start = arg[1], tonumber(arg[2])
local function whole(m, what)
  local lo, hi = m:min(), m:max()
  if lo ~= hi then error(what .. " holds parts of two saves: " .. lo .. " .. " .. hi, 0) end
  return lo
end
-- Built first, so that the signal, sent after "checked", finds it saving.
local net = network{ 1000, 1000, cost = "quadratic", init = "zeros" }   -- 1,001,000 parameters
local m = matrix.zeros(1000, 1000)
local f = io.open(dir .. "/net.dln", "rb")
if f then
  f:close()
  local n = network.load(dir .. "/net.dln")
  local v = whole(n.layers[1].W, "net.dln")
  if n.layers[1].b:min() ~= v then error("net.dln: b and W from different saves", 0) end
  whole(matrix.load(dir .. "/m.npy"), "m.npy")
end
io.stdout:write("checked\n"); io.stdout:flush()
if arg[3] == "check" then return end
for k = start, math.huge do
  net.layers[1].W:fill_(k); net.layers[1].b:fill_(k)
  net:save(dir .. "/net.dln")
  m:fill_(k)
  m:save(dir .. "/m.npy")
  if k == start then io.stdout:write("saving\n"); io.stdout:flush() end
end
EOF

# hit ROUND SIGNAL: start a saver in the background, wait until it has
# checked the files (in round 1: until it has saved both once), then send
# it SIGNAL after a random pause of up to 60 ms (about two rounds of saves).
hit() {
    rm -f "$dir/out"   # else the wait below could read the last round's
    "$DELTALAB" "$dir/saver.lua" "$dir/w" "$1" >"$dir/out" 2>&1 &
    pid=$!
    n=0
    ready=checked; [ "$1" = 1 ] && ready=saving
    while ! grep -q $ready "$dir/out" 2>/dev/null; do
        if ! kill -0 $pid 2>/dev/null; then break; fi
        n=$((n + 1)); [ $n -gt 3000 ] && break
        sleep 0.005
    done
    sleep "$(printf '0.%03d' $(( ($1 * 7919) % 61 )))"   # 0..60 ms, spread over the rounds
    kill "-$2" $pid 2>/dev/null
    [ "$2" = INT ] && { sleep 0.02; kill -INT $pid 2>/dev/null; }   # the second Ctrl-C kills
    wait $pid 2>/dev/null
    if grep -q 'holds parts\|different saves' "$dir/out" || ! grep -q checked "$dir/out"; then
        fail "round $1: $(head -n 3 "$dir/out")"; return 1
    fi
    return 0
}

# What is in the directory besides the two files and their temporaries.
strays() { ls -A "$dir/w" | grep -v '^net\.dln$\|^m\.npy$\|^\.net\.dln\.deltalab-tmp$\|^\.m\.npy\.deltalab-tmp$'; }
temps() { ls -A "$dir/w" | grep -c 'deltalab-tmp'; }
# Temporaries written since the round began (a kill inside a save).
fresh() { touch "$dir/mark"; }
new_temps() { find "$dir/w" -name '*.deltalab-tmp' -newer "$dir/mark" | wc -l; }

mkdir "$dir/w"
t0=$(date +%s)
mid=0
for i in $(seq 1 100); do
    fresh
    hit "$i" KILL || continue
    s=$(strays)
    if [ -n "$s" ]; then fail "kill $i left $s"; continue; fi
    [ "$(new_temps)" -gt 0 ] && mid=$((mid + 1))
    passed=$((passed + 1))
done
echo "100 kill -9: $mid landed inside a save (its temporary left for the next save to replace)"
# What SIGKILL left is the next save's to replace; the rounds below must
# leave nothing, so they start without it.
rm -f "$dir/w"/.*.deltalab-tmp

for sig in TERM INT; do
    clean=0
    for i in $(seq 1 5); do
        hit "$((1000 + i))" $sig || continue
        s=$(strays); t=$(temps)
        if [ -n "$s" ] || [ "$t" -ne 0 ]; then
            fail "SIG$sig $i left $(ls -A "$dir/w" | tr '\n' ' ')"
            rm -f "$dir/w"/.*.deltalab-tmp
            continue
        fi
        passed=$((passed + 1)); clean=$((clean + 1))
    done
    echo "5 SIG$sig: $clean left no temporary"
done

# The files the last kill left load, and one more clean save tidies up.
"$DELTALAB" "$dir/saver.lua" "$dir/w" 0 check >"$dir/out" 2>&1 && grep -q checked "$dir/out" \
    && passed=$((passed + 1)) || fail "the last files do not load: $(cat "$dir/out")"
"$DELTALAB" -e "network{2, 1}:save('$dir/w/net.dln'); matrix{1}:save('$dir/w/m.npy')"
left=$(ls -A "$dir/w" | tr '\n' ' ')
[ "$left" = "m.npy net.dln " ] && passed=$((passed + 1)) || fail "after a clean save: $left"
echo "$(( $(date +%s) - t0 )) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
