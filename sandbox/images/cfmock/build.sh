#!/usr/bin/env bash
# image: berth/cfmock:latest
# from: berth/base:bookworm
# The sandbox's stand-in for Cloudflare: its DNS API subset lego calls + the zone's DNS server (see main.go).
# Idempotent: skips the build when the image carries label berth.input-hash=<this dir + base image id>.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
. ../lib.sh
go_static_image cfmock berth/cfmock:latest
