// Host-side scripts of the Kamal-parity commands (details, remove, lock): data, values as $1…, one
// SSH round trip each. Kept apart from host-scripts.ts (the deploy path's scripts).
import type { Cmd } from '../docker/command.ts';
import { type SshTarget, sshScript } from '../docker/ssh.ts';
import { TRAEFIK_API_PORT } from '../names.ts';

/** Traefik's version, HTTP routers and services from its API on the host's 127.0.0.1, as one JSON line. */
const EDGE_DETAILS = `
api="http://127.0.0.1:${TRAEFIK_API_PORT}/api"
get() { out=$(curl -fsS --max-time 3 "$api/$1" 2>/dev/null || wget -qO- "$api/$1" 2>/dev/null) && [ -n "$out" ] && printf '%s' "$out" || printf 'null'; }
printf '{"version":%s,"routers":%s,"services":%s}\\n' "$(get version)" "$(get 'http/routers?per_page=1000')" "$(get 'http/services?per_page=1000')"
`;

/** "free", or "held <seconds since the last heartbeat>" then the holder JSON. */
const LOCK_STATUS = `
lock="$1"
if [ -d "$lock" ]; then now=$(date +%s); beat=$(stat -c %Y "$lock/holder.json" 2>/dev/null || echo "$now"); echo "held $((now - beat))"; cat "$lock/holder.json" 2>/dev/null || echo '{}'; else echo free; fi
`;

/** Remove the lock whoever holds it; prints who held it ("free" when nobody did). */
const LOCK_FORCE_RELEASE = `
lock="$1"
if [ -d "$lock" ]; then cat "$lock/holder.json" 2>/dev/null || echo '{}'; rm -rf "$lock"; else echo free; fi
`;

/**
 * First step of remove: drop the app's route (Traefik stops routing to it) and wait until Traefik's
 * API no longer lists the service (bounded: 100 × 50 ms); cancel pending retire timers.
 */
const UNROUTE = `
dyn="$1"; svc="$2"; appdir="$3"; url="http://127.0.0.1:${TRAEFIK_API_PORT}/api/http/services/$svc"
rm -f "$dyn"
for p in "$appdir"/retire-*.pid; do [ -f "$p" ] || continue; kill "$(cat "$p")" 2>/dev/null || true; rm -f "$p"; done
i=0
while [ "$i" -lt 100 ]; do
  if curl --version >/dev/null 2>&1; then code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || echo 000); else wget -q -O /dev/null "$url" 2>/dev/null && code=200 || code=404; fi
  [ "$code" = 200 ] || { echo unrouted; exit 0; }
  i=$((i + 1)); sleep 0.05
done
echo "still-routed"; exit 1
`;

/** Last step of remove: the app's host state (releases, current.json, lock), secrets and origin certificate. */
const FORGET = `
set -eu
for p in "$@"; do case "$p" in /var/lib/berth/*|/etc/berth/*) rm -rf -- "$p";; *) echo "refusing to remove $p" >&2; exit 2;; esac; done
echo removed
`;

export const parityScripts = {
  edgeDetails: (t: SshTarget): Cmd => sshScript(t, EDGE_DETAILS, [], { mutates: false }),
  lockStatus: (t: SshTarget, lock: string): Cmd => sshScript(t, LOCK_STATUS, [lock], { mutates: false }),
  lockForceRelease: (t: SshTarget, lock: string): Cmd => sshScript(t, LOCK_FORCE_RELEASE, [lock]),
  unroute: (t: SshTarget, dynamicFile: string, service: string, appDir: string): Cmd => sshScript(t, UNROUTE, [dynamicFile, service, appDir]),
  forget: (t: SshTarget, paths: string[]): Cmd => sshScript(t, FORGET, paths),
};
