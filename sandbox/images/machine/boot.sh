#!/bin/sh
# PID 1's child in a sandbox machine (tini is PID 1): what init does on a server. Starts sshd
# (logging to /var/log/auth.log for fail2ban) and, once Docker is installed, dockerd; restarts
# either when it dies, as systemd would. SIGTERM (docker stop/restart = shutdown/reboot) stops
# dockerd cleanly so its containers stop and come back at the next boot per their restart policy.
mkdir -p /run/sshd /var/log
chmod 0755 /run/sshd
ssh-keygen -A >/dev/null
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
stop() {
  if alive /run/docker.pid; then
    kill -TERM "$(cat /run/docker.pid)"
    i=0; while alive /run/docker.pid && [ $i -lt 80 ]; do sleep 0.1; i=$((i + 1)); done
  fi
  exit 0
}
trap stop TERM INT
# The sandbox registry under the name the operator's machine uses (127.0.0.1:5000).
( while :; do socat TCP-LISTEN:5000,bind=127.0.0.1,fork,reuseaddr TCP:registry:5000 2>>/var/log/registry-forward.log; sleep 1; done ) &
while :; do
  alive /run/sshd.pid || /usr/sbin/sshd -E /var/log/auth.log
  if [ -x /usr/sbin/dockerd ] && ! alive /run/docker.pid; then
    rm -f /run/docker.pid
    /usr/sbin/dockerd >>/var/log/dockerd.log 2>&1 &
  fi
  sleep 1 &
  wait $!
done
