#!/bin/sh
# Run every benchmark (make bench): each C program built from tests/bench/*.c
# into $OBJ/bench/. They print their own figures beside their references;
# the machine is shared, so times are noisy.
#   OBJ       where the benchmark binaries are (default ./build)
#   DELTALAB  the program, for benchmarks written in Lua (default ./deltalab)
set -u
cd "$(dirname "$0")/../.."
OBJ=${OBJ:-build}
status=0
for b in "$OBJ"/bench/*; do
    [ -x "$b" ] || continue
    echo "== $(basename "$b")"
    "$b" || status=1
done
exit $status
