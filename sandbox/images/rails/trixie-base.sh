#!/usr/bin/env bash
# image: berth/debian:trixie — Debian trixie minbase from debootstrap (nothing pulled),
# cached as a tarball under $BERTH_CACHE, then `docker import`. Called by build.sh;
# `--tarball-only` just prepares the cached rootfs tarball.
set -euo pipefail
CACHE=${BERTH_CACHE:-/var/cache/berth}
TARBALL=$CACHE/debian-trixie-minbase.tar
TAG=berth/debian:trixie
MIRROR=${DEBIAN_MIRROR:-$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
mkdir -p "$CACHE"
if [ ! -s "$TARBALL" ]; then
  command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null
  dir=$(mktemp -d /var/tmp/berth-debootstrap-trixie.XXXXXX)
  trap 'rm -rf "$dir"' EXIT
  echo "trixie-base: debootstrap trixie minbase from $MIRROR"
  debootstrap --variant=minbase --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
    trixie "$dir" "$MIRROR" >"$CACHE/debootstrap-trixie.log" 2>&1 \
    || { tail -n 30 "$CACHE/debootstrap-trixie.log" >&2; exit 1; }
  rm -f "$dir/etc/apt/sources.list"
  cat >"$dir/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: $MIRROR
Suites: trixie trixie-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb
  echo 'APT::Install-Recommends "false";' >"$dir/etc/apt/apt.conf.d/90berth-norecommends"
  tar -C "$dir" --numeric-owner -cf "$TARBALL.tmp" . && mv "$TARBALL.tmp" "$TARBALL"
fi
[ "${1:-}" = "--tarball-only" ] && exit 0
sum=$(stat -c '%s-%Y' "$TARBALL")
have=$(docker image inspect -f '{{index .Config.Labels "berth.input-hash"}}' "$TAG" 2>/dev/null || true)
if [ "$have" != "$sum" ]; then
  docker import \
    --change 'CMD ["bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "LABEL berth.sandbox=true berth.input-hash=$sum" \
    "$TARBALL" "$TAG" >/dev/null
  echo "trixie-base: imported $TAG"
fi
