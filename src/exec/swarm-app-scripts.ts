// Host-side steps of deploying an app to a Swarm cluster, as data (POSIX sh, values as $1…,
// secret values on stdin only). They run on the first manager (state, secrets, tasks) or on each
// edge node (Traefik's API on its 127.0.0.1). One SSH round trip each; every loop is bounded.
import type { Cmd } from '../docker/command.ts';
import type { ScriptPart } from './host-scripts.ts';
import { type SshTarget, sshScript } from '../docker/ssh.ts';
import { TRAEFIK_API_PORT } from '../names.ts';
import { RELEASE_ID_LABEL } from '../plan/render-stack.ts';
import { OBSERVE_CURRENT, OBSERVE_IMAGE, OBSERVE_LOCK, OBSERVE_RELEASES, OBSERVE_RETIRING } from './observe-lines.ts';

/**
 * Everything the planner needs about a cluster app, from the first manager, in one round trip:
 * the sections of the per-host observation (lock, current, releases, retire timers, the image) and
 * the stack's services (`--services`: id|name|release id|desired replicas; `--running`: name|running/desired).
 */
const OBSERVE = `
dir="$1"; app="$2"; stack="$3"; route="\${4-}"; image="\${5-}"
${OBSERVE_LOCK}
[ -z "$route" ] || { echo '--swarm-route'; grep -o -- '-\\(blue\\|green\\)@swarm' "$route" 2>/dev/null | head -n 1; }
${OBSERVE_RETIRING}
${OBSERVE_CURRENT}
${OBSERVE_RELEASES}
ids=$(docker service ls -q --filter "label=com.docker.stack.namespace=$stack" 2>/dev/null)
echo '--services'; [ -z "$ids" ] || docker service inspect --format '{{.ID}}|{{.Spec.Name}}|{{index .Spec.Labels "${RELEASE_ID_LABEL}"}}|{{if .Spec.Mode.Replicated}}{{.Spec.Mode.Replicated.Replicas}}{{else}}-{{end}}' $ids 2>/dev/null
echo '--running'; [ -z "$ids" ] || docker service ls --filter "label=com.docker.stack.namespace=$stack" --format '{{.Name}}|{{.Replicas}}' 2>/dev/null
${OBSERVE_IMAGE}
${OBSERVE_LOCK}
echo '--end'
`;

/** Create each Swarm secret that does not exist yet; stdin: one `<name> <base64 value>` line per secret. */
const CREATE_SECRETS = `
set -u
app="$1"; version="$2"; n=0
while read -r name b64; do
  [ -n "$name" ] || continue
  docker secret inspect "$name" >/dev/null 2>&1 && continue
  printf '%s' "$b64" | base64 -d | docker secret create --label berth.app="$app" --label berth.secrets-version="$version" "$name" - >/dev/null || { echo "cannot create secret $name" >&2; exit 1; }
  n=$((n + 1))
done
echo "created $n"
`;

/**
 * The health gate: wait until `$3` tasks of service $1 carrying release id $2 are running (Swarm
 * reports a task running only once its container is healthy). Fails at once when a task of this
 * release failed or was rejected (a crash, an unhealthy container, a missing image), printing it.
 */
const WAIT_TASKS = `
svc="$1"; rel="$2"; want="$3"; timeout="$4"; end=$(( $(date +%s) + timeout )); summary=""
# Tasks that ended in an earlier attempt at the same release (a rerun) predate the service's last update.
since=$(docker service inspect --format '{{.UpdatedAt}}' "$svc" 2>/dev/null | cut -c1-19)
while :; do
  all=$(docker service ps -q "$svc" 2>/dev/null | head -n 200)
  if [ -n "$all" ]; then
    rows=$(docker inspect --format '{{index .Spec.ContainerSpec.Labels "${RELEASE_ID_LABEL}"}}|{{.Status.State}}|{{.DesiredState}}|{{.CreatedAt}}|{{.NodeID}}|{{.Status.Err}}' $all 2>/dev/null | awk -F'|' -v rel="$rel" '$1 == rel')
    ok=$(printf '%s\\n' "$rows" | awk -F'|' '$2 == "running" && $3 == "running"' | wc -l)
    # A web task never ends on its own: one that failed, was rejected or exited (Swarm stops a
    # container whose health check fails) since the update is this release failing its gate.
    # Except Docker's own networking losing a race on a busy node ("failed to activate service
    # binding ... network sandbox ... not found"): nothing of the app ran; Swarm starts another task,
    # and the timeout still bounds the wait.
    ended=$(printf '%s\\n' "$rows" | awk -F'|' -v since="$since" 'substr($4, 1, 19) >= since && $2 ~ /^(failed|rejected|complete|shutdown|orphaned)$/')
    transient=$(printf '%s\\n' "$ended" | grep -E 'failed to activate service binding|network sandbox .*not found' | tail -n 1)
    bad=$(printf '%s\\n' "$ended" | grep -vE 'failed to activate service binding|network sandbox .*not found' | grep . | head -n 1)
    [ -z "$bad" ] || { echo "a task ended: $bad"; exit 1; }
    [ "$ok" -ge "$want" ] && { echo "healthy $ok"; exit 0; }
    summary="$ok of $want running\${transient:+; Docker failed to start one: $transient}"
  fi
  [ "$(date +%s)" -lt "$end" ] || { echo "timed out (\${summary:-no task yet})"; exit 1; }
  sleep 0.5
done
`;

/** Wait until a (release) job's task completed; print its log when it failed. */
const WAIT_JOB = `
svc="$1"; timeout="$2"; end=$(( $(date +%s) + timeout ))
while :; do
  st=$(docker service ps "$svc" --format '{{.CurrentState}}|{{.Error}}' 2>/dev/null | head -n 1)
  case "$st" in
    Complete*) echo complete; exit 0;;
    Failed*|Rejected*) echo "job: $st"; docker service logs --raw --tail 30 "$svc" 2>&1 | tail -n 30; exit 1;;
  esac
  [ "$(date +%s)" -lt "$end" ] || { echo "timed out (\${st:-no task yet})"; docker service logs --raw --tail 30 "$svc" 2>&1 | tail -n 30; exit 1; }
  sleep 0.5
done
`;

/** Remove a stack and wait (bounded) until its services are gone (a job's stack, before it runs again). */
const REMOVE_STACK = `
stack="$1"
ids=$(docker service ls -q --filter "label=com.docker.stack.namespace=$stack")
[ -z "$ids" ] && { echo absent; exit 0; }
docker stack rm "$stack" >/dev/null 2>&1
i=0; while [ "$i" -lt 100 ]; do [ -z "$(docker service ls -q --filter "label=com.docker.stack.namespace=$stack")" ] && { echo removed; exit 0; }; i=$((i + 1)); sleep 0.2; done
echo "still there"; exit 1
`;

/** On an edge: wait until Traefik's load-balancer service of the colour lists exactly $2 servers, all UP. */
const EDGE_READY = `
url="http://127.0.0.1:${TRAEFIK_API_PORT}/api/http/services/$1"; want="$2"; tries="$3"; i=0; out=""
while [ "$i" -lt "$tries" ]; do
  out=$(curl -fsS --max-time 2 "$url" 2>/dev/null || true)
  servers=$(printf '%s' "$out" | grep -o '"url":"' | wc -l)
  up=$(printf '%s' "$out" | grep -o '":"UP"' | wc -l)
  [ "$servers" -eq "$want" ] && [ "$up" -eq "$want" ] && { echo "ready $up"; exit 0; }
  i=$((i + 1)); sleep 0.2
done
echo "$servers servers, $up up: $out" | head -c 400; exit 1
`;

/**
 * The switch on one edge, in one round trip: write the app's route (temp file + rename), then poll
 * Traefik's API until the router serves the wanted service. Prints "confirmed <ms>". The temp file
 * is staged beside the watched directory, as in the per-host switch (host-scripts.ts): Traefik's
 * file provider rebuilds everything on every event in that directory.
 */
const SWITCH = `
dest="$1"; router="$2"; want="$3"; tries="$4"; url="http://127.0.0.1:${TRAEFIK_API_PORT}/api/http/routers/$router"
dir=$(dirname "$dest"); stage="$(dirname "$dir")/.staging"; mkdir -p "$dir" "$stage"
tmp="$stage/$(basename "$dest").$$"
cat > "$tmp" && chmod 644 "$tmp" || exit 2
start=$(date +%s%N)
mv -f "$tmp" "$dest" || exit 2
i=0; out=""
while [ "$i" -lt "$tries" ]; do
  out=$(curl -fsS --max-time 2 "$url" 2>/dev/null || true)
  case "$out" in *'"service":"'"$want"'"'*'"status":"enabled"'*|*'"status":"enabled"'*'"service":"'"$want"'"'*)
    echo "confirmed $(( ($(date +%s%N) - start) / 1000000 ))"; exit 0;; esac
  i=$((i + 1)); sleep 0.02
done
echo "$out" | head -c 400; exit 1
`;

/**
 * Scale a colour to 0 after a delay, detached on the first manager (the deploy returns at once); a
 * deploy or rollback that makes the colour live again kills the timer (pid file), and the timer
 * checks current.json first. Swarm stops the tasks with SIGTERM and the stop grace period.
 */
const RETIRE_LATER = `
svc="$1"; delay="$2"; colour="$3"; current="$4"; pidfile="$5"
[ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
nohup sh -c '
  echo $$ > "$5"
  sleep "$2"
  live=$(sed -n "s/^ *\\"colour\\": *\\"\\([a-z]*\\)\\".*/\\1/p" "$4" | head -n 1)
  [ "$live" = "$3" ] || docker service scale -d "$1=0" >/dev/null 2>&1
  rm -f "$5"
' retire "$svc" "$delay" "$colour" "$current" "$pidfile" >/dev/null 2>&1 &
echo scheduled
`;

const CANCEL_RETIRE = `
pidfile="$1"
if [ -f "$pidfile" ]; then kill "$(cat "$pidfile")" 2>/dev/null && echo cancelled; rm -f "$pidfile"; fi
true
`;

/** A release's stored stack file (for the next deploy's merge, or a rollback). */
const READ_FILES = `for f in "$@"; do echo "--file $f"; cat "$f" 2>/dev/null || echo "--missing"; done; echo '--end'`;

/** Remove Swarm secrets of the app whose version no kept release uses. */
const PRUNE_SECRETS = `
app="$1"; shift; keep=" $* "
docker secret ls --filter "label=berth.app=$app" --format '{{.Name}}' | while read -r name; do
  v=$(docker secret inspect --format '{{index .Spec.Labels "berth.secrets-version"}}' "$name" 2>/dev/null)
  case "$keep" in *" $v "*) ;; *) docker secret rm "$name" >/dev/null 2>&1 && echo "secret-removed $name";; esac
done
true
`;

/** Scripts as parts, to ride in another script's round trip (chainScripts, the lock's `then`). */
export const swarmParts = {
  readFiles: (paths: string[]): ScriptPart => ({ script: READ_FILES, args: paths }),
  cancelRetire: (pidfile: string): ScriptPart => ({ script: CANCEL_RETIRE, args: [pidfile] }),
  edgeReady: (service: string, replicas: number, tries = 150): ScriptPart => ({ script: EDGE_READY, args: [service, String(replicas), String(tries)] }),
  retireLater: (service: string, delaySeconds: number, colour: string, currentJson: string, pidfile: string): ScriptPart => ({
    script: RETIRE_LATER,
    args: [service, String(delaySeconds), colour, currentJson, pidfile],
  }),
};

export const swarmAppScripts = {
  observe: (t: SshTarget, dir: string, app: string, stack: string, opts: { route?: string; image?: string } = {}): Cmd =>
    sshScript(t, OBSERVE, [dir, app, stack, opts.route ?? '', ...(opts.image ? [opts.image] : [])], { mutates: false }),
  observePart: (dir: string, app: string, stack: string, opts: { route?: string; image?: string } = {}) => ({ script: OBSERVE, args: [dir, app, stack, opts.route ?? '', ...(opts.image ? [opts.image] : [])] }),
  createSecrets: (t: SshTarget, app: string, version: string, lines: string): Cmd => sshScript(t, CREATE_SECRETS, [app, version], { input: lines }),
  waitTasks: (t: SshTarget, service: string, releaseId: string, replicas: number, timeoutSeconds: number): Cmd =>
    sshScript(t, WAIT_TASKS, [service, releaseId, String(replicas), String(timeoutSeconds)], { mutates: false }),
  waitJob: (t: SshTarget, service: string, timeoutSeconds: number): Cmd => sshScript(t, WAIT_JOB, [service, String(timeoutSeconds)], { mutates: false }),
  removeStack: (t: SshTarget, stack: string): Cmd => sshScript(t, REMOVE_STACK, [stack]),
  edgeReady: (t: SshTarget, service: string, replicas: number, tries = 150): Cmd => sshScript(t, EDGE_READY, [service, String(replicas), String(tries)], { mutates: false }),
  switchRoute: (t: SshTarget, dest: string, router: string, want: string, content: string, tries = 300): Cmd => sshScript(t, SWITCH, [dest, router, want, String(tries)], { input: content }),
  retireLater: (t: SshTarget, service: string, delaySeconds: number, colour: string, currentJson: string, pidfile: string): Cmd =>
    sshScript(t, RETIRE_LATER, [service, String(delaySeconds), colour, currentJson, pidfile]),
  cancelRetire: (t: SshTarget, pidfile: string): Cmd => sshScript(t, CANCEL_RETIRE, [pidfile]),
  scale: (t: SshTarget, service: string, replicas: number): Cmd => sshScript(t, 'docker service scale -d "$1=$2" >/dev/null && echo scaled', [service, String(replicas)]),
  readFiles: (t: SshTarget, paths: string[]): Cmd => sshScript(t, READ_FILES, paths, { mutates: false }),
  /** A part chained into one round trip (chainScripts). */
  chained: (t: SshTarget, part: ScriptPart, mutates = true): Cmd => sshScript(t, part.script, part.args, { mutates }),
  pruneSecrets: (t: SshTarget, app: string, keepVersions: string[]): Cmd => sshScript(t, PRUNE_SECRETS, [app, ...keepVersions]),
  serviceLogs: (t: SshTarget, service: string, tail: number): Cmd => sshScript(t, 'docker service logs --raw --tail "$2" "$1" 2>&1 | tail -n "$2"', [service, String(tail)], { mutates: false }),
};

/** Split READ_FILES output into path → content (undefined when the file is missing). */
export function parseFiles(out: string): Record<string, string | undefined> {
  const files: Record<string, string | undefined> = {};
  let cur: string | undefined;
  let buf: string[] = [];
  const flush = () => {
    if (cur !== undefined) files[cur] = buf.length === 1 && buf[0] === '--missing' ? undefined : buf.join('\n');
  };
  for (const line of out.split('\n')) {
    if (line.startsWith('--file ')) {
      flush();
      cur = line.slice(7);
      buf = [];
    } else if (line === '--end') {
      flush();
      cur = undefined;
    } else if (cur !== undefined) buf.push(line);
  }
  return files;
}
