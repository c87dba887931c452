#!/usr/bin/env bash
# image: berth/front:latest
# from: berth/base:bookworm
# The sandbox's stand-in for Cloudflare (see main.go and sandbox/README.md). Skips when the image
# carries label berth.input-hash = sha256 of this directory's files + the base image id.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
. ../lib.sh

CACHE="${BERTH_CACHE:-/var/cache/berth}"
BASE="berth/base:bookworm"
IMAGE="berth/front:latest"

base_id="$(docker image inspect -f '{{.Id}}' "$BASE" 2>/dev/null)" || {
  echo "front: base image $BASE is missing (build it first)" >&2
  exit 1
}
hash="$(dir_input_hash "$base_id")"
if [ -z "$(refs_needing_build "$hash" "$IMAGE")" ]; then
  echo "front: $IMAGE up to date (${hash:0:12})"
  exit 0
fi

ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$CACHE/go/mod" "$CACHE/go/build"
GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build" GOTOOLCHAIN=local GOFLAGS=-mod=readonly \
  CGO_ENABLED=0 GOOS=linux GOARCH=amd64 \
  go build -trimpath -ldflags='-s -w' -o "$ctx/front" .
cp Dockerfile "$ctx/Dockerfile"
docker build -q --label "berth.input-hash=$hash" --label berth.sandbox=true --label berth.sandbox-image=front \
  -t "$IMAGE" "$ctx" >/dev/null
echo "front: built $IMAGE (${hash:0:12})"
