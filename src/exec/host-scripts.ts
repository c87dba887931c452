// Host-side steps as data: small POSIX sh scripts run over the multiplexed SSH connection.
// Values reach a script as positional arguments ($1…) or stdin, never spliced into its text.
import type { Cmd } from '../docker/command.ts';
import { type SshTarget, sshScript } from '../docker/ssh.ts';
import { TRAEFIK_API_PORT } from '../names.ts';

export const LOCK_HELD_EXIT = 3;

const LOCK_ACQUIRE = `
set -eu
lock="$1"; holder="$2"; stale="$3"
mkdir -p "$(dirname "$lock")"
if mkdir "$lock" 2>/dev/null; then printf '%s\\n' "$holder" > "$lock/holder.json"; echo acquired; exit 0; fi
now=$(date +%s); beat=$(stat -c %Y "$lock/holder.json" 2>/dev/null || echo 0)
if [ $((now - beat)) -gt "$stale" ]; then
  # The holder stopped renewing its heartbeat: take over by renaming (atomic), then acquire.
  mv "$lock" "$lock.stale.$$" 2>/dev/null && rm -rf "$lock.stale.$$"
  if mkdir "$lock" 2>/dev/null; then printf '%s\\n' "$holder" > "$lock/holder.json"; echo taken-over; exit 0; fi
fi
cat "$lock/holder.json" 2>/dev/null || echo '{}'
exit ${LOCK_HELD_EXIT}
`;

/** Take the lock only if it still has exactly the holder we saw (compare-and-swap on a dead holder). */
const LOCK_TAKEOVER = `
set -eu
lock="$1"; expected="$2"; holder="$3"
[ "$(cat "$lock/holder.json" 2>/dev/null)" = "$expected" ] || { cat "$lock/holder.json" 2>/dev/null; exit ${LOCK_HELD_EXIT}; }
mv "$lock" "$lock.stale.$$" && rm -rf "$lock.stale.$$"
mkdir "$lock" && printf '%s\\n' "$holder" > "$lock/holder.json" && echo taken-over
`;

const LOCK_RELEASE = `
set -eu
lock="$1"; holder="$2"
if [ "$(cat "$lock/holder.json" 2>/dev/null)" = "$holder" ]; then rm -rf "$lock"; echo released; else echo not-ours; fi
`;

const LOCK_HEARTBEAT = `touch "$1/holder.json"`;

/** Write stdin to a file atomically (temp file + rename), creating its directory. */
const WRITE_ATOMIC = `
set -eu
dir=$(dirname "$1"); mkdir -p "$dir"
umask 077
tmp="$dir/.$(basename "$1").tmp.$$"
cat > "$tmp"; chmod "$2" "$tmp"; mv -f "$tmp" "$1"
`;

/**
 * Poll Traefik's API until the service reports exactly the expected server URL. Bounded: tries × 50 ms.
 * The API listens on 127.0.0.1 of the host only.
 */
const TRAEFIK_CONFIRM = `
svc="$1"; want="$2"; tries="$3"; url="http://127.0.0.1:${TRAEFIK_API_PORT}/api/http/services/$svc"
i=0
while [ "$i" -lt "$tries" ]; do
  out=$(curl -fsS --max-time 2 "$url" 2>/dev/null || wget -qO- "$url" 2>/dev/null || true)
  case "$out" in *'"url":"'"$want"'"'*) case "$out" in *'"url":"'*'"url":"'*) ;; *) echo confirmed; exit 0;; esac;; esac
  i=$((i + 1)); sleep 0.05
done
echo "$out"; exit 1
`;

/** Read everything the planner needs about an app on a host in ONE round trip. */
const OBSERVE_APP = `
dir="$1"; app="$2"
echo '--current'; cat "$dir/current.json" 2>/dev/null || true
echo '--releases'; for f in "$dir"/releases/*/release.json; do [ -f "$f" ] && { tr -d '\\n' < "$f"; echo; }; done
echo '--containers'; docker ps --all --filter "label=berth.app=$app" --format '{{json .}}' 2>/dev/null || true
echo '--end'
`;

/**
 * Stop a container after a delay, detached on the host, so the deploy returns at once. The timer's
 * pid is kept in `pidfile` so a deploy or rollback that makes this colour live again cancels it;
 * as a second guard the stop happens only if current.json still names another colour.
 */
const RETIRE_LATER = `
id="$1"; delay="$2"; grace="$3"; colour="$4"; current="$5"; pidfile="$6"
[ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
nohup sh -c '
  echo $$ > "$6"
  sleep "$1"
  live=$(sed -n "s/^ *\\"colour\\": *\\"\\([a-z]*\\)\\".*/\\1/p" "$5" | head -n 1)
  [ "$live" = "$4" ] || docker stop -t "$2" "$3"
  rm -f "$6"
' retire "$delay" "$grace" "$id" "$colour" "$current" "$pidfile" >/dev/null 2>&1 &
echo scheduled
`;

/** Cancel a pending retire of a colour that is about to serve again. */
const CANCEL_RETIRE = `
pidfile="$1"
if [ -f "$pidfile" ]; then kill "$(cat "$pidfile")" 2>/dev/null && echo cancelled; rm -f "$pidfile"; fi
true
`;

/** A directory as a base64 tar stream (stdout is text in the runner). */
const READ_DIR = `
set -eu
cd "$1" && tar -cf - . | base64
`;

export const hostScripts = {
  lockAcquire: (t: SshTarget, lock: string, holder: string, staleSeconds: number): Cmd =>
    sshScript(t, LOCK_ACQUIRE, [lock, holder, String(staleSeconds)]),
  lockTakeover: (t: SshTarget, lock: string, expected: string, holder: string): Cmd =>
    sshScript(t, LOCK_TAKEOVER, [lock, expected, holder]),
  lockRelease: (t: SshTarget, lock: string, holder: string): Cmd => sshScript(t, LOCK_RELEASE, [lock, holder]),
  lockHeartbeat: (t: SshTarget, lock: string): Cmd => sshScript(t, LOCK_HEARTBEAT, [lock]),
  writeFile: (t: SshTarget, path: string, content: string, mode = '644'): Cmd =>
    sshScript(t, WRITE_ATOMIC, [path, mode], { input: content }),
  confirmRoute: (t: SshTarget, service: string, url: string, tries: number): Cmd =>
    sshScript(t, TRAEFIK_CONFIRM, [service, url, String(tries)], { mutates: false }),
  observeApp: (t: SshTarget, dir: string, app: string): Cmd => sshScript(t, OBSERVE_APP, [dir, app], { mutates: false }),
  retireLater: (t: SshTarget, containerId: string, colour: string, currentJson: string, pidfile: string, delaySeconds: number, graceSeconds: number): Cmd =>
    sshScript(t, RETIRE_LATER, [containerId, String(delaySeconds), String(graceSeconds), colour, currentJson, pidfile]),
  cancelRetire: (t: SshTarget, pidfile: string): Cmd => sshScript(t, CANCEL_RETIRE, [pidfile]),
  /** Extract a tar stream (stdin) at / — used by the uploader. */
  untar: (t: SshTarget): Cmd => sshScript(t, 'set -eu; tar -x --no-same-owner -p -f - -C /', []),
  readDir: (t: SshTarget, dir: string): Cmd => sshScript(t, READ_DIR, [dir], { mutates: false }),
  run: (t: SshTarget, script: string, args: string[] = [], mutates = true): Cmd => sshScript(t, script, args, { mutates }),
};
