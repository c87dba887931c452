#!/usr/bin/env bash
# image: berth/debian:trixie — Debian trixie minbase from debootstrap (nothing pulled),
# cached as a tarball under $BERTH_CACHE, then `docker import`. Called by build.sh;
# `--tarball-only` just prepares the cached rootfs tarball.
set -euo pipefail
CACHE=${BERTH_CACHE:-/var/cache/berth}
TARBALL=$CACHE/debian-trixie-minbase.tar
TAG=berth/debian:trixie
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
minbase_tarball trixie "$TARBALL" "$CACHE/debootstrap-trixie.log"
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
