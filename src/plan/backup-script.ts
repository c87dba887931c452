// The scheduled pg_dump loop run by the `<accessory>-backup` service (same image as the postgres
// accessory, so pg_dump matches the server version).
//
// Contract (tested end to end elsewhere):
// - The service runs `sh -c <script> berth-backup <mode>`; mode `loop` (the default command)
//   sleeps until the next scheduled time, dumps, prunes, forever; mode `once` dumps and prunes
//   right away and exits with pg_dump's status (mode `next` prints the seconds until the next
//   scheduled dump, for checks):
//     docker compose -p berth-<app> -f compose.yml run --rm --no-deps <acc>-backup once
//   Mode `restore <file>` replays one dump of /backups into the database (psql, one transaction,
//   stop at the first error); the app's writers are stopped first by `backup:restore`:
//     docker exec <acc>-backup container: sh -c <script> berth-backup restore <acc>-<stamp>.sql.gz
// - Schedule (env BERTH_BACKUP_SCHEDULE): "hourly" (at :00), "daily" (00:00), "HH:MM" or
//   "every:<N>s|m|h" (a fixed interval aligned on the epoch; short ones make the loop testable).
//   "daily" and "HH:MM" are wall-clock times of the container's /etc/localtime (the host's zone
//   file is mounted there, see backup.timezone), like cron; TZ=UTC pins UTC. The offset is read
//   with `date +%z` at each wait, so a DST change moves the next dump with the clock.
// - Connection: PGHOST = the accessory service; PGUSER = POSTGRES_USER (default postgres);
//   PGDATABASE = POSTGRES_DB (default the user); the password comes from the file named by
//   POSTGRES_PASSWORD_FILE (a compose secret), or POSTGRES_PASSWORD when the accessory's env sets
//   it from a secret reference instead; never from argv.
// - Output: /backups/<acc>-<YYYYmmddTHHMMSSZ>.sql.gz (plain SQL, gzip; restore with
//   `gunzip -c f | psql`), written as /backups/.<name>.partial and renamed when pg_dump succeeded,
//   so a half-written dump never counts. /backups is bind-mounted from backupsDir(app)/<acc>.
// - Retention: once a dump has succeeded (still under its .partial name) the oldest dumps go
//   until keep-1 remain, then the new one is renamed into place: there are never more than
//   BERTH_BACKUP_KEEP dumps of this accessory (names sort by time), and a failed dump removes
//   nothing. Other files in the directory are never touched.
// - Logs one line per event on stdout ("berth-backup: wrote <file>"), failures on stderr; a failed
//   scheduled dump does not stop the loop. SIGTERM exits at once.

export const BACKUP_SCRIPT_NAME = 'berth-backup';

export const backupScript = (): string =>
  `set -u
dir="\${BERTH_BACKUP_DIR:-/backups}"
name="$BERTH_BACKUP_NAME"
keep="$BERTH_BACKUP_KEEP"
schedule="$BERTH_BACKUP_SCHEDULE"
if [ -n "\${POSTGRES_PASSWORD_FILE:-}" ]; then PGPASSWORD="$(cat "$POSTGRES_PASSWORD_FILE")"; export PGPASSWORD
elif [ -n "\${POSTGRES_PASSWORD:-}" ]; then PGPASSWORD="$POSTGRES_PASSWORD"; export PGPASSWORD; fi
PGHOST="\${PGHOST:-$BERTH_BACKUP_HOST}"
PGUSER="\${PGUSER:-\${POSTGRES_USER:-postgres}}"
PGDATABASE="\${PGDATABASE:-\${POSTGRES_DB:-$PGUSER}}"
export PGHOST PGUSER PGDATABASE
# Keep the $1 newest dumps of this accessory.
prune() {
  ls -1 "$dir" | grep -E "^$name-[0-9]{8}T[0-9]{6}Z[.]sql[.]gz$" | sort -r | tail -n +$(($1 + 1)) | while read -r f; do
    rm -f "$dir/$f" && echo "berth-backup: removed $f"
  done
}
dump() {
  stamp="$(date -u +%Y%m%dT%H%M%SZ)"
  tmp="$dir/.$name-$stamp.partial"
  if pg_dump --no-owner --clean --if-exists --compress=6 --file="$tmp"; then
    prune $((keep - 1))
    mv "$tmp" "$dir/$name-$stamp.sql.gz" && echo "berth-backup: wrote $name-$stamp.sql.gz"
  else
    rm -f "$tmp"
    echo "berth-backup: pg_dump of $PGDATABASE on $PGHOST failed" >&2
    return 1
  fi
}
seconds_to_next() {
  now="$(date -u +%s)"
  # Local offset in seconds from "+HHMM"/"-HHMM" (busybox and GNU date both print it).
  z="$(date +%z)"; zs="\${z%\${z#?}}"; zh="\${z#?}"; zm="\${zh#??}"; zh="\${zh%??}"; zh="\${zh#0}"; zm="\${zm#0}"
  off=$(( (\${zh:-0} * 3600 + \${zm:-0} * 60) ))
  [ "$zs" = "-" ] && off=$((0 - off))
  case "$schedule" in
    every:*)
      n="\${schedule#every:}"
      case "$n" in *h) p=$((\${n%h} * 3600)) ;; *m) p=$((\${n%m} * 60)) ;; *) p="\${n%s}" ;; esac
      t=$((now - now % p + p)) ;;
    hourly) t=$((now - now % 3600 + 3600)) ;;
    *)
      if [ "$schedule" = daily ]; then h=0; m=0; else h="\${schedule%%:*}"; m="\${schedule##*:}"; h="\${h#0}"; m="\${m#0}"; fi
      l=$((now + off))
      t=$((l - l % 86400 + h * 3600 + m * 60 - off))
      if [ "$t" -le "$now" ]; then t=$((t + 86400)); fi ;;
  esac
  echo $((t - now))
}
mkdir -p "$dir"
case "\${1:-loop}" in
  once) dump ;;
  next) seconds_to_next ;;
  restore)
    f="$dir/\${2:-}"
    case "\${2:-}" in "$name"-*.sql.gz) ;; *) echo "berth-backup: not a dump of $name: \${2:-}" >&2; exit 2 ;; esac
    [ -f "$f" ] || { echo "berth-backup: no such dump: $2" >&2; exit 2; }
    gunzip -c "$f" | psql -X -q -v ON_ERROR_STOP=1 --single-transaction >/dev/null && echo "berth-backup: restored $2" ;;
  loop)
    trap 'exit 0' TERM INT
    echo "berth-backup: $name schedule=$schedule keep=$keep"
    while :; do
      s="$(seconds_to_next)"
      echo "berth-backup: next dump in \${s}s"
      sleep "$s" &
      wait $!
      dump || true
    done ;;
  *) echo "berth-backup: unknown mode $1 (loop|once|restore <file>)" >&2; exit 2 ;;
esac
`;
