#!/bin/sh
# Buckets are directories under /data for the posix backend; metadata goes to a sidecar dir
# so the gateway works on filesystems without user xattrs.
set -e
mkdir -p /var/lib/versitygw/meta
for b in $(echo "${S3_BUCKETS:-}" | tr ',' ' '); do
  mkdir -p "/data/$b"
done
exec versitygw --access "$ROOT_ACCESS_KEY" --secret "$ROOT_SECRET_KEY" --port ":${S3_PORT:-9000}" \
  posix --sidecar /var/lib/versitygw/meta /data "$@"
