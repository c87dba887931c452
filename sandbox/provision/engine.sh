#!/usr/bin/env bash
# Install and start the sandbox Docker Engine (Debian 12, root, no systemd).
# docker.io 26.1 / docker-buildx / containerd / docker-compose come from trixie (they need libc >= 2.34),
# downloaded through a SEPARATE apt sources list + lists dir so the machine's own apt state stays bookworm;
# runc, tini, iptables, openssh-server come from bookworm (trixie's need libc 2.38).
# Idempotent: a warm run only checks versions and the daemon socket.
set -euo pipefail
CACHE=${BERTH_CACHE:-/var/cache/berth}
LOGDIR=/var/lib/berth-sandbox/log
APT_ETC=/etc/berth-apt
APT_LISTS=/var/lib/berth-apt/lists
TRIXIE_OPTS=(-o Dir::Etc::sourcelist=$APT_ETC/trixie.list -o Dir::Etc::sourceparts=- -o Dir::State::Lists=$APT_LISTS)
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins
export DEBIAN_FRONTEND=noninteractive

mirror() {
  # The machine's own Debian mirror (deb822 or one-line format).
  local url
  url=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | grep -E 'debian/?$' | head -n1 || true)
  if [ -z "$url" ]; then
    url=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{for(i=2;i<=NF;i++) if ($i ~ /^https?:/) {print $i; exit}}' | grep -v security | head -n1 || true)
  fi
  echo "${url:-http://deb.debian.org/debian}"
}

need_engine=0
dpkg-query -W -f='${Version}' docker.io 2>/dev/null | grep -q '^26\.' || need_engine=1
for b in /usr/sbin/runc /usr/bin/tini /usr/sbin/sshd /usr/sbin/debootstrap /usr/bin/htpasswd /usr/sbin/iptables; do
  [ -e "$b" ] || need_engine=1
done
[ -x /usr/libexec/docker/cli-plugins/docker-buildx ] || [ -x $PLUGIN_DIR/docker-buildx ] || need_engine=1
[ -x $PLUGIN_DIR/docker-compose ] || need_engine=1

if [ "$need_engine" = 1 ]; then
  mkdir -p $APT_ETC $APT_LISTS/partial "$CACHE/debs"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(mirror) trixie main" > $APT_ETC/trixie.list
  apt-get "${TRIXIE_OPTS[@]}" update -qq
  (cd "$CACHE/debs" && chown _apt: . 2>/dev/null || true
   ls docker.io_*.deb docker-buildx_*.deb containerd_*.deb docker-compose_*.deb docker-cli_*.deb >/dev/null 2>&1 ||
     apt-get "${TRIXIE_OPTS[@]}" download docker.io docker-buildx containerd docker-compose docker-cli)
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends \
    "$CACHE"/debs/docker.io_*.deb "$CACHE"/debs/docker-buildx_*.deb "$CACHE"/debs/containerd_*.deb "$CACHE"/debs/docker-cli_*.deb \
    runc tini iptables openssh-server debootstrap apache2-utils >/dev/null
  # Compose v2 plugin from trixie's docker-compose package (not installed as a package).
  tmp=$(mktemp -d)
  dpkg-deb -x "$CACHE"/debs/docker-compose_*.deb "$tmp"
  mkdir -p $PLUGIN_DIR
  src=$(find "$tmp" -type f -name docker-compose -path '*cli-plugins*' | head -n1)
  install -m 0755 "$src" $PLUGIN_DIR/docker-compose
  rm -rf "$tmp"
  if [ ! -x $PLUGIN_DIR/docker-buildx ] && [ -x /usr/libexec/docker/cli-plugins/docker-buildx ]; then
    ln -sf /usr/libexec/docker/cli-plugins/docker-buildx $PLUGIN_DIR/docker-buildx
  fi
fi

# Test tools the suite drives for real: zsh (the completion script is syntax-checked with zsh -n).
command -v zsh >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends zsh >/dev/null; }

# Start dockerd if its socket does not answer.
if ! timeout 5 docker version >/dev/null 2>&1; then
  mkdir -p $LOGDIR
  rm -f /var/run/docker.pid
  setsid nohup /usr/sbin/dockerd >>$LOGDIR/dockerd.log 2>&1 < /dev/null &
  for _ in $(seq 1 60); do
    [ -S /var/run/docker.sock ] && timeout 5 docker version >/dev/null 2>&1 && break
    sleep 0.5
  done
  timeout 5 docker version >/dev/null || { tail -n 30 $LOGDIR/dockerd.log >&2; exit 1; }
fi
echo "engine: $(docker version --format 'client {{.Client.Version}} / server {{.Server.Version}} (API {{.Server.APIVersion}})'); compose $(docker compose version --short); buildx $(docker buildx version | awk '{print $2}')"
