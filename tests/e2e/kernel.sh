#!/bin/sh
# The notebook kernel, driven by the real Jupyter client: tests/kernel/*.py
# (the messages, bad input, and the notebooks in examples/notebooks/ run by
# nbclient). Says "skipped" when no Python here has jupyter_client and
# nbclient, or when this deltalab was built without the kernel.
#   DELTALAB  the program (default ./deltalab)
cd "$(dirname "$0")/../.."
DL=${DELTALAB:-./deltalab}
case $DL in /*) ;; *) DL=$PWD/$DL ;; esac
export DELTALAB=$DL
# Debian's python3 first: a python3 earlier on PATH may lack its packages.
PY=
for p in /usr/bin/python3 python3; do
    if "$p" -c 'import jupyter_client, nbclient, nbformat, zmq' 2>/dev/null; then PY=$p; break; fi
done
n=$(ls tests/kernel/test_*.py tests/kernel/protocol.py 2>/dev/null | wc -l)
if [ -z "$PY" ]; then
    echo "skipped: no python3 with jupyter_client and nbclient (make deps installs them)"
    echo "0 passed, 0 failed, $n skipped"; exit 0
fi
if "$DL" --kernel /dev/null 2>&1 | grep -q "no notebook kernel"; then
    echo "skipped: $DL was built without the notebook kernel (libzmq, jansson, libcrypto)"
    echo "0 passed, 0 failed, $n skipped"; exit 0
fi
# MNIST for the tutorial's last part: the shared directory beside the tree or
# two levels above it (without it that part says "skipped").
# The kernel runs its cells in a temporary directory, so the path is absolute.
if [ -z "${DELTALAB_DATA:-}" ]; then
    for d in ../shared/data ../../shared/data; do
        [ -d "$d/mnist" ] && DELTALAB_DATA=$(cd "$d" && pwd) && export DELTALAB_DATA && break
    done
fi
passed=0 failed=0
for t in tests/kernel/protocol.py tests/kernel/test_*.py; do
    [ -f "$t" ] || continue
    out=$(timeout -k 5 600 "$PY" -u "$t" 2>&1)
    status=$?
    echo "$out" | grep -v '^[0-9]* passed, [0-9]* failed'
    line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    if [ -n "$line" ]; then
        p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
    else
        p=0 f=1
    fi
    [ "$status" -ne 0 ] && [ "$f" -eq 0 ] && f=1 && echo "not ok - $t exited with $status"
    passed=$((passed + p)); failed=$((failed + f))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
