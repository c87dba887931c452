// backup:restore as a job on the host, so that killing the operator's process (or losing its SSH
// connection) at any point never leaves the app down or its replicator stopped: the job runs in
// its own session (setsid), holds the app's deploy lock itself (its own holder, heartbeat every
// 10 s), and always ends by starting the live colour, the workers and the replicator again.
// Each step it completes is appended to a journal (`<app dir>/restore/done`), so a job cut off
// too (the host rebooted) is finished by the rerun: completed steps are skipped, the one cut off
// is done again (each is safe to repeat: the live databases are only replaced by renames, after
// every restore passed its integrity check, with their owners recorded before the first rename).
// The journal is moved to `restore.last` when the job ends; while it exists, `status` says a
// restore was cut off, and deploys, rollbacks and `start` refuse to run over it.
//
// Output lines are `--<section> <arg>` (src/plan/backup-status.ts parseSections).
import type { Cmd } from '../docker/command.ts';
import { type SshTarget, sshScript } from '../docker/ssh.ts';
import { SAFETY_MOUNT } from '../names.ts';
import { REPLICATOR } from './backup-scripts.ts';
import { RESTORE_JOB_NAME, WAIT_HEALTHY } from './host-scripts.ts';
import { SECRET_EXPORT_SH } from '../plan/secret-env.ts';

/** Exit code of the launcher when a journal already exists (another restore, running or cut off). */
export const RESTORE_JOURNAL_EXISTS = 4;

/**
 * The job. Args: kind (sqlite|postgres) journal lock app project colour healthTimeout, then for
 * sqlite: image network safetyDir at(or "") db…; for postgres: backupService script dumpFile.
 */
const JOB = `${REPLICATOR}
set -u
kind="$1"; J="$2"; lock="$3"; app="$4"; project="$5"; colour="$6"; hwait="$7"; shift 7
echo $$ > "$J/pid"
mark() { echo "$1" >> "$J/done"; echo "--stage $1"; }
reached() { grep -qx "$1" "$J/done" 2>/dev/null; }
# The deploy lock is the job's now: a deploy, rollback or second restore is refused while it runs,
# and its heartbeat stops with it (a cut-off job's lock is taken over by the rerun).
me=$(printf '{"user":"%s","machine":"%s","pid":%s,"command":"backup:restore %s (host job)","since":"%s"}' "$(id -un)" "$(hostname)" "$$" "$app" "$(date -u +%Y-%m-%dT%H:%M:%SZ)")
mkdir -p "$lock" 2>/dev/null; printf '%s\\n' "$me" > "$lock/holder.json"
( while kill -0 $$ 2>/dev/null; do touch "$lock/holder.json" 2>/dev/null; sleep 10; done ) >/dev/null 2>&1 &
beat=$!
finish() {
  echo "--result $1"
  kill "$beat" 2>/dev/null
  rm -rf "$J.last"; mv "$J" "$J.last"
  [ "$(cat "$lock/holder.json" 2>/dev/null)" = "$me" ] && rm -rf "$lock"
  exit 0
}
writers() { docker ps -q --filter "label=com.docker.compose.project=$project" --filter "label=berth.role=$1"; }
# Throwaway containers go by one name: one left running by a job cut off is removed before the
# step is done again, so two restores never write one file.
tmpc="$project-berth-restore"
throwaway() { docker rm -f "$tmpc" >/dev/null 2>&1; docker run --rm --name "$tmpc" "$@"; }
# Always the last step, also after a failure: the live colour (behind its health check), the
# workers and the replicator run again.
start_app() {
  c=$(replicator "$project")
  [ -z "$c" ] || docker start "$c" >/dev/null
  web=""; [ -z "$colour" ] || web=$(docker ps -aq --filter "label=com.docker.compose.project=$project" --filter "label=berth.role=web" --filter "label=berth.colour=$colour")
  workers=$(docker ps -aq --filter "label=com.docker.compose.project=$project" --filter "label=berth.role=worker")
  [ -z "$web$workers" ] || docker start $web $workers >/dev/null
  # A host that runs no web (an accessory's own host) has no colour to wait for.
  [ -n "$colour" ] || { echo "--healthy"; return 0; }
  if (set -- "$project" "web-$colour" "$hwait"
${WAIT_HEALTHY}
  ) > "$J/health" 2>&1; then echo "--healthy"; else echo "--unhealthy $(cat "$J/health")"; return 1; fi
}
failed=""
reached writers || {
  ids="$(writers web) $(writers worker)"
  [ -z "$(echo $ids)" ] || docker stop -t 30 $ids >/dev/null
  echo "--stopped-writers $(echo $ids | wc -w)"; mark writers
}
if [ "$kind" = sqlite ]; then
  image="$1"; net="$2"; safety="$3"; at="$4"; shift 4
  c=$(replicator "$project")
  if [ -z "$c" ]; then echo "--error no litestream container in $project"; failed=1; fi
  [ -n "$failed" ] || reached replicator || {
    if [ -z "$at" ] && running "$c"; then
      # Ship the last writes first, so "latest" really is the latest.
      for db in "$@"; do lsx 20 "$c" sync -wait -timeout 15 "$db" >/dev/null 2>&1 && echo "--synced $db"; done
    fi
    docker stop -t 30 "$c" >/dev/null && echo "--stopped-replicator"; mark replicator
  }
  [ -n "$failed" ] || reached safety || {
    # Safety copies of the databases as they are, and each one's owner and mode (the swap gives
    # them back even when it is done again after a cut).
    mkdir -p "$safety"; chmod 700 "$safety"
    if throwaway --volumes-from "$c" -v "$safety:${SAFETY_MOUNT}" --entrypoint sh "$image" -c '
      : > ${SAFETY_MOUNT}/.owners
      for db in "$@"; do
        for f in "$db" "$db-wal" "$db-shm"; do [ -f "$f" ] && { cp -p "$f" "${SAFETY_MOUNT}/" || exit 1; }; done
        echo "$db $(stat -c %u:%g "$db" 2>/dev/null || stat -c %u:%g "$(dirname "$db")") $(stat -c %a "$db" 2>/dev/null || echo 644)" >> ${SAFETY_MOUNT}/.owners
        echo "--safety $db"
      done' safety "$@"; then mark safety; else echo "--error could not copy the databases to $safety"; failed=1; fi
  }
  [ -n "$failed" ] || reached restored || {
    env=$(credentials "$c"); trap 'rm -f "$env"' EXIT
    if throwaway --volumes-from "$c" --network "$net" --env-file "$env" --entrypoint sh "$image" -c '${SECRET_EXPORT_SH}
      at="$1"; shift
      for db in "$@"; do
        rm -f "$db.berth-restore"
        if [ -n "$at" ]; then set -- -timestamp "$at"; else set --; fi
        if ! litestream restore "$@" -integrity-check full -o "$db.berth-restore" "$db" > /tmp/restore.log 2>&1; then
          echo "--failed $db"; tail -n 5 /tmp/restore.log; exit 1
        fi
        echo "--restored $db"
      done' restore "$at" "$@"; then mark restored
    else
      for db in "$@"; do throwaway --volumes-from "$c" --entrypoint sh "$image" -c 'rm -f "$1.berth-restore"' x "$db" >/dev/null 2>&1; done
      failed=1
    fi
  }
  [ -n "$failed" ] || reached swapped || {
    throwaway --volumes-from "$c" -v "$safety:${SAFETY_MOUNT}:ro" --entrypoint sh "$image" -c '
      for db in "$@"; do
        if [ -f "$db.berth-restore" ]; then rm -f "$db-wal" "$db-shm"; mv -f "$db.berth-restore" "$db"; fi
        set -- $(grep "^$db " ${SAFETY_MOUNT}/.owners | head -n 1)
        chown "$2" "$db"; chmod "$3" "$db"
        rm -rf "$(dirname "$db")/.$(basename "$db")-litestream"
        echo "--swapped $db $2 $3"
      done' swap "$@" && mark swapped
  }
else
  service="$1"; script="$2"; dump="$3"
  reached restored || {
    b=$(docker ps -q --filter "label=com.docker.compose.project=$project" --filter "label=com.docker.compose.service=$service" | head -n 1)
    if [ -z "$b" ]; then echo "--error no running $service container in $project"; failed=1
    elif docker exec "$b" sh -c "$script" berth-backup restore "$dump"; then echo "--restored $dump"; mark restored
    else echo "--failed $dump"; failed=1; fi
  }
fi
start_app || failed=1
mark started
[ -z "$failed" ] && finish ok
finish failed
`;

/**
 * Start the job (or resume it: `resume` keeps the journal and what it did) in its own session and
 * follow its output until it ends. The operator's process going away ends only the following: the
 * launcher ignores the hangup of its session, and every value comes in argv (delivered whole with
 * the command, unlike stdin). Args: resume(0|1) journal job params.json, then the job's own args.
 */
const LAUNCH = `
trap '' HUP
resume="$1"; J="$2"; JOB="$3"; params="$4"; shift 4
if [ "$resume" = 1 ]; then
  [ -d "$J" ] || { echo "--error no restore to finish"; exit ${RESTORE_JOURNAL_EXISTS}; }
  [ ! -f "$J/log" ] || mv -f "$J/log" "$J/log.$(date +%s)"
else
  mkdir -p "$(dirname "$J")"
  mkdir "$J" 2>/dev/null || { echo "--error a restore journal exists at $J"; exit ${RESTORE_JOURNAL_EXISTS}; }
  printf '%s\n' "$params" > "$J/params.json"
fi
: > "$J/log"
setsid nohup sh -c "$JOB" ${RESTORE_JOB_NAME} "$@" >> "$J/log" 2>&1 < /dev/null &
pid=$!
tail -n +1 -f --pid="$pid" "$J/log"
`;

export interface RestoreJobArgs {
  kind: 'sqlite' | 'postgres';
  journal: string;
  lock: string;
  app: string;
  project: string;
  colour: string;
  healthTimeoutSeconds: number;
  /** sqlite: image network safetyDir at(or "") db…; postgres: backupService script dumpFile. */
  rest: string[];
}

export const restoreJobArgv = (a: RestoreJobArgs): string[] => [a.kind, a.journal, a.lock, a.app, a.project, a.colour, String(a.healthTimeoutSeconds), ...a.rest];

/** `params`: what the journal keeps for a resume (the job's own args, as JSON). */
export const restoreJob = (t: SshTarget, resume: boolean, a: RestoreJobArgs, params: string): Cmd =>
  sshScript(t, LAUNCH, [resume ? '1' : '0', a.journal, JOB, params, ...restoreJobArgv(a)]);
