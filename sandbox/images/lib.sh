# Shared by the image build.sh scripts (sourced, run from the image's directory).

# dir_input_hash BASE_ID [extra find args…]: sha256 of this directory's files plus the base image id,
# the value of each built image's berth.input-hash label.
dir_input_hash() {
  local base_id="$1"; shift
  { find . -type f ! -name '*~' ! -name '.*.swp' "$@" -print0 | LC_ALL=C sort -z | xargs -0 sha256sum; echo "$base_id"; } | sha256sum | cut -c1-64
}

# refs_needing_build HASH REF…: prints the image refs whose berth.input-hash label is not HASH.
refs_needing_build() {
  local hash="$1" ref have; shift
  for ref in "$@"; do
    have="$(docker image inspect -f '{{index .Config.Labels "berth.input-hash"}}' "$ref" 2>/dev/null || true)"
    [ "$have" = "$hash" ] || echo "$ref"
  done
}
