#!/usr/bin/env bash
# image: berth/railsapp:v1
# image: berth/railsapp:v2
# image: berth/debian:trixie
# Builds berth/railsapp:v1 and :v2 (wombatworkouts stand-in: Rails 7.2 from Debian trixie packages)
# on top of berth/debian:trixie (debootstrap + docker import, see trixie-base.sh).
# Idempotent: skips a tag whose image carries label berth.input-hash=<sha256 of this
# directory's files + the base image id>. Apt downloads stay in BuildKit's cache mounts and the
# apt layer is reused by Docker's layer cache when only the app changes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
. ../lib.sh

IMAGE="berth/railsapp"
TAGS=(${BERTH_RAILSAPP_TAGS:-v1 v2})

./trixie-base.sh
base_id="$(docker image inspect -f '{{.Id}}' berth/debian:trixie)"
hash="$(dir_input_hash "$base_id" ! -path './app/storage/*.sqlite3*' ! -path './app/log/*.log' ! -path './app/tmp/*')"

need=()
for ref in $(refs_needing_build "$hash" "${TAGS[@]/#/$IMAGE:}"); do need+=("${ref#"$IMAGE:"}"); done
if [ "${#need[@]}" -eq 0 ]; then
  echo "rails: $IMAGE:{${TAGS[*]}} up to date (${hash:0:12})"
  exit 0
fi

log="${BERTH_CACHE:-/var/cache/berth}/build-railsapp.log"
mkdir -p "$(dirname "$log")"
for t in "${need[@]}"; do
  echo "rails: building $IMAGE:$t"
  docker build --progress=plain \
    --label "berth.input-hash=$hash" \
    --label berth.sandbox=true \
    --label "berth.sandbox-image=railsapp" \
    --build-arg "RELEASE=$t" \
    -t "$IMAGE:$t" . >"$log" 2>&1 || { tail -n 40 "$log" >&2; exit 1; }
done
echo "rails: built $IMAGE:{${need[*]}} (${hash:0:12})"
