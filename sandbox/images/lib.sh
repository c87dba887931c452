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

# minbase_tarball SUITE TARBALL LOG: a Debian minbase rootfs of SUITE from debootstrap (nothing
# pulled), slimmed like the official image and with the machine's mirror as its apt source, saved
# as TARBALL (kept as the cache: nothing happens when it exists).
minbase_tarball() {
  local suite="$1" tarball="$2" log="$3" mirror dir
  [ -s "$tarball" ] && return 0
  mirror=${DEBIAN_MIRROR:-$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1)}
  mirror=${mirror:-http://deb.debian.org/debian}
  mkdir -p "$(dirname "$tarball")"
  command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null
  dir=$(mktemp -d "/var/tmp/berth-debootstrap-$suite.XXXXXX")
  echo "debootstrap $suite minbase from $mirror"
  if ! debootstrap --variant=minbase --keyring=/usr/share/keyrings/debian-archive-keyring.gpg "$suite" "$dir" "$mirror" >"$log" 2>&1; then
    tail -n 30 "$log" >&2; rm -rf "$dir"; return 1
  fi
  rm -f "$dir/etc/apt/sources.list"
  cat >"$dir/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb
  echo 'APT::Install-Recommends "false";' >"$dir/etc/apt/apt.conf.d/90berth-norecommends"
  tar -C "$dir" --numeric-owner -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
  rm -rf "$dir"
}

# go_static_image NAME IMAGE: a static Go binary built here from this directory (modules and build
# cache under $BERTH_CACHE/go), copied with the Dockerfile into a fresh context and built FROM
# berth/base:bookworm. Skips when IMAGE carries this directory's input hash.
go_static_image() {
  local name="$1" image="$2" base="berth/base:bookworm" cache="${BERTH_CACHE:-/var/cache/berth}" base_id hash ctx
  base_id="$(docker image inspect -f '{{.Id}}' "$base" 2>/dev/null)" || {
    echo "$name: base image $base is missing (build it first)" >&2
    return 1
  }
  hash="$(dir_input_hash "$base_id")"
  if [ -z "$(refs_needing_build "$hash" "$image")" ]; then
    echo "$name: $image up to date (${hash:0:12})"
    return 0
  fi
  ctx="$(mktemp -d)"
  mkdir -p "$cache/go/mod" "$cache/go/build"
  GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/build" GOTOOLCHAIN=local GOFLAGS=-mod=readonly \
    CGO_ENABLED=0 GOOS=linux GOARCH=amd64 \
    go build -buildvcs=false -trimpath -ldflags='-s -w' -o "$ctx/$name" . || { rm -rf "$ctx"; return 1; }
  cp Dockerfile "$ctx/Dockerfile"
  docker build -q --label "berth.input-hash=$hash" --label berth.sandbox=true --label "berth.sandbox-image=$name" \
    -t "$image" "$ctx" >/dev/null || { rm -rf "$ctx"; return 1; }
  rm -rf "$ctx"
  echo "$name: built $image (${hash:0:12})"
}
