#!/usr/bin/env bash
# A throwaway Postgres cluster for the test suites.
#   start: installs Debian's postgresql when missing, creates a cluster in a
#          temp dir, starts it on 127.0.0.1, prints `export HERALD_TEST_PG_URL=...`
#          on stdout (so `eval "$(postgres.sh start)"` works); logs go to stderr.
#   stop:  stops that cluster and removes its dir.
#   restart: `pg_ctl restart -m fast` on that cluster (every connection cut, data kept), as an
#          operator's restart; test/processes/restarts.test.ts does this to a private cluster.
# State lives in $HERALD_PG_STATE (default /tmp/herald-pg): the data dir and the URL file.
# The cluster runs without durability (fsync, synchronous_commit and full_page_writes off), which
# tests and benchmarks do not need; HERALD_PG_DURABLE=1 at start keeps Postgres's durable defaults,
# as a production server runs (bench:delivery reports which one it measured).
set -euo pipefail

state=${HERALD_PG_STATE:-/tmp/herald-pg}
port=${HERALD_PG_PORT:-55432}
log() { echo "postgres.sh: $*" >&2; }

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

# initdb and postgres refuse to run as root; run them as the `postgres` user then.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  local bin
  bin=$(pg_bin || true)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    log "installing Debian's postgresql"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
    bin=$(pg_bin)
  fi

  if [ -f "$state/url" ] && as_owner "$bin/pg_ctl" -D "$state/data" status >/dev/null 2>&1; then
    log "already running"
    [ "${HERALD_PG_DURABLE:-}" = 1 ] && log "HERALD_PG_DURABLE applies to a new cluster only: stop this one first"
    echo "export HERALD_TEST_PG_URL=$(cat "$state/url")"
    return
  fi
  rm -rf "$state"
  mkdir -p "$state"
  [ "$(id -u)" = 0 ] && chown postgres: "$state"

  while ! port_free "$port"; do port=$((port + 1)); done

  as_owner "$bin/initdb" -D "$state/data" -U herald --auth=trust -E UTF8 --locale=C.UTF-8 >"$state/initdb.log" 2>&1 ||
    { cat "$state/initdb.log" >&2; exit 1; }
  local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${HERALD_PG_DURABLE:-}" = 1 ] && durability=""
  as_owner "$bin/pg_ctl" -D "$state/data" -l "$state/server.log" -w -t 60 \
    -o "-h 127.0.0.1 -p $port -k $state $durability -c max_connections=200" \
    start >&2 || { cat "$state/server.log" >&2; exit 1; }

  local url="postgres://herald@127.0.0.1:$port/postgres"
  echo "$url" >"$state/url"
  log "running at $url (data in $state/data)"
  echo "export HERALD_TEST_PG_URL=$url"
}

stop() {
  local bin
  bin=$(pg_bin || true)
  if [ -n "$bin" ] && [ -d "$state/data" ]; then
    as_owner "$bin/pg_ctl" -D "$state/data" -m fast -w stop >&2 || true
  fi
  rm -rf "$state"
  log "stopped"
}

restart() {
  local bin
  bin=$(pg_bin)
  as_owner "$bin/pg_ctl" -D "$state/data" -l "$state/server.log" -m fast -w -t 60 restart >&2 ||
    { cat "$state/server.log" >&2; exit 1; }
  log "restarted"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) restart ;;
  *) echo "usage: $0 start|stop|restart" >&2; exit 2 ;;
esac
