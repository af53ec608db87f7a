#!/bin/sh
# GNU parallel runs a sweep's cells over ssh, with the recipe of
# doc/training.md: --sshlogin to this machine's own sshd, which the test
# starts on a loopback port with keys made for it, and --return of each
# cell's record file. The merged records equal the serial run's, cell for
# cell. The sshd is stopped by its pid file on the way out, also on failure.
# Says "skipped" (never "passed") when parallel, rsync, ssh or sshd is missing.
set -u
DELTALAB=${DELTALAB:-./deltalab}
case $DELTALAB in /*) ;; *) DELTALAB=$(pwd)/$DELTALAB ;; esac
here=$(cd "$(dirname "$0")" && pwd)
passed=0 failed=0
check() {  # check NAME COMMAND...
    name=$1; shift
    if "$@"; then passed=$((passed + 1)); echo "ok - $name"
    else failed=$((failed + 1)); echo "not ok - $name"; fi
}
skip() {
    echo "skipped - $1"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
}
sshd=/usr/sbin/sshd
[ -x $sshd ] || skip "sshd is not installed (make deps installs openssh-server)"
for cmd in parallel rsync ssh ssh-keygen; do
    command -v $cmd >/dev/null 2>&1 || skip "$cmd is not installed (make deps installs it)"
done
t0=$(date +%s.%N)
dir=$(mktemp -d /tmp/deltalab-ssh.XXXXXX)
chmod 755 "$dir"
cleanup() {
    if [ -s "$dir/sshd.pid" ]; then
        pid=$(cat "$dir/sshd.pid")
        kill "$pid" 2>/dev/null
        n=0
        while kill -0 "$pid" 2>/dev/null && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
        kill -9 "$pid" 2>/dev/null
    fi
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# An sshd of the test's own: loopback only, a port of this run's, keys only.
port=$((20000 + ($$ + 7919) % 20000))
ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key" || skip "ssh-keygen cannot make keys here"
ssh-keygen -q -t ed25519 -N '' -f "$dir/id"
cp "$dir/id.pub" "$dir/authorized_keys" && chmod 600 "$dir/authorized_keys"
cat >"$dir/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
CONF
[ -d /run/sshd ] || mkdir -p /run/sshd   # sshd's privilege separation directory
$sshd -f "$dir/sshd_config" -E "$dir/sshd.log" || { cat "$dir/sshd.log"; skip "sshd does not start here"; }
export PARALLEL_SSH="ssh -i $dir/id -p $port -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR -o ConnectTimeout=10"
n=0
until timeout 15 $PARALLEL_SSH "$(id -un)@127.0.0.1" true 2>/dev/null; do
    n=$((n + 1))
    [ $n -gt 40 ] && { tail "$dir/sshd.log"; skip "cannot log in to the test's sshd"; }
    sleep 0.25
done
check "an sshd on 127.0.0.1:$port lets the test's key in" true

mkdir "$dir/bin" && ln -s "$DELTALAB" "$dir/bin/deltalab"
PATH=$dir/bin:$PATH
cp "$here/sweep_e3.lua" "$dir/e3.lua"
cd "$dir" || exit 1
timeout 60 deltalab e3.lua --record-dir serial >serial.txt 2>&1

# doc/training.md: over ssh, each job in a fresh remote directory, its
# record directory copied back
deltalab e3.lua --commands --record-dir runs \
    | timeout 120 parallel -j2 --sshlogin "$(id -un)@127.0.0.1" --wd ... --return runs --cleanup \
    >parallel.txt 2>&1
status=$?
check "parallel ran every command over ssh" [ $status -eq 0 ]
[ $status -eq 0 ] || tail -n 20 parallel.txt
check "the cells logged in through the test's sshd" [ "$(grep -c 'Accepted publickey' sshd.log)" -ge 2 ]
check "--return brought back each cell's file" \
    [ "$(ls runs 2>/dev/null | tr '\n' ' ')" = "cell-0001.jsonl cell-0002.jsonl cell-0003.jsonl cell-0004.jsonl " ]
timeout 60 deltalab e3.lua --merge runs >merged.txt 2>merge_err.txt
check "the merge warns of nothing" [ ! -s merge_err.txt ]
check "the merged records equal the serial run's, cell for cell" \
    timeout 60 deltalab "$here/sweep_same.lua" serial runs

t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "wall time: %.2f s\n", b - a }'
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
