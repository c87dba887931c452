// Host-side steps as data: small POSIX sh scripts run over the multiplexed SSH connection.
// Values reach a script as positional arguments ($1…) or stdin, never spliced into its text.
import type { Cmd } from '../docker/command.ts';
import { type SshTarget, sshScript } from '../docker/ssh.ts';
import { TRAEFIK_API_PORT } from '../names.ts';
import { SECRET_SET_ID_SH } from '../plan/secret-sets.ts';
import { OBSERVE_CURRENT, OBSERVE_IMAGE, OBSERVE_LOCK, OBSERVE_RELEASES, OBSERVE_RETIRING } from './observe-lines.ts';

/** `$0` of the backup:restore job on a host (src/exec/restore-job.ts): a live job is told by it. */
export const RESTORE_JOB_NAME = 'berth-restore-job';

export const LOCK_HELD_EXIT = 3;
export const RELEASE_TAR_MARK = '--berth-release-tar--';

/**
 * Take the lock if free. When held, print `held <host now> <heartbeat mtime>` (epoch seconds, the
 * host's clock) and the holder's JSON; Berth judges staleness (src/plan/lock-policy.ts).
 */
const LOCK_ACQUIRE = `
set -eu
lock="$1"; holder="$2"
mkdir -p "$(dirname "$lock")"
if mkdir "$lock" 2>/dev/null; then printf '%s\\n' "$holder" > "$lock/holder.json"; echo acquired; exit 0; fi
beat=$(stat -c %Y "$lock/holder.json" 2>/dev/null || stat -c %Y "$lock" 2>/dev/null || echo 0)
echo "held $(date +%s) $beat"
cat "$lock/holder.json" 2>/dev/null || echo '{}'
exit ${LOCK_HELD_EXIT}
`;

/**
 * Take the lock over only if it still has exactly the holder we judged dead and its heartbeat is
 * still older than $4 seconds (compare-and-swap: a holder that beat again in between keeps it).
 */
const LOCK_TAKEOVER = `
set -eu
lock="$1"; expected="$2"; holder="$3"; stale="$4"
[ "$(cat "$lock/holder.json" 2>/dev/null || echo '{}')" = "$expected" ] || { cat "$lock/holder.json" 2>/dev/null; exit ${LOCK_HELD_EXIT}; }
beat=$(stat -c %Y "$lock/holder.json" 2>/dev/null || stat -c %Y "$lock" 2>/dev/null || echo 0)
[ "$stale" -lt 0 ] || [ $(( $(date +%s) - beat )) -gt "$stale" ] || { cat "$lock/holder.json"; exit ${LOCK_HELD_EXIT}; }
mv "$lock" "$lock.stale.$$" && rm -rf "$lock.stale.$$"
mkdir "$lock" && printf '%s\\n' "$holder" > "$lock/holder.json" && echo taken-over
`;

const LOCK_RELEASE = `
set -eu
lock="$1"; holder="$2"
if [ "$(cat "$lock/holder.json" 2>/dev/null)" = "$holder" ]; then rm -rf "$lock"; echo released; else echo not-ours; fi
`;

/** -c: a beat still in flight when the lock is released must not create an empty holder (a lock that looks alive). */
const LOCK_HEARTBEAT = `touch -c "$1/holder.json"`;

/** Write stdin to a file atomically (temp file + rename), creating its directory. */
const WRITE_ATOMIC = `
set -eu
dir=$(dirname "$1"); mkdir -p "$dir"
umask 077
tmp="$dir/.$(basename "$1").tmp.$$"
cat > "$tmp"; chmod "$2" "$tmp"; mv -f "$tmp" "$1"
`;

/**
 * The switch in ONE round trip: stage the app's route beside Traefik's watched directory, rename it
 * in (atomic), then poll Traefik's API until the service reports exactly the expected server URL,
 * for at most $4 seconds. Prints "confirmed <ms>", the time from the rename to the API's
 * confirmation, measured on the host. The API listens on 127.0.0.1 of the host only.
 * Why staged outside: Traefik's file provider rebuilds its whole configuration on EVERY event in
 * the directory, one after another, so a temp file written there (create, write, chmod) queued
 * two or three full reloads ahead of the rename's. Why one curl at 100 requests/s (curl >= 7.84,
 * `--rate`, one kept-alive connection): a curl process per try cost a fork and a TLS-less connect
 * each 20 ms, CPU that Traefik needed on a busy host; older curl or wget fall back to that loop.
 */
export const SWITCH_ROUTE = `
dest="$1"; svc="$2"; want="$3"; secs="$4"; rec_path="\${5-}"; rec="\${6-}"; cur_path="\${7-}"; cur="\${8-}"; env_from="\${9-}"; env_to="\${10-}"; url="http://127.0.0.1:${TRAEFIK_API_PORT}/api/http/services/$svc"
# Parameter expansion, not dirname/basename, and umask, not chmod: each fork is 1–2 ms of the switch.
dir=\${dest%/*}; stage="\${dir%/*}/.staging"
mkdir -p "$dir" "$stage" || exit 2
tmp="$stage/\${dest##*/}.$$"
umask 022
cat > "$tmp" || exit 2
ok() { case "$1" in *'"url":"'"$want"'"'*) case "$1" in *'"url":"'*'"url":"'*) return 1;; esac; return 0;; esac; return 1; }
confirmed() {
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  # Record the switch in the same round trip: a connection lost right after it still leaves
  # current.json naming the colour that serves.
  if [ -n "$cur_path" ]; then
    [ -z "$rec_path" ] || { mkdir -p "$(dirname "$rec_path")" && printf '%s' "$rec" > "$rec_path.tmp.$$" && mv -f "$rec_path.tmp.$$" "$rec_path"; }
    printf '%s' "$cur" > "$cur_path.tmp.$$" && mv -f "$cur_path.tmp.$$" "$cur_path"
    [ -z "$env_from" ] || { cp -p "$env_from" "$env_to.tmp.$$" && mv -f "$env_to.tmp.$$" "$env_to"; }
  fi
  echo "confirmed $ms"
}
start=$(date +%s%N)
mv -f "$tmp" "$dest" || { rm -f "$tmp"; exit 2; }
# Traefik takes tens of ms to reload: curl's version and the fifo are had meanwhile, not before.
rate=$(curl -V 2>/dev/null | awk 'NR == 1 { split($2, v, "."); print (v[1] * 1000 + v[2] >= 7084) ? "yes" : "no" }')
poll=""; [ "$rate" != yes ] || ! mkfifo "$tmp.poll" || poll="$tmp.poll"
if [ -n "$poll" ]; then
  # curl goes on through its list after a failed write: it is stopped once confirmed.
  curl -s --rate 100/s --max-time 2 -w '\\n' "$url?try=[1-$((secs * 100))]" > "$poll" 2>/dev/null &
  poller=$!
  last=""; rc=1
  while IFS= read -r out; do
    [ -z "$out" ] || last="$out"
    if ok "$out"; then confirmed; rc=0; break; fi
  done < "$poll"
  kill "$poller" 2>/dev/null; wait "$poller" 2>/dev/null; rm -f "$poll"
  [ "$rc" -eq 0 ] || echo "$last"
  exit "$rc"
fi
end=$(( $(date +%s) + secs ))
while :; do
  out=$(curl -fsS --max-time 2 "$url" 2>/dev/null || wget -qO- "$url" 2>/dev/null || true)
  if ok "$out"; then confirmed; exit 0; fi
  [ "$(date +%s)" -lt "$end" ] || break
  sleep 0.02
done
echo "$out"; exit 1
`;

/**
 * Read everything the planner needs about an app on a host in ONE round trip. The lock's holder is
 * read before and after, so a read that overlapped a running deploy is known as such; `$3`, when
 * given, is the image whose id the host would run.
 */
const OBSERVE_APP = `
dir="$1"; app="$2"; route="\${3-}"; image="\${4-}"; sset="\${5-}"
${OBSERVE_LOCK}
[ -z "$route" ] || { echo '--route'; grep -o -- '-web-[a-z]*:[0-9]*' "$route" 2>/dev/null | head -n 1; }
${OBSERVE_RETIRING}
${OBSERVE_CURRENT}
echo '--maintenance'; [ -f "$dir/maintenance.json" ] && { tr -d '\\n' < "$dir/maintenance.json"; echo; }
${OBSERVE_RELEASES}
echo '--containers'; docker ps --all --filter "label=berth.app=$app" --format '{{json .}}' 2>/dev/null || true
${OBSERVE_IMAGE}
[ -z "$sset" ] || { echo '--secrets-check'; set -- "$sset"; ${SECRET_SET_ID_SH}; }
[ ! -d "$dir/restore" ] || {
  echo '--restore'; p=$(cat "$dir/restore/pid" 2>/dev/null)
  if [ -n "$p" ] && grep -qs ${RESTORE_JOB_NAME} "/proc/$p/cmdline"; then echo alive; else echo dead; fi
  echo "step $(tail -n 1 "$dir/restore/done" 2>/dev/null)"; echo "since $(stat -c %Y "$dir/restore" 2>/dev/null)"
  echo "params $(cat "$dir/restore/params.json" 2>/dev/null)"
}
${OBSERVE_LOCK}
echo '--end'
`;

/**
 * Stop a container after a delay, detached on the host, so the deploy returns at once. The timer's
 * pid is kept in `pidfile` so a deploy or rollback that makes this colour live again cancels it;
 * as a second guard the stop happens only if current.json still names another colour.
 * Cancel and stop race for the pidfile by renaming it (atomic: one of them wins). The timer that
 * wins renames it to <pidfile>.<pid>.stopping for as long as its stop runs; a cancel that finds
 * that waits for the stop to end instead of reporting the colour as running (a `docker stop` in
 * flight cannot be called back: the rollback that checked "running healthy" during it switched to
 * a colour about to exit — seen in CI once the rollback got faster).
 */
const RETIRE_LATER = `
id="$1"; delay="$2"; grace="$3"; colour="$4"; current="$5"; pidfile="$6"
[ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
nohup sh -c '
  echo $$ > "$6"
  sleep "$1"
  mv "$6" "$6.$$.stopping" 2>/dev/null || exit 0
  live=$(sed -n "s/^ *\\"colour\\": *\\"\\([a-z]*\\)\\".*/\\1/p" "$5" | head -n 1)
  [ "$live" = "$4" ] || docker stop -t "$2" "$3"
  rm -f "$6.$$.stopping"
' retire "$delay" "$grace" "$id" "$colour" "$current" "$pidfile" >/dev/null 2>&1 &
echo scheduled
`;

/**
 * Cancel the colour's pending retire (prints "cancelled" when one was pending); when its stop has
 * begun, wait (60 s at most) for it to end, so what follows sees the container as it will be.
 */
const CANCEL_RETIRE_CORE = `
if mv "$pidfile" "$pidfile.cancel.$$" 2>/dev/null; then
  kill "$(cat "$pidfile.cancel.$$")" 2>/dev/null && echo cancelled; rm -f "$pidfile.cancel.$$"
fi
for f in "$pidfile".*.stopping; do
  [ -e "$f" ] || continue
  p=\${f%.stopping}; p=\${p##*.}; n=0
  while kill -0 "$p" 2>/dev/null && [ "$n" -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
  kill -0 "$p" 2>/dev/null || rm -f "$f"
done
`;

/**
 * Reuse a colour that still runs (rollback inside the retire window): cancel its pending retire and
 * report whether its container is running and healthy, in one round trip.
 */
const CANCEL_RETIRE_AND_CHECK = `
pidfile="$1"; id="$2"
${CANCEL_RETIRE_CORE}
docker inspect --format '{{.State.Running}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' "$id" 2>/dev/null || echo missing
`;

/**
 * Stop (SIGTERM, then SIGKILL after $2 s) and remove the containers of compose services $3… of
 * project $1: services the release in force does not define. Their volumes stay.
 */
const REMOVE_SERVICES = `
project="$1"; grace="$2"; shift 2
for svc in "$@"; do
  ids=$(docker ps -aq --filter "label=com.docker.compose.project=$project" --filter "label=com.docker.compose.service=$svc")
  [ -n "$ids" ] || continue
  docker stop -t "$grace" $ids >/dev/null 2>&1; docker rm -f $ids >/dev/null && echo "removed $svc"
done
true
`;

/** Cancel a pending retire of a colour that is about to serve again. */
const CANCEL_RETIRE = `
pidfile="$1"
${CANCEL_RETIRE_CORE}
true
`;

/**
 * Wait until a compose service's container is healthy. Prints "healthy <id>"; fails at once when the
 * container exits, restarts (a crash loop) or turns unhealthy. With $4 = "start", the container was
 * only created (while the release command ran): it is started here first, in the same round trip.
 * The wait follows the container's Docker events (health_status, die…), each one a cue to inspect it
 * again: the state is seen the moment Docker records it, and a colour booting for seconds shares the
 * CPU with no poll (a `docker inspect` every 0.1 s cost ~20 ms of CPU each). The stream ends at the
 * deadline (--until); should it end early (an engine without it), the wait polls every 0.1 s.
 */
export const WAIT_HEALTHY = `
project="$1"; svc="$2"; timeout="$3"; start="\${4-}"; since=$(( $(date +%s) - 1 )); end=$(( since + 1 + timeout )); id=""; st=""; ev=""; fifo=""
check() {
  st=$(docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$id" 2>/dev/null)
  case "$st" in
    "running healthy"|"running none") echo "healthy $id"; exit 0;;
    exited*|dead*|restarting*) echo "container $st (it exited)"; exit 1;;
    *unhealthy) echo "container unhealthy"; exit 1;;
  esac
}
while :; do
  id=$(docker ps -aq --filter "label=com.docker.compose.project=$project" --filter "label=com.docker.compose.service=$svc" | head -n 1)
  [ -z "$id" ] || break
  [ "$(date +%s)" -lt "$end" ] || { echo "timed out (container not created)"; exit 1; }
  sleep 0.1
done
fifo=$(mktemp -u "\${TMPDIR:-/tmp}/berth-wait.XXXXXX") && mkfifo -m 600 "$fifo" || fifo=""
if [ -n "$fifo" ]; then
  trap 'kill "$ev" 2>/dev/null; rm -f "$fifo"' EXIT
  docker events --since "$since" --until "$end" --filter type=container --filter "container=$id" --format '{{.Action}}' > "$fifo" 2>/dev/null &
  ev=$!
  exec 3< "$fifo"
fi
if [ -n "$start" ]; then
  out=$(docker start "$id" 2>&1) || { echo "container did not start ($(printf '%s' "$out" | tr '\\n' ' '))"; exit 1; }
fi
check
[ -z "$fifo" ] || while read -r _ <&3; do check; done
while [ "$(date +%s)" -lt "$end" ]; do check; sleep 0.1; done
check
echo "timed out (container \${st:-not created})"; exit 1
`;

export const ASSETS_MISSING_EXIT = 4;

/**
 * Asset bridging in one round trip. Args: assets root, asset_path in the image, then tag image pairs
 * in merge order, the target release last. Copies each release's assets out of its image into
 * extracted/<tag> (once per image id; an older release whose image is gone keeps what was copied),
 * merges them into volumes/<target> with hard links (later releases win a name clash; merged in
 * place, so a colour already mounting it keeps working), then prunes every other tag's directories.
 */
const PREPARE_ASSETS = `
set -u
root="$1"; src="$2"; shift 2
ext="$root/extracted"; vol="$root/volumes"
mkdir -p "$ext" "$vol" || exit 2
keep=" "; target=""
extract() {
  t="$1"; img="$2"
  id=$(docker image inspect --format '{{.Id}}' "$img" 2>/dev/null) || { [ -d "$ext/$t" ]; return; }
  [ -d "$ext/$t" ] && [ "$(cat "$ext/.$t.image" 2>/dev/null)" = "$id" ] && return 0
  tmp="$ext/.$t.tmp.$$"; rm -rf "$tmp"; mkdir -p "$tmp"
  c=$(docker create "$img" 2>/dev/null) || { rm -rf "$tmp"; return 1; }
  docker cp "$c:$src/." "$tmp/" >/dev/null 2>&1; rc=$?
  docker rm -f "$c" >/dev/null 2>&1
  [ "$rc" -eq 0 ] || { rm -rf "$tmp"; return 1; }
  rm -rf "$ext/$t" && mv "$tmp" "$ext/$t" && printf '%s\n' "$id" > "$ext/.$t.image"
}
while [ "$#" -ge 2 ]; do
  t="$1"; img="$2"; shift 2
  keep="$keep$t "; target="$t"
  if ! extract "$t" "$img"; then
    [ "$#" -eq 0 ] && { echo "cannot copy $src out of $img: no such directory in the image, or the image is not on this host"; exit ${ASSETS_MISSING_EXIT}; }
    echo "note: no assets of release $t ($img is gone from this host)"
  fi
done
[ -n "$target" ] || exit 2
dest="$vol/$target"; mkdir -p "$dest" || exit 2
for t in $keep; do
  [ -d "$ext/$t" ] && { cp -a -l --remove-destination "$ext/$t/." "$dest/" || exit 2; }
done
pruned=0
for d in "$ext"/* "$vol"/*; do
  [ -e "$d" ] || continue
  b=$(basename "$d")
  case "$keep" in *" $b "*) ;; *) rm -rf "$d"; rm -f "$ext/.$b.image"; pruned=$((pruned + 1));; esac
done
echo "assets $target: $(find "$dest" -type f | wc -l) files from$keep(pruned $pruned)"
`;

/**
 * A release for rollback in one round trip: its secrets file (first existing of $2, $3) as text,
 * a separator line, then the release directory $1 as a base64 tar (stdout is text in the runner).
 */
const READ_RELEASE = `
set -eu
cat "$2" 2>/dev/null || cat "$3" 2>/dev/null || true
echo '${RELEASE_TAR_MARK}'
tar -cf - -C "$1" . | base64
`;

/** `secretSet`: the directory of the secret set a deploy wants, whose files the host hashes (secret-sets.ts). */
export const observeAppPart = (dir: string, app: string, opts: { route?: string; image?: string; secretSet?: string } = {}): ScriptPart => ({
  script: OBSERVE_APP,
  args: opts.secretSet ? [dir, app, opts.route ?? '', opts.image ?? '', opts.secretSet] : [dir, app, ...(opts.route || opts.image ? [opts.route ?? ''] : []), ...(opts.image ? [opts.image] : [])],
});

/** Host scripts as parts, for chaining into another script's round trip (chainScripts). */
export const scriptParts = {
  /** Prints "released" or "not-ours" (someone else's lock is left alone), then `then`'s output after the marker. */
  lockRelease: (lock: string, holder: string, then?: ScriptPart): ScriptPart => {
    const part = { script: LOCK_RELEASE, args: [lock, holder] };
    return then ? chainScripts(part, then) : part;
  },
  readRelease: (dir: string, secretsFile: string, fallbackSecretsFile: string): ScriptPart => ({ script: READ_RELEASE, args: [dir, secretsFile, fallbackSecretsFile] }),
  cancelRetire: (pidfile: string): ScriptPart => ({ script: CANCEL_RETIRE, args: [pidfile] }),
  /** `part`, its output preceded by a line "current <current.json, spaces and newlines dropped>". */
  withCurrent: (currentJson: string, part: ScriptPart): ScriptPart => ({
    script: `echo "current $(tr -d ' \\n' < "$1" 2>/dev/null)"; shift\n${part.script}`,
    args: [currentJson, ...part.args],
  }),
  removeServices: (project: string, graceSeconds: number, services: string[]): ScriptPart => ({ script: REMOVE_SERVICES, args: [project, String(graceSeconds), ...services] }),
  cancelRetireAndCheck: (pidfile: string, containerId: string): ScriptPart => ({ script: CANCEL_RETIRE_AND_CHECK, args: [pidfile, containerId] }),
  retireLater: (containerId: string, colour: string, currentJson: string, pidfile: string, delaySeconds: number, graceSeconds: number): ScriptPart => ({
    script: RETIRE_LATER,
    args: [containerId, String(delaySeconds), String(graceSeconds), colour, currentJson, pidfile],
  }),
};

const UNTAR = 'set -eu; tar -x --no-same-owner -p -f - -C /';

/** What the switch records once Traefik confirms: release.json, current.json, and the live env file. */
export interface SwitchRecord {
  /** release.json (a rollback's release has its own already: none). */
  releasePath?: string;
  release?: string;
  currentPath: string;
  current: string;
  envFrom?: string;
  envTo?: string;
}

const switchArgs = (path: string, service: string, url: string, timeoutSeconds: number, record?: SwitchRecord) => [
  path, service, url, String(timeoutSeconds),
  ...(record ? [record.releasePath ?? '', record.release ?? '', record.currentPath, record.current, ...(record.envFrom && record.envTo ? [record.envFrom, record.envTo] : [])] : []),
];

/**
 * The switch as a part to chain after an upload (whose tar took stdin): the route's content is read
 * from `routeFile`, a file that upload put on the host.
 */
export const switchRoutePart = (routeFile: string, path: string, service: string, url: string, timeoutSeconds: number, record?: SwitchRecord): ScriptPart => ({
  script: `exec < "$1" || exit 2; shift\n${SWITCH_ROUTE}`,
  args: [routeFile, ...switchArgs(path, service, url, timeoutSeconds, record)],
});

/** Staged files moved into place (`from to` pairs), then the staging directory removed. */
const INSTALL_STAGED = `
stage="$1"; shift
while [ $# -ge 2 ]; do mv -f "$1" "$2" || exit 2; shift 2; done
rm -rf "$stage"
`;
export const installStagedPart = (stage: string, moves: [from: string, to: string][]): ScriptPart => ({ script: INSTALL_STAGED, args: [stage, ...moves.flat()] });

/** A host script with its arguments, before it becomes an SSH command. */
export interface ScriptPart {
  script: string;
  args: string[];
}

/** Marker between the parts of a chained script's output. */
export const THEN_MARKER = '--then';

/**
 * `a`, then `b` only if `a` succeeded, in ONE round trip: each part runs in its own subshell and
 * sees only its own arguments; the output of `b` follows a THEN_MARKER line.
 */
export function chainScripts(a: ScriptPart, b: ScriptPart): ScriptPart {
  const refs = (from: number, n: number) => Array.from({ length: n }, (_, i) => `"\${${from + i + 1}}"`).join(' ');
  const script = `(\nset -- ${refs(0, a.args.length)}\n${a.script}\n) || exit $?\necho '${THEN_MARKER}'\n(\nset -- ${refs(a.args.length, b.args.length)}\n${b.script}\n)`;
  return { script, args: [...a.args, ...b.args] };
}

/**
 * A chained part's output split at its LAST marker: `first` is what the first part printed (its
 * text may hold anything, even the marker), `then` what the second one printed (undefined when it
 * did not run).
 */
export function splitLastThen(stdout: string): { first: string; then?: string } {
  const i = stdout.lastIndexOf(`\n${THEN_MARKER}\n`);
  if (i >= 0) return { first: stdout.slice(0, i + 1), then: stdout.slice(i + THEN_MARKER.length + 2) };
  if (stdout.startsWith(`${THEN_MARKER}\n`)) return { first: '', then: stdout.slice(THEN_MARKER.length + 1) };
  return { first: stdout };
}

/** The output of the second part of a chained script (undefined when the first part failed). */
export function thenOutput(stdout: string): string | undefined {
  // The FIRST marker line: a first part that printed nothing leaves it at the very start, and the
  // second part's own output may hold markers (a chain in a chain).
  if (stdout.startsWith(`${THEN_MARKER}\n`)) return stdout.slice(THEN_MARKER.length + 1);
  const i = stdout.indexOf(`\n${THEN_MARKER}\n`);
  return i >= 0 ? stdout.slice(i + THEN_MARKER.length + 2) : undefined;
}

export const hostScripts = {
  /** `then`: run right after the lock is taken, in the same round trip (see chainScripts). */
  lockAcquire: (t: SshTarget, lock: string, holder: string, then?: ScriptPart): Cmd => {
    const part = { script: LOCK_ACQUIRE, args: [lock, holder] };
    const all = then ? chainScripts(part, then) : part;
    return sshScript(t, all.script, all.args);
  },
  /** `staleSeconds` < 0: no heartbeat re-check (the holder's process is known to be gone). */
  lockTakeover: (t: SshTarget, lock: string, expected: string, holder: string, staleSeconds: number): Cmd =>
    sshScript(t, LOCK_TAKEOVER, [lock, expected, holder, String(staleSeconds)]),
  /** `then`: run right after the release, in the same round trip. */
  lockRelease: (t: SshTarget, lock: string, holder: string, then?: ScriptPart): Cmd => {
    const all = scriptParts.lockRelease(lock, holder, then);
    return sshScript(t, all.script, all.args);
  },
  lockHeartbeat: (t: SshTarget, lock: string): Cmd => sshScript(t, LOCK_HEARTBEAT, [lock]),
  writeFile: (t: SshTarget, path: string, content: string, mode = '644'): Cmd =>
    sshScript(t, WRITE_ATOMIC, [path, mode], { input: content }),
  /** `record`: release.json and current.json written right after Traefik confirms (same round trip). */
  /** `envFrom` → `envTo`: the release's env file becomes the live one (secrets.env) in the same step. */
  switchRoute: (t: SshTarget, path: string, content: string, service: string, url: string, timeoutSeconds: number, record?: SwitchRecord): Cmd =>
    sshScript(t, SWITCH_ROUTE, switchArgs(path, service, url, timeoutSeconds, record), { input: content }),
  /** `route`: the app's Traefik route file (which colour really serves); `image`: report the host's id for it. */
  observeApp: (t: SshTarget, dir: string, app: string, opts: { route?: string; image?: string } = {}): Cmd => {
    const part = observeAppPart(dir, app, opts);
    return sshScript(t, part.script, part.args, { mutates: false });
  },
  retireLater: (t: SshTarget, containerId: string, colour: string, currentJson: string, pidfile: string, delaySeconds: number, graceSeconds: number): Cmd => {
    const p = scriptParts.retireLater(containerId, colour, currentJson, pidfile, delaySeconds, graceSeconds);
    return sshScript(t, p.script, p.args);
  },
  /** `start`: the container was created, not started: start it first (then the command mutates). */
  waitHealthy: (t: SshTarget, project: string, service: string, timeoutSeconds: number, start = false): Cmd =>
    sshScript(t, WAIT_HEALTHY, [project, service, String(timeoutSeconds), ...(start ? ['start'] : [])], { mutates: start }),
  /** Extract a tar stream (stdin) at / — used by the uploader; `then` runs after it in the same round trip. */
  untar: (t: SshTarget, then?: ScriptPart): Cmd => {
    const all = then ? chainScripts({ script: UNTAR, args: [] }, then) : { script: UNTAR, args: [] };
    return sshScript(t, all.script, all.args);
  },
  prepareAssets: (t: SshTarget, root: string, assetPath: string, pairs: string[]): Cmd =>
    sshScript(t, PREPARE_ASSETS, [root, assetPath, ...pairs]),
  run: (t: SshTarget, script: string, args: string[] = [], mutates = true): Cmd => sshScript(t, script, args, { mutates }),
};
