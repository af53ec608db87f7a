#!/bin/sh
# Install the Debian packages deltalab needs, if any are missing.
# As root with apt-get: installs them. Otherwise: prints the command to run.
set -eu
PKGS="gcc make pkg-config liblua5.4-dev lua5.4 libreadline-dev zlib1g-dev gnuplot-nox"
missing=""
for p in $PKGS; do
    # Any gnuplot will do (gnuplot-qt or -x11 for windows); -nox is the minimum.
    [ "$p" = gnuplot-nox ] && command -v gnuplot >/dev/null 2>&1 && continue
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "deps: missing:$missing — install them with your package manager" >&2
    exit 1
fi
if [ "$(id -u)" != 0 ]; then
    echo "deps: missing:$missing" >&2
    echo "deps: run:  sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
