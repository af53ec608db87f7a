#!/bin/sh
# Replay the fuzzers' inputs: every file of tests/fuzz/corpus/NAME/ (the seed
# corpus) and tests/fuzz/regress/NAME/ (inputs that once crashed or hung a
# reader, kept after the fix) through the harness tests/fuzz/fuzz_NAME.c,
# built with -DFUZZ_REPLAY as $OBJ/fuzz/replay_NAME (make test builds them;
# under make asan they run with the sanitizers). One test per input: it
# passes when the harness returns within 10 s with no crash and no
# sanitizer report.
OBJ=${OBJ:-build}
cd "$(dirname "$0")/../.."
passed=0 failed=0
err=$(mktemp); trap 'rm -f "$err"' EXIT
for src in tests/fuzz/fuzz_*.c; do
    name=${src#tests/fuzz/fuzz_}; name=${name%.c}
    bin=$OBJ/fuzz/replay_$name
    if [ ! -x "$bin" ]; then
        echo "not ok - $bin is missing (make fuzz-replay builds it)"
        failed=$((failed + 1)); continue
    fi
    n=0
    for f in tests/fuzz/corpus/$name/* tests/fuzz/regress/$name/*; do
        [ -f "$f" ] || continue
        n=$((n + 1))
        if timeout 10 "$bin" "$f" >/dev/null 2>"$err" && ! grep -q 'Sanitizer\|runtime error' "$err"; then
            passed=$((passed + 1))
        else
            failed=$((failed + 1)); echo "not ok - $name: $f"; tail -n 8 "$err" | sed 's/^/    /'
        fi
    done
    echo "ok - $name: $n inputs replayed"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
