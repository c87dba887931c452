#!/usr/bin/env bash
# image: berth/debian:bookworm
# Debian bookworm minbase rootfs from debootstrap (nothing pulled), cached as a tarball, then `docker import`.
set -euo pipefail
CACHE=${BERTH_CACHE:-/var/cache/berth}
TARBALL=$CACHE/debian-bookworm-minbase.tar
TAG=${IMAGE_TAG:-berth/debian:bookworm}
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
minbase_tarball bookworm "$TARBALL" "$CACHE/debootstrap.log"
docker import \
  --change 'CMD ["bash"]' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "LABEL ${IMAGE_LABELS:-berth.sandbox=true}" \
  "$TARBALL" "$TAG" >/dev/null
echo "built $TAG"
