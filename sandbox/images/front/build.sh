#!/usr/bin/env bash
# image: berth/front:latest
# from: berth/base:bookworm
# The sandbox's stand-in for Cloudflare (see main.go and sandbox/README.md). Skips when the image
# carries label berth.input-hash = sha256 of this directory's files + the base image id.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
. ../lib.sh
go_static_image front berth/front:latest
