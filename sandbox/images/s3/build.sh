#!/usr/bin/env bash
# image: berth/s3:latest
# from: berth/base:bookworm
# S3-compatible server for Litestream/backups: versitygw (posix backend) built from source through the Go
# module proxy (cached in $BERTH_CACHE/go). Fixed sandbox credentials; the bucket(s) in $S3_BUCKETS exist at start.
set -euo pipefail
VERSION=v1.8.0
CACHE=${BERTH_CACHE:-/var/cache/berth}
export PATH=$PATH:/usr/local/go/bin
here=$(cd "$(dirname "$0")" && pwd)
bin=$CACHE/bin/versitygw-$VERSION
if [ ! -x "$bin" ]; then
  mkdir -p "$CACHE/go" "$CACHE/bin"
  GOPATH=$CACHE/go GOCACHE=$CACHE/go/cache GOBIN=$CACHE/go/bin-$VERSION CGO_ENABLED=0 GOFLAGS=-trimpath \
    go install "github.com/versity/versitygw/cmd/versitygw@$VERSION"
  install -m 0755 "$CACHE/go/bin-$VERSION/versitygw" "$bin.tmp" && mv "$bin.tmp" "$bin"
fi
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp "$bin" "$ctx/versitygw"
cp "$here/entrypoint.sh" "$ctx/entrypoint.sh"
cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM berth/base:bookworm
COPY versitygw /usr/local/bin/versitygw
COPY entrypoint.sh /entrypoint.sh
RUN chmod 0755 /usr/local/bin/versitygw /entrypoint.sh && mkdir -p /data /var/lib/versitygw/meta
ENV ROOT_ACCESS_KEY=berthsandbox ROOT_SECRET_KEY=berthsandboxsecret S3_BUCKETS=berth-backups S3_PORT=9000
VOLUME /data /var/lib/versitygw/meta
EXPOSE 9000
ENTRYPOINT ["/entrypoint.sh"]
LABEL org.opencontainers.image.version="$VERSION" org.opencontainers.image.title="versitygw"
DOCKERFILE
labels=()
for l in ${IMAGE_LABELS:-}; do labels+=(--label "$l"); done
docker build -q "${labels[@]}" -t berth/s3:latest "$ctx" >/dev/null
echo "built berth/s3:latest (versitygw $VERSION)"
