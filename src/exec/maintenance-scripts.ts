// Host-side scripts of maintenance mode, one SSH round trip each (values as $1…, never spliced).
// The switch is the deploy's: a route file renamed into Traefik's dynamic directory, then Traefik's
// API polled until every maintenance router is enabled (on) or gone (live); only then is the state
// recorded (on) or the page server stopped (live). Nothing is left half switched: a route Traefik
// does not confirm is put back as it was.
import type { Cmd } from '../docker/command.ts';
import { type SshTarget, sshScript } from '../docker/ssh.ts';
import { MAINTENANCE_PORT, MAINTENANCE_SERVICE, NETWORK, TRAEFIK_API_PORT } from '../names.ts';
import type { ScriptPart } from './host-scripts.ts';

const HELPERS = `
api="http://127.0.0.1:${TRAEFIK_API_PORT}/api/http/routers"
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" 2>/dev/null || echo 000; }
body() { curl -s --max-time 2 "$1" 2>/dev/null || wget -qO- --content-on-error --timeout=2 "$1" 2>/dev/null; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
`;

/**
 * Maintenance on (mode "on": start or reload the page server, then route) or re-route only (mode
 * "route": a deploy changed the app's routes while in maintenance). Args: mode dir project dest
 * state record, then the router names. The files (compose.yml, haproxy.cfg, 503.html, route.yml)
 * are already in dir. Prints "confirmed <ms from the rename to the API's confirmation>".
 */
const MAINTENANCE_ON = `
set -u
${HELPERS}
mode="$1"; dir="$2"; project="$3"; dest="$4"; state="$5"; record="$6"; shift 6
started=0
if [ "$mode" = on ]; then
  id=$(docker ps -q --filter "label=com.docker.compose.project=$project" --filter "label=com.docker.compose.service=${MAINTENANCE_SERVICE}" | head -n 1)
  if [ -n "$id" ]; then
    docker kill -s USR2 "$id" >/dev/null || { echo "could not reload the page server"; exit 2; }
  else
    out=$(docker compose --ansi never -p "$project" -f "$dir/compose.yml" up -d 2>&1) || { echo "the page server did not start: $out"; exit 2; }
    started=1
    id=$(docker ps -q --filter "label=com.docker.compose.project=$project" --filter "label=com.docker.compose.service=${MAINTENANCE_SERVICE}" | head -n 1)
  fi
  ip=$(docker inspect -f '{{with index .NetworkSettings.Networks "${NETWORK}"}}{{.IPAddress}}{{end}}' "$id" 2>/dev/null)
  want=$(sha256sum < "$dir/503.html" | cut -d' ' -f1)
  # Route to it only once it answers with this page (a reload swaps workers in the background).
  i=0
  while [ "$(body "http://$ip:${MAINTENANCE_PORT}/" | sha256sum | cut -d' ' -f1)" != "$want" ]; do
    i=$((i + 1))
    if [ "$i" -ge 100 ]; then
      echo "the page server on $ip did not answer with the page"; docker logs --tail 20 "$id" 2>&1
      [ "$started" = 0 ] || docker compose --ansi never -p "$project" -f "$dir/compose.yml" down -t 1 >/dev/null 2>&1
      exit 2
    fi
    sleep 0.1
  done
fi
ddir=$(dirname "$dest"); tmp="$ddir/.$(basename "$dest").tmp.$$"
had=0; [ -f "$dest" ] && { cp -p "$dest" "$dir/.route.prev" && had=1; }
cp "$dir/route.yml" "$tmp" && chmod 644 "$tmp" || exit 2
start=$(now_ms)
mv -f "$tmp" "$dest" || exit 2
i=0; ok=0
while [ "$i" -lt 300 ]; do
  ok=1
  for r in "$@"; do case "$(body "$api/$r@file")" in *'"status":"enabled"'*) ;; *) ok=0; break;; esac; done
  [ "$ok" = 1 ] && break
  i=$((i + 1)); sleep 0.02
done
if [ "$ok" != 1 ]; then
  last=$(body "$api/$r@file")
  if [ "$had" = 1 ]; then mv -f "$dir/.route.prev" "$dest"; else rm -f "$dest"; fi
  [ "$started" = 0 ] || docker compose --ansi never -p "$project" -f "$dir/compose.yml" down -t 1 >/dev/null 2>&1
  echo "Traefik did not enable $r; route restored. API said: $last"; exit 1
fi
ms=$(( $(now_ms) - start ))
rm -f "$dir/.route.prev"
printf '%s\\n' "$record" > "$state.tmp.$$" && mv -f "$state.tmp.$$" "$state"
echo "confirmed $ms"
`;

/**
 * Live again: drop the maintenance route, wait until Traefik's API no longer has its service (the
 * file's routers and service go in one reload, whatever routes the file held), then stop the page
 * server (after a second for answers already on their way) and forget the state.
 * Args: dir project dest state service. Prints "live <ms>" or "not-in-maintenance".
 */
const MAINTENANCE_OFF = `
set -u
${HELPERS}
dir="$1"; project="$2"; dest="$3"; state="$4"; svc="$5"
services="http://127.0.0.1:${TRAEFIK_API_PORT}/api/http/services"
if [ ! -f "$dest" ] && [ ! -f "$state" ] && [ ! -d "$dir" ]; then echo not-in-maintenance; exit 0; fi
start=$(now_ms)
rm -f "$dest"
i=0
while [ "$(code "$services/$svc@file")" != 404 ]; do
  i=$((i + 1))
  if [ "$i" -ge 300 ]; then
    [ -f "$dir/route.yml" ] && cp "$dir/route.yml" "$dest.tmp.$$" && mv -f "$dest.tmp.$$" "$dest"
    echo "Traefik still routes to the maintenance page ($svc); maintenance left on"; exit 1
  fi
  sleep 0.02
done
ms=$(( $(now_ms) - start ))
sleep 1
[ -f "$dir/compose.yml" ] && docker compose --ansi never -p "$project" -f "$dir/compose.yml" down -t 2 >/dev/null 2>&1
ids=$(docker ps -aq --filter "label=com.docker.compose.project=$project"); [ -z "$ids" ] || docker rm -f $ids >/dev/null
rm -rf "$dir" "$state"
echo "live $ms"
`;

/** The 503.html at `path` inside an image, on stdout (exit 3: no such file in the image). */
const IMAGE_PAGE = `
img="$1"; path="$2"
c=$(docker create "$img" 2>/dev/null) || { echo "image $img is not on this host" >&2; exit 3; }
docker cp "$c:$path/503.html" - 2>/dev/null | tar -xOf - 2>/dev/null > "/tmp/.berth-page.$$"
docker rm -f "$c" >/dev/null 2>&1
[ -s "/tmp/.berth-page.$$" ] || { rm -f "/tmp/.berth-page.$$"; exit 3; }
cat "/tmp/.berth-page.$$"; rm -f "/tmp/.berth-page.$$"
`;

export const maintenanceParts = {
  on: (mode: 'on' | 'route', dir: string, project: string, dest: string, state: string, record: string, routers: string[]): ScriptPart => ({
    script: MAINTENANCE_ON,
    args: [mode, dir, project, dest, state, record, ...routers],
  }),
  off: (dir: string, project: string, dest: string, state: string, service: string): ScriptPart => ({ script: MAINTENANCE_OFF, args: [dir, project, dest, state, service] }),
};

export const maintenanceScripts = {
  imagePage: (t: SshTarget, image: string, path: string): Cmd => sshScript(t, IMAGE_PAGE, [image, path], { mutates: false }),
  off: (t: SshTarget, dir: string, project: string, dest: string, state: string, service: string): Cmd => {
    const p = maintenanceParts.off(dir, project, dest, state, service);
    return sshScript(t, p.script, p.args);
  },
};

