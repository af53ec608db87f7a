#!/bin/sh
# doc/tutorial.md replayed at the real prompt: every ```lua block that starts
# with "> " is a transcript (input after "> " and ">> ", output lines, "..."
# for any lines). The blocks, in order, become one session per
# "<!-- session: NAME -->" part of the page (the first is "main"), typed
# through a pseudo-terminal by ptyrun (tests/repl/README.md) in a temporary
# directory, so the files the tutorial writes land there. The MNIST part is
# skipped, and says so, when MNIST is absent. The printed figures are those of
# this program with its default kernels (AVX2 here); another ISA may round a
# trained network's last digit differently.
#   DELTALAB  the program (default ./deltalab)    OBJ  build dir (default build)
cd "$(dirname "$0")/../.."
DL=${DELTALAB:-./deltalab}
case $DL in /*) ;; *) DL=$PWD/$DL ;; esac
PTY=${OBJ:-build}/tests/ptyrun
case $PTY in /*) ;; *) PTY=$PWD/$PTY ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

if [ ! -x "$PTY" ]; then
    echo "not ok - ptyrun not built ($PTY): make test builds it"
    echo "0 passed, 1 failed"; exit 1
fi

# The transcripts: output lines that ptyrun would read as keys or
# directives get its "\" escape.
awk -v dir="$tmp" '
    BEGIN { file = dir "/main.txt"; print "@timeout 120000" > file }
    /^<!-- session: [A-Za-z0-9_]+ -->$/ {
        close(file); file = dir "/" $3 ".txt"; print "@timeout 120000" > file; next
    }
    !inblock && /^```lua$/ { inblock = 1; first = 1; transcript = 0; next }
    inblock && /^```$/ { inblock = 0; next }
    inblock {
        if (first) { transcript = ($0 ~ /^> /); first = 0 }
        if (!transcript) next
        if ($0 ~ /^>>? / || $0 == "...") print > file
        else if ($0 == "" || $0 ~ /^(>|~ |! |\\|#|@)/ || $0 == "^C" || $0 == "^D") print "\\" $0 > file
        else print > file
    }
' doc/tutorial.md

# The data, absolute, since the session runs in a temporary directory where
# neither ./data nor ../shared/data (nor a build-asan/ program's ../shared)
# would be found: make data's ./data, then the CI layout's ../shared/data.
if [ -z "${DELTALAB_DATA:-}" ]; then
    for d in data ../shared/data ../../shared/data; do
        [ -d "$d/mnist" ] && { DELTALAB_DATA=$d; break; }
    done
fi
if [ -n "${DELTALAB_DATA:-}" ]; then
    case $DELTALAB_DATA in /*) ;; *) DELTALAB_DATA=$PWD/$DELTALAB_DATA ;; esac
    export DELTALAB_DATA
fi
mnist=0; (cd "$tmp" && "$DL" -e 'data.mnist{n = 1}') >/dev/null 2>&1 && mnist=1

mkdir "$tmp/work"
for t in "$tmp"/*.txt; do
    name=$(basename "$t" .txt)
    if [ "$name" = mnist ] && [ $mnist = 0 ]; then
        echo "ok - tutorial part '$name' skipped: MNIST not found"; passed=$((passed + 1)); continue
    fi
    out=$(cd "$tmp/work" && "$PTY" "$DL" "$t" 2>&1)
    printf '%s\n' "$out" | sed "s/^/[$name] /"
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    if [ -z "$line" ]; then failed=$((failed + 1)); continue; fi
    p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
    passed=$((passed + p)); failed=$((failed + f))
done
for f in loss.png boundary.png xor.dln; do
    if [ -s "$tmp/work/$f" ]; then passed=$((passed + 1)); echo "ok - the tutorial wrote $f"
    else failed=$((failed + 1)); echo "not ok - the tutorial wrote $f"; fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
