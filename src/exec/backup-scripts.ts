// Host-side steps of backup:status, backup:verify and the deploy pre-flight (backup:restore: restore-job.ts), as
// data: POSIX sh scripts run over the multiplexed SSH connection (one round trip each). Values
// reach a script as positional arguments, never spliced into its text. Output is line-oriented
// with `--<section> <arg>` markers, parsed by the pure code in src/plan/backup-status.ts.
//
// The replicator is found by its compose labels (project + service `litestream`). Throwaway
// containers of the Litestream image share its volumes and config (`--volumes-from`), its network
// and its two credentials (mounted files under /run/secrets, exported inside; a replicator from
// before that change has them in its env, copied into a 600 env-file removed at once), so no secret crosses the operator machine and Litestream's own S3 client does the work.
import type { Cmd } from '../docker/command.ts';
import { type SshTarget, sshScript } from '../docker/ssh.ts';
import { SECRET_EXPORT_SH } from '../plan/secret-env.ts';
import { LITESTREAM_SOCKET, RESTORE_POINT_MOUNT } from '../names.ts';

/** Shared prelude: find the replicator, copy its credentials into a private env-file. */
export const REPLICATOR = `
replicator() { docker ps -aq --filter "label=com.docker.compose.project=$1" --filter "label=com.docker.compose.service=litestream" | head -n 1; }
running() { [ "$(docker inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = true ]; }
credentials() {
  umask 077; f=$(mktemp)
  docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$1" | grep -E '^LITESTREAM_(ACCESS_KEY_ID|SECRET_ACCESS_KEY)=' > "$f" || true
  echo "$f"
}
# Replicators started by Berth hold their credentials as files under /run/secrets (never env):
# throwaway containers see them through --volumes-from; execs export them first.
secret_env='${SECRET_EXPORT_SH}'
lsx() { t=$1; c1=$2; shift 2; timeout "$t" docker exec "$c1" sh -c "$secret_env
exec litestream \\"\\$@\\"" litestream "$@"; }
# A replicator that is a Swarm task holds litestream.yml and its credentials as Swarm config and
# secrets, which --volumes-from does not carry: mount private copies (dir 700) into throwaway containers.
swarm_mounts() {
  [ -n "$(docker inspect -f '{{index .Config.Labels "com.docker.swarm.task.id"}}' "$1" 2>/dev/null)" ] || return 0
  d=$(mktemp -d); chmod 700 "$d"; mkdir -m 700 "$d/secrets"
  docker exec "$1" cat /etc/litestream.yml > "$d/litestream.yml" 2>/dev/null
  for n in LITESTREAM_ACCESS_KEY_ID LITESTREAM_SECRET_ACCESS_KEY; do docker exec "$1" cat "/run/secrets/$n" > "$d/secrets/$n" 2>/dev/null || rm -f "$d/secrets/$n"; done
  echo "$d"
}
`;

/**
 * Everything backup:status needs about several apps on one host. Each argument is one app:
 * `app|project|verifyFile|db1,db2…|acc1:/dump/dir1,acc2:/dump/dir2…` (dump folders are validated paths). The remote listings (`litestream ltx`,
 * the direct signal that the storage answers) run in parallel, each bounded by `timeout`.
 */
const OBSERVE = `${REPLICATOR}
echo "--now $(date +%s)"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for spec in "$@"; do
  app=\${spec%%|*}; rest=\${spec#*|}
  project=\${rest%%|*}; rest=\${rest#*|}
  verify=\${rest%%|*}; rest=\${rest#*|}
  dbs=\${rest%%|*}; accs=\${rest#*|}
  echo "--app $app"
  if [ -n "$dbs" ]; then
    c=$(replicator "$project")
    if [ -z "$c" ]; then echo "--replicator missing"; else
      echo "--replicator $(docker inspect -f '{{.State.Status}} {{.RestartCount}} {{.State.StartedAt}}' "$c")"
      if running "$c"; then
        i=0
        # 15 s: a storage that answers slowly on a loaded host is not "unreachable" (6 s was, four
        # listings at once on a busy 2-core host); a stopped storage still turns red in one look.
        for db in $(echo "$dbs" | tr ',' ' '); do
          i=$((i + 1))
          ( lsx 15 "$c" ltx -level all -json "$db" > "$tmp/$app.$i" 2>&1; echo "--exit $?" >> "$tmp/$app.$i" ) &
        done
        echo "--list"; lsx 10 "$c" list -json 2>&1
        echo "--local"; lsx 10 "$c" status -json 2>&1
        wait
        i=0
        for db in $(echo "$dbs" | tr ',' ' '); do i=$((i + 1)); echo "--ltx $db"; cat "$tmp/$app.$i"; done
      fi
    fi
    echo "--verify"; cat "$verify" 2>/dev/null; echo
  fi
  for pair in $(echo "$accs" | tr ',' ' '); do
    acc=\${pair%%:*}; dumps=\${pair#*:}
    echo "--backup-service $acc $(docker ps -a --filter "label=com.docker.compose.project=$project" --filter "label=com.docker.compose.service=$acc-backup" --format '{{.State}}' | head -n 1)"
    echo "--dumps $acc"
    ls -1 "$dumps" 2>/dev/null | grep -E "^$acc-[0-9]{8}T[0-9]{6}Z[.]sql[.]gz$" | while read -r f; do echo "$(stat -c '%s %Y' "$dumps/$f") $f"; done
  done
done
echo "--end"
`;

/**
 * backup:verify of one app: force a sync, restore each database's latest replica into a
 * throwaway container (full integrity check by Litestream, then PRAGMA integrity_check again),
 * and count rows per table in the restore and in the live database (read-only URI), so the
 * caller can compare them. Args: project image network db…
 */
const VERIFY = `${REPLICATOR}
project="$1"; image="$2"; net="$3"; shift 3
echo "--now $(date +%s)"
c=$(replicator "$project")
[ -n "$c" ] || { echo "--error no litestream container in $project (deploy the app first)"; exit 0; }
if running "$c"; then for db in "$@"; do lsx 20 "$c" sync -wait -timeout 15 "$db" >/dev/null 2>&1; done; fi
env=$(credentials "$c"); sw=$(swarm_mounts "$c"); trap 'rm -f "$env"; [ -z "$sw" ] || rm -rf "$sw"' EXIT
# Container ids and mktemp paths hold no spaces: the list splits into its words.
mounts="--volumes-from $c"; [ -z "$sw" ] || mounts="$mounts -v $sw/litestream.yml:/etc/litestream.yml:ro -v $sw/secrets:/run/secrets:ro"
docker run --rm $mounts --network "$net" --env-file "$env" --entrypoint sh "$image" -c '${SECRET_EXPORT_SH}
counts() {
  sqlite3 "$1" "select name from sqlite_master where type = '"'table'"' and name not like '"'sqlite_%'"' and name not like '"'_litestream_%'"' order by name" |
  while read -r t; do echo "$2 $t $(sqlite3 "$1" "select count(*) from \\"$t\\"")"; done
}
for db in "$@"; do
  echo "--db $db"
  out="/tmp/verify/$(basename "$db")"; mkdir -p /tmp/verify
  if litestream restore -json -integrity-check full -o "$out" "$db" > /tmp/verify/log 2>&1; then
    echo "restore ok"; grep -o "\\"txid\\": *\\"[0-9a-f]*\\"" /tmp/verify/log | sed "s/.*\\"\\([0-9a-f]*\\)\\"$/txid \\1/"
  else
    echo "restore failed"; tail -n 5 /tmp/verify/log | sed "s/^/log /"; continue
  fi
  if command -v sqlite3 >/dev/null; then
    echo "integrity $(sqlite3 "$out" "PRAGMA integrity_check" 2>&1 | head -n 5 | tr "\\n" " ")"
    counts "$out" restored
    [ -f "$db" ] && counts "file:$db?mode=ro" live
  else
    echo "integrity ok (litestream -integrity-check full; no sqlite3 in the image to compare rows)"
  fi
done
' verify "$@"
echo "--end"
`;

/**
 * Deploy pre-flight: force a sync of each database and report its local and replicated txid;
 * then take a restore point (sqlite3 .backup of each database into a new host directory, when
 * the image has sqlite3), keeping the newest few. Args: project image network pointDir keep db…
 */
const PREFLIGHT = `${REPLICATOR}
project="$1"; image="$2"; net="$3"; point="$4"; keep="$5"; shift 5
echo "--now $(date +%s)"
c=$(replicator "$project")
[ -n "$c" ] || { echo "--error no litestream container"; exit 0; }
running "$c" || { echo "--error litestream container is not running"; exit 0; }
for db in "$@"; do
  echo "--sync $db"
  if ! docker exec "$c" test -f "$db"; then echo "no database yet"; echo "--exit 0"; continue; fi
  lsx 25 "$c" sync -json -wait -timeout 20 "$db" 2>&1; echo "--exit $?"
done
mkdir -p "$point"
docker run --rm --volumes-from "$c" -v "$point:${RESTORE_POINT_MOUNT}" --network "$net" --entrypoint sh "$image" -c '
command -v sqlite3 >/dev/null || { echo "--point-skipped no sqlite3 in the image"; exit 0; }
for db in "$@"; do
  [ -f "$db" ] || continue
  sqlite3 "file:$db?mode=ro" ".backup ${RESTORE_POINT_MOUNT}/$(basename "$db")" && echo "--point $db"
done
' point "$@"
parent=$(dirname "$point")
ls -1 "$parent" | sort -r | tail -n +$((keep + 1)) | while read -r old; do rm -rf "$parent/$old"; done
echo "--end"
`;

/** Stop the app's web colours and workers (writers), keeping the replicator running (a restore across hosts). */
const STOP_WRITERS = `
project="$1"
ids=$(docker ps -q --filter "label=com.docker.compose.project=$project" --filter "label=berth.role=web"; docker ps -q --filter "label=com.docker.compose.project=$project" --filter "label=berth.role=worker")
[ -z "$ids" ] || docker stop -t 30 $ids >/dev/null
echo "stopped $(echo $ids | wc -w)"
`;

/** Run the pg_dump loop's script in its running container, e.g. `once` or `restore <file>`. */
const BACKUP_EXEC = `
project="$1"; service="$2"; script="$3"; shift 3
c=$(docker ps -q --filter "label=com.docker.compose.project=$project" --filter "label=com.docker.compose.service=$service" | head -n 1)
[ -n "$c" ] || { echo "no running $service container in $project" >&2; exit 3; }
docker exec "$c" sh -c "$script" berth-backup "$@"
`;

export interface ObserveSpec {
  app: string;
  project: string;
  verifyFile: string;
  dbs: string[];
  /** Accessories with a pg_dump loop, each with its host dump folder. */
  accessories: { name: string; dir: string }[];
}

export const formatObserveSpec = (s: ObserveSpec) =>
  [s.app, s.project, s.verifyFile, s.dbs.join(','), s.accessories.map((a) => `${a.name}:${a.dir}`).join(',')].join('|');

export const backupScripts = {
  observe: (t: SshTarget, specs: ObserveSpec[]): Cmd => sshScript(t, OBSERVE, specs.map(formatObserveSpec), { mutates: false }),
  verify: (t: SshTarget, project: string, image: string, network: string, dbs: string[]): Cmd =>
    sshScript(t, VERIFY, [project, image, network, ...dbs]),
  preflight: (t: SshTarget, project: string, image: string, network: string, pointDir: string, keep: number, dbs: string[]): Cmd =>
    sshScript(t, PREFLIGHT, [project, image, network, pointDir, String(keep), ...dbs]),
  stopWriters: (t: SshTarget, project: string): Cmd => sshScript(t, STOP_WRITERS, [project]),
  backupExec: (t: SshTarget, project: string, service: string, script: string, args: string[]): Cmd =>
    sshScript(t, BACKUP_EXEC, [project, service, script, ...args]),
};

/** The control socket path, for messages. */
export const CONTROL_SOCKET = LITESTREAM_SOCKET;
