#!/usr/bin/env bash
# image: berth/testapp:v1
# image: berth/testapp:v2
# from: berth/base:bookworm
# Builds berth/testapp:v1 and :v2 (same binary, RELEASE baked in per tag).
# Idempotent: skips a tag whose image already carries label
# berth.input-hash=<sha256 of this directory's files + the base image id>.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
. ../lib.sh

CACHE="${BERTH_CACHE:-/var/cache/berth}"
BASE="berth/base:bookworm"
IMAGE="berth/testapp"
TAGS=(${BERTH_TESTAPP_TAGS:-v1 v2})

base_id="$(docker image inspect -f '{{.Id}}' "$BASE" 2>/dev/null)" || {
  echo "testapp: base image $BASE is missing (build it first)" >&2
  exit 1
}
hash="$(dir_input_hash "$base_id")"

need=()
for ref in $(refs_needing_build "$hash" "${TAGS[@]/#/$IMAGE:}"); do need+=("${ref#"$IMAGE:"}"); done
if [ "${#need[@]}" -eq 0 ]; then
  echo "testapp: $IMAGE:{${TAGS[*]}} up to date (${hash:0:12})"
  exit 0
fi

ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT

echo "testapp: compiling (CGO_ENABLED=0)"
mkdir -p "$CACHE/go/mod" "$CACHE/go/build"
GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build" GOTOOLCHAIN=local GOFLAGS=-mod=readonly \
  CGO_ENABLED=0 GOOS=linux GOARCH=amd64 \
  go build -trimpath -ldflags='-s -w' -o "$ctx/testapp" .
cp Dockerfile "$ctx/Dockerfile"

for t in "${need[@]}"; do
  echo "testapp: building $IMAGE:$t"
  docker build -q \
    --label "berth.input-hash=$hash" \
    --label berth.sandbox=true \
    --label "berth.sandbox-image=testapp" \
    --build-arg "RELEASE=$t" \
    -t "$IMAGE:$t" "$ctx" >/dev/null
done
echo "testapp: built $IMAGE:{${need[*]}} (${hash:0:12})"
