#!/bin/sh
# Reader limits: every loader refuses an input that is not what it reads
# quickly and in bounded memory — /dev/zero, /dev/urandom, a FIFO fed
# without end — and the crafted files of doc/formats.md's reader limits (a
# small .gz claiming a large IDX, a softmax layer with per-neuron
# activations, an NPY header of binary garbage). Each load runs in its own
# deltalab under `ulimit -v` (address space) and `timeout`, so a reader that
# grows without bound is killed, and must fail with the expected message
# within LIMIT_MS.
DELTALAB=${DELTALAB:-./deltalab}
cd "$(dirname "$0")/../.."
case $DELTALAB in /*) ;; *) DELTALAB=$PWD/$DELTALAB ;; esac
dir=$(mktemp -d)
feeder=""
trap '[ -n "$feeder" ] && kill "$feeder" 2>/dev/null; rm -rf "$dir"' EXIT
passed=0 failed=0
LIMIT_MS=${LIMIT_MS:-3000}
# Address space for one load: deltalab itself needs a few MB; the sanitizers
# (make asan) reserve terabytes of shadow memory, so there only time counts.
VMEM_KB=${VMEM_KB:-200000}
if "$DELTALAB" -v 2>/dev/null | grep -qi sanitize || nm "$DELTALAB" 2>/dev/null | grep -q __asan_init; then
    VMEM_KB=unlimited
fi

now_ms() { date +%s%3N; }

# expect NAME PATTERN LUA: run LUA (a chunk that loads something) and check
# that it raised an error matching PATTERN (grep -E), fast, within memory.
expect() {
    name=$1 pattern=$2 code=$3
    t0=$(now_ms)
    out=$( (ulimit -v "$VMEM_KB"; timeout 5 "$DELTALAB" -e "
        local ok, err = pcall(function() $code end)
        if ok then print('LOADED') else print(err) end") 2>&1)
    status=$?
    ms=$(( $(now_ms) - t0 ))
    why=""
    [ $status -ne 0 ] && why="exit $status"
    echo "$out" | grep -Eq -- "$pattern" || why="$why; printed '$out', expected /$pattern/"
    [ "$ms" -gt "$LIMIT_MS" ] && why="$why; took $ms ms"
    if [ -z "$why" ]; then
        passed=$((passed + 1)); echo "ok - $name ($ms ms): $out"
    else
        failed=$((failed + 1)); echo "not ok - $name:$why"
    fi
}

# feed FIFO COMMAND...: a background writer that never stops on its own (it
# ends with SIGPIPE when the reader closes, or is killed by the next feed).
feed() {
    [ -n "$feeder" ] && kill "$feeder" 2>/dev/null
    rm -f "$1"; mkfifo "$1"
    f=$1; shift
    ("$@" > "$f" 2>/dev/null) &
    feeder=$!
}

# B1: a checkpoint is refused on its magic, before anything more is read.
expect "network.load /dev/zero" "bad magic" "network.load('/dev/zero')"
# B2: a CSV line is at most 1 MiB.
expect "data.csv /dev/zero" "line 1 is longer than 1048576 bytes" "data.csv('/dev/zero')"
expect "data.csv /dev/zero, label by name" "line 1 is longer than 1048576 bytes" \
    "data.csv('/dev/zero', {label = 'x'})"
expect "data.idx /dev/zero" "not an IDX file" "data.idx('/dev/zero')"
expect "data.cifar /dev/zero" "pipe or a device, not a regular file" "data.cifar('/dev/zero')"
expect "data.npy /dev/zero" "not an NPY file" "data.npy('/dev/zero')"
for what in "network.load" "data.csv" "data.idx" "data.cifar" "data.npy"; do
    expect "$what /dev/urandom" "/dev/urandom'?: " "$what('/dev/urandom')"
done

# Endless FIFOs: zeros, text lines, and valid headers followed by zeros.
"$DELTALAB" -e "
local function put(name, s) local f = assert(io.open('$dir/' .. name, 'wb')) f:write(s) f:close() end
put('idx-header', string.pack('>BBBBI4I4', 0, 0, 8, 2, 1000, 784))
put('npy-header', '\x93NUMPY\1\0' .. string.pack('<I2', 118) .. \"{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 784), }\" .. string.rep(' ', 53) .. '\n')
-- a 2-3 network: 9 parameters, then the stream goes on
put('net-header', '\x89DLN\r\n\x1a\n' .. string.pack('<I4I4I4I4I4I4', 1, 0, 1, 0, 2, 3)
    .. string.pack('<I4fI4I4', 1, 1.0, 0, 0) .. string.pack('<I8', 9))
-- 64 layers of 46340x46340 weights: 550 GB of parameters
local n, layers = 46340, {}
for l = 1, 64 do layers[l] = string.pack('<I4fI4I4', 1, 1.0, 0, 0) end
put('huge-net-header', '\x89DLN\r\n\x1a\n' .. string.pack('<I4I4I4I4', 1, 0, 64, 0)
    .. string.rep(string.pack('<I4', n), 65) .. table.concat(layers)
    .. string.pack('<I8', 64 * (n * n + n)))
"
fifo=$dir/fifo
feed "$fifo" cat /dev/zero
expect "network.load FIFO of zeros" "bad magic" "network.load('$fifo')"
feed "$fifo" cat /dev/zero
expect "data.csv FIFO of zeros" "line 1 is longer than 1048576 bytes" "data.csv('$fifo')"
feed "$fifo" yes 1,2,3
expect "data.csv FIFO of endless lines" "pipe or a device, not a regular file" "data.csv('$fifo')"
feed "$fifo" cat "$dir/idx-header" /dev/zero
expect "data.idx FIFO, header then zeros" "pipe or a device, not a regular file" "data.idx('$fifo')"
feed "$fifo" sh -c "cat '$dir/idx-header' /dev/zero | gzip -1"
expect "data.idx FIFO of endless gzip" "pipe or a device|not an IDX file" "data.idx('$fifo')"
feed "$fifo" cat /dev/zero
expect "data.cifar FIFO of zeros" "pipe or a device, not a regular file" "data.cifar('$fifo')"
feed "$fifo" cat "$dir/npy-header" /dev/zero
expect "data.npy FIFO, header then zeros" "pipe or a device, not a regular file" "data.npy('$fifo')"
feed "$fifo" cat "$dir/net-header" /dev/zero
expect "network.load FIFO, header then zeros" "unexpected bytes after the parameters" \
    "network.load('$fifo')"
feed "$fifo" cat "$dir/huge-net-header" /dev/zero
expect "network.load FIFO, 550 GB header then zeros" "not enough memory: the header asks for [0-9]+ bytes, more than this machine's" \
    "network.load('$fifo')"

# A 64 KB .gz whose IDX header and gzip trailer claim 60 MB while the stream
# holds 50 MB (zeros, then 16 KB of noise that does not compress, so that the
# claim is within deflate's 1032:1): counted before the 240 MB matrix would
# be allocated, so under the address-space limit it fails on the data (zlib
# finds the trailer's length wrong at the stream's end), not on memory.
if command -v gzip >/dev/null 2>&1; then
    claim=60000000 have=50000000
    "$DELTALAB" -e "io.write(string.pack('>BBBBI4I4', 0, 0, 8, 2, 1, $claim))" > "$dir/h"
    { cat "$dir/h"; head -c "$have" /dev/zero; head -c 16384 /dev/urandom; } | gzip -9 > "$dir/z.gz"
    size=$(wc -c < "$dir/z.gz")
    "$DELTALAB" -e "
        local f = assert(io.open('$dir/z.gz', 'rb')) local s = f:read('a') f:close()
        f = assert(io.open('$dir/bomb.gz', 'wb'))
        f:write(s:sub(1, -5), string.pack('<I4', ($claim + 12) % 2^32)) f:close()"
    echo "# bomb.gz: $size bytes"
    expect "64 KB gzip claiming 60 MB" "damaged after [0-9]+ bytes: incorrect length check" \
        "data.idx('$dir/bomb.gz')"
    # a complete stream of the same ratio loads (the count refuses nothing real)
    "$DELTALAB" -e "io.write(string.pack('>BBBBI4I4', 0, 0, 8, 2, 1, 20000000))" > "$dir/h2"
    { cat "$dir/h2"; head -c 20000000 /dev/zero; } | gzip -9 > "$dir/full.gz"
    out=$(timeout 20 "$DELTALAB" -e "local X = data.idx('$dir/full.gz') print(X:rows(), X:cols(), X:sum())" 2>&1)
    if [ "$out" = "1	20000000	0.0" ]; then passed=$((passed + 1)); echo "ok - 1000:1 gzip that holds its data loads"
    else failed=$((failed + 1)); echo "not ok - 1000:1 gzip that holds its data: $out"; fi
else
    echo "skip - gzip is not installed: the .gz limit is not tested"
    skipped=1
fi

# A checkpoint with per-neuron activations on a softmax layer, CRC valid.
"$DELTALAB" -e "
local function crc32(s)
  local c = 0xffffffff
  for i = 1, #s do
    c = c ~ s:byte(i)
    for _ = 1, 8 do c = (c >> 1) ~ (0xedb88320 & -(c & 1)) end
  end
  return c ~ 0xffffffff
end
local body = '\x89DLN\r\n\x1a\n' .. string.pack('<I4I4I4I4I4I4', 1, 0, 1, 1, 2, 3)
  .. string.pack('<I4fI4I4', 7, 1.0, 0, 1) .. '\1\1\1\0' .. string.pack('<I8', 9)
  .. string.rep(string.pack('<f', 0.25), 9)
io.write(body, string.pack('<I4', crc32(body)))" > "$dir/softmax.dln"
expect "softmax layer with per-neuron activations" \
    "corrupt header \(layer 1: per-neuron activations on a softmax layer\)" \
    "network.load('$dir/softmax.dln')"

# An NPY header of binary garbage: the message is printable text.
"$DELTALAB" -e "
local junk = {} for i = 0, 255 do junk[#junk + 1] = string.char(i) end
local h = \"{'descr': '\" .. table.concat(junk):sub(1, 12) .. \"', \" .. table.concat(junk)
io.write('\x93NUMPY\1\0', string.pack('<I2', #h), h)" > "$dir/junk.npy"
out=$("$DELTALAB" -e "print(select(2, pcall(data.npy, '$dir/junk.npy')))" 2>&1)
if echo "$out" | grep -q "not ASCII text" && ! printf '%s' "$out" | LC_ALL=C grep -q '[^[:print:]]'; then
    passed=$((passed + 1)); echo "ok - NPY garbage header: $out"
else
    failed=$((failed + 1)); echo "not ok - NPY garbage header message: $(printf '%s' "$out" | od -c | head -3)"
fi

if [ "${skipped:-0}" -ne 0 ]; then echo "$passed passed, $failed failed, $skipped skipped"
else echo "$passed passed, $failed failed"; fi
[ "$failed" -eq 0 ]
