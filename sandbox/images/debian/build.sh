#!/usr/bin/env bash
# image: berth/debian:bookworm
# Debian bookworm minbase rootfs from debootstrap (nothing pulled), cached as a tarball, then `docker import`.
set -euo pipefail
CACHE=${BERTH_CACHE:-/var/cache/berth}
TARBALL=$CACHE/debian-bookworm-minbase.tar
TAG=${IMAGE_TAG:-berth/debian:bookworm}
MIRROR=${DEBIAN_MIRROR:-$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
mkdir -p "$CACHE"
if [ ! -s "$TARBALL" ]; then
  command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null
  dir=$(mktemp -d /var/tmp/berth-debootstrap.XXXXXX)
  trap 'rm -rf "$dir"' EXIT
  debootstrap --variant=minbase bookworm "$dir" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 || { tail -n 30 "$CACHE/debootstrap.log" >&2; exit 1; }
  # Same sources as the machine (the mirror + security), deb822 like the official image.
  rm -f "$dir/etc/apt/sources.list"
  cat >"$dir/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  # Slim like the official image: no apt lists / caches.
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb
  echo 'APT::Install-Recommends "false";' >"$dir/etc/apt/apt.conf.d/90berth-norecommends"
  tar -C "$dir" --numeric-owner -cf "$TARBALL.tmp" . && mv "$TARBALL.tmp" "$TARBALL"
fi
docker import \
  --change 'CMD ["bash"]' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "LABEL ${IMAGE_LABELS:-berth.sandbox=true}" \
  "$TARBALL" "$TAG" >/dev/null
echo "built $TAG"
