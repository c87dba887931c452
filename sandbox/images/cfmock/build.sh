#!/usr/bin/env bash
# image: berth/cfmock:latest
# from: berth/base:bookworm
# The sandbox's stand-in for Cloudflare: its DNS API subset lego calls + the zone's DNS server (see main.go).
# Idempotent: skips the build when the image carries label berth.input-hash=<this dir + base image id>.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
. ../lib.sh

CACHE="${BERTH_CACHE:-/var/cache/berth}"
BASE="berth/base:bookworm"
IMAGE="berth/cfmock:latest"

base_id="$(docker image inspect -f '{{.Id}}' "$BASE" 2>/dev/null)" || {
  echo "cfmock: base image $BASE is missing (build it first)" >&2
  exit 1
}
hash="$(dir_input_hash "$base_id")"
if [ -z "$(refs_needing_build "$hash" "$IMAGE")" ]; then
  echo "cfmock: $IMAGE up to date (${hash:0:12})"
  exit 0
fi

ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$CACHE/go/mod" "$CACHE/go/build"
GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build" GOTOOLCHAIN=local GOFLAGS=-mod=readonly \
  CGO_ENABLED=0 GOOS=linux GOARCH=amd64 \
  go build -buildvcs=false -trimpath -ldflags='-s -w' -o "$ctx/cfmock" .
cp Dockerfile "$ctx/Dockerfile"
docker build -q --label "berth.input-hash=$hash" --label berth.sandbox=true --label berth.sandbox-image=cfmock \
  -t "$IMAGE" "$ctx" >/dev/null
echo "cfmock: built $IMAGE (${hash:0:12})"
