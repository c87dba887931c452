#!/bin/sh
set -e
# Like upstream: listen on IPv4 (and IPv6 unless DISABLE_IPV6) port 2375.
if [ "$DISABLE_IPV6" = 1 ] || [ "$DISABLE_IPV6" = true ] || [ ! -e /proc/net/if_inet6 ]; then
  export BIND_CONFIG=":2375"
else
  export BIND_CONFIG="[::]:2375 v4v6"
fi
# first arg is `-f` or `--some-option`
if [ "${1#-}" != "$1" ]; then
  set -- haproxy "$@"
fi
if [ "$1" = haproxy ]; then
  shift
  set -- haproxy -W -db "$@"
fi
exec "$@"
