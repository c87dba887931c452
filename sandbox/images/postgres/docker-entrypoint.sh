#!/usr/bin/env bash
# Berth sandbox stand-in for the official postgres image's entrypoint (written for Berth, same contract):
#   POSTGRES_PASSWORD / POSTGRES_PASSWORD_FILE, POSTGRES_USER (postgres), POSTGRES_DB ($POSTGRES_USER),
#   POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD (scram-sha-256), PGDATA, /docker-entrypoint-initdb.d.
# Every variable may also be given as <NAME>_FILE.
set -Eeo pipefail

log() { printf '%s [entrypoint] %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" "$*"; }
die() { log "error: $*" >&2; exit 1; }

# load_env NAME [DEFAULT]: NAME from the env, else from the file named by NAME_FILE, else DEFAULT.
load_env() {
  local name="$1" file_name="${1}_FILE" default="${2:-}" value
  if [ -n "${!name:-}" ] && [ -n "${!file_name:-}" ]; then
    die "both $name and $file_name are set (they are exclusive)"
  fi
  value="$default"
  if [ -n "${!name:-}" ]; then
    value="${!name}"
  elif [ -n "${!file_name:-}" ]; then
    [ -r "${!file_name}" ] || die "$file_name=${!file_name} is not readable"
    value="$(<"${!file_name}")"
  fi
  export "$name=$value"
  unset "$file_name"
}

# `docker run postgres:16 -c foo=bar` → postgres -c foo=bar
if [ "${1:0:1}" = '-' ]; then
  set -- postgres "$@"
fi

if [ "$1" = 'postgres' ] && [ "$(id -u)" = '0' ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  chmod 3777 /var/run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if [ "$1" = 'postgres' ]; then
  load_env POSTGRES_PASSWORD
  load_env POSTGRES_USER postgres
  load_env POSTGRES_DB "$POSTGRES_USER"
  load_env POSTGRES_INITDB_ARGS
  : "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"

  mkdir -p "$PGDATA"
  chmod 700 "$PGDATA" 2>/dev/null || :

  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != 'trust' ]; then
      die "database is uninitialized and superuser password is not specified.
       Set POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) to a non-empty value,
       or POSTGRES_HOST_AUTH_METHOD=trust to allow all connections without a password (not recommended)."
    fi
    log "initializing database cluster in $PGDATA (user $POSTGRES_USER)"
    pwfile=""
    if [ -n "$POSTGRES_PASSWORD" ]; then
      pwfile="$(mktemp)"
      printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    fi
    # shellcheck disable=SC2086
    initdb -D "$PGDATA" --username="$POSTGRES_USER" ${pwfile:+--pwfile="$pwfile"} \
      --auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD" $POSTGRES_INITDB_ARGS
    [ -n "$pwfile" ] && rm -f "$pwfile"
    printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"

    # Temporary server on the unix socket only, for POSTGRES_DB and init scripts.
    PGUSER="$POSTGRES_USER" pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -p 5432" start
    export PGUSER="$POSTGRES_USER" PGPASSWORD="$POSTGRES_PASSWORD" PGHOST=/tmp PGPORT=5432
    psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres)
    if [ "$POSTGRES_DB" != 'postgres' ]; then
      log "creating database $POSTGRES_DB"
      "${psql[@]}" --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db" ;'
    fi
    psql+=(--dbname "$POSTGRES_DB")
    for f in /docker-entrypoint-initdb.d/*; do
      [ -e "$f" ] || continue
      case "$f" in
        *.sh)
          if [ -x "$f" ]; then log "running $f"; "$f"; else log "sourcing $f"; . "$f"; fi ;;
        *.sql) log "running $f"; "${psql[@]}" -f "$f" ;;
        *.sql.gz) log "running $f"; gunzip -c "$f" | "${psql[@]}" ;;
        *.sql.xz) log "running $f"; xzcat "$f" | "${psql[@]}" ;;
        *) log "ignoring $f" ;;
      esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop
    unset PGUSER PGPASSWORD PGHOST PGPORT
    log "PostgreSQL init process complete; ready for start up."
  else
    log "PostgreSQL database directory appears to contain a database; skipping initialization"
  fi
fi

exec "$@"
